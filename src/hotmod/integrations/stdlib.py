"""Process-wide side effects of module code: atexit, logging, warnings filters, signals.

Each call a module's top-level code makes is written to the ledger, so a module run
again does not add a second exit handler, log handler, filter or warnings filter.
"""

from __future__ import annotations

import atexit
import functools
import logging
import signal
import threading
import warnings
from collections.abc import Callable
from typing import Any

from .._ledger import current_module, ledger
from . import Integration

__all__ = ["StdlibIntegration"]

log = logging.getLogger("hotmod.integrations")


class StdlibIntegration(Integration):
    """Ledger entries for atexit handlers, logging handlers and filters, warnings filters
    and signal handlers registered by a module's top-level code."""

    framework = "atexit"
    _installed = False

    def activate(self) -> None:
        """Wrap the registering functions (once per process)."""
        cls = type(self)
        if cls._installed:
            return
        cls._installed = True
        _wrap_atexit()
        _wrap_logging()
        _wrap_warnings()
        _wrap_signal()


def _wrap_atexit() -> None:
    register, unregister = atexit.register, atexit.unregister

    @functools.wraps(register)
    def tracked_register(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = register(func, *args, **kwargs)
        module = current_module()
        if module is not None:
            ledger.record(
                module, functools.partial(unregister, func), lambda: register(func, *args, **kwargs)
            )
        return result

    atexit.register = tracked_register


def _wrap_logging() -> None:
    add_handler = logging.Logger.addHandler
    add_filter = logging.Filterer.addFilter

    def tracked_add_handler(self: logging.Logger, hdlr: logging.Handler) -> None:
        had = hdlr in self.handlers
        add_handler(self, hdlr)
        module = current_module()
        if module is not None and not had:
            ledger.record(module, functools.partial(self.removeHandler, hdlr), lambda: add_handler(self, hdlr))

    def tracked_add_filter(self: logging.Filterer, filter: Any) -> None:
        had = filter in self.filters
        add_filter(self, filter)
        module = current_module()
        if module is not None and not had:
            ledger.record(module, functools.partial(self.removeFilter, filter), lambda: add_filter(self, filter))

    logging.Logger.addHandler = tracked_add_handler  # type: ignore[method-assign]
    logging.Filterer.addFilter = tracked_add_filter  # type: ignore[method-assign]


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
        added = [f for f in warnings.filters if id(f) not in before]
        for item in added:
            ledger.record(module, functools.partial(_remove_filter, item), lambda: original(*args, **kwargs))

    return tracked


def _remove_filter(item: Any) -> None:
    filters: list[Any] = warnings.filters  # type: ignore[attr-defined]
    for i, f in enumerate(filters):
        if f is item:
            del filters[i]
            warnings._filters_mutated()  # type: ignore[attr-defined]
            return


def _wrap_signal() -> None:
    original = signal.signal

    @functools.wraps(original)
    def tracked_signal(signalnum: int, handler: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            # Only the main thread may set handlers. A module re-executed on the watcher
            # thread keeps the handler it installed before: that function was kept in
            # place, so it runs the new code.
            current = signal.getsignal(signalnum)
            if current is not handler and current_module() is not None:
                log.info(
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
    if handler is not None and threading.current_thread() is threading.main_thread():
        original(signalnum, handler)
