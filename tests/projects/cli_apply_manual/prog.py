"""Under `hotmod run --apply manual`, a save waits for hotmod.apply()."""

import threading
import time

import helper

import hotmod

with open(helper.__file__, "w") as f:
    f.write("def value():\n    return 'new'\n")
watcher = hotmod.watch()
deadline = time.monotonic() + 10
while not watcher.pending:
    assert time.monotonic() < deadline, "the change never arrived"
    threading.Event().wait(0.01)
print(watcher.apply_mode, helper.value(), flush=True)
report = hotmod.apply()
print(report.ok, helper.value())
