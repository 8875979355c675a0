from scenario import edit, reload

import calc

old = calc.square
assert old(2) == 4 and old(3) == 9
edit("calc.py")
reload("calc")
# fresh-import behaviour: an empty cache and the new body
assert calc.square.cache_info().currsize == 0, calc.square.cache_info()
print(calc.square(2), old(5), old(3), calc.CALLS)
