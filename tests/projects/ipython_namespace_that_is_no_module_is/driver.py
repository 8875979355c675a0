import types

import ipython_shell
from IPython.core.interactiveshell import InteractiveShell
from ipython_shell import cell, config, save

# A shell whose user namespace is a plain dict, not a module's.
ipython_shell.shell.clear_instance()
ipython_shell.shell = InteractiveShell.instance(
    config=config, user_module=types.ModuleType("__main__"), user_ns={}
)
cell("%load_ext hotmod")
cell("from m import LIMIT, f; import m; SIZE = 3")
new = "LIMIT = 4\nSIZE = 4\ndef f():\n    return 'new'\n"
save("m.py", new + "raise ValueError('no')\n")
print("failed:", cell("(LIMIT, SIZE, f(), m.LIMIT)"))
save("m.py", new)
print("fixed:", cell("(LIMIT, SIZE, f(), m.LIMIT)"))
