from scenario import edit, reload

import m

B = m.B
edit("m.py")
reload("m")
assert m.B is B
assert issubclass(m.C, B) and issubclass(m.C.Nested, B), m.C.__mro__
assert isinstance(m.C(), B) and m.C().hi() == "C+B"
