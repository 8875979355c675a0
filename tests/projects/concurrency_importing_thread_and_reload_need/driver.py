import builtins
import hotmod
from scenario import edit

import threading
import app

builtins.HELPER_STARTED = threading.Event()
builtins.RELOAD_RUNNING = threading.Event()
t = threading.Thread(target=lambda: __import__("helper"))
t.start()
assert builtins.HELPER_STARTED.wait(10)
edit("app.py")
report = hotmod.reload("app")
t.join(10)
print(report.ok, app.V, t.is_alive())
