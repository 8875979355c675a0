import sys
import hotmod
from scenario import capture_log, edit

capture_log()
import pkg
import pkg.late

before = dict(vars(pkg))
edit("pkg/core.py")
edit("pkg/late.py")
report = hotmod.reload("pkg.core")
assert not report.ok and isinstance(report.error, KeyError), report
assert vars(pkg) == before and pkg.core.V == 1 and pkg.late.L == 2
assert pkg.core is sys.modules["pkg.core"] and pkg.late is sys.modules["pkg.late"]
