import logging
import hotmod
from scenario import capture_log, edit, messages, read, write

capture_log()
import app
import server

hotmod.dependents("conf")
LOG.clear()
# as a dependent: never re-executed, but its from-bindings are rebound
edit("conf.py")
report = hotmod.reload("conf")
assert report.ok and "server" not in report.reloaded and LOG == ["app"], (report, LOG)
assert server.LIMIT == 5 and server.DOUBLE == 2 and app.LIMIT == 5
assert report.needs_restart == [], report.needs_restart
assert messages(logging.WARNING) == [], messages(logging.WARNING)
# a change to it: listed in needs_restart, a WARNING says a restart is needed
LOG.clear()
write("server.py", read("server.py") + "EXTRA = 1\n")
report = hotmod.reload("server")
assert "server" not in report.reloaded and LOG.count("server") == 0, (report, LOG)
assert report.needs_restart == ["server"], report.needs_restart
assert not hasattr(server, "EXTRA")
warnings = messages(logging.WARNING)
assert len(warnings) == 1 and "server" in warnings[0], warnings
assert "restart" in warnings[0], warnings
