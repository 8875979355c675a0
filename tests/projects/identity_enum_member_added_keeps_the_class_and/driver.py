from scenario import edit, reload

import col
import user
from col import Color

red = Color.RED
edit("col.py")
report = reload("col")
assert col.Color is Color and [m.name for m in Color] == ["RED", "BLUE"]
assert user.FAV is red and Color(1) is red and type(Color.BLUE) is Color
assert user.Color is Color and Color.BLUE.value == 3
assert report.ok and not report.notes and not report.stale, report
