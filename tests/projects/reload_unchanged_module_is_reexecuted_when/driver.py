import hotmod
from scenario import LOG

import b

LOG.clear()
report = hotmod.reload("a")
assert report.ok, report
assert report.changed == [], report.changed
assert report.reloaded == ["a", "b"], report.reloaded
assert LOG == ["a", "b"], LOG
