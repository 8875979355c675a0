import builtins
import os
import hotmod

builtins.MAIN_RUNS = getattr(builtins, "MAIN_RUNS", 0) + 1
from lib import greet, VALUE

with open("lib.py", "w") as f:
    f.write("def greet():\n    return 'bonjour'\nVALUE = 2\n")
report = hotmod.reload("lib")
assert report.ok, report
assert "__main__" not in report.reloaded, report.reloaded
assert hotmod.dependents("lib") == [], hotmod.dependents("lib")
print(builtins.MAIN_RUNS, greet(), VALUE)
