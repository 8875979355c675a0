"""``hotmod.watch()``: batches of changed files become reloads, now or at safe points."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is 3.11+

from ._ledger import current_module
from ._modmap import excluded_reason, real, source_path
from ._monitor import DEFAULT_EXCLUDES, Backend, FileMonitor, MonitorFactory, make_monitor
from ._monitor._filter import Filter, check_patterns, symlinked_folders
from ._monitor._lease import hold_still
from ._paths import is_under
from ._reloader import Reloader
from ._report import ReloadReport
from ._runtime import get_reloader, import_clock, ledger, safepoint, state

__all__ = ["DEFAULT_EXCLUDES", "Watcher", "apply", "current_watcher", "default_paths", "watch"]

log = logging.getLogger("hotmod.watch")

Apply = Literal["thread", "manual"]


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


def _sources(names: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(name, real path of its source)`` for each of these modules loaded from one."""
    for name in names:
        module = sys.modules.get(name)
        path = source_path(module) if module is not None else None
        if path is not None:
            yield name, path


def _collapse(paths: Iterable[str]) -> list[str]:
    # One recursive watch per root: drop folders that lie inside another root.
    result: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(is_under(path, r) for r in result):
            result.append(path)
    return result


class Watcher:
    """A file watcher; `hotmod.watch` returns the process's one.

    A context manager; `stop` ends it. With ``apply="thread"`` each batch of complete
    changed files is reloaded on the watcher thread; with ``apply="manual"`` changes
    queue up until a safe point (`hotmod.apply`, a ``@hotmod.reloadable`` call, a
    middleware request). A batch whose reload fails stays pending and is retried with
    the next save of any file. ``monitor`` builds the file monitor (`make_monitor`
    unless given: the seam tests use to script events).
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
        poll_interval: float = 0.1,
        reloader: Reloader | None = None,
        monitor: MonitorFactory = make_monitor,
    ) -> None:
        if apply not in ("thread", "manual"):
            raise ValueError(f"apply must be 'thread' or 'manual', not {apply!r}")
        if on_reload is not None and not callable(on_reload):
            raise TypeError(f"on_reload must be callable, not {on_reload!r}")
        self.apply_mode: Apply = apply
        self.cascade = cascade
        self._callbacks: list[Callable[[ReloadReport], object]] = []
        if on_reload is not None:
            self.add_callback(on_reload)
        self._reloader = reloader or get_reloader()
        self._pending: set[Path] = set()
        self._failed: set[Path] = set()  # paths of a failed reload, retried with the next save
        self._lock = threading.Lock()
        self._roots: list[str] = []
        self._running = False
        # With the default paths, folders of user modules imported later are watched too.
        self.follow_imports = False
        self._imported: list[str] = []
        self._adopt_timer: threading.Timer | None = None
        self._noted_excluded: set[str] = set()
        self._monitor: FileMonitor = monitor(
            [],
            on_batch=self._on_batch,
            include=include,
            exclude=exclude,
            debounce=debounce,
            backend=backend,
            poll_interval=poll_interval,
        )
        self._filter = Filter(
            check_patterns("include", include), check_patterns("exclude", exclude)
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

    def add_paths(
        self, paths: Iterable[str | os.PathLike[str]], *, follow_symlinks: bool = True
    ) -> None:
        """Watch more folders or files; modules under them become reloadable.

        With ``follow_symlinks``, symlinked folders found under a folder are watched
        at their real paths too (edits made through the link apply).
        """
        new = []
        for path in paths:
            resolved = real(path)
            if not os.path.exists(resolved):
                raise ValueError(f"cannot watch {os.fspath(path)!r}: no such file or folder")
            new.append(resolved)
        if follow_symlinks:
            new += self._link_targets(new)
        for root in _collapse([*self._roots, *new]):
            if root not in self._roots:
                self._roots.append(root)
                self._reloader.modmap.add_roots([root])
                if self._running:
                    self._monitor.add_path(Path(root))

    def _link_targets(self, roots: list[str]) -> list[str]:
        # The real folders symlinked from under these roots, and from under those.
        found: list[str] = []
        todo = [r for r in roots if os.path.isdir(r)]
        while todo:
            for target in symlinked_folders(todo.pop(), self._filter):
                if target not in found and not any(is_under(target, r) for r in roots):
                    found.append(target)
                    todo.append(target)
        return found

    def start(self) -> Self:
        """Start watching (idempotent); records the source of every loaded module first."""
        if self._running:
            return self
        with self._reloader.lock:
            self._reloader.sync(warm=True)
        for root in _collapse(self._roots):
            self._monitor.add_path(Path(root))
        for file in self._renamed_sources(list(sys.modules)):
            self._monitor.add_path(Path(file))
        self._monitor.start()
        self._running = True
        self._reloader.listeners.append(self._notify)
        import_clock.listeners.append(self._on_import)
        with state.lock:
            state.watchers.append(self)
        if self.apply_mode == "manual":
            safepoint.pending = self.apply
        self._note_excluded(list(sys.modules))
        return self

    def stop(self) -> None:
        """Stop watching; pending changes are dropped.

        What stays reloadable by `hotmod.reload` is not narrowed: modules under this
        watcher's roots stay reloadable, and without other roots every user module is.
        """
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
        # A reload stuck in module code (being interrupted by Ctrl-C) must not hang the
        # program's exit: then the roots stay, which only matters to a process ending.
        if self._reloader.lock.acquire(timeout=1.0):
            try:
                self._reloader.modmap.remove_roots(self._roots)
            finally:
                self._reloader.lock.release()
        with state.lock:
            if self in state.watchers:
                state.watchers.remove(self)
            if not state.watchers:
                self._reloader.cache_worker.cancel_warming()
            if state.current is self:
                state.current = None
        if safepoint.pending == self.apply:
            safepoint.pending = self._next_manual()

    @staticmethod
    def _next_manual() -> Callable[[], object] | None:
        # Another running manual watcher takes over the safe points.
        manual = [w for w in list(state.watchers) if w.apply_mode == "manual"]
        return manual[-1].apply if manual else None

    def set_apply(self, mode: Apply) -> None:
        """Switch between applying on the watcher thread and at safe points."""
        if mode not in ("thread", "manual"):
            raise ValueError(f"apply must be 'thread' or 'manual', not {mode!r}")
        self.apply_mode = mode
        if not self._running:
            return
        if mode == "manual":
            safepoint.pending = self.apply
        else:
            if safepoint.pending == self.apply:
                safepoint.pending = self._next_manual()
            if self._pending:
                self.apply()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def add_callback(self, callback: Callable[[ReloadReport], object]) -> None:
        """Call ``callback(report)`` after every attempted reload while watching.

        A callback added by a module's top-level code is taken back when that module
        runs again (its new version adds its own), so callbacks never pile up.
        """
        self._callbacks.append(callback)
        module = current_module()
        if module is not None:
            ledger.record(
                module,
                lambda: self._callbacks.remove(callback) if callback in self._callbacks else None,
                lambda: self._callbacks.append(callback),
            )

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
        self._note_excluded(names)
        if self.follow_imports:
            self._watch_folders_of(names)
        if self._running:
            for file in self._renamed_sources(names):
                self._monitor.add_path(Path(file))

    def _watch_folders_of(self, names: list[str]) -> None:
        folders = {
            os.path.dirname(path)
            for _, path in _sources(names)
            if excluded_reason(path) is None
            and not any(is_under(path, root) for root in self._roots)
        }
        if not folders or not self._running:
            return
        try:
            self.add_paths(sorted(folders), follow_symlinks=False)
        except Exception:
            log.exception("could not watch the folders of newly imported modules")
            return
        # A module saved between its import and this watch would be missed.
        edited = {
            Path(path)
            for name, path in _sources(names)
            if os.path.dirname(path) in folders and import_clock.edited_after_import(name, path)
        }
        if edited:
            self._on_batch(frozenset(edited))

    def _renamed_sources(self, names: Iterable[str]) -> list[str]:
        # A module file that is a symlink to a file named otherwise (``m.py`` ->
        # ``m.txt``): an edit through the link raises events for the target's name,
        # which the include patterns would drop. Such a target is watched as a file.
        return [
            path
            for _, path in _sources(names)
            if not self._filter.matches_rel(os.path.basename(path))
            and any(is_under(path, root) for root in self._roots)
        ]

    def _note_excluded(self, names: Iterable[str]) -> None:
        # A module imported from a folder the exclude patterns skip (build, dist, venv
        # inside the project) is never watched: say so once per folder, at DEBUG.
        for name, path in _sources(names):
            root = next((r for r in self._roots if is_under(path, r)), None)
            if root is None or path == root:
                continue
            parts = os.path.relpath(path, root).split(os.sep)
            for depth, part in enumerate(parts[:-1], 1):
                if self._filter.excluded(part):
                    skipped = os.path.join(root, *parts[:depth])
                    if skipped not in self._noted_excluded:
                        self._noted_excluded.add(skipped)
                        log.debug(
                            "module %s comes from %s, skipped by the exclude patterns: "
                            "edits there are not watched",
                            name,
                            skipped,
                        )
                    break

    # -- batches -----------------------------------------------------------------------

    def _on_batch(self, paths: frozenset[Path]) -> None:
        if log.isEnabledFor(logging.DEBUG):  # hotmod run -v: each batch
            log.debug("batch: %s", ", ".join(sorted(str(p) for p in paths)))
        with self._lock:
            self._pending.update(paths)
        if self.apply_mode == "thread":
            self.apply()

    def apply(self) -> ReloadReport | None:
        """Apply pending changes now; None when nothing was pending or nothing changed.

        Never stuck: the paths of a failed reload are retried together with the next
        change (a rename in one file that broke another applies once that one is
        fixed, without saving the first again). If the retry fails too, the new change
        is tried alone, so one broken file does not hold back the others.
        """
        return self._apply(None)

    def _apply(self, only: Iterable[str | os.PathLike[str]] | None) -> ReloadReport | None:
        """`apply`, of the pending paths among ``only`` (None: all); the rest stay
        pending. ``hotmod test`` applies exactly the saves it looked at."""
        if safepoint.held_here():
            return None
        with self._lock:
            taken = self._pending if only is None else self._pending.intersection(map(Path, only))
            new = frozenset(taken)
            self._pending -= new
            retry = frozenset(self._failed) - new
        if not new:
            return None
        failed = new | retry
        report: ReloadReport | None = None
        try:
            # Held still while read: a save that begins now waits until the reload has
            # read it; a file still open for writing waits for its own batch.
            with hold_still(map(str, failed)) as busy, safepoint.writing():
                if busy:
                    with self._lock:
                        self._pending.update(Path(p) for p in busy)
                    new, retry = new - {Path(p) for p in busy}, retry - {Path(p) for p in busy}
                report = self._reload(new | retry)
                if _failed(report) and retry and new:
                    report = self._reload(new)
                    failed = retry if not _failed(report) else new | retry
                elif not _failed(report):
                    failed = frozenset()
        finally:
            with self._lock:
                self._failed = (self._failed - new - retry) | failed
        return report

    def _reload(self, paths: frozenset[Path]) -> ReloadReport | None:
        if not paths:
            return None
        return self._reloader.reload_changed(
            sorted(str(p) for p in paths),
            cascade=self.cascade,
            watched=getattr(self._monitor, "watched_since", None),  # (a custom monitor may lack it)
        )


def _failed(report: ReloadReport | None) -> bool:
    return report is not None and not report.ok


# Seconds after an import before its module's folder is looked at (imports come in bursts).
_ADOPT_DELAY = 0.1


def current_watcher() -> Watcher | None:
    """The running watcher of the process, if any."""
    return state.current


def watch(
    *paths: str | os.PathLike[str],
    include: Sequence[str] = ("*.py",),
    exclude: Sequence[str] = DEFAULT_EXCLUDES,
    debounce: float = 0.01,
    apply: Apply = "thread",
    cascade: bool = True,
    on_reload: Callable[[ReloadReport], object] | None = None,
    backend: Backend = "auto",
    poll_interval: float = 0.1,
) -> Watcher:
    """Start the process's watcher, or add paths to the one already running.

    Args:
        *paths: folders or files to watch (symlinked folders under them too, at their
            real paths). None: the running script's folder (the cwd in a REPL) and the
            folders of already-imported modules outside the standard library and
            site-packages; folders of user modules imported later are then added.
        include: file name patterns that count.
        exclude: file and folder name patterns ignored (editor swap files, caches, ...).
        debounce: the longest extra wait, in seconds, for follow-up events of the same
            save (a ``git checkout``, a formatter). A batch otherwise goes as soon as its
            files are complete: written and closed, or renamed into place.
        apply: ``"thread"`` reloads on the watcher thread as soon as a batch is
            complete; ``"manual"`` queues changes for safe points. ``"manual"`` on a
            watcher already running (say under ``hotmod run``) switches it to manual.
        cascade: also re-execute the importers of changed modules.
        on_reload: called with the report after every attempted reload.
        backend: ``"auto"`` (native events, polling if they fail), ``"watchdog"``
            or ``"polling"``.
        poll_interval: seconds between two scans when polling.

    Once started, a background thread compiles each module ahead of its first reload,
    into ``__pycache__/*-hotmod.pyc`` (in memory if the program writes no bytecode).

    Returns:
        The running `Watcher`.
    """
    with state.lock:
        watcher = state.current
        if watcher is None or not watcher.running:
            watcher = Watcher(
                include=include,
                exclude=exclude,
                debounce=debounce,
                apply=apply,
                cascade=cascade,
                on_reload=on_reload,
                backend=backend,
                poll_interval=poll_interval,
            )
            state.current = watcher
        elif on_reload is not None:
            watcher.add_callback(on_reload)
    if apply == "manual" and watcher.apply_mode != "manual":
        log.debug("watch(apply='manual'): the running watcher now applies at safe points")
        watcher.set_apply("manual")
    if not paths:
        watcher.follow_imports = True
    watcher.add_paths(paths or default_paths(), follow_symlinks=bool(paths))
    return watcher.start()


def apply() -> ReloadReport | None:
    """Apply pending changes now (a safe point); None when there were none.

    Applies every running watcher's pending changes: the one `watch` returned and any
    `Watcher` built directly.
    """
    with state.lock:
        watchers = list(state.watchers)
        current = state.current
    if current is not None and current not in watchers:
        watchers.append(current)
    report: ReloadReport | None = None
    for watcher in watchers:
        report = watcher.apply() or report
    return report
