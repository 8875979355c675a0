from hotmod._watcher import current_watcher
from ipython_shell import cell, save, shell

cell("%load_ext hotmod")
pre = list(shell.events.callbacks["pre_run_cell"])
cell("from m import LIMIT", store_history=True)
cell("%unload_ext hotmod")
print("callbacks:", len(pre) - len(shell.events.callbacks["pre_run_cell"]))
print("watcher:", current_watcher())
print("magic:", "hotmod" in shell.magics_manager.magics["line"])
cell("%load_ext hotmod")
save("m.py", "LIMIT = 4\n")
print("reloaded:", cell("LIMIT"))
