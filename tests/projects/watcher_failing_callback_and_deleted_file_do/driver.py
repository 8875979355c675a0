import os
import hotmod
from scenario import next_report, reports, save

import logging
import m
import n

logged = []  # the watcher thread logs; only the main thread prints


class Collect(logging.Handler):
    def emit(self, record):
        logged.append(record.getMessage() + str(record.exc_info and record.exc_info[1]))


logging.getLogger("hotmod").addHandler(Collect(logging.ERROR))


def callback(report):
    reports.put(report)
    raise RuntimeError("callback failed")


w = hotmod.watch(".", on_reload=callback)
save("m.py", "X = 2\n")
print(next_report().changed)
os.remove("n.py")
save("m.py", "X = 3\n")
print(next_report().changed, m.X, n.Y)
save("n.py", "Y = 'back'\n")
print(next_report().changed, n.Y)
w.stop()
print(all("raised; watching goes on" in m and "callback failed" in m for m in logged), len(logged))
