import sys
import hotmod

import d
import e
import other

deps = hotmod.dependents("a")
print(deps)
assert deps == ["b", "c", "d"], deps
assert hotmod.dependents(sys.modules["c"]) == ["d"]
assert hotmod.dependents("d") == []
assert hotmod.dependents("other") == []
report = hotmod.reload("a")
assert report.reloaded == ["a", *deps], report.reloaded
