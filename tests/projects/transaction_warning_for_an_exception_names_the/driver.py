import logging
import hotmod
from scenario import capture_log, edit, messages

capture_log()
import b

edit("b.py")
report = hotmod.reload("a")
assert not report.ok and isinstance(report.error, ZeroDivisionError)
warnings = messages(logging.WARNING)
assert len(warnings) == 1, warnings
print(warnings[0])
