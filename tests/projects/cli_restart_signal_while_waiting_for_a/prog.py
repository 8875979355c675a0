import time
import frozen

print("started", flush=True)
if frozen.VALUE == 1:
    with open("frozen.py", "w") as f:
        f.write("__hotmod_reload__ = False\nVALUE = 1 / 0\n")
    time.sleep(60)
