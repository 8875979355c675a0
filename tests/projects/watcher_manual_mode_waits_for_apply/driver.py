import threading
import hotmod
from scenario import reports, save

import m

w = hotmod.watch(".", apply="manual", on_reload=reports.put)
save("m.py", "X = 2\n")
done = threading.Event()
while not w.pending:
    done.wait(0.01)
print(m.X, reports.empty())
r = hotmod.apply()
print(r.ok, m.X, hotmod.apply())
w.stop()
