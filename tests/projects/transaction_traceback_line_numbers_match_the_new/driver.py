import hotmod
from scenario import capture_log, edit

capture_log()
import traceback
import m
from m import where, fail

edit("m.py")
assert hotmod.reload("m").ok
try:
    fail()
except ValueError as exc:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
print(where(), frame.lineno, frame.line)
