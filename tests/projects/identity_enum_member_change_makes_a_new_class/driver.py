from scenario import edit, reload

import col
import user
from col import Color

old = Color
edit("col.py")
report = reload("col", cascade=False)
assert col.Color is not old and [m.name for m in col.Color] == ["RED", "BLUE"]
assert user.Color is col.Color and Color is col.Color
assert any("Color" in n and "members" in n for n in report.notes), report.notes
