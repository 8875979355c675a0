from scenario import edit, reload

import shapes
from shapes import Square

sq = Square(3)
bound = sq.describe
area = sq.area
old_cls = shapes.Square
edit("shapes.py")
reload("shapes")
assert shapes.Square is old_cls and Square is old_cls
assert isinstance(sq, shapes.Square) and isinstance(sq, shapes.Shape)
print(bound(), area(), sq.describe())
