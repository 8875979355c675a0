from scenario import edit, reload

import col
import user

Color, red = col.Color, col.Color.RED
edit("col.py")
reload("col")
assert col.Color is Color and col.Color.RED is red and user.FAV is red
assert Color(1) is red and user.Color is Color
print(red.label())
