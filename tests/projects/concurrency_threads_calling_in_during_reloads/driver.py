import hotmod
from scenario import replace

import threading
import time
import shapes

stop = threading.Event()
made, errors = [], []


def caller():
    while not stop.is_set():
        try:
            made.append(shapes.make())
            _ = shapes.V
        except Exception as exc:
            errors.append(repr(exc))
        del made[:-50]
        time.sleep(0.0005)


threads = [threading.Thread(target=caller) for _ in range(16)]
for t in threads:
    t.start()
for version in range(1, 201):
    replace("shapes.py", f"V = {version - 1}", f"V = {version}")
    assert hotmod.reload("shapes").ok
stop.set()
for t in threads:
    t.join(10)
print(errors[:3], len(made) > 0, all(type(m) is shapes.Shape for m in made))
