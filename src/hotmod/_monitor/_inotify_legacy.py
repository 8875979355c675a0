"""Native backend on Linux with watchdog < 7 (Python 3.10): its Inotify wrapper, our threads.

watchdog 7's InotifyFD needs Python 3.11. Before it, watchdog's Observer reads inotify
through ``InotifyBuffer``, which holds a moved-out file's event for 0.5 s with every
later event behind it; reading the ``Inotify`` wrapper directly holds nothing. One
instance and one reader thread per root.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from ._batch import Kind
from ._filter import Filter, scan
from ._inotify import event_mask, file_kind

__all__ = ["LegacyInotifyBackend", "available"]

log = logging.getLogger("hotmod.watcher")  # the documented name of the monitor's logger

JOIN_TIMEOUT = 2.0


def available() -> bool:
    """Whether watchdog < 7's ``Inotify`` wrapper is there (Linux, Python 3.10)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        from watchdog.observers.inotify_c import Inotify  # type: ignore[attr-defined,unused-ignore]
    except Exception:
        return False
    return hasattr(Inotify, "read_events")


class LegacyInotifyBackend:
    """One watchdog ``Inotify`` per root, each read by a thread of ours."""

    flushes = True

    def __init__(
        self, flt: Filter, emit: Callable[[str, Kind], None], flush: Callable[[], None]
    ) -> None:
        self._filter = flt
        self._emit = emit
        self._flush = flush
        self._trees: dict[str, tuple[bool, Any, threading.Thread]] = {}
        self._missed = False  # a folder could not be watched, or events could not be read

    @property
    def trees(self) -> list[str]:
        """The watched roots (for tests and debugging)."""
        return list(self._trees)

    @property
    def complete(self) -> bool:
        """Whether every folder under the trees is watched (no limit or error hit)."""
        if self._missed:
            return False
        for _, inotify, _ in list(self._trees.values()):
            # watchdog < 7 skips a folder it may not read (EACCES) and records wd -1.
            watched = getattr(inotify, "_path_for_wd", None)
            if not isinstance(watched, dict) or -1 in watched:
                return False
        return True

    def start(self, watches: dict[str, bool]) -> None:
        """Add the watches; an OSError (a kernel limit) propagates."""
        self.update(watches)

    def update(self, watches: dict[str, bool]) -> None:
        """Watch new roots first, then stop the ones no longer wanted."""
        from watchdog.observers.inotify_c import Inotify  # type: ignore[attr-defined,unused-ignore]
        from watchdog.observers.inotify_c import InotifyConstants as C

        # As in _inotify, without the flags of its own add_watch calls.
        mask = event_mask() & ~(C.IN_ONLYDIR | C.IN_DONT_FOLLOW | C.IN_EXCL_UNLINK)
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
                self._missed = True
                log.exception("error while reading inotify events; watching goes on")
                continue
            if not events:
                return  # closed
            for event in events:
                try:
                    self._on_event(inotify, event)
                except Exception:
                    log.exception("error while handling %r; watching goes on", event)
            self._flush()

    def _on_event(self, inotify: Any, event: Any) -> None:
        path = os.fsdecode(event.src_path)
        if not event.is_directory:
            kind = file_kind(event.mask)
            if kind is not None:
                self._emit(path, kind)
        elif inotify.is_recursive and event.is_moved_to:
            # watchdog < 7 watches created folders itself, but not moved-in ones.
            source = inotify.source_for_move(event)  # a rename inside the tree
            try:
                inotify.add_watch(event.src_path)
            except OSError:
                self._missed = True
            watch = self._watcher(inotify)
            for file in scan(path, self._filter, recursive=True, on_folder=watch):
                self._emit(file, "done")
                if source is not None:  # the old paths are gone
                    self._emit(os.fsdecode(source) + file[len(path) :], "done")
        elif event.is_create and not self._filter.excluded(os.path.basename(path)):
            for file in scan(path, self._filter, recursive=True, on_folder=lambda _: True):
                self._emit(file, "done")

    def _watcher(self, inotify: Any) -> Callable[[str], bool]:
        def watch(folder: str) -> bool:
            try:
                inotify.add_watch(os.fsencode(folder))
            except OSError:
                self._missed = True
            return True

        return watch

    @staticmethod
    def _close(entry: tuple[bool, Any, threading.Thread]) -> None:
        _, inotify, thread = entry
        inotify.close()
        if thread is not threading.current_thread():  # stopped from on_batch, delivered here
            thread.join(JOIN_TIMEOUT)

    def stop(self) -> None:
        """Close every instance and join the reader threads."""
        trees, self._trees = self._trees, {}
        for entry in trees.values():
            self._close(entry)
