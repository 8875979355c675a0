"""A module body that never ends, once it has said it started."""

import time

open("started", "w").close()
while True:
    time.sleep(0.01)
