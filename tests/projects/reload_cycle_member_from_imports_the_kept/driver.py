import hotmod
from scenario import edit

import a
import b

f, K = a.f, a.K
edit("a.py")
report = hotmod.reload("a")
assert report.ok and set(report.reloaded) == {"a", "b"}, report
assert a.f is f and b.f is f and b.K is K and f() == "new" and K.x == 1
