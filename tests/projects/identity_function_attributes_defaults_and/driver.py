from scenario import edit, reload

import m
from m import f

edit("m.py")
reload("m")
assert m.f is f and f.__doc__ == "new doc"
assert f(1) == 200 and f.__defaults__ == (10,) and f.__kwdefaults__ == {"c": 20}
