# Run with a new, empty PYTHONPYCACHEPREFIX: every library module hotmod or the
# program imports is compiled from its source, sysconfig and its data included, and
# hotmod's import hook looks at each of them while they are read.
import hotmod  # (first: its hook sees every later import)

import json
import sysconfig

from scenario import edit

import b

assert sysconfig.get_paths()["stdlib"], "sysconfig works"
assert json.loads("[1]") == [1]
edit("a.py")
report = hotmod.reload("a")
assert report.ok and report.reloaded == ["a", "b"], report
assert b.DOUBLE == 4, b.DOUBLE
print("ok")
