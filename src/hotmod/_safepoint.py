"""When changes are applied: a readers–writer gate between running code and reloads."""

from __future__ import annotations

import functools
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, overload

from typing_extensions import ParamSpec

__all__ = ["SafePoint", "reloadable", "safepoint"]

log = logging.getLogger("hotmod.safepoint")

P = ParamSpec("P")
R = TypeVar("R")


class SafePoint:
    """A readers–writer gate: units of work (requests) read, reloads write.

    A reload waits until the work in flight has finished and holds new work until it
    is done; a reload waiting for the gate goes before work that arrives after it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._local = threading.local()
        self.pending: Callable[[], object] | None = None

    @property
    def in_flight(self) -> int:
        """Units of work currently inside the gate."""
        return self._readers

    def held_here(self) -> bool:
        """True when the calling thread is inside the gate (not a safe point)."""
        return bool(getattr(self._local, "depth", 0))

    def acquire_read(self) -> None:
        """Enter as a unit of work; waits while a reload runs or waits."""
        depth = getattr(self._local, "depth", 0)
        with self._cond:
            if depth == 0:
                while self._writing or self._writers_waiting:
                    self._cond.wait()
            self._readers += 1
        self._local.depth = depth + 1

    def release_read(self) -> None:
        """Leave as a unit of work."""
        self._local.depth -= 1
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self, timeout: float | None = None) -> bool:
        """Wait for work in flight to finish and hold new work; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                self._writing = True
                return True
            finally:
                self._writers_waiting -= 1

    def release_write(self) -> None:
        """Let held work go on."""
        with self._cond:
            self._writing = False
            self._cond.notify_all()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A unit of work: no reload runs while inside."""
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """A reload: runs alone."""
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()

    def reach(self) -> object:
        """Apply pending changes here if there are any and this thread may."""
        pending = self.pending
        if pending is None or self.held_here():
            return None
        return pending()


safepoint = SafePoint()


def _newest(wrapper: Callable[..., Any], func: Callable[..., Any]) -> Callable[..., Any]:
    # The definition the module binds now: normally ``func`` itself (patched in place);
    # a new object when its identity could not be kept.
    module = sys.modules.get(getattr(wrapper, "__module__", "") or "")
    qualname: str = getattr(wrapper, "__qualname__", "")
    if module is None or "<locals>" in qualname:
        return func
    obj: Any = module
    for part in qualname.split("."):
        obj = _static_attr(obj, part)
        if obj is None:
            return func
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    target = getattr(obj, "__hotmod_target__", None)
    return target if callable(target) else func


def _static_attr(obj: Any, name: str) -> Any:
    # Like inspect.getattr_static for modules and classes, without importing inspect.
    spaces = [vars(k) for k in obj.__mro__] if isinstance(obj, type) else [vars(obj)]
    for space in spaces:
        if name in space:
            return space[name]
    return None


def _is_async(func: Callable[..., Any]) -> bool:
    code = getattr(func, "__code__", None)
    return code is not None and bool(code.co_flags & 0x0080)  # CO_COROUTINE


@overload
def reloadable(func: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def reloadable() -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def reloadable(func: Callable[P, R] | None = None, /) -> Any:
    """Make each call of ``func`` a safe point: apply pending changes, then run the newest code.

    Works bare (``@hotmod.reloadable``) or called (``@hotmod.reloadable()``), on plain and
    async functions and methods. For a long-running loop, decorate the body that each
    iteration calls.
    """
    if func is None:
        return reloadable
    if _is_async(func):
        async_func: Callable[P, Coroutine[Any, Any, Any]] = func  # type: ignore[assignment]

        @functools.wraps(func)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            safepoint.reach()
            return await _newest(async_wrapper, async_func)(*args, **kwargs)

        async_wrapper.__hotmod_target__ = async_func  # type: ignore[attr-defined]
        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        safepoint.reach()
        result: R = _newest(wrapper, func)(*args, **kwargs)
        return result

    wrapper.__hotmod_target__ = func  # type: ignore[attr-defined]
    return wrapper
