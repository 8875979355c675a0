import os
import sys
import hotmod

w = hotmod.watch()
print(
    sys.argv,
    w.apply_mode,
    w.cascade,
    os.path.basename(w.paths[0]),
    os.environ.get("HOTMOD_FACTORY"),
    "HOTMOD_RESTART_CHILD" in os.environ,
)
