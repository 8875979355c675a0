from scenario import edit, reload

import dataclasses
import dc

Point = dc.Point
old = Point(1, 2)
edit("dc.py")
reload("dc")
assert dc.Point is Point and isinstance(old, dc.Point)
p = Point(1, 2, 3)
print([f.name for f in dataclasses.fields(Point)], p.norm(), repr(p))
