import os
import sys
import time
import frozen

print("started with", frozen.VALUE, os.environ.get("HOTMOD_LIVE"), flush=True)
if frozen.VALUE == 1:
    with open("frozen.py", "w") as f:
        f.write("__hotmod_reload__ = False\nVALUE = 2\n")
    time.sleep(30)  # the restart ends this process long before
    sys.exit("not restarted")
