import atexit

import hotmod


@atexit.register
def bye():
    print("bye", VERSION)


hotmod.watch(on_reload=lambda report: print("reloaded", VERSION), apply="manual")
VERSION = 0
