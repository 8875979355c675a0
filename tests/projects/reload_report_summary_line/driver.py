import hotmod
from scenario import edit

import b

edit("a.py")
report = hotmod.reload("a")
print(str(report))
assert report.patched >= 1 and report.duration > 0, report
