import builtins
import hotmod
from scenario import edit

import _thread
import threading
import busy

edit("busy.py")
builtins.STARTED = threading.Event()
threading.Thread(target=lambda: builtins.STARTED.wait(10) and _thread.interrupt_main()).start()
try:
    hotmod.reload("busy")
except KeyboardInterrupt:
    print("interrupted", busy.V)
