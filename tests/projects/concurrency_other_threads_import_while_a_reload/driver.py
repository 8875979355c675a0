import builtins
import hotmod
from scenario import edit

import threading
import slow

imported = threading.Event()
builtins.IMPORTED = imported


def first_import():
    import other  # a first import, unrelated to the reload

    imported.set()


edit("slow.py")
builtins.FIRST_IMPORT = first_import
report = hotmod.reload("slow")
print(report.ok, slow.V)
