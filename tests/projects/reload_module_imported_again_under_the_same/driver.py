import sys
import hotmod
from scenario import edit

sys.path.insert(0, "one")
import mod

hotmod.dependents("mod")  # hotmod has now seen one/mod.py as "mod"
del sys.modules["mod"]
sys.path[0] = "two"
import mod  # noqa: F811 (imported again from another folder)

edit("two/mod.py")
report = hotmod.reload("two/mod.py")
print(report.ok, report.changed, mod.X)
