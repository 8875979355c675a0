# ruff: noqa: F811, F402, B007  (names rebound on purpose: what the reload must leave alone)
from scenario import edit, reload

from conf import FLAG, LIMIT, MODE, f

FLAG = True  # assigned after the import, to the value it had: the user's own now
for LIMIT in (10,):  # bound by a loop: the user's too
    pass
MODE = "slow"
if MODE:
    from conf import MODE  # taken again last (in a block): rebound

edit("conf.py")
report = reload("conf")
print(FLAG, LIMIT, MODE, f())
