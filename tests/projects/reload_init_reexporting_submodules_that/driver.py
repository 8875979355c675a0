import hotmod
from scenario import edit

import pkg

LOG.clear()
edit("pkg/x.py")
report = hotmod.reload("pkg.x")
assert report.ok, report
assert LOG == ["pkg.x", "pkg.y", "pkg"], LOG
print(pkg.X, pkg.Y)
