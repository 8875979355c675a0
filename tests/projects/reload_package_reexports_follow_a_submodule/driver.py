import sys
import hotmod
from scenario import edit

import app
import pkg
import pkg.extra

LOG.clear()
edit("pkg/util.py")
report = hotmod.reload("pkg.util")
assert report.ok, report
assert LOG == ["pkg.util", "pkg.models", "pkg"], LOG
assert report.reloaded[-1] == "app", report.reloaded
assert pkg.extra.E == 1 and pkg.util is sys.modules["pkg.util"]
print(pkg.NAME, pkg.Model.kind, app.NAME)
