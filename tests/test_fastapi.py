"""FastAPI under every launcher: routers, handlers, middleware, dependencies, pydantic models."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest

from webtools import Server, copy_project, free_port, launch

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

UVICORN = ["-m", "hotmod", "run", "-m", "uvicorn"]
LAUNCHERS = {
    # --reload by habit: uvicorn's restarting reloader is turned off, one process
    "hotmod-run-uvicorn": [*UVICORN, "app.main:app", "--reload", "--port"],
    "hotmod-run-uvicorn-factory": [*UVICORN, "--factory", "app.factory:create_app", "--port"],
    "serve": ["serve_app.py"],
    "serve-factory": ["serve_factory.py"],
    "hotmod-run-uvicorn.run": ["-m", "hotmod", "run", "run_app.py"],
    "uvicorn-HotReload": ["-m", "uvicorn", "devapp:app", "--port"],
    "uvicorn-HotReload-factory": ["-m", "uvicorn", "devfactory:app", "--port"],
}
APP_MODULE = {
    "hotmod-run-uvicorn": "app/main.py",
    "hotmod-run-uvicorn-factory": "app/factory.py",
    "serve": "app/main.py",
    "serve-factory": "app/factory.py",
    "hotmod-run-uvicorn.run": "run_app.py",
    "uvicorn-HotReload": "app/main.py",
    "uvicorn-HotReload-factory": "app/factory.py",
}


def post(server: Server, path: str, payload: object) -> tuple[int, object]:
    status, body = server.request(path, json.dumps(payload).encode())
    return status, json.loads(body)


def item_schema(server: Server) -> dict[str, object]:
    status, body = server.request("/openapi.json")
    assert status == 200
    schema: dict[str, object] = json.loads(body)["components"]["schemas"]["Item"]
    return schema


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_fastapi_edits_reach_the_server_s_app(tmp_path: Path, launcher: str) -> None:
    root = copy_project("fastapi_app", tmp_path)
    port = free_port()
    items, models, deps = (
        root / "app/routers/items.py",
        root / "app/models.py",
        root / "app/deps.py",
    )
    main = root / APP_MODULE[launcher]
    with launch(root, [*LAUNCHERS[launcher], str(port)], port) as server:
        status, headers, body = server.exchange("/")
        assert (status, json.loads(body), headers["x-version"]) == (200, {"v": "root-v1"}, "mw-v1")
        assert post(server, "/items/", {"name": "a", "price": 5}) == (
            200,
            {"name": "a", "price": 5.0},
        )
        assert "qty" not in str(item_schema(server))

        # a router module: a new route
        server.edit(
            items,
            '@router.get("/tag")',
            '@router.get("/new")\ndef new() -> str:\n    return "new"\n\n\n@router.get("/tag")',
        )
        assert server.request("/items/new") == (200, '"new"')

        # a pydantic model: a new constrained field and a validator
        text = models.read_text().replace("BaseModel, Field", "BaseModel, Field, field_validator")
        server.save(
            models,
            text.replace(
                "    price: float = Field(gt=0)\n",
                "    price: float = Field(gt=0)\n    qty: int = Field(gt=10)\n\n"
                '    @field_validator("name")\n    @classmethod\n'
                "    def upper(cls, v: str) -> str:\n        return v.upper()\n",
            ),
        )
        assert post(server, "/items/", {"name": "a", "price": 5, "qty": 5})[0] == 422
        assert post(server, "/items/", {"name": "a", "price": 5, "qty": 20}) == (
            200,
            {"name": "A", "price": 5.0, "qty": 20},
        )
        qty = item_schema(server)["properties"]["qty"]  # type: ignore[index]
        assert qty["exclusiveMinimum"] == 10  # type: ignore[index]

        # a dependency, then the app's own module: middleware and a handler
        assert server.request("/items/tag") == (200, '{"tag":"tag-v1"}')
        server.edit(deps, "tag-v1", "tag-v2")
        assert server.request("/items/tag") == (200, '{"tag":"tag-v2"}')
        server.save(main, main.read_text().replace("mw-v1", "mw-v2").replace("root-v1", "root-v2"))
        status, headers, body = server.exchange("/")
        assert (status, json.loads(body), headers["x-version"]) == (200, {"v": "root-v2"}, "mw-v2")
        assert server.request("/items/new") == (200, '"new"')

        # the router again: a removed route 404s. A browser keeps its connection open:
        # the server keeps the last request's scope, which must not hold the route.
        browser = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
        browser.request("GET", "/items/new")
        assert browser.getresponse().read() == b'"new"'
        text = items.read_text()
        server.save(
            items,
            text.replace('@router.get("/new")\ndef new() -> str:\n    return "new"\n\n\n', ""),
        )
        assert server.request("/items/new")[0] == 404
        browser.close()
        assert server.request("/items/tag") == (200, '{"tag":"tag-v2"}')
        assert "/items/new" not in server.request("/openapi.json")[1]
        assert "still running previous code" not in server.output()
        if "--reload" in LAUNCHERS[launcher]:
            assert "restarting reloader is off" in server.output()
            assert "Started reloader process" not in server.output()
