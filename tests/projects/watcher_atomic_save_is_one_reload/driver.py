import os
import hotmod
from scenario import next_report, reports, save

import m

w = hotmod.watch(".", on_reload=reports.put)
save("m.py.tmp1234", "X = 'atomic'\n")
os.replace("m.py.tmp1234", "m.py")
r = next_report()
print(r.changed, m.X)
w.stop()
