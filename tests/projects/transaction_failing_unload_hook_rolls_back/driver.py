import hotmod
from scenario import capture_log, edit

capture_log()
import svc
import first

hotmod.dependents("first")
LOG.clear()
edit("first.py")
report = hotmod.reload("first")
assert LOG == ["first"], LOG  # first re-executed, then svc's hook failed
assert not report.ok and isinstance(report.error, OSError), report
assert report.module == "svc", report.module
assert first.V == 1 and svc.V == 1
try:
    report.raise_for_error()
except hotmod.ReloadError as exc:
    assert exc.__cause__ is report.error
else:
    raise AssertionError("no ReloadError")
