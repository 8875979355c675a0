import os

import hotmod

CALLS = {
    "debounce": lambda: hotmod.watch(".", debounce=-1),
    "apply": lambda: hotmod.watch(".", apply="later"),
    "backend": lambda: hotmod.watch(".", backend="magic"),
    "folder": lambda: hotmod.watch("no/such/folder"),
}
try:
    CALLS[os.environ["CALL"]]()
except ValueError as exc:
    print("ValueError:", exc)
