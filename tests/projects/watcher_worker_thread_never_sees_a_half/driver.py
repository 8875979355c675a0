import threading
import hotmod
from scenario import next_report, read, reports, save

import m

template = read("m.py")
errors = []
stop = threading.Event()


def worker():
    while not stop.is_set():
        try:
            m.compute()
        except Exception as exc:
            errors.append(repr(exc))


t = threading.Thread(target=worker, daemon=True)
t.start()
w = hotmod.watch(".", on_reload=reports.put, debounce=0)
for i in range(1, 51):
    save("m.py", template.replace("VERSION = 0", f"VERSION = {i}"))
    r = next_report()
    assert r.ok, r
stop.set()
t.join()
w.stop()
print(len(errors), m.compute())
