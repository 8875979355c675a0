"""Native backend on Linux with watchdog >= 7: our own callbacks on watchdog's InotifyFD."""

from __future__ import annotations

import errno
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._typing import override
from ._batch import Kind
from ._filter import Filter, scan

if TYPE_CHECKING:
    from watchdog.observers.inotify_c import InotifyEvent, InotifyFD

__all__ = ["InotifyBackend", "available"]

log = logging.getLogger("hotmod.watcher")  # the documented name of the monitor's logger

JOIN_TIMEOUT = 2.0
LIMIT_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE, errno.ENFILE, errno.ENOMEM})


def available() -> bool:
    """Whether watchdog's InotifyFD (watchdog >= 7, Linux) is there for our inotify trees.

    Older watchdog releases get `_inotify_legacy`; other systems watchdog's Observer.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        from watchdog.observers.inotify_c import InotifyFD
    except Exception:  # ImportError, or UnsupportedLibcError from an odd libc
        return False
    return all(hasattr(InotifyFD, name) for name in ("add_callback", "remove_callbacks"))


def file_kind(mask: int) -> Kind | None:
    """What an inotify event on a file says: a write began or goes on, or it is complete."""
    from watchdog.observers.inotify_c import InotifyConstants as C

    if mask & (C.IN_MODIFY | C.IN_CREATE):
        return "write"  # IN_MODIFY also fires on the truncation of an in-place save
    if mask & (C.IN_CLOSE_WRITE | C.IN_MOVED_TO | C.IN_MOVED_FROM | C.IN_DELETE | C.IN_ATTRIB):
        return "done"
    return None


def event_mask() -> int:
    """The events we ask for.

    Writes beginning (IN_MODIFY, which the truncation of an in-place save fires too) and
    ending (IN_CLOSE_WRITE), deletions and both halves of moves (atomic saves); IN_CREATE
    for folders and new files; IN_ATTRIB for a file made readable again (a save its
    reload could not read). No IN_OPEN or IN_CLOSE_NOWRITE: reading a file to reload it
    must not cause an event.
    """
    from watchdog.observers.inotify_c import InotifyConstants as C

    return (
        C.IN_MODIFY
        | C.IN_CLOSE_WRITE
        | C.IN_ATTRIB
        | C.IN_CREATE
        | C.IN_DELETE
        | C.IN_MOVED_FROM
        | C.IN_MOVED_TO
        | C.IN_ONLYDIR
        | C.IN_DONT_FOLLOW
        | C.IN_EXCL_UNLINK
    )


class _Tree:
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
        flt: Filter,
        emit: Callable[[str, Kind], None],
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
        self.missed = False  # a folder of the tree could not be watched

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
                scan(self._root, self._filter, recursive=True, on_folder=self._watch_str_strict)

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
                        self._emit(path, "done")
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
            kind = file_kind(event.mask)
            if kind is not None:
                self._emit(os.fsdecode(path), kind)
        elif self._recursive and (event.is_create or event.is_moved_to):
            old = self._moved.pop(event.cookie, None) if event.is_moved_to else None
            if self._filter.excluded(os.fsdecode(event.name)):
                return
            for file in self._rescan(path):
                # A file still being written here will send its own events: it is watched now.
                self._emit(file, "done")
                if old is not None:  # a rename inside the tree: the old paths are gone
                    self._emit(os.fsdecode(old) + file[len(os.fsdecode(path)) :], "done")
        elif self._recursive and event.is_moved_from:
            self._unwatch_tree(path)
            self._moved[event.cookie] = path
            while len(self._moved) > 64:  # unpaired (moved out): forget the oldest
                del self._moved[next(iter(self._moved))]

    def _rescan(self, top: bytes) -> list[str]:
        """Watch ``top`` and its sub-folders; return the files found in them."""
        if not self._watch(top, strict=False):
            return []
        return scan(top, self._filter, recursive=self._recursive, on_folder=self._watch_str)

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
            if strict and (path == self._root or exc.errno in LIMIT_ERRNOS):
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
        self.missed = True
        if exc.errno not in LIMIT_ERRNOS:
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


def _reader(flush: Callable[[], None]) -> InotifyFD:
    """An InotifyFD whose thread calls ``flush`` after handing over each read's events."""
    from watchdog.observers.inotify_c import InotifyFD

    class _Reader(InotifyFD):
        @override
        def run(self) -> None:
            while self.should_keep_running():
                events = self.read_events()
                for event in events:
                    self.handle_event(event)
                flush()

    reader = _Reader()
    reader.name = "hotmod-inotify"
    return reader


class InotifyBackend:
    """Linux native backend: one InotifyFD reader thread and one `_Tree` per watch."""

    flushes = True

    def __init__(
        self, flt: Filter, emit: Callable[[str, Kind], None], flush: Callable[[], None]
    ) -> None:
        self._filter = flt
        self._emit = emit
        self._flush = flush
        self._fd: InotifyFD | None = None
        self._trees: dict[str, _Tree] = {}

    @property
    def trees(self) -> list[str]:
        """The watched roots (for tests and debugging)."""
        return list(self._trees)

    @property
    def complete(self) -> bool:
        """Whether every folder under the trees is watched (no limit or error hit)."""
        return not any(tree.missed for tree in list(self._trees.values()))

    def start(self, watches: dict[str, bool]) -> None:
        """Open an inotify instance, start its reader thread, add the watches."""
        fd = _reader(self._flush)
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
            tree = _Tree(
                self._fd,
                folder,
                recursive=recursive,
                mask=event_mask(),
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
            if fd is not threading.current_thread():  # stopped from on_batch, delivered here
                fd.join(JOIN_TIMEOUT)
