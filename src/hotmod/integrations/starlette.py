"""Starlette and FastAPI: the app the server holds serves the newest routes and middleware.

- **Registrations** (``@app.get``, ``@router.post``, ``app.include_router``,
  ``app.add_middleware``, exception handlers, event handlers, mounts) made by a
  module's top-level code go to that module's ledger as the additions they made to
  the router's and app's tables; before the module runs again they are taken out.
- **Apps and routers made anew** keep their identity: a re-executed ``app = FastAPI()``
  or ``router = APIRouter()`` leaves the module (and uvicorn, which holds the app) with
  the previous object, which takes the new one's state (``app.state`` is kept). A
  router included elsewhere is included again there, so an app whose module did not
  run again (``__main__`` under ``uvicorn.run(app)``) serves the router's new routes.
- An app made by a factory (``uvicorn --factory``, ``factory=True``) is built again by
  the newest factory after a reload that touches its package.
- After every reload the middleware stack is built again on the next request, FastAPI's
  cached OpenAPI schema is dropped, and FastAPI's caches keyed by models and
  endpoints are cleared, so pydantic model edits reach validation, responses and
  ``/openapi.json``.
"""

from __future__ import annotations

import logging
import os
import sys
import weakref
from collections.abc import Iterable
from typing import Any

from .._typing import override
from . import NOT_HANDLED, Integration, Transaction, record
from ._common import (
    IdentityMap,
    Recipe,
    bound_hold_timeout,
    gate_asgi_class,
    in_reload,
    note_birth,
    quiet,
    recipe_of,
    registering_module,
    reloading,
    share_state,
)
from ._diff import Change, recording

__all__ = ["FastAPIIntegration", "StarletteIntegration", "UvicornIntegration"]

log = logging.getLogger("hotmod.integrations.starlette")

_apps: IdentityMap[bool] = IdentityMap()
_recipes: IdentityMap[Recipe] = IdentityMap()
# router -> where it was included: [(including router, include_router kwargs, routes added)]
_Include = tuple["weakref.ref[Any]", dict[str, Any], list[Any]]
_includes: IdentityMap[list[_Include]] = IdentityMap()
_raw_include: Any = None

_ROUTER_METHODS = (
    "add_route",
    "add_websocket_route",
    "mount",
    "host",
    "add_event_handler",
    "add_api_route",
    "add_api_websocket_route",
    "include_router",
)
_APP_METHODS = (*_ROUTER_METHODS, "add_middleware", "add_exception_handler")


def _framework_module(name: str) -> bool:
    return name.split(".")[0] in ("starlette", "fastapi", "hotmod", "uvicorn")


def _tables(obj: Any) -> Iterable[Any]:
    d = obj.__dict__
    router = d.get("router", obj)
    rd = router.__dict__
    out = [rd.get("routes"), rd.get("on_startup"), rd.get("on_shutdown")]
    out += [d.get("user_middleware"), d.get("exception_handlers")]
    return [t for t in out if t is not None]


def _record(obj: Any, change: Change) -> None:
    record(change.undo, change.redo)


class StarletteIntegration(Integration):
    """Routes, routers, middleware and handlers of Starlette/FastAPI apps follow the code."""

    framework = "starlette"
    _installed = False

    @override
    def activate(self) -> None:
        """Wrap the registering methods and app construction (once per process)."""
        cls = type(self)
        if cls._installed:
            return
        cls._installed = True
        bound_hold_timeout()
        _install()

    @override
    def begin(self, txn: Transaction) -> None:
        """Middleware may be added to apps that already served requests until the end."""
        reloading(True)
        txn.state["starlette.kept"] = set()

    @override
    def keep(self, txn: Transaction, old: object, new: object) -> object:
        """A re-made app or router: the previous object takes the new one's state."""
        from starlette.applications import Starlette
        from starlette.routing import Router

        if type(old) is not type(new) or not isinstance(old, (Starlette, Router)):
            return NOT_HANDLED
        if isinstance(old, Starlette):
            state = old.__dict__.get("state")
            if state is not None and "state" in new.__dict__:
                state._state.update(new.__dict__["state"]._state)
                new.__dict__["state"] = state  # what the lifespan set up stays
            _recipes.pop(new)
            txn.state["starlette.kept"].add(id(old))
            share_state(old, new, txn, clear_previous=True)
            return old
        share_state(old, new, txn, clear_previous=True)
        _include_again(txn, old)
        return old

    @override
    def finish(self, txn: Transaction) -> None:
        """Build factory-made apps again; drop what apps compiled from the old code."""
        kept: set[int] = txn.state.get("starlette.kept", set())
        for app, recipe in _recipes.items():
            if id(app) in kept or not _touched(app, recipe, txn):
                continue
            new = recipe.build()
            if type(new) is not type(app):
                kind = type(app).__name__
                txn.restart(recipe.module, f"{recipe.name}() no longer returns a {kind}")
            _recipes.pop(new)
            share_state(app, new, txn, clear_previous=True)
            txn.note(f"starlette: {recipe.module}.{recipe.name}() built the app again")
        _refresh()

    @override
    def committed(self, report: Any) -> None:
        """The reload is over."""
        reloading(False)
        _refresh()

    @override
    def rolled_back(self, report: Any) -> None:
        """Registrations are back as they were; compiled state is rebuilt from them."""
        reloading(False)
        _refresh()


def _touched(app: Any, recipe: Recipe, txn: Transaction) -> bool:
    packages = {recipe.module.split(".")[0]}
    for route in getattr(app.router, "routes", ()):
        endpoint = getattr(route, "endpoint", None)
        packages.add(str(getattr(endpoint, "__module__", "")).split(".")[0])
    return any(m.split(".")[0] in packages for m in txn.modules)


def _refresh() -> None:
    for app, _ in _apps.items():
        app.middleware_stack = None  # built again, from the current middleware, on use
        if "openapi_schema" in app.__dict__:
            app.openapi_schema = None
    _clear_fastapi_caches()


def _clear_fastapi_caches() -> None:
    # FastAPI caches what it learns of models and endpoints by their identity, which
    # hotmod keeps while their code and fields change.
    for name in ("fastapi._compat.v2", "fastapi.dependencies.models", "fastapi._compat"):
        module = sys.modules.get(name)
        for value in list(vars(module).values()) if module is not None else ():
            clear = getattr(value, "cache_clear", None)
            if clear is not None and getattr(value, "__module__", None) == name:
                clear()


def _include_again(txn: Transaction, router: Any) -> None:
    """Routers that included ``router`` get its new routes in place of the old ones."""
    entries = _includes.get(router)
    for i, (ref, kwargs, added) in enumerate(list(entries or ())):
        target = ref()
        if target is None or entries is None or _raw_include is None:
            continue
        routes = target.routes
        ids = {id(a) for a in added}
        at = next((n for n, r in enumerate(routes) if id(r) in ids), len(routes))
        before = list(routes)
        routes[:] = [r for r in routes if id(r) not in ids]
        count = len(routes)
        with quiet():
            _raw_include(target, router, **kwargs)
        new_routes = routes[count:]
        del routes[count:]
        routes[at:at] = new_routes
        entries[i] = (ref, kwargs, new_routes)
        txn.on_rollback(_restore(routes, before, entries, i, (ref, kwargs, added)))


def _restore(
    routes: list[Any], before: list[Any], entries: list[_Include], i: int, entry: _Include
) -> Any:
    def undo() -> None:
        routes[:] = before
        entries[i] = entry

    return undo


def _install() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Router

    wrap = recording(_tables, _record, lambda obj: registering_module(obj) is not None)
    _wrap_methods(wrap, [(Router, _ROUTER_METHODS), (Starlette, _APP_METHODS)])

    add_middleware = Starlette.add_middleware

    def add_middleware_during_reload(self: Any, *args: Any, **kwargs: Any) -> None:
        if in_reload():
            self.middleware_stack = None  # rebuilt on the next request anyway
        add_middleware(self, *args, **kwargs)

    Starlette.add_middleware = add_middleware_during_reload  # type: ignore[method-assign]

    router_init = Router.__init__

    def tracked_router_init(self: Any, *args: Any, **kwargs: Any) -> None:
        note_birth(self)
        router_init(self, *args, **kwargs)

    Router.__init__ = tracked_router_init  # type: ignore[method-assign]

    _track_apps(Starlette)
    # Requests and reloads take turns, also without hotmod's middleware (uvicorn).
    gate_asgi_class(Starlette)


def _track_apps(cls: type[Any]) -> None:
    """Note how each app of ``cls`` is made (FastAPI does not call Starlette's __init__)."""
    init = cls.__dict__["__init__"]

    def tracked_app_init(self: Any, *args: Any, **kwargs: Any) -> None:
        note_birth(self)
        init(self, *args, **kwargs)
        if _apps.get(self):
            return  # a subclass's __init__ that called ours
        _apps[self] = True
        recipe = recipe_of(_framework_module)
        if recipe is not None:
            _recipes[self] = recipe
        if os.environ.get("HOTMOD_LIVE") == "1":
            from starlette.middleware import Middleware

            from .._live import LiveASGI

            self.user_middleware.insert(0, Middleware(LiveASGI))

    tracked_app_init.__wrapped__ = init  # type: ignore[attr-defined]
    cls.__init__ = tracked_app_init


def _wrap_methods(wrap: Any, classes: list[tuple[type[Any], tuple[str, ...]]]) -> None:
    for cls, names in classes:
        for name in names:
            if name in vars(cls):
                setattr(cls, name, wrap(vars(cls)[name]))


class FastAPIIntegration(Integration):
    """FastAPI's own registering methods (the hooks are `StarletteIntegration`'s)."""

    framework = "fastapi"
    _installed = False

    @override
    def activate(self) -> None:
        """Wrap FastAPI's and APIRouter's registering methods (once per process)."""
        cls = type(self)
        if cls._installed:
            return
        cls._installed = True
        _install_fastapi()


def _install_fastapi() -> None:
    global _raw_include
    from fastapi import FastAPI
    from fastapi.routing import APIRouter

    wrap = recording(_tables, _record, lambda obj: registering_module(obj) is not None)
    _wrap_methods(wrap, [(APIRouter, _ROUTER_METHODS), (FastAPI, _APP_METHODS)])
    _track_apps(FastAPI)

    include = _raw_include = APIRouter.include_router

    def tracked_include(self: Any, router: Any, *args: Any, **kwargs: Any) -> None:
        before = {id(r) for r in self.routes}
        include(self, router, *args, **kwargs)
        if args or not isinstance(router, APIRouter):
            return
        added = [r for r in self.routes if id(r) not in before]
        entries = _includes.get(router)
        if entries is None:
            entries = []
            _includes[router] = entries
        entries[:] = [e for e in entries if e[0]() not in (None, self)]
        entries.append((weakref.ref(self), dict(kwargs), added))

    APIRouter.include_router = tracked_include  # type: ignore[method-assign]


class UvicornIntegration(Integration):
    """Under ``hotmod run``, uvicorn's ``--reload`` would start its restarting reloader
    in other processes, which hotmod does not watch: one process, reloaded in place."""

    framework = "uvicorn"
    _installed = False

    @override
    def activate(self) -> None:
        """Turn ``reload`` off in uvicorn's config when ``hotmod run`` runs the program."""
        cls = type(self)
        cli = sys.modules.get("hotmod.cli")
        if cls._installed or cli is None or not getattr(cli, "running", False):
            return
        cls._installed = True
        from uvicorn.config import Config

        init = Config.__init__

        def config_init(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            if self.reload:
                log.info("uvicorn's restarting reloader is off: hotmod reloads in place")
                self.reload = False

        Config.__init__ = config_init  # type: ignore[method-assign]
