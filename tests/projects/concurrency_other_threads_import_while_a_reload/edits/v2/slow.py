import builtins
import threading

t = threading.Thread(target=builtins.FIRST_IMPORT)
t.start()
# the reload waits for another thread's first import: no global lock held
assert builtins.IMPORTED.wait(10), "the other thread could not import"
t.join(10)
V = 2
