import os
import sys
import hotmod
from scenario import capture_log, edit

capture_log()
sys.dont_write_bytecode = False
import importlib.util
import m

assert os.path.exists(importlib.util.cache_from_source(m.__file__))
st = os.stat("m.py")
edit("m.py")
assert os.stat("m.py").st_size == st.st_size
os.utime("m.py", ns=(st.st_atime_ns, st.st_mtime_ns))  # same second, same size
report = hotmod.reload("m")
assert report.ok, report
print(m.VALUE, m.f())
