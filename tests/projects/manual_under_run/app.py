"""A program asking for manual reloads while `hotmod run` has started a thread watcher."""

import threading
import time

import settings

import hotmod

watcher = hotmod.watch(apply="manual")
print("mode:", watcher.apply_mode, flush=True)

with open(settings.__file__, "w") as f:
    f.write("VALUE = 2\n")
deadline = time.monotonic() + 10
while not watcher.pending and time.monotonic() < deadline:  # the save is queued ...
    threading.Event().wait(0.005)
print("before apply:", settings.VALUE, flush=True)  # ... and not applied by the thread
report = hotmod.apply()
print("after apply:", settings.VALUE, report is not None and report.ok, flush=True)
