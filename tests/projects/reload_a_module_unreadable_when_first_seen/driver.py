import os

import hotmod
import hotmod._reloader as engine
from scenario import edit

import a
import b
import c
import d

# When hotmod first indexes the program, a.py is gone (an editor saving it: unlinked,
# then written again) and c.py cannot be read (replaced while read). Both stay known
# with their importers: a reload of either once it is back re-runs those.
real_read = engine.read_file


def read(path: str) -> bytes:
    if path.endswith(os.sep + "c.py"):
        raise OSError("being replaced")
    return real_read(path)


engine.read_file = read
os.rename("a.py", "a.py.away")
assert hotmod.dependents("d") == []  # the first call: hotmod indexes the program
engine.read_file = real_read
os.rename("a.py.away", "a.py")

assert hotmod.dependents("c") == ["d"], hotmod.dependents("c")
edit("a.py")
report = hotmod.reload("a")
assert report.ok and report.reloaded == ["a", "b"], report
assert (a.VALUE, b.VALUE, b.DOUBLE) == (5, 5, 10), (a.VALUE, b.VALUE, b.DOUBLE)
