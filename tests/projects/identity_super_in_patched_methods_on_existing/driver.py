from scenario import edit, reload

import h

obj = h.Child()
edit("h.py")
reload("h")
assert type(obj) is h.Child
print(obj.greet(), obj.other())
