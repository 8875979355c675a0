import builtins
import time

V = 2
builtins.STARTED.set()
while True:
    time.sleep(0.01)
