import hotmod
from scenario import replace

try:
    import misnamed
except ValueError as exc:
    print(exc)
else:
    raise AssertionError("a keep assigned to another name was not refused")

import store

store.ITEMS.append("state")
# A keep line an edit adds, under its own name, makes its object.
replace("store.py", "VERSION = 1", "VERSION = 2\nCACHE = hotmod.keep('CACHE', dict)")
assert hotmod.reload("store").ok
assert store.CACHE == {} and store.ITEMS == ["state"] and store.VERSION == 2
# One under another name fails the reload: the state stays, and so does the old code.
replace("store.py", "VERSION = 2", "VERSION = 3\nOTHER = hotmod.keep('other', dict)")
report = hotmod.reload("store")
assert not report.ok and isinstance(report.error, ValueError), report
print(report.error)
assert store.VERSION == 2 and store.ITEMS == ["state"] and not hasattr(store, "OTHER")
