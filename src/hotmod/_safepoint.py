"""When changes are applied: a readers-writer gate between running code and reloads."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

__all__ = ["SafePoint", "reloadable"]

log = logging.getLogger("hotmod.safepoint")

P = ParamSpec("P")
R = TypeVar("R")

if TYPE_CHECKING:
    import asyncio

    _Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]


class _Default:
    """The default of `SafePoint.writing`'s timeout: the gate's own `hold_timeout`."""


_DEFAULT = _Default()


class SafePoint:
    """A readers-writer gate: units of work (requests) read, reloads write.

    A reload waits until the work in flight has finished and holds new work until it
    is done; a reload waiting for the gate goes before work that arrives after it.
    Threads block on the gate; coroutines use the ``*_async`` methods, which never
    block the event loop. A unit of work is tracked per thread and per asyncio task
    (a context variable), so code it runs in worker threads counts as inside it too.

    Attributes:
        pending: applies the changes waiting for a safe point (the manual watcher's
            ``apply``), or None.
        hold_timeout: longest a reload waits for work in flight (a streaming response,
            a websocket) before it goes ahead anyway with a WARNING; None waits forever.
    """

    def __init__(self, *, hold_timeout: float | None = None) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._readers = 0
        self._writing = False
        self._writer: int | None = None
        self._write_depth = 0
        self._writers_waiting = 0
        self._depth: ContextVar[int] = ContextVar("hotmod_safepoint_depth", default=0)
        self._async_waiters: list[_Waiter] = []
        self.pending: Callable[[], object] | None = None
        self.hold_timeout = hold_timeout

    @property
    def in_flight(self) -> int:
        """Units of work currently inside the gate."""
        return self._readers

    def held_here(self) -> bool:
        """True when the calling thread or task is inside the gate (not a safe point)."""
        return self._depth.get() > 0

    # -- readers -----------------------------------------------------------------------

    def _blocked(self) -> bool:
        return (self._writing or self._writers_waiting > 0) and (
            self._writer != threading.get_ident()
        )

    def try_acquire_read(self) -> bool:
        """Enter as a unit of work if no reload runs or waits; never blocks."""
        depth = self._depth.get()
        with self._lock:  # the condition's lock, without its Python-level wrapper
            if depth == 0 and (self._writing or self._writers_waiting) and self._blocked():
                return False
            self._readers += 1
        self._depth.set(depth + 1)
        return True

    def acquire_read(self) -> None:
        """Enter as a unit of work; waits while a reload runs or waits."""
        depth = self._depth.get()
        with self._lock:
            if depth == 0 and (self._writing or self._writers_waiting):
                while self._blocked():
                    self._cond.wait()
            self._readers += 1
        self._depth.set(depth + 1)

    async def acquire_read_async(self) -> None:
        """Enter as a unit of work from a coroutine, awaiting (not blocking) a reload."""
        while True:
            depth = self._depth.get()
            with self._cond:
                if depth == 0 and self._blocked():
                    waiter = self._add_waiter()
                else:
                    self._readers += 1
                    waiter = None
            if waiter is None:
                self._depth.set(depth + 1)
                return
            await waiter

    def release_read(self) -> None:
        """Leave as a unit of work."""
        self._depth.set(self._depth.get() - 1)
        with self._lock:
            self._readers -= 1
            if self._readers == 0 and self._writers_waiting:
                self._cond.notify_all()
                if self._async_waiters:
                    self._wake_async()

    # -- writers -----------------------------------------------------------------------

    def acquire_write(self, timeout: float | None = None) -> bool:
        """Wait for work in flight to finish and hold new work; False on timeout.

        Reentrant: the thread holding the gate for writing may enter it again.
        """
        return self._acquire_write(timeout, force=False)

    def _acquire_write(self, timeout: float | None, *, force: bool) -> bool:
        me = threading.get_ident()
        deadline = None if timeout is None else time.monotonic() + timeout
        overdue = False
        with self._cond:
            if self._writer == me:
                self._write_depth += 1
                return True
            self._writers_waiting += 1
            while self._writing or (self._readers and not overdue):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    if not force:
                        break
                    # Past the bound only a running reload is waited for.
                    overdue, deadline = True, None
                    continue
                self._cond.wait(remaining)
            else:
                self._take_write(me)
            self._writers_waiting -= 1
            acquired, in_flight = self._writer == me, self._readers
            if not acquired:
                self._release_waiters()
        if overdue:
            _warn_overdue(timeout, in_flight)
        return acquired

    async def acquire_write_async(
        self, timeout: float | None = None, *, force: bool = False
    ) -> bool:
        """Like `acquire_write` from a coroutine: awaits work in flight, never blocks.

        With ``force``, goes ahead after ``timeout`` even though work is still in flight
        (logging a WARNING). Release with `release_write` before the next ``await``.
        """
        import asyncio  # only ever imported here by code already running a loop

        me = threading.get_ident()
        deadline = None if timeout is None else time.monotonic() + timeout
        overdue = False
        with self._cond:
            self._writers_waiting += 1
        try:
            while True:
                with self._cond:
                    if not self._writing and (not self._readers or overdue):
                        self._take_write(me)
                        return True
                    waiter = self._add_waiter()
                remaining = None if deadline is None else deadline - time.monotonic()
                try:
                    if remaining is not None and remaining <= 0:
                        raise asyncio.TimeoutError
                    await asyncio.wait_for(waiter, remaining)
                except asyncio.TimeoutError:
                    if not force:
                        return False
                    if not overdue:
                        overdue = True
                        _warn_overdue(timeout, self._readers)
                    # Past the bound only a running reload is waited for (it ends by itself).
                    deadline = None
        finally:
            with self._cond:
                self._writers_waiting -= 1
                if not self._writing:
                    self._release_waiters()

    def _take_write(self, me: int) -> None:
        self._writing = True
        self._writer = me
        self._write_depth = 1

    def release_write(self) -> None:
        """Let held work go on."""
        with self._cond:
            self._write_depth -= 1
            if self._write_depth > 0:
                return
            self._writing = False
            self._writer = None
            self._release_waiters()

    def _release_waiters(self) -> None:
        self._cond.notify_all()
        if self._async_waiters:
            self._wake_async()

    def _add_waiter(self) -> asyncio.Future[None]:
        import asyncio

        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._async_waiters.append((loop, waiter))
        return waiter

    def _wake_async(self) -> None:
        waiters, self._async_waiters = self._async_waiters, []
        for loop, waiter in waiters:
            # A closed loop raises RuntimeError: nobody awaits its waiters any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, waiter)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A unit of work: no reload runs while inside."""
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def writing(self, timeout: float | _Default | None = _DEFAULT) -> Iterator[None]:
        """A reload: runs alone, or after ``timeout`` (default `hold_timeout`) with the
        work still in flight."""
        bound = self.hold_timeout if isinstance(timeout, _Default) else timeout
        self._acquire_write(bound, force=True)
        try:
            yield
        finally:
            self.release_write()

    def reach(self) -> object:
        """Apply pending changes here if there are any and this thread may."""
        pending = self.pending
        if pending is None or self.held_here():
            return None
        if self._busy() and _on_event_loop():
            # Blocking here would stall the very coroutines that must finish to let it in.
            return None
        return pending()

    def _busy(self) -> bool:
        return bool(self._readers or self._writing or self._writers_waiting)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _on_event_loop() -> bool:
    aio = sys.modules.get("asyncio")
    return aio is not None and aio.events._get_running_loop() is not None


def _warn_overdue(timeout: float | None, in_flight: int) -> None:
    log.warning(
        "a reload waited %.1f s for %d request(s) still in flight (a stream or a websocket?); "
        "reloading anyway",
        timeout or 0.0,
        in_flight,
    )


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
            _runtime.safepoint.reach()
            return await _newest(async_wrapper, async_func)(*args, **kwargs)

        async_wrapper.__hotmod_target__ = async_func  # type: ignore[attr-defined]
        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _runtime.safepoint.reach()
        result: R = _newest(wrapper, func)(*args, **kwargs)
        return result

    wrapper.__hotmod_target__ = func  # type: ignore[attr-defined]
    return wrapper


# The gate instance lives in _runtime, which imports this module for its class.
from . import _runtime  # noqa: E402
