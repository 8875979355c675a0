# Route modules of a Flask and a FastAPI app, their function bodies edited over and over:
# nothing keeps the previous codes alive (a module's code holds those of the functions it
# defines), so the audit never looks for calls paused in them (a walk of the heap).
from fastapi.testclient import TestClient
from scenario import reload, write

import fastapi_app
import flask_app
import hotmod._audit

walks = []
look = hotmod._audit.referrers


def counted(objects):
    walks.append(objects)
    return look(objects)


hotmod._audit.referrers = counted
with open("flask_views.py") as f:
    VIEWS = f.read()
with open("fastapi_routes.py") as f:
    ROUTES = f.read()
for v in range(1, 5):
    write("flask_views.py", VIEWS.replace('"v0"', f'"v{v}"'))
    write("fastapi_routes.py", ROUTES.replace("value=item_id", f"value=item_id + {v}"))
    assert reload("flask_views").stale == []
    assert reload("fastapi_routes").stale == []
assert flask_app.app.test_client().get("/").text == "v4"
assert TestClient(fastapi_app.app).get("/items/1").json() == {"value": 5}
print("walks", len(walks))
