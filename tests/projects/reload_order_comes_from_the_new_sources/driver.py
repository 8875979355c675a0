import hotmod
from scenario import edit

import late
import early

LOG.clear()
edit("late.py")
edit("early.py")
report = hotmod.reload("late", "early")
assert report.ok, report
assert LOG == ["early", "late"], LOG
assert report.reloaded == ["early", "late"], report.reloaded
print(late.V)
