import logging
import hotmod
from scenario import capture_log, messages, write

capture_log()
import a

write("a.py", "X = 1\nY = (1 +\nZ = 3\n")
report = hotmod.reload("a")
assert not report.ok
warnings = messages(logging.WARNING)
assert len(warnings) == 1, warnings
print(warnings[0])
