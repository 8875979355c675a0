"""File-system events under some roots, turned into batches of complete changed files.

This package knows nothing about Python modules or reloading. A monitor watches folders
(recursively) and single files, keeps only the paths that pass the include/exclude
filter (`_filter`), and hands each batch of complete files (`_batch`) to ``on_batch`` on
one thread of its own. Backends, each imported only when chosen:

* `_inotify`: Linux, watchdog >= 7: our callbacks on watchdog's ``InotifyFD``.
* `_inotify_legacy`: Linux, watchdog < 7 (Python 3.10): its ``Inotify`` wrapper.
* `_observer`: elsewhere: watchdog's ``Observer``, one ``schedule()`` per root.
* `_polling`: our own ``os.scandir`` walker.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from .._errors import HotmodWarning
from ._batch import Delivery, Kind
from ._filter import DEFAULT_EXCLUDES, Filter, Roots, check_patterns, path_matches, real_root

if TYPE_CHECKING:
    from typing import TypeAlias

    StrPath: TypeAlias = "str | os.PathLike[str]"

__all__ = [
    "DEFAULT_EXCLUDES",
    "Backend",
    "FileMonitor",
    "MonitorFactory",
    "make_monitor",
    "path_matches",
]

log = logging.getLogger("hotmod.watcher")  # the documented name of the monitor's logger

Backend = Literal["auto", "watchdog", "polling"]
Native = Literal["inotify", "inotify-legacy", "observer"]
_BACKENDS = ("auto", "watchdog", "polling")
_JOIN_TIMEOUT = 2.0


class FileMonitor(Protocol):
    """What a watcher needs from a monitor: start, stop, and more roots on the fly."""

    def start(self) -> None:
        """Begin watching; calling it again is harmless."""
        ...

    def stop(self) -> None:
        """Stop watching and join the monitor's threads (bounded); idempotent."""
        ...

    def add_path(self, path: Path) -> None:
        """Watch one more folder or file; a no-op if a root already covers it."""
        ...


class MonitorFactory(Protocol):
    """Builds a (not yet started) `FileMonitor`; `make_monitor` is the real one."""

    def __call__(
        self,
        roots: Iterable[StrPath],
        *,
        on_batch: Callable[[frozenset[Path]], None],
        include: Sequence[str],
        exclude: Sequence[str],
        debounce: float,
        backend: Backend,
        poll_interval: float,
    ) -> FileMonitor:
        """A monitor of ``roots`` calling ``on_batch`` with each batch of changed files."""
        ...


class _Backend(Protocol):
    """A source of events for a set of watched folders."""

    flushes: bool  # whether it calls flush() after handing over what it had

    @property
    def trees(self) -> list[str]:
        """The watched roots."""
        ...

    def start(self, watches: dict[str, bool]) -> None:
        """Begin watching ``watches`` (folder -> recursive); raise if that fails."""
        ...

    def update(self, watches: dict[str, bool]) -> None:
        """Watch exactly ``watches`` from now on (adds first, then removes)."""
        ...

    def stop(self) -> None:
        """Stop and join the backend's threads (bounded)."""
        ...


def _native_impl() -> Native:
    """Which native backend fits this system and watchdog release."""
    from . import _inotify, _inotify_legacy

    if _inotify.available():
        return "inotify"
    if _inotify_legacy.available():
        return "inotify-legacy"
    return "observer"


class _Monitor:
    """A FileMonitor: a backend feeding events, a `Delivery` thread making batches."""

    def __init__(
        self,
        roots: Roots,
        *,
        on_batch: Callable[[frozenset[Path]], None],
        flt: Filter,
        debounce: float,
        backend: Backend,
        poll_interval: float,
        native_error: BaseException | None,
        native_impl: Native | None,
    ) -> None:
        self._roots = roots
        self._filter = flt
        self._kind: Backend = backend
        self._poll_interval = poll_interval
        self._native_error = native_error
        self._native_impl = native_impl
        self._delivery = Delivery(on_batch, debounce=debounce)
        self._lock = threading.RLock()  # start/stop/add_path and backend changes
        self._state: Literal["new", "running", "stopped"] = "new"
        self._backend: _Backend | None = None
        self._backend_name = ""
        self._watches: dict[str, bool] = {}
        self._warned = False
        # Since when (monotonic) our inotify backends have seen every change under the
        # roots as it happened; None with other backends (see `watched_since`).
        self._since: float | None = None
        self._taken: tuple[Roots, dict[str, bool]] = (roots, {})  # Roots.matches, memoized

    # -- FileMonitor

    def start(self) -> None:
        """Start the backend, then the delivery thread; a second call does nothing."""
        with self._lock:
            if self._state == "running":
                return
            if self._state == "stopped":
                raise RuntimeError("this file monitor was stopped; make a new one")
            watches = self._roots.watches(self._filter)
            self._backend = self._start_backend(watches)
            self._watches = watches
            self._delivery.start()
            self._state = "running"
            self._mark_since()

    def stop(self) -> None:
        """Stop the backend and the delivery thread, joining them (bounded); drops pending paths."""
        with self._lock:
            if self._state == "stopped":
                return
            self._state = "stopped"
            self._since = None
            backend, self._backend = self._backend, None
        if backend is not None:
            try:
                backend.stop()
            except Exception:
                log.exception("error while stopping the file monitor's backend")
        self._delivery.stop(_JOIN_TIMEOUT)

    def add_path(self, path: StrPath) -> None:
        """Add a root; only the watches that change are touched."""
        real = real_root(path)
        with self._lock:
            old_roots = self._roots
            self._roots = old_roots.add(real)
            if self._state != "running" or self._backend is None:
                return
            watches = self._roots.watches(self._filter)
            if watches == self._watches:
                self._mark_since()  # the same watches, but more files may now be taken
                return
            try:
                self._backend.update(watches)
            except Exception as exc:
                if self._kind != "auto" or self._backend_name == "polling":
                    self._roots = old_roots
                    raise
                self._backend.stop()
                self._backend = self._fall_back(exc, watches, stacklevel=3)
            self._watches = watches
            self._mark_since()

    def watched_since(self, path: str) -> float | None:
        """Since when (``time.monotonic()``) every change to ``path`` has raised an event
        here, as it happened; None if that is not known.

        Known only for a file under the roots with our inotify backends, when every
        folder got its watch: then a file with no event since it was last read is
        unchanged.
        """
        since, backend = self._since, self._backend
        if since is None or backend is None or not getattr(backend, "complete", False):
            return None
        roots, taken = self._taken
        if roots is not self._roots:  # (a Roots value never changes: add_path makes one)
            roots, taken = self._taken = (self._roots, {})
        known = taken.get(path)
        if known is None:
            if len(taken) >= 65536:
                taken.clear()
            known = taken[path] = roots.matches(path, self._filter)
        return since if known else None

    def _mark_since(self) -> None:
        """Watches changed: only changes from now on are sure to have raised events."""
        native = self._backend_name in ("inotify", "inotify-legacy")
        self._since = time.monotonic() if native else None

    # -- backends

    def _start_backend(self, watches: dict[str, bool]) -> _Backend:
        """The backend asked for; "auto" falls back to polling with one warning."""
        if self._kind == "polling":
            return self._start_polling(watches)
        try:
            return self._start_native(watches)
        except Exception as exc:
            if self._kind == "watchdog":
                raise
            return self._fall_back(exc, watches)

    def _start_native(self, watches: dict[str, bool]) -> _Backend:
        """Start watchdog-based watching (our inotify trees on Linux)."""
        if self._native_error is not None:
            raise self._native_error
        impl = self._native_impl or _native_impl()
        backend: _Backend
        if impl == "inotify":
            from ._inotify import InotifyBackend

            backend = InotifyBackend(self._filter, self._feed, self._delivery.flush_here)
        elif impl == "inotify-legacy":
            from ._inotify_legacy import LegacyInotifyBackend

            backend = LegacyInotifyBackend(self._filter, self._feed, self._delivery.flush_here)
        else:
            from ._observer import ObserverBackend

            backend = ObserverBackend(self._filter, self._feed, self._delivery.flush)
        self._delivery.set_flushes(backend.flushes)
        backend.start(watches)
        self._backend_name = impl
        return backend

    def _start_polling(self, watches: dict[str, bool]) -> _Backend:
        """Start our own poller."""
        from ._polling import PollingBackend

        backend = PollingBackend(
            self._poll_interval, self._filter, self._feed, self._delivery.flush, self._get_roots
        )
        self._delivery.set_flushes(backend.flushes)
        backend.start(watches)
        self._backend_name = "polling"
        return backend

    def _fall_back(
        self, exc: BaseException, watches: dict[str, bool], *, stacklevel: int = 4
    ) -> _Backend:
        """Warn (once per monitor) that native watching failed, and poll instead."""
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"hotmod: native file watching failed ({type(exc).__name__}: {exc}); "
                f"polling every {self._poll_interval:g} s instead",
                HotmodWarning,
                stacklevel=stacklevel,
            )
        log.debug("native watching failed, polling instead", exc_info=exc)
        return self._start_polling(watches)

    def _get_roots(self) -> Roots:
        """The current roots snapshot."""
        return self._roots

    def _feed(self, path: str, kind: Kind) -> None:
        """Take one raw event (any thread): keep it if it passes the filter."""
        if self._roots.matches(path, self._filter):
            self._delivery.emit(path, kind)


def _check_seconds(name: str, value: object, *, allow_zero: bool) -> float:
    """Validate a duration option, raising ValueError with the reason."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
    if allow_zero and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    if not allow_zero and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def make_monitor(
    roots: Iterable[StrPath],
    *,
    on_batch: Callable[[frozenset[Path]], None],
    include: Sequence[str] = ("*.py",),
    exclude: Sequence[str] = DEFAULT_EXCLUDES,
    debounce: float = 0.01,
    backend: Backend = "auto",
    poll_interval: float = 0.1,
    _native_error: BaseException | None = None,
    _native_impl: Native | None = None,
) -> FileMonitor:
    """Build a (not yet started) monitor delivering batches of complete changed files.

    Args:
        roots: folders (watched recursively) and single files; resolved to real paths.
        on_batch: called on the monitor's own thread with each batch of real paths, as
            soon as each file in it is complete (see `_batch`). A path in a batch may
            no longer exist (deleted or moved away).
        include: fnmatch patterns a file's basename must match (explicit file roots
            are reported whatever their name).
        exclude: fnmatch patterns excluding a basename or any folder below a root.
        debounce: the longest extra wait, in seconds, for follow-up events of the
            same save (the next files of a ``git checkout``, a formatter's rewrite).
        backend: "auto" (native, polling with one HotmodWarning if native fails),
            "watchdog" (native or an error) or "polling".
        poll_interval: seconds between two walks of the polling backend.

    Raises:
        ValueError: a bad option or a root that does not exist, with the reason.
    """
    if backend not in _BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected 'auto', 'watchdog' or 'polling'")
    if not callable(on_batch):
        raise ValueError(f"on_batch must be callable, got {on_batch!r}")
    debounce = _check_seconds("debounce", debounce, allow_zero=True)
    poll_interval = _check_seconds("poll_interval", poll_interval, allow_zero=False)
    flt = Filter(check_patterns("include", include), check_patterns("exclude", exclude))
    if isinstance(roots, (str, bytes, os.PathLike)):
        raise ValueError(f"roots must be an iterable of paths, not a single path: [{roots!r}]")
    snapshot = Roots()
    for root in roots:
        snapshot = snapshot.add(real_root(root))
    return _Monitor(
        snapshot,
        on_batch=on_batch,
        flt=flt,
        debounce=debounce,
        backend=backend,
        poll_interval=poll_interval,
        native_error=_native_error,
        native_impl=_native_impl,
    )
