import hotmod
from scenario import edit

import app
import registry

registry.CALLBACKS += [app.compute, app.handler]
edit("app.py")
report = hotmod.reload("app")
assert report.ok, report
compute, handler = registry.CALLBACKS
print(compute is app.compute, handler is app.handler, compute(1), handler("ann"))
