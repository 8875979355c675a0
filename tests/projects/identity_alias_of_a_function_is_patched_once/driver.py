from scenario import edit, reload

import m
from m import f, g

edit("m.py")
reload("m")
assert m.f() == "F" and m.g() == "G", (m.f(), m.g())
assert f() == "F" and g() == "G", (f(), g())
