import hotmod
from scenario import next_report, reports, save

import m
import marker

w = hotmod.watch(".", on_reload=reports.put)
save("m.py", "X = 1\n")  # identical content
save(".m.py.swp", "junk")  # editor swap file
save("m.py~", "X = 'backup'\n")  # backup file
save("4913", "")  # vim's probe file
save("marker.py", "Y = 2\n")
r = next_report()
print(r.changed, m.X, marker.Y)
w.stop()
