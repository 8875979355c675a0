import hotmod
from scenario import next_report, reports, save

w = hotmod.watch(".", on_reload=reports.put)
import late

save("late.py", "X = 'edited'\n")
r = next_report()
print(r.changed, late.X)
w.stop()
