from scenario import edit, reload

import k

obj, inner = k.K(), k.K.Inner()
s, c, Inner = k.K.s, k.K.c, k.K.Inner
edit("k.py")
reload("k")
assert k.K.Inner is Inner and isinstance(inner, k.K.Inner)
print(s(), c(), obj.p, inner.hi())
