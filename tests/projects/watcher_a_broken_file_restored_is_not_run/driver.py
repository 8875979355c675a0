# A file saved broken, then restored to the very text its module runs: the broken text
# must never run again (it stays compiled in the cache), alone or in the retried batch.
import os
import time
from pathlib import Path

import a
import b
import hotmod
from scenario import save

A = Path("a.py").read_text()
BROKEN = A + "raise RuntimeError('a broken')\n"
watcher = hotmod.watch(".", apply="manual")


def apply(*files: str) -> object:
    want = {os.path.abspath(f) for f in files}
    deadline = time.monotonic() + 30
    while not want <= {str(p) for p in watcher.pending}:
        assert time.monotonic() < deadline, f"the watcher never saw {files}"
        time.sleep(0.002)
    report = hotmod.apply()
    return None if report is None else (report.ok, sorted(report.reloaded))


# Broken, restored, then another file edited: its dependent reads its file again.
save("a.py", BROKEN)
print(apply("a.py"))
save("a.py", A)
print(apply("a.py"))
save("b.py", 'def fb():\n    return "b2"\n')
print(apply("b.py"), a.fa())

# Saved together with an edit of another file, then restored: the retried batch applies.
save("b.py", 'def fb():\n    return "b3"\n')
save("a.py", BROKEN)
print(apply("a.py", "b.py"), a.fa())
save("a.py", A)
print(apply("a.py"), a.fa())
watcher.stop()
