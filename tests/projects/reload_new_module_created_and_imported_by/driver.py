import sys
import hotmod
from scenario import edit

import a
import b

edit("fresh.py")
edit("a.py")
report = hotmod.reload("a")
assert report.ok, report
assert "fresh" in sys.modules
print(a.X, b.X)
# the new module is now known to the graph: editing it cascades to a and b
edit("fresh.py", 3)
report = hotmod.reload("fresh")
assert report.ok, report
assert report.reloaded == ["fresh", "a", "b"], report.reloaded
print(a.X, b.X)
