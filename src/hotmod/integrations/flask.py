"""Flask: every app the server holds serves the newest routes, views, hooks and blueprints.

Two mechanisms, because Flask apps are made two ways:

- **Registrations** (``@app.route``, ``@bp.route``, ``app.register_blueprint``,
  ``@app.before_request``, error handlers...) made by a module's top-level code go to
  that module's ledger, as the additions they made to the app's or blueprint's tables.
  Before the module runs again they are taken out, so a removed route 404s and nothing
  is registered twice; Flask's "setup already finished" checks are skipped while a
  reload runs, since the reload is a safe point.
- **Apps and blueprints made anew** keep their identity: a re-executed
  ``app = Flask(__name__)`` or ``bp = Blueprint(...)`` leaves the module (and the server)
  with the previous object, which takes the new one's state. An app made by a factory
  (``create_app()`` called by ``flask run``, a ``wsgi.py`` or hotmod's ``factory=True``)
  is built again from the newest factory after each reload that touches its package,
  and the server's app object takes the new app's state. Requests then run on the new
  app's ``wsgi_app``, so ``current_app``, extensions and config are those of one
  consistent, freshly built app.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from types import FunctionType
from typing import TYPE_CHECKING, Any

from .. import integrations
from .._missing import MISSING
from .._typing import override
from . import NOT_HANDLED, Integration, Transaction, record
from ._common import (
    IdentityMap,
    Recipe,
    bound_hold_timeout,
    gate_wsgi_class,
    in_reload,
    note_birth,
    recipe_of,
    registering_module,
    reloading,
    share_state,
)
from ._diff import Change, recording

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["FlaskIntegration"]

log = logging.getLogger("hotmod.integrations.flask")

_SCAFFOLD_TABLES = (
    "view_functions",
    "error_handler_spec",
    "before_request_funcs",
    "after_request_funcs",
    "teardown_request_funcs",
    "template_context_processors",
    "url_value_preprocessors",
    "url_default_functions",
)
_APP_TABLES = (
    "url_build_error_handlers",
    "teardown_appcontext_funcs",
    "shell_context_processors",
    "blueprints",
)
_BLUEPRINT_TABLES = ("deferred_functions", "_blueprints")

_recipes: IdentityMap[Recipe] = IdentityMap()
_dirty_maps: list[Any] = []
_lock = threading.Lock()


def _framework_module(name: str) -> bool:
    return name.split(".")[0] in ("flask", "werkzeug", "hotmod")


def _tables(obj: Any) -> Iterable[Any]:
    d = obj.__dict__
    names = _SCAFFOLD_TABLES + (_BLUEPRINT_TABLES if "deferred_functions" in d else _APP_TABLES)
    out = [d[n] for n in names if n in d]
    url_map = d.get("url_map")
    if url_map is not None:
        out.append(url_map._rules_by_endpoint)
    env = d.get("jinja_env")
    if env is not None:
        out.extend((env.filters, env.tests, env.globals))
    return out


def _record(obj: Any, change: Change) -> None:
    url_map = obj.__dict__.get("url_map")

    def undo() -> None:
        change.undo()
        if url_map is not None:
            _dirty_maps.append(url_map)

    def redo() -> None:
        change.redo()
        if url_map is not None:
            _dirty_maps.append(url_map)

    record(undo, redo)


def _rebuild_maps() -> None:
    """Compile the URL maps whose rules were taken out again (werkzeug only adds)."""
    from werkzeug.routing.matcher import StateMachineMatcher

    with _lock:
        maps = {id(m): m for m in _dirty_maps}
        _dirty_maps.clear()
    for url_map in maps.values():
        matcher = StateMachineMatcher(url_map.merge_slashes)
        for rules in url_map._rules_by_endpoint.values():
            for rule in rules:
                if not rule.build_only:
                    matcher.add(rule)
        url_map._matcher = matcher
        url_map._remap = True


class FlaskIntegration(Integration):
    """Routes, hooks and blueprints of Flask apps follow the reloaded code."""

    framework = "flask"
    _installed = False

    @override
    def activate(self) -> None:
        """Wrap Flask's setup methods and app construction (once per process)."""
        cls = type(self)
        if cls._installed:
            return
        cls._installed = True
        bound_hold_timeout()
        _install()

    @override
    def begin(self, txn: Transaction) -> None:
        """Setup methods may run on apps that served requests until this reload ends."""
        reloading(True)
        txn.state["flask.kept"] = set()
        # What each blueprint of a factory-made app registers now, to tell at the end
        # whether the app must be built again (a view's body edited changes nothing).
        changed = set(txn.changed)
        txn.state["flask.blueprints"] = {
            id(bp): _fingerprint(bp)
            for app, _ in _recipes.items()
            for bp in app.blueprints.values()
            if bp.import_name in changed
        }

    @override
    def keep(self, txn: Transaction, old: object, new: object) -> object:
        """A re-made app or blueprint: the previous object takes the new one's state."""
        from flask.sansio.app import App
        from flask.sansio.blueprints import Blueprint

        if type(old) is not type(new) or not isinstance(old, (App, Blueprint)):
            return NOT_HANDLED
        if isinstance(new, App):
            _delegate(new)
            _recipes.pop(new)
            txn.state["flask.kept"].add(id(old))
        share_state(old, new, txn)
        return old

    @override
    def finish(self, txn: Transaction) -> None:
        """Build factory-made apps again from the newest code."""
        kept: set[int] = txn.state.get("flask.kept", set())
        before: dict[int, object] = txn.state.get("flask.blueprints", {})
        for app, recipe in _recipes.items():
            if id(app) in kept or not _touched(app, recipe, txn):
                continue
            if _same_registrations(app, recipe, txn, before):
                continue
            new = recipe.build()
            if type(new) is not type(app):
                txn.restart(
                    recipe.module, f"{recipe.name}() no longer returns a {type(app).__name__}"
                )
            _recipes.pop(new)
            _delegate(new)
            share_state(app, new, txn)
            txn.note(f"flask: {recipe.module}.{recipe.name}() built the app again")
        _rebuild_maps()

    @override
    def committed(self, report: Any) -> None:
        """The reload is over."""
        reloading(False)
        _rebuild_maps()

    @override
    def rolled_back(self, report: Any) -> None:
        """Registrations are back as they were; so must the URL maps be."""
        reloading(False)
        _rebuild_maps()


def _touched(app: Any, recipe: Recipe, txn: Transaction) -> bool:
    # The app's package, or a module that gave it a view or a blueprint, was reloaded.
    packages = {recipe.module.split(".")[0]}
    packages.update(
        str(getattr(f, "__module__", "")).split(".")[0] for f in app.view_functions.values()
    )
    packages.update(bp.import_name.split(".")[0] for bp in app.blueprints.values())
    return any(m.split(".")[0] in packages for m in txn.modules)


def _same_registrations(
    app: Any, recipe: Recipe, txn: Transaction, before: dict[int, object]
) -> bool:
    """True when rebuilding ``app`` would register exactly what it has.

    So when every module whose source changed holds only blueprints of the app that
    register the same rules, hooks and handlers as before (the view functions are
    kept objects, updated in place). The factory's module, or any other changed
    module of the app's package (a helper its factory calls), means a rebuild.
    """
    blueprints = list(app.blueprints.values())
    for module in txn.changed:
        own = [bp for bp in blueprints if bp.import_name == module]
        if not own or module == recipe.module:
            return False
        if any(before.get(id(bp), MISSING) != _fingerprint(bp) for bp in own):
            return False
    return True


def _fingerprint(obj: Any, depth: int = 0) -> object:
    """A comparable summary of what a blueprint (or part of one) registers."""
    if depth > 6:
        return ("id", id(obj))
    if isinstance(obj, FunctionType):
        if "<locals>" not in obj.__qualname__:
            return ("fn", id(obj))  # a kept function: same object, newest code
        cells = []
        for cell in obj.__closure__ or ():
            try:
                cells.append(_fingerprint(cell.cell_contents, depth + 1))
            except ValueError:
                cells.append(None)
        code = obj.__code__
        return ("closure", code.co_code, code.co_names, tuple(cells))
    if isinstance(obj, (str, int, float, bool, type(None), bytes)):
        return obj
    if isinstance(obj, dict):
        return tuple(
            (_fingerprint(k, depth + 1), _fingerprint(v, depth + 1)) for k, v in obj.items()
        )
    if isinstance(obj, (list, tuple, set, frozenset)):
        return (type(obj).__name__, tuple(_fingerprint(v, depth + 1) for v in obj))
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict) and "deferred_functions" in d:  # a blueprint
        tables = [d.get(n) for n in (*_SCAFFOLD_TABLES, *_BLUEPRINT_TABLES)]
        plain = {
            k: v
            for k, v in d.items()
            if isinstance(v, (str, int, bool, type(None))) and k != "_got_registered_once"
        }
        return ("blueprint", _fingerprint(plain, depth + 1), _fingerprint(tables, depth + 1))
    return ("id", id(obj))


def _delegate(new: Any) -> None:
    # Requests to the server's app object run on the new app (its wsgi_app is bound to
    # it), unless the new app's own code already wrapped its wsgi_app.
    if "wsgi_app" not in new.__dict__:
        new.__dict__["wsgi_app"] = new.wsgi_app


def _install() -> None:
    import flask
    from flask.sansio.app import App
    from flask.sansio.blueprints import Blueprint
    from flask.sansio.scaffold import Scaffold, setupmethod

    wrapper_code = setupmethod(lambda self: None).__code__
    wrap = recording(_tables, _record, lambda obj: registering_module(obj) is not None)
    classes = [Scaffold, App, Blueprint, flask.Flask, flask.Blueprint]
    for cls in classes:
        for name, value in list(vars(cls).items()):
            if getattr(value, "__code__", None) is wrapper_code:
                setattr(cls, name, wrap(value))

    for cls in (App, Blueprint):
        original = cls.__dict__["_check_setup_finished"]
        cls._check_setup_finished = _lenient(original)  # type: ignore[method-assign, assignment]

    bp_init = Blueprint.__init__

    def tracked_bp_init(self: Any, *args: Any, **kwargs: Any) -> None:
        note_birth(self)
        bp_init(self, *args, **kwargs)

    tracked_bp_init.__wrapped__ = bp_init  # type: ignore[attr-defined]
    Blueprint.__init__ = tracked_bp_init  # type: ignore[method-assign]

    init = flask.Flask.__init__

    def tracked_init(self: Flask, *args: Any, **kwargs: Any) -> None:
        note_birth(self)
        init(self, *args, **kwargs)
        recipe = recipe_of(_framework_module)
        if recipe is not None:
            _recipes[self] = recipe
        if os.environ.get("HOTMOD_LIVE") == "1":
            from .._live import LiveWSGI

            self.wsgi_app = LiveWSGI(self.wsgi_app)  # type: ignore[method-assign]

    tracked_init.__wrapped__ = init  # type: ignore[attr-defined]
    flask.Flask.__init__ = tracked_init  # type: ignore[method-assign]
    # Requests and reloads take turns, also without hotmod's middleware (flask run).
    gate_wsgi_class(flask.Flask)
    _no_restart_reloader()


def _lenient(check: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def check_setup_finished(self: Any, f_name: str) -> None:
        if in_reload():
            return  # a reload is a safe point: the app serves no request meanwhile
        check(self, f_name)

    return check_setup_finished


def _no_restart_reloader() -> None:
    # Under ``hotmod run``, werkzeug's reloader (``flask run --debug``) would start a
    # second process that hotmod does not watch: keep one process, reloaded in place.
    cli = sys.modules.get("hotmod.cli")
    if cli is None or not getattr(cli, "running", False):
        return
    import werkzeug.serving

    run_simple = werkzeug.serving.run_simple

    def run_simple_in_place(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("use_reloader"):
            log.info("werkzeug's restarting reloader is off: hotmod reloads in place")
            kwargs["use_reloader"] = False
        return run_simple(*args, **kwargs)

    # flask.cli took werkzeug's function at import: replace it wherever it is bound.
    for name in ("werkzeug.serving", "werkzeug", "flask.cli"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "run_simple", None) is run_simple:
            setattr(module, "run_simple", run_simple_in_place)  # noqa: B010
    integrations.log.debug("flask: werkzeug's reloader disabled under hotmod run")
