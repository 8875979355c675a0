import hotmod
from scenario import edit

import m

edit("m.py")
report = hotmod.reload(m)
assert report.ok, report
for name in ("GONE", "gone_func", "Gone", "json", "x"):
    assert not hasattr(m, name), name
assert m.__doc__ is None
assert "__annotations__" not in vars(m) or vars(m)["__annotations__"] == {}
assert m.KEEP == [1, 2] and m.NEW == "new" and m.added() == 2
public = sorted(k for k in vars(m) if not k.startswith("__"))
assert public == ["KEEP", "NEW", "added"], public
