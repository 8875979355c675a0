"""Process-wide side effects of module code: atexit, logging, warnings filters, signals,
ABC registrations, ``typing.overload`` stubs.

Each registration a module's top-level code makes is written to the ledger, so a module
run again does not add a second exit handler, log handler, filter, warnings filter or
signal handler, or leave a class registered with an ABC its source no longer
registers it with. The registering functions are wrapped at ``import hotmod`` (atexit,
warnings and abc, loaded at every interpreter start), and logging and signal as soon as they are
loaded: registrations of a module's first import are known before anything reloads.
"""

from __future__ import annotations

import atexit
import functools
import sys
import warnings

from ._ledger import current_module
from ._runtime import ledger

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import hotmod stays light)
if TYPE_CHECKING:
    from collections.abc import Callable
    from logging import Logger
    from typing import Any

__all__ = ["LATE", "install", "pending", "take_overloads", "wrap"]

LATE = frozenset({"logging", "signal"})  # wrapped when the program imports them
_wrapped: set[str] = set()


def install() -> None:
    """Wrap the registering functions of the modules loaded now (idempotent)."""
    for name in ("atexit", "warnings", "abc", *sorted(LATE)):
        if name in sys.modules:
            wrap(name)


def wrap(name: str) -> None:
    """Wrap the registering functions of ``name`` (atexit, warnings, abc, logging or
    signal)."""
    if name in _wrapped:
        return
    _wrapped.add(name)
    {
        "atexit": _wrap_atexit,
        "warnings": _wrap_warnings,
        "abc": _wrap_abc,
        "logging": _wrap_logging,
        "signal": _wrap_signal,
    }[name]()


def pending(name: str) -> bool:
    """Whether ``name`` is a module whose registering functions wait to be wrapped."""
    return name in LATE and name not in _wrapped


def _log() -> Logger:
    import logging

    return logging.getLogger("hotmod.integrations")


def _wrap_atexit() -> None:
    register: Callable[..., Any] = atexit.register
    unregister = atexit.unregister

    def tracked_register(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = register(func, *args, **kwargs)
        module = current_module()
        if module is not None:
            ledger.record(
                module,
                functools.partial(unregister, func),
                functools.partial(_call, register, func, *args, **kwargs),
            )
        return result

    functools.update_wrapper(tracked_register, register)
    atexit.register = tracked_register  # type: ignore[assignment]


def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    func(*args, **kwargs)


def _wrap_logging() -> None:
    import logging

    logging.Logger.addHandler = _tracked_add(  # type: ignore[method-assign, assignment]
        logging.Logger.addHandler, "handlers", "removeHandler"
    )
    logging.Filterer.addFilter = _tracked_add(  # type: ignore[method-assign, assignment]
        logging.Filterer.addFilter, "filters", "removeFilter"
    )


def _tracked_add(
    add: Callable[[Any, Any], None], items: str, remove: str
) -> Callable[[Any, Any], None]:
    """``add(owner, item)`` (addHandler, addFilter) that writes a new item to the ledger."""

    def tracked(owner: Any, item: Any) -> None:
        had = item in getattr(owner, items)
        add(owner, item)
        module = current_module()
        if module is not None and not had:
            ledger.record(
                module,
                functools.partial(getattr(owner, remove), item),
                functools.partial(add, owner, item),
            )

    return tracked


def _wrap_warnings() -> None:
    for name in ("filterwarnings", "simplefilter"):
        setattr(warnings, name, _tracked_filter(getattr(warnings, name)))


def _tracked_filter(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def tracked(*args: Any, **kwargs: Any) -> None:
        before = {id(f) for f in warnings.filters}
        original(*args, **kwargs)
        module = current_module()
        if module is None:
            return
        # The list it went into: inside ``catch_warnings`` a copy, thrown away at the
        # block's end, and its filter with it. Put back only into the list it was
        # made in, never into the process's filters for good.
        target = warnings.filters
        added = [f for f in target if id(f) not in before]
        for item in added:
            ledger.record(
                module,
                functools.partial(_remove_filter, item),
                functools.partial(_add_filter_to, target, original, args, kwargs),
            )

    return tracked


def _add_filter_to(
    target: object,
    add: Callable[..., None],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    if warnings.filters is target:
        add(*args, **kwargs)


def _remove_filter(item: Any) -> None:
    filters: Any = warnings.filters
    for i, f in enumerate(filters):
        if f is item:
            del filters[i]
            warnings._filters_mutated()  # type: ignore[attr-defined]
            return


def _wrap_abc() -> None:
    import abc

    dump: Callable[[type], tuple[set[Any], ...]] | None = getattr(abc, "_get_dump", None)
    if dump is None:
        return  # (the pure-Python abc: its registrations are not taken back)
    register: Callable[[Any, Any], Any] = abc.ABCMeta.register

    def tracked_register(cls: type, subclass: type) -> Any:
        module = current_module()
        if module is None:
            return register(cls, subclass)
        before = len(dump(cls)[0])
        result = register(cls, subclass)
        if len(dump(cls)[0]) > before:  # (not when it was a subclass already)
            ledger.record(
                module,
                functools.partial(_unregister, cls, subclass),
                functools.partial(_call, register, cls, subclass),
            )
        return result

    functools.update_wrapper(tracked_register, register)
    abc.ABCMeta.register = tracked_register  # type: ignore[method-assign]


def _unregister(cls: type, subclass: type) -> None:
    """Take ``subclass`` out of the ABC ``cls``'s registry (which has no such call: the
    registry is emptied and the others registered again)."""
    import abc

    others = [ref() for ref in abc._get_dump(cls)[0]]  # type: ignore[attr-defined]
    abc._reset_registry(cls)  # type: ignore[attr-defined]
    abc._reset_caches(cls)  # type: ignore[attr-defined]
    for other in others:
        if other is not None and other is not subclass:
            abc._abc_register(cls, other)  # type: ignore[attr-defined]


def _wrap_signal() -> None:
    import signal
    import threading

    original = signal.signal

    @functools.wraps(original)
    def tracked_signal(signalnum: int, handler: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            # Only the main thread may set handlers. A module re-executed on the watcher
            # thread keeps the handler it installed before: that function was kept in
            # place, so it runs the new code.
            current = signal.getsignal(signalnum)
            if current is not handler and current_module() is not None:
                _log().info(
                    "signal handler for %s not replaced: reloads run off the main thread",
                    signal.Signals(signalnum).name,
                )
            return current
        previous = original(signalnum, handler)
        module = current_module()
        if module is not None:
            ledger.record(
                module,
                functools.partial(_restore_signal, original, signalnum, previous),
                functools.partial(_restore_signal, original, signalnum, handler),
            )
        return previous

    signal.signal = tracked_signal


def _restore_signal(original: Callable[..., Any], signalnum: int, handler: Any) -> None:
    import threading

    if handler is not None and threading.current_thread() is threading.main_thread():
        original(signalnum, handler)


def take_overloads(module: str) -> Callable[[], None] | None:
    """Take out the ``@overload`` stubs ``module`` registered (it runs again next, and
    registers its own), as a fresh import has none but the new ones; how to put them back.

    ``typing`` keeps them by module, qualified name and first line (3.11 on), so a stub
    moved to another line stayed, and ``typing.get_overloads`` listed it too.
    """
    typing = sys.modules.get("typing")
    registry = getattr(typing, "_overload_registry", None)
    if not registry or module not in registry:
        return None
    taken = registry.pop(module)

    def put_back() -> None:
        registry[module] = taken

    return put_back
