import hotmod
from scenario import edit

import a

edit("a.py")
report = hotmod.reload("a")
assert report.ok and a.A == 2, report
assert report.changed == ["a"], report.changed
