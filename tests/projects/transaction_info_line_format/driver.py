import logging
import hotmod
from scenario import capture_log, edit, messages

capture_log()
import c
from a import X

hotmod.dependents("a")
edit("a.py")
report = hotmod.reload("a")
infos = messages(logging.INFO)
assert len(infos) == 1, infos
print(infos[0])
assert str(report) == infos[0]
print(report.rebound, report.patched)
