from scenario import edit, reload

import clos
import user

a1, s1 = clos.add_one, clos.same
edit("clos.py")
report = reload("clos")
# free vars ("k",) unchanged: patched in place, old reference runs the new code
assert clos.add_one is a1 and user.add_one is a1
# ("y",) -> ("y", "z"): a new object, the from-binding rebound, a note recorded
assert clos.same is not s1 and user.same is clos.same
assert any("same" in n and "closure" in n for n in report.notes), report.notes
print(a1(1), user.same())
