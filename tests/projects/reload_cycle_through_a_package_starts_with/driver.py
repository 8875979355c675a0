import hotmod
from scenario import edit

import pkg.a

hotmod.dependents("lib")
edit("pkg/__init__.py")
edit("pkg/b.py")
report = hotmod.reload("pkg", "pkg.b")
assert report.ok, report
print(pkg.X, pkg.a.A)
