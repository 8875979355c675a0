import sys

import hotmod
from scenario import next_report, reports, save

import dep

w = hotmod.watch(".", on_reload=reports.put, backend=sys.argv[1])

# Before any reload, an editor has written half of dep.py and not closed it: no
# complete text of it is known yet, so the reload of leaf.py leaves it as it runs.
with open("dep.py", "w") as f:
    f.write("from leaf import VALUE\n\n\ndef first():\n    return VALUE + 100\n")
    f.flush()
    save("leaf.py", "VALUE = 2\n")
    r = next_report()
    print(r.ok, r.reloaded, hasattr(dep, "second") and dep.second(), dep.first())
    f.write("\n\ndef second():\n    return VALUE * 20\n")
r = next_report()
print(r.ok, r.changed, dep.first(), dep.second())
w.stop()
