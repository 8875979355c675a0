import os
import signal
import time

hits = []
signal.signal(signal.SIGINT, lambda *a: hits.append(1))
print("child", os.getpid(), flush=True)
deadline = time.monotonic() + 30
while not hits and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(1)  # time for a second SIGINT to arrive, if one were sent
print("sigints", len(hits), flush=True)
