import hotmod
from scenario import edit

import ns.views

assert not hasattr(ns, "__file__") or ns.__file__ is None  # a namespace package
edit("ns/models.py")
report = hotmod.reload("ns.models")
print(report.ok, report.reloaded, ns.views.DOUBLE, ns.views.SIZE)
