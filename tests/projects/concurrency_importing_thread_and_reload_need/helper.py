import builtins

builtins.HELPER_STARTED.set()
assert builtins.RELOAD_RUNNING.wait(10)
import json.decoder  # imports again while the reload runs

H = 1
