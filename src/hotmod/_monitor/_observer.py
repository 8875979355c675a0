"""Native backend off Linux (and with odd watchdog builds): watchdog's Observer."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._typing import override
from ._batch import Kind
from ._filter import Filter, scan

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers.api import BaseObserver, ObservedWatch

__all__ = ["ObserverBackend"]

log = logging.getLogger("hotmod.watcher")  # the documented name of the monitor's logger

JOIN_TIMEOUT = 2.0


class ObserverBackend:
    """watchdog's Observer, one recursive schedule per root.

    It has no "handed over everything" point, so batches wait for a short quiet.
    """

    flushes = False

    def __init__(
        self, flt: Filter, emit: Callable[[str, Kind], None], flush: Callable[[], None]
    ) -> None:
        self._filter = flt
        self._emit = emit
        self._observer: BaseObserver | None = None
        self._scheduled: dict[str, tuple[bool, ObservedWatch]] = {}

    @property
    def trees(self) -> list[str]:
        """The watched roots (for tests and debugging)."""
        return list(self._scheduled)

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
                observer.join(JOIN_TIMEOUT)


def _make_handler(flt: Filter, emit: Callable[[str, Kind], None]) -> FileSystemEventHandler:
    """A watchdog event handler forwarding the paths we care about to ``emit``."""
    from watchdog.events import FileSystemEventHandler

    ignored = {"opened", "closed_no_write", "attrib"}
    # inotify reports the closing of a written file: there a write's end is known.
    # Other platforms have no close event: a change counts once the file is quiet.
    linux = sys.platform.startswith("linux")
    kinds: dict[str, Kind] = {
        "modified": "write" if linux else "changed",
        "created": "write" if linux else "changed",
        "closed": "done",
        "deleted": "done",
        "moved": "done",
    }

    class _Handler(FileSystemEventHandler):
        """Reports created, modified, closed-after-write, deleted and moved paths."""

        @override
        def dispatch(self, event: FileSystemEvent) -> None:
            """Forward one event; watchdog's own pattern matching is not used."""
            try:
                kind = event.event_type
                if kind in ignored or kind not in kinds:
                    return
                dest = os.fsdecode(event.dest_path) if event.dest_path else ""
                if event.is_directory:
                    top = dest if kind == "moved" else os.fsdecode(event.src_path)
                    if kind in ("created", "moved"):
                        for file in scan(top, flt, recursive=True, on_folder=lambda _: True):
                            emit(file, "done")
                    return
                emit(os.fsdecode(event.src_path), kinds[kind])
                if dest:
                    emit(dest, "done")
            except Exception:
                log.exception("error while handling %r; watching goes on", event)

    return _Handler()
