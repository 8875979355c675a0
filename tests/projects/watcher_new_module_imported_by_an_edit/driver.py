import sys
import hotmod
from scenario import next_report, reports, save

import m

w = hotmod.watch(".", on_reload=reports.put)
save("fresh.py", "VALUE = 'new module'\n")
save("m.py", "from fresh import VALUE\nX = VALUE\n")
r = next_report()
while m.X != "new module":
    r = next_report()
print(r.ok, m.X, "fresh" in sys.modules)
w.stop()
