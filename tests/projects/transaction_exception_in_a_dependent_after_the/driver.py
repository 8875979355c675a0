import sys
import hotmod
from scenario import capture_log, edit

capture_log()
import a
import b
import frozen
import pkg
from a import X, f, C

inst = C()
names_a, names_b = set(vars(a)), set(vars(b))
hotmod.dependents("a")
LOG.clear()
edit("pkg/brand_new.py")
edit("a.py")

edit("b.py")
report = hotmod.reload("a")
assert LOG == ["a", "b"], LOG  # the target really ran before b failed
assert not report.ok and isinstance(report.error, RuntimeError), report
assert report.module == "b" and report.reloaded == [], report
assert "pkg.brand_new" not in sys.modules and not hasattr(pkg, "brand_new")
assert frozen.X == 1  # a rebound name outside the plan is restored

assert a.X == 1 and a.OLD_ONLY == "old" and not hasattr(a, "NEW_ONLY"), vars(a).keys()
assert a.f is f and f() == "f-old" and a.C is C
assert C.attr == "old" and inst.m() == "m-old" and not hasattr(C, "added")
assert b.X == 1 and b.Y == 2 and b.f is f and b.C is C
assert X == 1 and set(vars(a)) == names_a and set(vars(b)) == names_b

# the next save retries, from the same old state
edit("b.py", 3)
report = hotmod.reload("a")
assert report.ok, report
assert a.f is f and f() == "f-new" and inst.m() == "m-new" and C.added == 1
assert b.Y == 101 and X == 100 and frozen.X == 100
assert "pkg.brand_new" in sys.modules
