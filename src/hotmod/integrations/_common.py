"""Helpers the web adapters share: who is registering, which thread reloads, live apps."""

from __future__ import annotations

import ast
import functools
import linecache
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any, Generic, TypeVar

from .. import integrations
from .._ledger import current_module
from .._runtime import ledger

__all__ = [
    "IdentityMap",
    "Recipe",
    "importing_module",
    "in_reload",
    "note_birth",
    "quiet",
    "recipe_of",
    "registering_module",
    "reloading",
    "share_state",
    "track_calls",
]

_local = threading.local()
_reload_thread: int | None = None


@contextmanager
def quiet() -> Iterator[None]:
    """Registrations made inside are not written to the ledger (an app hotmod rebuilds)."""
    depth = getattr(_local, "quiet", 0)
    _local.quiet = depth + 1
    try:
        yield
    finally:
        _local.quiet = depth


def reloading(active: bool) -> None:
    """Mark the calling thread as the one running a reload (or no reload)."""
    global _reload_thread
    _reload_thread = threading.get_ident() if active else None


def in_reload() -> bool:
    """True in the thread that runs a reload, while it runs."""
    return _reload_thread == threading.get_ident()


def _module_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            return frame
        frame = frame.f_back
    return None


V = TypeVar("V")


class IdentityMap(Generic[V]):
    """A map from live objects (by identity, hashable or not) to values; entries go with them."""

    def __init__(self) -> None:
        self._data: dict[int, tuple[weakref.ref[Any], V]] = {}

    def __setitem__(self, obj: Any, value: V) -> None:
        key, data = id(obj), self._data

        def gone(ref: weakref.ref[Any]) -> None:
            entry = data.get(key)
            if entry is not None and entry[0] is ref:
                del data[key]

        data[key] = (weakref.ref(obj, gone), value)

    def get(self, obj: Any) -> V | None:
        entry = self._data.get(id(obj))
        return entry[1] if entry is not None and entry[0]() is obj else None

    def pop(self, obj: Any) -> V | None:
        value = self.get(obj)
        if value is not None:
            del self._data[id(obj)]
        return value

    def items(self) -> list[tuple[Any, V]]:
        out = []
        for ref, value in list(self._data.values()):
            obj = ref()
            if obj is not None:
                out.append((obj, value))
        return out


# object -> the module run that made it: (id of its frame, its code). The code object
# matters: frame ids are reused once a frame is gone (Python 3.13 reuses them at once).
# It is referred to weakly: a module's code holds the previous code of every function it
# defines, which an app made by it would otherwise keep alive (as code that a paused
# call might still run: see `_audit.find_running`).
_born: IdentityMap[tuple[int, weakref.ref[CodeType]]] = IdentityMap()


def note_birth(obj: Any) -> None:
    """Remember which run of a module's top-level code made ``obj`` (an app, a router)."""
    frame = _module_frame()
    if frame is not None:
        _born[obj] = (id(frame), weakref.ref(frame.f_code))


def registering_module(target: Any = None) -> str | None:
    """The module whose top-level code makes a registration on ``target`` now, if any.

    None when nothing is worth writing to the ledger: no module's top-level code runs;
    the same run of that code made ``target`` (running it again makes a new one); or
    the running script (``__main__``) does it outside its definitions (a reload runs
    only its decorated ``def`` and ``class`` statements again).
    """
    if getattr(_local, "quiet", 0):
        return None
    frame = _module_frame()
    if frame is None:
        return None
    name = frame.f_globals.get("__name__")
    if not isinstance(name, str):
        return None
    if name == "__main__":
        return name if _in_definition(frame) else None
    born = _born.get(target) if target is not None else None
    if born is not None and born[0] == id(frame) and born[1]() is frame.f_code:
        return None
    return name


# What a registration is taken back and made again with: the ledger's (undo, redo).
Entry = tuple[Callable[[], None], Callable[[], None]]


def track_calls(
    owner: Any,
    name: str,
    entry: Callable[..., Entry | None],
    *,
    module: Callable[[Any], str | None] = registering_module,
) -> Callable[..., Any]:
    """Write each call of ``owner.name`` (a class's method, a module's function) made by
    a module's top-level code to that module's ledger; return it as it was (wrapped
    once, however often this is called).

    After a call, ``entry(original, result, first, *args, **kwargs)`` gives its
    ``(undo, redo)``, or None when the call registered nothing; ``original`` is the
    unwrapped callable, for ``redo``; ``first`` the call's first argument (``self`` for a
    method). ``module(first)`` names the module registering, or None for a call not to
    record (by default `registering_module`).
    """
    original: Callable[..., Any] = getattr(owner, name)
    if getattr(original, "_hotmod", False):
        return original.__wrapped__  # type: ignore[attr-defined, no-any-return]

    @functools.wraps(original)
    def tracked(first: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(first, *args, **kwargs)
        registering = module(first)
        if registering is not None:
            made = entry(original, result, first, *args, **kwargs)
            if made is not None:
                ledger.record(registering, *made)
        return result

    tracked._hotmod = True  # type: ignore[attr-defined]
    setattr(owner, name, tracked)
    return original


def importing_module(target: Any = None) -> str | None:
    """The module whose top-level code runs now, if any, but not the running script
    (whose top level never runs again, so what it registers stays)."""
    module = current_module()
    return None if module == "__main__" else module


_spans: dict[tuple[str, int], list[tuple[int, int]]] = {}


def _in_definition(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    linecache.checkcache(filename)  # the script may have been saved since it was read
    lines = linecache.getlines(filename, frame.f_globals)
    key = (filename, hash("".join(lines)))
    spans = _spans.get(key)
    if spans is None:
        spans = []
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                spans.append((first, node.end_lineno or node.lineno))
        _spans[key] = spans
    line = frame.f_lineno
    return any(first <= line <= last for first, last in spans)


class Recipe:
    """How an app was made by a factory: call ``module.name(*args, **kwargs)`` again."""

    __slots__ = ("args", "kwargs", "module", "name")

    def __init__(self, module: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.module = module
        self.name = name
        self.args = args
        self.kwargs = kwargs

    def factory(self) -> Callable[..., Any] | None:
        """The factory as its module binds it now."""
        module = sys.modules.get(self.module)
        func = getattr(module, self.name, None) if module is not None else None
        return func if callable(func) else None

    def build(self) -> Any:
        """A new app from the newest factory code (registrations not recorded)."""
        factory = self.factory()
        if factory is None:
            raise RuntimeError(f"the app factory {self.module}.{self.name} is gone")
        with quiet():
            return factory(*self.args, **self.kwargs)


def recipe_of(skip: Callable[[str], bool]) -> Recipe | None:
    """The factory making an object now: the first caller outside ``skip``-ped modules.

    None when the object is made by a module's top-level code (or by nothing we can
    call again: a method, a nested function).
    """
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not (isinstance(module, str) and skip(module)) and frame.f_code.co_name != "__init__":
            break
        frame = frame.f_back
    if frame is None or frame.f_code.co_name == "<module>":
        return None
    code = frame.f_code
    func = frame.f_globals.get(code.co_name)
    if getattr(func, "__code__", None) is not code:
        return None
    return Recipe(str(frame.f_globals["__name__"]), code.co_name, *_arguments(frame))


def _arguments(frame: FrameType) -> tuple[tuple[Any, ...], dict[str, Any]]:
    code = frame.f_code
    names = code.co_varnames
    local = frame.f_locals
    count = code.co_argcount + code.co_kwonlyargcount
    kwargs = {n: local[n] for n in names[: code.co_argcount] if n in local}
    args: tuple[Any, ...] = ()
    if code.co_posonlyargcount:
        args = tuple(local[n] for n in names[: code.co_posonlyargcount])
        for n in names[: code.co_posonlyargcount]:
            kwargs.pop(n, None)
    kwargs.update({n: local[n] for n in names[code.co_argcount : count] if n in local})
    index = count
    if code.co_flags & 0x04:  # *args
        extra = local.get(names[index], ())
        args = (*args, *(kwargs.pop(n) for n in names[len(args) : code.co_argcount]), *extra)
        index += 1
    if code.co_flags & 0x08:  # **kwargs
        kwargs.update(local.get(names[index], {}))
    return args, kwargs


def share_state(
    obj: Any, new: Any, txn: integrations.Transaction, *, clear_previous: bool = False
) -> None:
    """Make ``obj`` use ``new``'s attributes (one dict for both), undone on rollback.

    With ``clear_previous`` the attributes ``obj`` had are dropped at the commit (for
    objects whose parts refer back to their owner, which would keep them alive).
    """
    box = [obj.__dict__]
    twin = _twins.get(obj)
    previous = twin if twin is not None and twin.__dict__ is obj.__dict__ else None
    obj.__dict__ = new.__dict__
    _twins[obj] = new

    def undo() -> None:
        obj.__dict__ = box[0]
        if previous is not None:
            _twins[obj] = previous
        else:
            _twins.pop(obj)

    def drop_cycle() -> None:
        # The previous state may refer to its own twin (a method bound to it, a Jinja
        # environment holding it): without those parts, the twin and its tables go as
        # soon as no request runs on them any more.
        saved = box.pop()
        if saved is obj.__dict__:
            return
        if clear_previous:
            saved.clear()
            return
        for key, value in list(saved.items()):
            if _bound(value) or (
                previous is not None
                and any(v is previous for v in getattr(value, "__dict__", {}).values())
            ):
                del saved[key]

    txn.on_rollback(undo)
    txn.on_commit(drop_cycle)


_twins: IdentityMap[Any] = IdentityMap()  # kept object -> the object whose state it uses


def _bound(value: Any) -> bool:
    # A bound method, or a wrapper around one (hotmod's gate, the live refresh wrapper).
    for _ in range(4):
        if getattr(value, "__self__", None) is not None:
            return True
        inner = getattr(value, "__wrapped__", None) or getattr(value, "app", None)
        if inner is None:
            return False
        value = inner
    return False


# -- the request gate of apps served without hotmod's middleware ---------------------------

# Longest a reload waits for requests inside an app's code when the gate was put there by
# an adapter (``hotmod run -m flask``, ``-m uvicorn``), unless the program chose a bound.
ADAPTER_HOLD_TIMEOUT = 10.0


def bound_hold_timeout() -> None:
    """Give the process's gate a bound, so that a stuck handler cannot hold reloads forever."""
    from .._runtime import safepoint

    if safepoint.hold_timeout is None:
        safepoint.hold_timeout = ADAPTER_HOLD_TIMEOUT


def gate_wsgi_class(cls: type[Any]) -> None:
    """Make each call of a ``cls`` app a unit of work of the safe point, until the app
    returns its response iterable.

    A reload then never runs while a request is inside the app's code, and a request
    that arrives meanwhile starts after it, on the new state (the gate is taken before
    the app looks anything up); the server streams the body outside the gate.
    """
    from .._runtime import safepoint

    call = cls.__call__

    def __call__(self: Any, environ: Any, start_response: Any) -> Any:
        safepoint.acquire_read()
        try:
            return call(self, environ, start_response)
        finally:
            safepoint.release_read()

    __call__.__wrapped__ = call  # type: ignore[attr-defined]
    cls.__call__ = __call__


_ROUTED = ("endpoint", "route", "fastapi")


def gate_asgi_class(cls: type[Any]) -> None:
    """Like `gate_wsgi_class` for ASGI apps: the request leaves the gate when its response
    starts streaming or its websocket is accepted."""
    from .._runtime import safepoint

    call = cls.__call__

    async def __call__(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await call(self, scope, receive, send)
            return
        if not safepoint.try_acquire_read():
            await safepoint.acquire_read_async()
        released = False

        def send_and_release(message: Any) -> Any:
            nonlocal released
            if not released and (message.get("more_body") or message["type"] == "websocket.accept"):
                released = True
                safepoint.release_read()
            return send(message)

        try:
            await call(self, scope, receive, send_and_release)
        finally:
            if not released:
                safepoint.release_read()
            # The server may keep a request's scope until the connection's next request
            # (a browser's keep-alive): the route it was routed to, in Starlette's and
            # FastAPI's keys, must not look served once it is removed.
            for key in _ROUTED:
                scope.pop(key, None)

    __call__.__wrapped__ = call  # type: ignore[attr-defined]
    cls.__call__ = __call__
