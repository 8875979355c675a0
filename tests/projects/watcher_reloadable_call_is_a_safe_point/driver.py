import threading
import hotmod
from scenario import save

import asyncio
import m

w = hotmod.watch(".", apply="manual")
shape = m.Shape()
print(m.step(), asyncio.run(m.astep()), shape.area())
save("m.py", m.SOURCE.replace("1", "2"))
while not w.pending:
    threading.Event().wait(0.01)
print(m.step(), asyncio.run(m.astep()), shape.area())
w.stop()
