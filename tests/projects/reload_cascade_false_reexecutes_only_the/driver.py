import hotmod
from scenario import edit

import a
import b

LOG.clear()
edit("a.py")
report = hotmod.reload("a", cascade=False)
assert report.ok and report.reloaded == ["a"], report
assert LOG == [], LOG
# b was not re-executed: its computed value is the old one, but the name it
# took with `from a import X` is rebound (identity-based rebinding).
print(b.DOUBLE, b.X, a.X)
