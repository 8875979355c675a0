import hotmod
from scenario import capture_log, edit, write

capture_log()
import a
import b
from a import X, f, C

inst = C()
names_a, names_b = set(vars(a)), set(vars(b))
hotmod.dependents("a")
LOG.clear()
edit("a.py")

write("b.py", "from a import X\ndef broken(:\n    pass\n")
report = hotmod.reload("a")
assert not report.ok and LOG == [], (report, LOG)
assert isinstance(report.error, SyntaxError) and report.module == "b", report

assert a.X == 1 and a.OLD_ONLY == "old" and not hasattr(a, "NEW_ONLY"), vars(a).keys()
assert a.f is f and f() == "f-old" and a.C is C
assert C.attr == "old" and inst.m() == "m-old" and not hasattr(C, "added")
assert b.X == 1 and b.Y == 2 and b.f is f and b.C is C
assert X == 1 and set(vars(a)) == names_a and set(vars(b)) == names_b
