import hotmod
from scenario import replace

import effects

for version in (1, 2, 3):
    replace("effects.py", f"VERSION = {version - 1}", f"VERSION = {version}")
    assert hotmod.reload("effects").ok
hotmod.watch().stop()
