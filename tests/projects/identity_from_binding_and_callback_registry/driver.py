from scenario import edit, reload

import registry
import handlers
import user

f = handlers.on_event
edit("handlers.py")
report = reload("handlers")
assert report.patched >= 1, report
assert handlers.on_event is f and user.on_event is f
# the registry's list is in a module that was not reloaded: it now holds the
# old (patched) function twice -- once from the first import, once from the
# re-execution, which registered the kept object again.
print(registry.HANDLERS[0]("a"), f("b"), user.on_event("c"))
