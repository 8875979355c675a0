# m.py is a symlink to a file with another name: an edit through the link raises events
# for m_source.txt, which the *.py include pattern alone would drop.
import os

import hotmod
from scenario import next_report, reports

os.symlink("m_source.txt", "m.py")
import m

w = hotmod.watch(".", on_reload=reports.put)
with open("m.py", "w") as f:  # in place, through the link
    f.write("X = 2\n")
r = next_report()
print(r.ok, r.changed, m.X)
w.stop()
