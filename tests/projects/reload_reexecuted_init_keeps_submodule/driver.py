import sys
import hotmod
from scenario import edit

import pkg.sub
import pkg.deep.leaf

edit("pkg/__init__.py")
report = hotmod.reload("pkg")
assert report.ok, report
assert pkg.VERSION == 2
assert pkg.sub is sys.modules["pkg.sub"]
assert pkg.deep is sys.modules["pkg.deep"]
assert pkg.deep.leaf.L == 1
