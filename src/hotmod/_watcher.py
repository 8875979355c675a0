"""File-system events under some roots, turned into debounced batches of changed file paths.

This module knows nothing about Python modules or reloading. A monitor watches folders
(recursively) and single files, keeps only the paths that pass the include/exclude
filter, and hands each settled batch of real paths to ``on_batch`` on one thread of its own.

Backends:

* native, Linux: watchdog's ``InotifyFD`` (one reader thread for the whole monitor) with
  our own watch callback per root; see ``_InotifyTree`` for why watchdog's emitter is
  not used.
* native, elsewhere: watchdog's ``Observer``, one ``schedule()`` per root.
* polling: our own ``os.scandir`` walker comparing ``(mtime_ns, size, inode)``.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import logging
import math
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from ._errors import HotmodWarning

if TYPE_CHECKING:
    from typing import TypeAlias

    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers.api import BaseObserver, ObservedWatch
    from watchdog.observers.inotify_c import InotifyEvent, InotifyFD

    StrPath: TypeAlias = "str | os.PathLike[str]"

__all__ = [
    "DEFAULT_EXCLUDES",
    "FileMonitor",
    "make_monitor",
    "path_matches",
]

log = logging.getLogger("hotmod.watcher")

DEFAULT_EXCLUDES: tuple[str, ...] = (
    # editor swap, backup and temporary files
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    ".#*",
    "#*#",
    "4913",
    "*.tmp",
    ".*.kate-swp",
    "*___jb_tmp___",
    "*___jb_old___",
    ".goutputstream-*",
    # tool, VCS and environment folders
    "__pycache__",
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".idea",
    ".vscode",
    "node_modules",
    "site-packages",
    "dist-packages",
    "build",
    "dist",
    "*.egg-info",
)

Backend = Literal["auto", "watchdog", "polling"]
_BACKENDS = ("auto", "watchdog", "polling")
_JOIN_TIMEOUT = 2.0
_LIMIT_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE, errno.ENFILE, errno.ENOMEM})


class FileMonitor(Protocol):
    """What the reloader needs from a watcher: start, stop, and more roots on the fly."""

    def start(self) -> None:
        """Begin watching; calling it again is harmless."""
        ...

    def stop(self) -> None:
        """Stop watching and join the monitor's threads (bounded); idempotent."""
        ...

    def add_path(self, path: Path) -> None:
        """Watch one more folder or file; a no-op if a root already covers it."""
        ...


# --------------------------------------------------------------------------- filtering


def _compile(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex matching any of the fnmatch ``patterns`` (None: matches nothing)."""
    if not patterns:
        return None
    alternatives = (f"(?:{fnmatch.translate(os.path.normcase(p))})" for p in patterns)
    return re.compile("|".join(alternatives))


class _Filter:
    """Compiled include (basename) and exclude (basename and folder names) patterns."""

    __slots__ = ("_exclude", "_include")

    def __init__(self, include: Sequence[str], exclude: Sequence[str]) -> None:
        self._include = _compile(include)
        self._exclude = _compile(exclude)

    def excluded(self, name: str) -> bool:
        """Whether a single path component is excluded."""
        return self._exclude is not None and self._exclude.match(os.path.normcase(name)) is not None

    def matches_rel(self, rel: str) -> bool:
        """Whether a path relative to its root passes the filter."""
        *folders, base = rel.split(os.sep)
        if self._include is None or self._include.match(os.path.normcase(base)) is None:
            return False
        return not self.excluded(base) and not any(self.excluded(d) for d in folders)


@functools.lru_cache(maxsize=32)
def _filter_for(include: tuple[str, ...], exclude: tuple[str, ...]) -> _Filter:
    """Cached compiled filter for ``path_matches``."""
    return _Filter(include, exclude)


def path_matches(
    path: StrPath,
    include: Sequence[str],
    exclude: Sequence[str],
    *,
    root: StrPath | None = None,
) -> bool:
    """Whether ``path`` passes the watcher's filter.

    Include patterns (fnmatch) are matched against the basename; exclude patterns
    against the basename and every folder component of the path relative to
    ``root``. Without ``root``, every folder component of ``path`` counts, so pass a
    relative path or give ``root``. A path outside ``root`` never matches.
    """
    flt = _filter_for(tuple(include), tuple(exclude))
    text = os.fspath(path)
    if root is None:
        rel = text.lstrip(os.sep)
    else:
        prefix = _prefix(os.fspath(root))
        if not text.startswith(prefix):
            return False
        rel = text[len(prefix) :]
    return bool(rel) and flt.matches_rel(rel)


def _prefix(folder: str) -> str:
    """``folder`` with exactly one trailing separator, for prefix tests."""
    return folder if folder.endswith(os.sep) else folder + os.sep


# --------------------------------------------------------------------------- roots


class _Roots(NamedTuple):
    """The requested roots (real paths); an immutable snapshot swapped as a whole."""

    folders: tuple[str, ...] = ()
    files: frozenset[str] = frozenset()

    def add(self, real: str) -> _Roots:
        """This snapshot plus one root (a folder or a file)."""
        if os.path.isdir(real):
            if real in self.folders:
                return self
            return _Roots((*self.folders, real), self.files)
        return _Roots(self.folders, self.files | {real})

    def matches(self, path: str, flt: _Filter) -> bool:
        """Whether an event path belongs in a batch."""
        if path in self.files:
            return True
        for folder in self.folders:
            prefix = _prefix(folder)
            if path.startswith(prefix) and flt.matches_rel(path[len(prefix) :]):
                return True
        return False

    def watches(self, flt: _Filter) -> dict[str, bool]:
        """The folders to watch, mapped to "recursive": one watch per outermost root."""
        recursive: list[str] = []
        for folder in sorted(set(self.folders), key=len):
            if not any(_covers(r, folder, flt) for r in recursive):
                recursive.append(folder)
        result = dict.fromkeys(recursive, True)
        for file in sorted(self.files):
            parent = os.path.dirname(file)
            if not any(_covers(r, parent, flt) for r in recursive):
                result[parent] = False
        return result


def _covers(root: str, folder: str, flt: _Filter) -> bool:
    """Whether a recursive watch of ``root`` sees ``folder`` (no excluded folder between)."""
    if folder == root:
        return True
    prefix = _prefix(root)
    if not folder.startswith(prefix):
        return False
    return not any(flt.excluded(part) for part in folder[len(prefix) :].split(os.sep))


def _real(path: StrPath) -> str:
    """The resolved real path of an existing file or folder, else ValueError."""
    real = os.path.realpath(os.fspath(path))
    if not os.path.exists(real):
        raise ValueError(f"cannot watch {os.fspath(path)!r}: no such file or folder")
    return real


def _scan(
    top: bytes | str, flt: _Filter, *, recursive: bool, on_folder: Callable[[str], bool]
) -> list[str]:
    """Files under ``top`` (not following symlinked folders, skipping excluded ones).

    ``on_folder(path)`` is called for every sub-folder kept; it returns whether to descend.
    """
    files: list[str] = []
    stack = [os.fsdecode(top)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_dir:
                files.append(entry.path)
            elif recursive and not flt.excluded(entry.name) and on_folder(entry.path):
                stack.append(entry.path)
    return files


# --------------------------------------------------------------------------- backends


class _Backend(Protocol):
    """A source of raw event paths for a set of watched folders."""

    def start(self, watches: dict[str, bool]) -> None:
        """Begin watching ``watches`` (folder -> recursive); raise if that fails."""
        ...

    def update(self, watches: dict[str, bool]) -> None:
        """Watch exactly ``watches`` from now on (adds first, then removes)."""
        ...

    def stop(self) -> None:
        """Stop and join the backend's threads (bounded)."""
        ...


class _InotifyTree:
    """One root's inotify watches (a recursive tree, or one folder), fed without delay.

    Why not watchdog's ``InotifyEmitter``/``InotifyWatchGroup``: in watchdog 7 every
    event of a watch group goes through ``InotifyMoveEventGrouper``, a ``DelayedQueue``
    that holds an IN_MOVED_FROM for 0.5 s waiting for its IN_MOVED_TO, and its ``get()``
    sleeps on the head of the queue, so every later event waits behind a file moved out
    of the tree. We need no pairing to report paths: a move is "source gone" plus
    "destination changed". So this class is our own ``WatchCallback`` registered on
    watchdog's ``InotifyFD`` (the reader thread): each event is turned into a path and
    handed to the monitor on the spot. It also keeps the watches we need: no watch in
    excluded folders (``.git``, ``node_modules``: fewer inotify watches used), a watch
    for every new or moved-in folder (whose files are reported, they may predate the
    watch), and a folder moved away is unwatched (re-watched at its destination if that
    is inside the tree, the pair being matched by cookie at once, without waiting).
    """

    def __init__(
        self,
        fd: InotifyFD,
        root: str,
        *,
        recursive: bool,
        mask: int,
        flt: _Filter,
        emit: Callable[[str], None],
    ) -> None:
        from watchdog.observers.inotify_c import CallbackId, InotifyConstants, Mask

        self._isdir = InotifyConstants.IN_ISDIR
        self._fd = fd
        self._root = os.fsencode(root)
        self._recursive = recursive
        self._mask = Mask(mask)
        self._id = CallbackId(id(self))
        self._filter = flt
        self._emit = emit
        self._lock = threading.Lock()
        self._active = False
        self._path_of: dict[int, bytes] = {}  # watch descriptor -> folder
        self._wd_of: dict[bytes, int] = {}  # folder -> watch descriptor
        self._moved: dict[int, bytes] = {}  # cookie -> source of a folder moved away
        self._limit_logged = False

    @property
    def recursive(self) -> bool:
        """Whether sub-folders are watched."""
        return self._recursive

    def activate(self) -> None:
        """Add the watches; an OSError for the root or a kernel limit propagates."""
        with self._lock:
            self._active = True
            self._watch(self._root, strict=True)
            if self._recursive:
                _scan(self._root, self._filter, recursive=True, on_folder=self._watch_str_strict)

    def deactivate(self) -> None:
        """Remove every watch of this tree."""
        with self._lock:
            self._active = False
            wds = list(self._path_of)
            self._path_of.clear()
            self._wd_of.clear()
        self._remove(wds)

    # -- WatchCallback protocol (called on watchdog's InotifyFD thread)

    def on_event(self, event: InotifyEvent) -> None:
        """Turn one inotify event into reported paths, without waiting for anything."""
        try:
            with self._lock:
                self._on_event(event)
        except Exception:
            log.exception("error while handling %r; watching goes on", event)

    def on_watch_deleted(self, wd: int) -> None:
        """Forget a watch the kernel dropped (its folder was deleted)."""
        with self._lock:
            path = self._path_of.pop(wd, None)
            if path is not None and self._wd_of.get(path) == wd:
                del self._wd_of[path]
            if path == self._root and self._active:
                log.warning(
                    "watched folder %r was removed; it is no longer watched", os.fsdecode(path)
                )

    def close(self) -> None:
        """Mark the tree inactive; its watches go with the inotify instance."""
        with self._lock:
            self._active = False

    def on_queue_overflow(self) -> None:
        """Events were lost: re-watch the tree and report every file in it."""
        try:
            with self._lock:
                if self._active:
                    for path in self._rescan(self._root):
                        self._emit(path)
        except Exception:
            log.exception("error while recovering from an inotify queue overflow")

    # -- internals (called with self._lock held)

    def _on_event(self, event: InotifyEvent) -> None:
        """Dispatch one event (lock held)."""
        folder = self._path_of.get(event.wd)
        if not self._active or folder is None or not event.name:
            return
        path = os.path.join(folder, event.name)
        if not event.mask & self._isdir:  # a file event is reported as is
            if not event.is_create:  # its IN_CLOSE_WRITE follows once it is written
                self._emit(os.fsdecode(path))
        elif self._recursive and (event.is_create or event.is_moved_to):
            old = self._moved.pop(event.cookie, None) if event.is_moved_to else None
            if self._filter.excluded(os.fsdecode(event.name)):
                return
            for file in self._rescan(path):
                self._emit(file)
                if old is not None:  # a rename inside the tree: the old paths are gone
                    self._emit(os.fsdecode(old) + file[len(os.fsdecode(path)) :])
        elif self._recursive and event.is_moved_from:
            self._unwatch_tree(path)
            self._moved[event.cookie] = path
            while len(self._moved) > 64:  # unpaired (moved out): forget the oldest
                del self._moved[next(iter(self._moved))]

    def _rescan(self, top: bytes) -> list[str]:
        """Watch ``top`` and its sub-folders; return the files found in them."""
        if not self._watch(top, strict=False):
            return []
        return _scan(top, self._filter, recursive=self._recursive, on_folder=self._watch_str)

    def _watch_str(self, path: str) -> bool:
        """``_watch`` for a str path, never raising."""
        return self._watch(os.fsencode(path), strict=False)

    def _watch_str_strict(self, path: str) -> bool:
        """``_watch`` for a str path, raising on kernel limits."""
        return self._watch(os.fsencode(path), strict=True)

    def _watch(self, path: bytes, *, strict: bool) -> bool:
        """Add one folder watch; return whether the folder is watched."""
        if path in self._wd_of:
            return True
        try:
            wd = self._fd.add_callback(path, self._mask, self, self._id)
            if wd < 0:  # watchdog does not raise for EACCES and registers wd -1: undo that
                self._remove([wd])
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        except OSError as exc:
            if strict and (path == self._root or exc.errno in _LIMIT_ERRNOS):
                raise
            self._log_failure(path, exc)
            return False
        stale = self._path_of.get(wd)
        if stale is not None:  # the same folder seen under a new name
            self._wd_of.pop(stale, None)
        self._path_of[wd] = path
        self._wd_of[path] = wd
        return True

    def _log_failure(self, path: bytes, exc: OSError) -> None:
        """Log a folder that could not be watched (a kernel limit: once, as a warning)."""
        if exc.errno not in _LIMIT_ERRNOS:
            log.debug("cannot watch %r: %s", os.fsdecode(path), exc)
        elif not self._limit_logged:
            self._limit_logged = True
            log.warning(
                "cannot watch %r (%s); folders created from now on under %r may be missed",
                os.fsdecode(path),
                exc,
                os.fsdecode(self._root),
            )

    def _unwatch_tree(self, top: bytes) -> None:
        """Drop the watches of ``top`` and everything below it."""
        prefix = top + os.sep.encode()
        gone = [p for p in self._wd_of if p == top or p.startswith(prefix)]
        wds = [self._wd_of.pop(p) for p in gone]
        for wd in wds:
            self._path_of.pop(wd, None)
        self._remove(wds)

    def _remove(self, wds: list[int]) -> None:
        """Unregister our callback from these watch descriptors."""
        from watchdog.observers.inotify_c import WatchDescriptor

        if wds:
            self._fd.remove_callbacks([(WatchDescriptor(wd), self._id) for wd in wds])


def _has_inotify_fd() -> bool:
    """Whether watchdog's InotifyFD (watchdog >= 7, Linux) is there for our inotify trees.

    Older watchdog releases (or other systems) get watchdog's Observer instead; on
    Linux with watchdog < 7 that one has the 0.5 s hold after a file moved out.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        from watchdog.observers.inotify_c import InotifyFD
    except Exception:  # ImportError, or UnsupportedLibcError from an odd libc
        return False
    return all(hasattr(InotifyFD, name) for name in ("add_callback", "remove_callbacks"))


class _InotifyBackend:
    """Linux native backend: watchdog's InotifyFD reader thread and one tree per watch."""

    def __init__(self, flt: _Filter, emit: Callable[[str], None]) -> None:
        self._filter = flt
        self._emit = emit
        self._fd: InotifyFD | None = None
        self._trees: dict[str, _InotifyTree] = {}
        self._mask = 0

    def start(self, watches: dict[str, bool]) -> None:
        """Open an inotify instance, start its reader thread, add the watches."""
        from watchdog.observers.inotify_c import InotifyConstants as C
        from watchdog.observers.inotify_c import InotifyFD

        # A file counts once it is complete: IN_CLOSE_WRITE, not IN_MODIFY, which fires
        # on the truncation of an in-place save and would have the half-written file
        # reloaded. Also deletions and both halves of moves (atomic saves); IN_CREATE
        # only for folders. No IN_OPEN or IN_CLOSE_NOWRITE: reading a file to reload it
        # must not cause an event.
        self._mask = (
            C.IN_CLOSE_WRITE
            | C.IN_CREATE
            | C.IN_DELETE
            | C.IN_MOVED_FROM
            | C.IN_MOVED_TO
            | C.IN_ONLYDIR
            | C.IN_DONT_FOLLOW
            | C.IN_EXCL_UNLINK
        )
        fd = InotifyFD()
        fd.name = "hotmod-inotify"
        fd.start()
        self._fd = fd
        try:
            self.update(watches)
        except BaseException:
            self.stop()
            raise

    def update(self, watches: dict[str, bool]) -> None:
        """Add new trees first, then drop the ones no longer wanted."""
        assert self._fd is not None
        for folder, recursive in watches.items():
            old = self._trees.get(folder)
            if old is not None and old.recursive == recursive:
                continue
            tree = _InotifyTree(
                self._fd,
                folder,
                recursive=recursive,
                mask=self._mask,
                flt=self._filter,
                emit=self._emit,
            )
            try:
                tree.activate()
            except BaseException:
                tree.deactivate()
                raise
            self._trees[folder] = tree
            if old is not None:
                old.deactivate()
        for folder in [f for f in self._trees if f not in watches]:
            self._trees.pop(folder).deactivate()

    def stop(self) -> None:
        """Close the inotify instance (removes all watches) and join its thread."""
        fd, self._fd = self._fd, None
        for tree in self._trees.values():
            tree.close()
        self._trees.clear()
        if fd is not None:
            fd.stop()
            fd.join(_JOIN_TIMEOUT)


def _has_legacy_inotify() -> bool:
    """Whether watchdog < 7's ``Inotify`` wrapper is there (Linux, Python 3.10)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        from watchdog.observers.inotify_c import Inotify  # type: ignore[attr-defined,unused-ignore]
    except Exception:
        return False
    return hasattr(Inotify, "read_events")


class _LegacyInotifyBackend:
    """Linux native backend for watchdog < 7: its ``Inotify`` wrapper, read by our threads.

    watchdog 7's InotifyFD needs Python 3.11. Before it, watchdog's Observer reads inotify
    through ``InotifyBuffer``, which holds a moved-out file's event for 0.5 s with every
    later event behind it; reading the ``Inotify`` wrapper directly holds nothing. One
    instance and one reader thread per root.
    """

    def __init__(self, flt: _Filter, emit: Callable[[str], None]) -> None:
        self._filter = flt
        self._emit = emit
        self._trees: dict[str, tuple[bool, Any, threading.Thread]] = {}

    def start(self, watches: dict[str, bool]) -> None:
        """Add the watches; an OSError (a kernel limit) propagates."""
        self.update(watches)

    def update(self, watches: dict[str, bool]) -> None:
        """Watch new roots first, then stop the ones no longer wanted."""
        from watchdog.observers.inotify_c import Inotify  # type: ignore[attr-defined,unused-ignore]
        from watchdog.observers.inotify_c import InotifyConstants as C

        # As in _InotifyBackend: a file counts once its write is closed.
        mask = C.IN_CLOSE_WRITE | C.IN_CREATE | C.IN_DELETE | C.IN_MOVED_FROM | C.IN_MOVED_TO
        for folder, recursive in watches.items():
            old = self._trees.get(folder)
            if old is not None and old[0] == recursive:
                continue
            inotify = Inotify(os.fsencode(folder), recursive=recursive, event_mask=mask)
            thread = threading.Thread(
                target=self._read, args=(inotify,), name="hotmod-inotify", daemon=True
            )
            self._trees[folder] = (recursive, inotify, thread)
            thread.start()
            if old is not None:
                self._close(old)
        for folder in [f for f in self._trees if f not in watches]:
            self._close(self._trees.pop(folder))

    def _read(self, inotify: Any) -> None:
        while True:
            try:
                events = inotify.read_events()
            except Exception:
                log.exception("error while reading inotify events; watching goes on")
                continue
            if not events:
                return  # closed
            for event in events:
                try:
                    self._on_event(inotify, event)
                except Exception:
                    log.exception("error while handling %r; watching goes on", event)

    def _on_event(self, inotify: Any, event: Any) -> None:
        path = os.fsdecode(event.src_path)
        if not event.is_directory:
            if not event.is_create:  # its IN_CLOSE_WRITE follows once it is written
                self._emit(path)
        elif inotify.is_recursive and event.is_moved_to:
            # watchdog < 7 watches created folders itself, but not moved-in ones.
            source = inotify.source_for_move(event)  # a rename inside the tree
            with contextlib.suppress(OSError):
                inotify.add_watch(event.src_path)
            watch = self._watcher(inotify)
            for file in _scan(path, self._filter, recursive=True, on_folder=watch):
                self._emit(file)
                if source is not None:  # the old paths are gone
                    self._emit(os.fsdecode(source) + file[len(path) :])
        elif event.is_create and not self._filter.excluded(os.path.basename(path)):
            for file in _scan(path, self._filter, recursive=True, on_folder=lambda _: True):
                self._emit(file)

    @staticmethod
    def _watcher(inotify: Any) -> Callable[[str], bool]:
        def watch(folder: str) -> bool:
            with contextlib.suppress(OSError):
                inotify.add_watch(os.fsencode(folder))
            return True

        return watch

    @staticmethod
    def _close(entry: tuple[bool, Any, threading.Thread]) -> None:
        _, inotify, thread = entry
        inotify.close()
        thread.join(_JOIN_TIMEOUT)

    def stop(self) -> None:
        """Close every instance and join the reader threads."""
        trees, self._trees = self._trees, {}
        for entry in trees.values():
            self._close(entry)


class _ObserverBackend:
    """Native backend off Linux: watchdog's Observer, one recursive schedule per root."""

    def __init__(self, flt: _Filter, emit: Callable[[str], None]) -> None:
        self._filter = flt
        self._emit = emit
        self._observer: BaseObserver | None = None
        self._scheduled: dict[str, tuple[bool, ObservedWatch]] = {}

    def start(self, watches: dict[str, bool]) -> None:
        """Start the observer thread and schedule the watches."""
        from watchdog.observers import Observer

        observer = Observer()
        observer.name = "hotmod-observer"
        observer.start()
        self._observer = observer
        try:
            self.update(watches)
        except BaseException:
            self.stop()
            raise

    def update(self, watches: dict[str, bool]) -> None:
        """Schedule new watches first, then unschedule the ones no longer wanted."""
        assert self._observer is not None
        handler = _make_handler(self._filter, self._emit)
        for folder, recursive in watches.items():
            old = self._scheduled.get(folder)
            if old is not None and old[0] == recursive:
                continue
            watch = self._observer.schedule(handler, folder, recursive=recursive)
            self._scheduled[folder] = (recursive, watch)
            if old is not None:
                self._observer.unschedule(old[1])
        for folder in [f for f in self._scheduled if f not in watches]:
            self._observer.unschedule(self._scheduled.pop(folder)[1])

    def stop(self) -> None:
        """Stop the observer and join it."""
        observer, self._observer = self._observer, None
        self._scheduled.clear()
        if observer is not None:
            observer.stop()
            if observer.is_alive():
                observer.join(_JOIN_TIMEOUT)


def _make_handler(flt: _Filter, emit: Callable[[str], None]) -> FileSystemEventHandler:
    """A watchdog event handler forwarding the paths we care about to ``emit``."""
    from watchdog.events import FileSystemEventHandler

    ignored = {"opened", "closed_no_write", "attrib"}
    # inotify reports the closing of a written file: there a file counts once complete,
    # not at the truncation of an in-place save (whose half-written content would be
    # reloaded). Other platforms have no close event.
    file_ignored = {"modified", "created"} if sys.platform.startswith("linux") else set()

    class _Handler(FileSystemEventHandler):
        """Reports created, modified, closed-after-write, deleted and moved paths."""

        def dispatch(self, event: FileSystemEvent) -> None:
            """Forward one event; watchdog's own pattern matching is not used."""
            try:
                kind = event.event_type
                if kind in ignored:
                    return
                dest = os.fsdecode(event.dest_path) if event.dest_path else ""
                if event.is_directory:
                    top = dest if kind == "moved" else os.fsdecode(event.src_path)
                    if kind in ("created", "moved"):
                        for file in _scan(top, flt, recursive=True, on_folder=lambda _: True):
                            emit(file)
                    return
                if kind in file_ignored:
                    return
                emit(os.fsdecode(event.src_path))
                if dest:
                    emit(dest)
            except Exception:
                log.exception("error while handling %r; watching goes on", event)

    return _Handler()


_Signature = tuple[int, int, int]


class _PollingBackend:
    """Our own poller: a scandir walk every ``interval`` seconds, first scan as baseline."""

    def __init__(
        self,
        interval: float,
        flt: _Filter,
        emit: Callable[[str], None],
        roots: Callable[[], _Roots],
    ) -> None:
        self._interval = interval
        self._filter = flt
        self._emit = emit
        self._roots = roots
        self._lock = threading.Lock()
        self._snapshots: dict[str, dict[str, _Signature]] = {}
        self._watches: dict[str, bool] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, watches: dict[str, bool]) -> None:
        """Take the baseline and start the poller thread."""
        self.update(watches)
        self._thread = threading.Thread(target=self._run, name="hotmod-poller", daemon=True)
        self._thread.start()

    def update(self, watches: dict[str, bool]) -> None:
        """Baseline new watches (no events for what exists now), forget dropped ones."""
        with self._lock:
            snapshots = {
                folder: self._snapshots[folder]
                if self._watches.get(folder) == recursive
                else self._snapshot(folder, recursive)
                for folder, recursive in watches.items()
            }
            self._snapshots, self._watches = snapshots, dict(watches)

    def stop(self) -> None:
        """Stop the poller thread and join it."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT)

    def _run(self) -> None:
        """Poll until stopped; errors are logged and polling goes on."""
        while not self._stopping.wait(self._interval):
            try:
                self._poll()
            except Exception:
                log.exception("error while polling; watching goes on")

    def _poll(self) -> None:
        """Compare a fresh snapshot of every watch with the previous one."""
        with self._lock:
            for folder, recursive in self._watches.items():
                old = self._snapshots.get(folder, {})
                new = self._snapshot(folder, recursive)
                self._snapshots[folder] = new
                for path in old.keys() - new.keys():
                    self._emit(path)
                for path, signature in new.items():
                    if old.get(path) != signature:
                        self._emit(path)

    def _snapshot(self, folder: str, recursive: bool) -> dict[str, _Signature]:
        """``(mtime_ns, size, inode)`` of every matching file under ``folder``."""
        roots = self._roots()
        result: dict[str, _Signature] = {}
        for path in _scan(folder, self._filter, recursive=recursive, on_folder=lambda _: True):
            if not roots.matches(path, self._filter):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            result[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return result


# --------------------------------------------------------------------------- the monitor


class _Monitor:
    """A FileMonitor: a backend feeding paths, a debounce, one delivery thread."""

    def __init__(
        self,
        roots: _Roots,
        *,
        on_batch: Callable[[frozenset[Path]], None],
        flt: _Filter,
        debounce: float,
        backend: Backend,
        poll_interval: float,
        native_error: BaseException | None,
        native_impl: Literal["inotify", "inotify-legacy", "observer"] | None,
    ) -> None:
        self._roots = roots
        self._on_batch = on_batch
        self._filter = flt
        self._debounce = debounce
        self._kind: Backend = backend
        self._poll_interval = poll_interval
        self._native_error = native_error
        self._native_impl = native_impl
        self._lock = threading.RLock()  # start/stop/add_path and backend changes
        self._state: Literal["new", "running", "stopped"] = "new"
        self._backend: _Backend | None = None
        self._backend_name = ""
        self._watches: dict[str, bool] = {}
        self._warned = False
        self._cond = threading.Condition()  # guards the fields below
        self._pending: set[str] = set()
        self._last_event = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None

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
            self._thread = threading.Thread(
                target=self._deliver, name="hotmod-watcher", daemon=True
            )
            self._thread.start()
            self._state = "running"

    def stop(self) -> None:
        """Stop the backend and the delivery thread, joining them (bounded); drops pending paths."""
        with self._lock:
            if self._state == "stopped":
                return
            self._state = "stopped"
            backend, self._backend = self._backend, None
        if backend is not None:
            try:
                backend.stop()
            except Exception:
                log.exception("error while stopping the file monitor's backend")
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT)

    def add_path(self, path: StrPath) -> None:
        """Add a root; only the watches that change are touched."""
        real = _real(path)
        with self._lock:
            old_roots = self._roots
            self._roots = old_roots.add(real)
            if self._state != "running" or self._backend is None:
                return
            watches = self._roots.watches(self._filter)
            if watches == self._watches:
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
        impl = self._native_impl or (
            "inotify"
            if _has_inotify_fd()
            else "inotify-legacy"
            if _has_legacy_inotify()
            else "observer"
        )
        backend: _Backend
        if impl == "inotify":
            backend = _InotifyBackend(self._filter, self._feed)
        elif impl == "inotify-legacy":
            backend = _LegacyInotifyBackend(self._filter, self._feed)
        else:
            backend = _ObserverBackend(self._filter, self._feed)
        backend.start(watches)
        self._backend_name = impl
        return backend

    def _start_polling(self, watches: dict[str, bool]) -> _Backend:
        """Start our own poller."""
        backend = _PollingBackend(self._poll_interval, self._filter, self._feed, self._get_roots)
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

    def _get_roots(self) -> _Roots:
        """The current roots snapshot."""
        return self._roots

    # -- events and delivery

    def _feed(self, path: str) -> None:
        """Take one raw event path (any thread): keep it if it passes the filter."""
        if not self._roots.matches(path, self._filter):
            return
        with self._cond:
            self._last_event = time.monotonic()
            if not self._pending:
                self._cond.notify()  # otherwise the delivery thread is already counting down
            self._pending.add(path)

    def _next_batch(self) -> frozenset[Path] | None:
        """Block until a batch has been quiet for ``debounce`` seconds (None: stopping)."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if not self._pending:
                    self._cond.wait()
                    continue
                remaining = self._last_event + self._debounce - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                paths, self._pending = self._pending, set()
                break
        return frozenset(map(Path, paths))

    def _deliver(self) -> None:
        """The delivery thread: one batch at a time; errors are logged, never fatal."""
        while True:
            try:
                batch = self._next_batch()
            except Exception:
                log.exception("error in the file monitor; watching goes on")
                continue
            if batch is None:
                return
            try:
                self._on_batch(batch)
            except BaseException:  # even SystemExit: the delivery thread must not die
                log.exception(
                    "on_batch raised on a batch of %d path(s); watching goes on", len(batch)
                )


# --------------------------------------------------------------------------- factory


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


def _check_patterns(name: str, patterns: object) -> tuple[str, ...]:
    """Validate include/exclude: a sequence of non-empty strings, not a bare string."""
    if isinstance(patterns, (str, bytes)):
        raise ValueError(
            f"{name} must be a sequence of patterns, not a single string: ({patterns!r},)"
        )
    if not isinstance(patterns, Iterable):
        raise ValueError(f"{name} must be a sequence of patterns, got {patterns!r}")
    result = tuple(patterns)
    for pattern in result:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"{name} patterns must be non-empty strings, got {pattern!r}")
    return result


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
    _native_impl: Literal["inotify", "inotify-legacy", "observer"] | None = None,
) -> FileMonitor:
    """Build a (not yet started) monitor delivering batches of changed real paths.

    Args:
        roots: folders (watched recursively) and single files; resolved to real paths.
        on_batch: called on the monitor's own thread with each batch of paths, once
            ``debounce`` seconds have passed without a new event. A path in a batch may
            no longer exist (deleted or moved away).
        include: fnmatch patterns a file's basename must match (explicit file roots
            are reported whatever their name).
        exclude: fnmatch patterns excluding a basename or any folder below a root.
        debounce: quiet period in seconds before a batch is delivered.
        backend: "auto" (native, polling with one HotmodWarning if native fails),
            "watchdog" (native or an error) or "polling".
        poll_interval: seconds between two scans of the polling backend.

    Raises:
        ValueError: a bad option or a root that does not exist, with the reason.
    """
    if backend not in _BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected 'auto', 'watchdog' or 'polling'")
    if not callable(on_batch):
        raise ValueError(f"on_batch must be callable, got {on_batch!r}")
    debounce = _check_seconds("debounce", debounce, allow_zero=True)
    poll_interval = _check_seconds("poll_interval", poll_interval, allow_zero=False)
    flt = _Filter(_check_patterns("include", include), _check_patterns("exclude", exclude))
    if isinstance(roots, (str, bytes, os.PathLike)):
        raise ValueError(f"roots must be an iterable of paths, not a single path: [{roots!r}]")
    snapshot = _Roots()
    for root in roots:
        snapshot = snapshot.add(_real(root))
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
