import os
import queue
import sys
import threading
import time
import hotmod

reports = queue.Queue()
hotmod.watch(on_reload=reports.put)  # the running watcher, default paths
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import helper

watcher = hotmod.watch()
lib = os.path.realpath(os.path.dirname(helper.__file__))
deadline = time.monotonic() + 10
while lib not in watcher.paths:  # adopted once the imports settle
    assert time.monotonic() < deadline, watcher.paths
    threading.Event().wait(0.01)
with open(helper.__file__, "w") as f:
    f.write("def value():\n    return 'new'\n")
report = reports.get(timeout=10)
print(report.changed, helper.value())
