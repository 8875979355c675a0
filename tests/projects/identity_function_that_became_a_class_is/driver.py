from scenario import edit, reload

import m
import user
from m import Thing

edit("m.py")
reload("m", cascade=False)
assert isinstance(m.Thing, type) and user.Thing is m.Thing and Thing is m.Thing
