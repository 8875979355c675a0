import os
import sys
import time

import hotmod
from scenario import next_report, reports, save

import dep

an_hour_ago = time.time() - 3600
os.utime("dep.py", (an_hour_ago, an_hour_ago))
w = hotmod.watch(".", on_reload=reports.put, backend=sys.argv[1])

# A tool holds dep.py open for writing but writes nothing: it is not being saved, so
# the reload of leaf.py re-runs it as usual.
with open("dep.py", "a"):
    save("leaf.py", "VALUE = 2\n")
    r = next_report()
    print(r.ok, sorted(r.reloaded), dep.second())
w.stop()
