import sys
import hotmod
from scenario import next_report, reports, save

sys.path.insert(0, "lib")
import helpers

w = hotmod.watch(".", on_reload=reports.put)
save("lib/helpers.py", "X = 2\n")
r = next_report()
print(r.ok, helpers.X)
w.stop()
