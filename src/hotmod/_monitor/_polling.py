"""Polling backend: an ``os.scandir`` walk every ``interval`` seconds.

A file changed since the previous walk is complete at once if no process has it open
for writing, which Linux tells us cheaply (a read lease is refused, see `_lease`).
Where that cannot be told (other systems, a file we do not own, network filesystems,
where polling is mostly used), it counts as complete once a whole interval passes
without a change to its ``(mtime_ns, size, inode)``: a writer that is still appending
moves the size or the mtime between two walks, so its half-written file is never
taken. (Reading every process's file table on each walk would cost far more and still
miss writers in other containers or on other hosts.) A writer pausing longer than an
interval in the middle of a file is the one case the fallback cannot tell; raise
``poll_interval`` for it.

A file's mtime comes from the kernel's coarse clock: two saves of the same size within
one of its ticks leave the same signature. So a file modified shortly before a walk is
"racy" (as git calls it): its bytes' digest is kept, and at the next walk an unchanged
signature with other bytes counts as a change. Only such files are read.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from .._paths import file_digest
from ._batch import Kind
from ._filter import Filter, Roots, scan
from ._lease import open_for_writing

__all__ = ["PollingBackend"]

log = logging.getLogger("hotmod.watcher")  # the documented name of the monitor's logger

JOIN_TIMEOUT = 2.0

_Signature = tuple[int, int, int, int]

# A file modified this soon before a walk may be saved again with the same mtime and
# size (file times lag the clock by up to a tick of the kernel's coarse clock).
_RACY_NS = 50_000_000


class PollingBackend:
    """Our own poller; the first walk of a folder is its baseline (no events)."""

    flushes = True

    def __init__(
        self,
        interval: float,
        flt: Filter,
        emit: Callable[[str, Kind], None],
        flush: Callable[[], None],
        roots: Callable[[], Roots],
    ) -> None:
        self._interval = interval
        self._filter = flt
        self._emit = emit
        self._flush = flush
        self._roots = roots
        self._lock = threading.Lock()
        self._snapshots: dict[str, dict[str, _Signature]] = {}
        self._watches: dict[str, bool] = {}
        self._unsettled: set[str] = set()  # changed at the last walk
        self._racy: dict[str, bytes | None] = {}  # path -> digest, modified near the last walk
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def trees(self) -> list[str]:
        """The watched roots (for tests and debugging)."""
        return list(self._watches)

    def start(self, watches: dict[str, bool]) -> None:
        """Take the baseline and start the poller thread."""
        self.update(watches)
        self._thread = threading.Thread(target=self._run, name="hotmod-poller", daemon=True)
        self._thread.start()

    def update(self, watches: dict[str, bool]) -> None:
        """Baseline new watches (no events for what exists now), forget dropped ones."""
        with self._lock:
            started = time.time_ns()
            snapshots = {}
            for folder, recursive in watches.items():
                if self._watches.get(folder) == recursive:
                    snapshots[folder] = self._snapshots[folder]
                else:
                    snapshots[folder] = self._snapshot(folder, recursive)
                    self._racy.update(_racy(snapshots[folder], started))
            self._snapshots, self._watches = snapshots, dict(watches)

    def stop(self) -> None:
        """Stop the poller thread and join it."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT)

    def _run(self) -> None:
        """Poll until stopped; errors are logged and polling goes on."""
        while not self._stopping.wait(self._interval):
            try:
                self.poll()
            except Exception:
                log.exception("error while polling; watching goes on")

    def poll(self) -> None:
        """Compare a fresh walk of every watch with the previous one."""
        with self._lock:
            started = time.time_ns()
            unsettled: set[str] = set()
            racy, self._racy = self._racy, {}
            for folder, recursive in self._watches.items():
                old = self._snapshots.get(folder, {})
                new = self._snapshot(folder, recursive)
                self._snapshots[folder] = new
                for path in old.keys() - new.keys():
                    self._emit(path, "done")  # gone
                now_racy = _racy(new, started)
                self._racy.update(now_racy)
                for path, signature in new.items():
                    if old.get(path) != signature or (
                        path in racy
                        and (now_racy[path] if path in now_racy else file_digest(path))
                        != racy[path]
                    ):
                        if open_for_writing(path) is False:
                            self._emit(path, "done")  # closed, and no writer has it open
                            continue
                        self._emit(path, "write")
                        unsettled.add(path)
                    elif path in self._unsettled:
                        if open_for_writing(path):
                            unsettled.add(path)  # unchanged, still open: said when closed
                            continue
                        self._emit(path, "done")  # unchanged for a whole interval, or closed
            self._unsettled = unsettled
        self._flush()

    def _snapshot(self, folder: str, recursive: bool) -> dict[str, _Signature]:
        """``(mtime_ns, size, inode, mode)`` of every matching file under ``folder``
        (the mode: a file made readable again, whose save its reload could not read)."""
        roots = self._roots()
        result: dict[str, _Signature] = {}
        for path in scan(folder, self._filter, recursive=recursive, on_folder=lambda _: True):
            if not roots.matches(path, self._filter):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            result[path] = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)
        return result


def _racy(snapshot: dict[str, _Signature], started: int) -> dict[str, bytes | None]:
    """The digest of each file of ``snapshot`` modified shortly before ``started``."""
    since = started - _RACY_NS
    return {path: file_digest(path) for path, sig in snapshot.items() if sig[0] >= since}
