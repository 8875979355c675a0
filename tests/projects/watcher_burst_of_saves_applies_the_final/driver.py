import hotmod
from scenario import next_report, reports, save

import m

w = hotmod.watch(".", on_reload=reports.put, debounce=0.3)
for i in range(20):
    save("m.py", f"X = {i}\n")
seen = [next_report()]
while m.X != 19:
    seen.append(next_report())
print(len(seen), m.X)
w.stop()
