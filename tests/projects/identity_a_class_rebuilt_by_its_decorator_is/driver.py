from scenario import edit, reload

import shapes

Point = shapes.Point
held = Point(1)
edit("shapes.py")
report = reload("shapes")
# The class the decorator made is kept: no word of a replacement.
assert shapes.Point is Point and held.describe() == "new", report
assert report.notes == [], report.notes

edit("shapes.py", 3)  # a field more: the slots change, the new class replaces it
report = reload("shapes")
assert shapes.Point is not Point and shapes.Point(1, 2).describe() == "v3"
assert report.notes == [
    "shapes.Point: its __slots__ changed; the new class replaces it and existing "
    "instances keep the old class"
], report.notes
