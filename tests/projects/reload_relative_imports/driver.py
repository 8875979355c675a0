import hotmod
from scenario import edit

import pkg.sub.mod as mod
import pkg.sub

edit("pkg/core.py")
report = hotmod.reload("pkg.core")
assert report.ok, report
expected = {"pkg.core", "pkg.sub", "pkg.sub.helpers", "pkg.sub.mod"}
assert set(report.reloaded) == expected, report.reloaded
r = report.reloaded
assert r.index("pkg.sub.helpers") < r.index("pkg.sub.mod"), r
print(mod.TOTAL, pkg.sub.BASE, pkg.sub.core.BASE)
