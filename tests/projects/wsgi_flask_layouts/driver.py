import sys

import hotmod
from scenario import replace

import bp_app
import core
import split_views


def get(app):
    return app.test_client().get("/").data.decode()


get(bp_app.app), get(core.app)  # both apps have served a request
for name in ("bp_views", "split_views"):
    replace(name + ".py", '"v1"', '"v2"')
good = hotmod.reload("bp_views")
split = hotmod.reload("split_views")
print(good.ok, get(sys.modules["bp_app"].app))
print(split.ok, split.error, get(core.app))
