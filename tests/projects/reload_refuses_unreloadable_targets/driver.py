import json
import os

import watchdog

import hotmod

target = os.environ["TARGET"]  # a module of the standard library, site-packages or none
try:
    hotmod.reload(target)
except ValueError as exc:
    print("ValueError:", exc)
else:
    raise SystemExit("no ValueError")
