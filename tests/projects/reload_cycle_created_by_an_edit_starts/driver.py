import hotmod
from scenario import edit

import pkg.m0
import lib

hotmod.dependents("lib")
# now pkg imports lib, which imports pkg.m0: a fresh import starts pkg, then lib
edit("pkg/__init__.py")
edit("lib.py")
report = hotmod.reload("pkg", "lib")
assert report.ok, report
print(pkg.X, lib.L)
