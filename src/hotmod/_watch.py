"""``hotmod.watch()``: file batches from the monitor become reloads, now or at safe points."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from ._modmap import excluded_reason, real, source_path
from ._reloader import Reloader, get_reloader
from ._report import ReloadReport
from ._safepoint import safepoint
from ._tracker import import_clock
from ._watcher import DEFAULT_EXCLUDES, FileMonitor, make_monitor

__all__ = ["DEFAULT_EXCLUDES", "Watcher", "apply", "current_watcher", "default_paths", "watch"]

log = logging.getLogger("hotmod.watch")

Apply = Literal["thread", "manual"]
Backend = Literal["auto", "watchdog", "polling"]


def default_paths() -> list[str]:
    """The running script's folder (the cwd in a REPL) and the folders of user modules."""
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    folders = {real(os.path.dirname(main_file)) if isinstance(main_file, str) else real(".")}
    for module in list(sys.modules.values()):
        path = source_path(module) if module is not None else None
        if path is not None and excluded_reason(path) is None:
            folders.add(os.path.dirname(path))
    return [f for f in folders if excluded_reason(f + os.sep + "x.py") is None]


def _collapse(paths: Iterable[str]) -> list[str]:
    # One recursive watch per root: drop folders that lie inside another root.
    result: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in result):
            result.append(path)
    return result


class Watcher:
    """The process's file watcher, returned by `hotmod.watch`.

    A context manager; `stop` ends it. With ``apply="thread"`` each settled batch
    of changes is reloaded on the watcher thread; with ``apply="manual"`` changes queue
    up until a safe point (`hotmod.apply`, a ``@hotmod.reloadable`` call, a
    middleware request).
    """

    def __init__(
        self,
        *,
        include: Sequence[str] = ("*.py",),
        exclude: Sequence[str] = DEFAULT_EXCLUDES,
        debounce: float = 0.01,
        apply: Apply = "thread",
        cascade: bool = True,
        on_reload: Callable[[ReloadReport], object] | None = None,
        backend: Backend = "auto",
        reloader: Reloader | None = None,
    ) -> None:
        if apply not in ("thread", "manual"):
            raise ValueError(f"apply must be 'thread' or 'manual', not {apply!r}")
        if on_reload is not None and not callable(on_reload):
            raise TypeError(f"on_reload must be callable, not {on_reload!r}")
        self.apply_mode: Apply = apply
        self.cascade = cascade
        self._callbacks: list[Callable[[ReloadReport], object]] = [on_reload] if on_reload else []
        self._reloader = reloader or get_reloader()
        self._pending: set[Path] = set()
        self._lock = threading.Lock()
        self._roots: list[str] = []
        self._running = False
        # With the default paths, folders of user modules imported later are watched too.
        self.follow_imports = False
        self._imported: list[str] = []
        self._adopt_timer: threading.Timer | None = None
        self._monitor: FileMonitor = make_monitor(
            [],
            on_batch=self._on_batch,
            include=include,
            exclude=exclude,
            debounce=debounce,
            backend=backend,
        )

    @property
    def paths(self) -> tuple[str, ...]:
        """The watched roots, as real paths."""
        return tuple(self._roots)

    @property
    def running(self) -> bool:
        """True between `start` and `stop`."""
        return self._running

    @property
    def has_pending(self) -> bool:
        """True when changed files wait for a safe point; cheap enough for every request."""
        return bool(self._pending)

    @property
    def pending(self) -> frozenset[Path]:
        """Changed files waiting for a safe point (``apply="manual"``)."""
        with self._lock:
            return frozenset(self._pending)

    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Watch more folders or files; modules under them become reloadable."""
        new = []
        for path in paths:
            resolved = real(path)
            if not os.path.exists(resolved):
                raise ValueError(f"cannot watch {os.fspath(path)!r}: no such file or folder")
            new.append(resolved)
        for root in _collapse([*self._roots, *new]):
            if root not in self._roots:
                self._roots.append(root)
                self._reloader.modmap.add_roots([root])
                if self._running:
                    self._monitor.add_path(Path(root))

    def start(self) -> Watcher:
        """Start watching (idempotent); records the source of every loaded module first."""
        if self._running:
            return self
        with self._reloader.lock:
            self._reloader.sync()
        for root in _collapse(self._roots):
            self._monitor.add_path(Path(root))
        self._monitor.start()
        self._running = True
        self._reloader.listeners.append(self._notify)
        import_clock.listeners.append(self._on_import)
        if self.apply_mode == "manual":
            safepoint.pending = self.apply
        return self

    def stop(self) -> None:
        """Stop watching; pending changes are dropped."""
        global _current
        if not self._running:
            return
        self._running = False
        self._monitor.stop()
        if self._notify in self._reloader.listeners:
            self._reloader.listeners.remove(self._notify)
        if self._on_import in import_clock.listeners:
            import_clock.listeners.remove(self._on_import)
        timer = self._adopt_timer
        if timer is not None:
            timer.cancel()
        if safepoint.pending == self.apply:
            safepoint.pending = None
        with _current_lock:
            if _current is self:
                _current = None

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def add_callback(self, callback: Callable[[ReloadReport], object]) -> None:
        """Call ``callback(report)`` after every attempted reload while watching."""
        self._callbacks.append(callback)

    def _notify(self, report: ReloadReport) -> None:
        # A reloader listener: runs after every reload, the watcher's or hotmod.reload()'s.
        for callback in list(self._callbacks):
            try:
                callback(report)
            except Exception:
                log.exception("on_reload callback %r raised; watching goes on", callback)

    # -- modules imported later ---------------------------------------------------------

    def _on_import(self, name: str) -> None:
        # Runs inside an import: note the name, look at the module once imports settle.
        if not self.follow_imports:
            return
        with self._lock:
            self._imported.append(name)
            if self._adopt_timer is None:
                timer = threading.Timer(_ADOPT_DELAY, self._adopt_imports)
                timer.daemon = True
                timer.name = "hotmod-imports"
                self._adopt_timer = timer
                timer.start()

    def _adopt_imports(self) -> None:
        with self._lock:
            names, self._imported = self._imported, []
            self._adopt_timer = None
        folders = set()
        for name in names:
            module = sys.modules.get(name)
            path = source_path(module) if module is not None else None
            if path is None or excluded_reason(path) is not None:
                continue
            if not any(path.startswith(root.rstrip(os.sep) + os.sep) for root in self._roots):
                folders.add(os.path.dirname(path))
        if folders and self._running:
            try:
                self.add_paths(sorted(folders))
            except Exception:
                log.exception("could not watch the folders of newly imported modules")
                return
            # A module saved between its import and this watch would be missed.
            edited = set()
            for name in names:
                module = sys.modules.get(name)
                path = source_path(module) if module is not None else None
                if (
                    path is not None
                    and os.path.dirname(path) in folders
                    and import_clock.edited_after_import(name, path)
                ):
                    edited.add(Path(path))
            if edited:
                self._on_batch(frozenset(edited))

    # -- batches -----------------------------------------------------------------------

    def _on_batch(self, paths: frozenset[Path]) -> None:
        if self.apply_mode == "manual":
            with self._lock:
                self._pending.update(paths)
            return
        self._reload(paths)

    def apply(self) -> ReloadReport | None:
        """Apply pending changes now; None when nothing was pending or nothing changed."""
        if safepoint.held_here():
            return None
        with self._lock:
            paths = frozenset(self._pending)
            self._pending.clear()
        if not paths:
            return None
        return self._reload(paths)

    def _reload(self, paths: frozenset[Path]) -> ReloadReport | None:
        with safepoint.writing():
            return self._reloader.reload(
                sorted(str(p) for p in paths), cascade=self.cascade, only_changed=True
            )


# Seconds after an import before its module's folder is looked at (imports come in bursts).
_ADOPT_DELAY = 0.1

_current: Watcher | None = None
_current_lock = threading.Lock()


def current_watcher() -> Watcher | None:
    """The running watcher of the process, if any."""
    return _current


def watch(
    *paths: str | os.PathLike[str],
    include: Sequence[str] = ("*.py",),
    exclude: Sequence[str] = DEFAULT_EXCLUDES,
    debounce: float = 0.01,
    apply: Apply = "thread",
    cascade: bool = True,
    on_reload: Callable[[ReloadReport], object] | None = None,
    backend: Backend = "auto",
) -> Watcher:
    """Start the process's watcher, or add paths to the one already running.

    Args:
        *paths: folders or files to watch. None: the running script's folder (the cwd
            in a REPL) and the folders of already-imported modules outside the standard
            library and site-packages.
        include: file name patterns that count.
        exclude: file and folder name patterns ignored (editor swap files, caches, ...).
        debounce: seconds of quiet after the last event before a batch is applied.
        apply: ``"thread"`` reloads on the watcher thread as soon as a batch settles;
            ``"manual"`` queues changes for safe points.
        cascade: also re-execute the importers of changed modules.
        on_reload: called with the report after every attempted reload.
        backend: ``"auto"`` (native events, polling if they fail), ``"watchdog"``
            or ``"polling"``.

    Returns:
        The running `Watcher`.
    """
    global _current
    with _current_lock:
        watcher = _current
        if watcher is None or not watcher.running:
            watcher = Watcher(
                include=include,
                exclude=exclude,
                debounce=debounce,
                apply=apply,
                cascade=cascade,
                on_reload=on_reload,
                backend=backend,
            )
            _current = watcher
        elif on_reload is not None:
            watcher.add_callback(on_reload)
    if not paths:
        watcher.follow_imports = True
    watcher.add_paths(paths or default_paths())
    return watcher.start()


def apply() -> ReloadReport | None:
    """Apply pending changes now (a safe point); None when there were none."""
    watcher = _current
    return watcher.apply() if watcher is not None else None
