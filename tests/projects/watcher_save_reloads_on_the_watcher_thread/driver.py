import hotmod
from scenario import next_report, reports, save

import m

w = hotmod.watch(".", on_reload=reports.put)
save("m.py", "X = 2\n")
r = next_report()
print(r.ok, r.changed, m.X, w is hotmod.watch())
w.stop()
