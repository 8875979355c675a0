from ipython_shell import cell, save

cell("%load_ext hotmod")
cell("from m import LIMIT")
from hotmod import _modmap, _watcher

calls = []


def counting(original):
    def wrapper(*args, **kwargs):
        calls.append(original.__name__)
        return original(*args, **kwargs)

    return wrapper


_modmap.ModuleMap.sync = counting(_modmap.ModuleMap.sync)
_watcher.default_paths = counting(_watcher.default_paths)
for i in range(20):
    cell(f"x = {i}; from m import SIZE")
print("calls:", calls)
save("m.py", "LIMIT = 4\nSIZE = 4\n")
print("result:", cell("(LIMIT, SIZE)"), calls)
