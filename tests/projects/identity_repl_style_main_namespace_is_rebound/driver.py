from scenario import edit, reload

from conf import VALUE, f

other = [1]
edit("conf.py")
report = reload("conf")
print(VALUE, f(), other, report.rebound >= 1)
