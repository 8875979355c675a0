import sys

import hotmod
from hotmod._monitor import make_monitor


def loaded():
    return sorted(m for m in sys.modules if m.startswith(("watchdog", "hotmod._monitor._")))


print(loaded())
monitor = make_monitor([sys.argv[1]], on_batch=print, backend="polling")
monitor.start()
monitor.stop()
print(loaded())
