# Registrations of the first import, made before anything reloaded (no watcher, no
# reloader yet): a reload takes them back like those of a reload. argv[1] "late":
# logging and signal are first imported after hotmod; "early": before it.
import os
import sys

if sys.argv[1] == "early":
    import logging
    import signal

import hotmod
from scenario import replace

import effects

filters = len(__import__("warnings").filters)
for version in (1, 2, 3):
    replace("effects.py", f"VERSION = {version - 1}", f"VERSION = {version}")
    assert hotmod.reload("effects").ok
log = effects.logging.getLogger("effects")
assert len(log.handlers) == 1 and len(log.filters) == 1, (log.handlers, log.filters)
warnings = effects.warnings
assert len(warnings.filters) == filters, (len(warnings.filters), filters)
assert warnings.filters[0][1].pattern == "effects 3", warnings.filters[0]
os.kill(os.getpid(), effects.signal.SIGUSR1)
