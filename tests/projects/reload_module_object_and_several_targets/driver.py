import hotmod
from scenario import edit

import a
import b
import c

hotmod.dependents(a)  # hotmod records the sources it saw first here
edit("a.py")
edit("b.py")
report = hotmod.reload(a, "b")
assert report.ok, report
assert sorted(report.changed) == ["a", "b"], report.changed
assert report.reloaded[-1] == "c" and report.reloaded.count("c") == 1, report.reloaded
print(c.C)
