"""Reload a leaf with many dependents, then end at once.

The reload's entries are written by the cache worker after the report, on a daemon
thread; they must still be on disk when the interpreter has exited. (Each dependent
computes a value from what it imports, so the reload runs and compiles it: one of only
imports and plain definitions would be bound with the code its import ran.)
"""

import sys
from pathlib import Path

import hotmod

HERE = Path(__file__).resolve().parent
COUNT = int(sys.argv[1])
DEPENDENT = "from xleaf import VALUE\n\nDOUBLE = VALUE * 2\n\ndef get():\n    return VALUE\n"

(HERE / "xleaf.py").write_text("VALUE = 1\n")
for i in range(COUNT):
    (HERE / f"xdep_{i:03d}.py").write_text(DEPENDENT)
sys.path.insert(0, str(HERE))
for i in range(COUNT):
    __import__(f"xdep_{i:03d}")

(HERE / "xleaf.py").write_text("VALUE = 2\n")
report = hotmod.reload("xleaf")
assert report.error is None, report.error
print(len(report.reloaded))
