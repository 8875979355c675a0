import hotmod
from scenario import edit

import user

start = list(LOG)
assert start == ["user", "first", "second"], start
LOG.clear()
edit("second.py")
report = hotmod.reload("second")
assert report.ok, report
assert LOG == ["first", "second", "user"], LOG
import first
import second

print(user.T, second.get_a(), first.total())
