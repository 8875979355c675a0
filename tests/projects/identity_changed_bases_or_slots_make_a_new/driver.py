from scenario import edit, reload

import m
import user
from m import Slotted, Sub

old_slotted, old_sub = Slotted, Sub
edit("m.py")
report = reload("m", cascade=False)
assert m.Slotted is not old_slotted and m.Sub is not old_sub
assert user.Slotted is m.Slotted and user.Sub is m.Sub
assert Slotted is m.Slotted and Sub is m.Sub  # __main__'s from-bindings too
assert issubclass(m.Sub, m.B) and m.Slotted.__slots__ == ("x", "y")
text = " | ".join(report.notes)
assert "Sub" in text and "base classes" in text, text
assert "Slotted" in text and "__slots__" in text, text
