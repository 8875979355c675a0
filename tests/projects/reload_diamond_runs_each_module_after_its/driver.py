import hotmod
from scenario import edit

import top
import bystander

hotmod.dependents("base")  # hotmod records the source it saw first here
LOG.clear()
edit("base.py")
report = hotmod.reload("base")
assert report.ok, report
assert report.reloaded == LOG, (LOG, report.reloaded)
assert report.reloaded[0] == "base" and report.reloaded[-1] == "top", report.reloaded
assert set(report.reloaded) == {"base", "left", "right", "top"}, report.reloaded
assert report.changed == ["base"], report.changed
print(top.T)
