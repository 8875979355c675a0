import hotmod
from scenario import edit

import m

edit("m.py")
assert hotmod.reload("m").ok
assert not hasattr(m, "B")
assert m.A == 1
