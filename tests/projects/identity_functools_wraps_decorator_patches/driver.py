from scenario import edit, reload

import m

h = m.hello
inner = h.__wrapped__
edit("m.py")
reload("m")
assert m.hello is h and m.hello.__wrapped__ is inner
print(h("x"), inner("y"))
