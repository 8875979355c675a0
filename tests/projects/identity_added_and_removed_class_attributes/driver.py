from scenario import edit, reload

import m

C = m.C
obj = C()
edit("m.py")
reload("m")
assert m.C is C
assert not hasattr(C, "removed") and not hasattr(obj, "gone")
assert C.added == 2 and obj.stay() == "stay-new fresh"
