import builtins
import sys

import hotmod

# What billiard (Celery's pool) does at import: the script under a second name.
sys.modules["__mp_main__"] = sys.modules["__main__"]
builtins.MAIN_RUNS = getattr(builtins, "MAIN_RUNS", 0) + 1
from lib import VALUE, greet

with open("lib.py", "w") as f:
    f.write("def greet():\n    return 'bonjour'\nVALUE = 2\n")
report = hotmod.reload("lib")
assert report.ok, report
assert report.reloaded == ["lib"], report.reloaded
print(builtins.MAIN_RUNS, greet(), VALUE)
