import hotmod
from scenario import capture_log, edit, write

capture_log()
import user

hotmod.dependents("svc")
LOG.clear()
edit("svc.py")
# another module of the plan does not compile: the hook must not run
write("user.py", "import svc\ndef broken(:\n    pass\n")
report = hotmod.reload("svc")
assert not report.ok and isinstance(report.error, SyntaxError) and LOG == [], LOG
edit("user.py")
report = hotmod.reload("svc")
assert report.ok, report
# the newest compiled hook ran (SPEC 4: a fixed hook takes effect), before the code
assert LOG == ["svc unload 2", "svc ran 2"], LOG
