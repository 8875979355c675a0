import threading
import hotmod
from scenario import next_report, reports, save

import m

seen = []


def check(report):
    seen.append((report.ok, getattr(m, "X", None)))


w = hotmod.watch(".", on_reload=check)
w.add_callback(reports.put)
pause = threading.Event()
for i in range(1, 41):
    save("m.py", f"X = {2 * i - 1}\n" + "# pad\n" * 200)
    pause.wait(0.01)
    save("m.py", f"X = {2 * i}\n" + "# pad\n" * 200)
    while m.X != 2 * i:  # noqa: SIM300 (m.X is no constant)
        next_report()
w.stop()
print(len(seen), [s for s in seen if not s[0] or s[1] is None])
