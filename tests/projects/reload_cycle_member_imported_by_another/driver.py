import sys
import hotmod
from scenario import edit

import a
import b

mod_a, mod_b = a, b
hotmod.dependents("b")
LOG.clear()
edit("b.py")
report = hotmod.reload("b")
assert report.ok, report
assert LOG == ["a", "b"], LOG  # a started first, as in a fresh import
assert sys.modules["a"] is mod_a and sys.modules["b"] is mod_b
assert list(sys.modules).index("a") > list(sys.modules).index("b")
print(a.A, b.get_a())
