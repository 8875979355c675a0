"""Events in, batches of complete files out.

A file counts once its write is closed (inotify's IN_CLOSE_WRITE), it was renamed into
place (an atomic save), deleted or moved away, and no newer write to it has begun. A
backend that cannot see the end of a write (polling, FSEvents) reports the end as soon
as it is sure (polling: the file unchanged over a whole interval) or a "changed" that
counts once the file has been quiet for ``debounce``.

While ``on_batch`` runs, the batch's files are held still (`_lease`): a save that
begins meanwhile waits until the batch has been read, so a file is never read half
written; a file some process still has open for writing goes back to wait.

When a batch goes: at once when every pending file is complete and the backend has
handed over every event it had (``flush``). Files still being written (the next file of
a ``git checkout``, a formatter rewriting the file) are waited for at most ``debounce``
seconds; after that the complete files go without them. A file saved again within
``HOT`` seconds of its previous save (a tool rewriting it continuously) is only taken
once it has been quiet for ``debounce``: it is never read between two of its writes,
its final content always goes, and it holds nobody else back longer than ``debounce``.
A write that never closes (``truncate`` alone, a crashed writer) counts after ``STALL``.
A file found empty when its batch goes (truncated and closed by a writer that reopens
it to write: ``: > f; cat part >> f``) waits ``EMPTY`` seconds of quiet first, once.

`Batcher` is the pure state machine (time passed in, no threads); `Delivery` runs it on
one thread of its own and calls ``on_batch``, one batch at a time. A batch that goes as
soon as the backend flushes is delivered on the backend's reader thread instead
(`Delivery.flush_here`), sparing a thread hand-over on every save.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from ._hurry import Hurry
from ._lease import hold_still, keeper, size_held

__all__ = ["EMPTY", "HOT", "STALL", "Batcher", "Delivery", "Kind"]

log = logging.getLogger("hotmod.watcher")  # the documented name of the monitor's logger

Kind = Literal["write", "done", "changed"]
"""``write``: a write began or goes on; ``done``: complete (closed, renamed, gone);
``changed``: changed, completeness unknown (counts once quiet for ``debounce``)."""

HOT = 0.02  # seconds: a file saved again this soon after its last save is being churned
STALL = 1.0  # seconds: a write without any further event counts as finished
_SETTLE = 0.002  # seconds of quiet standing in for `flush` on backends without one
EMPTY = 0.05  # seconds: an empty file waits this long for a write to follow, once


_EPSILON = 1e-9  # times are floats: "at" includes a hair before


class _Entry:
    """One pending path (a plain class: dataclasses would cost `import hotmod` inspect)."""

    __slots__ = ("empty", "hot", "kind", "last")

    def __init__(self, kind: Kind, last: float) -> None:
        self.kind = kind
        self.last = last  # time of its last event
        self.hot = False  # saved again within HOT of its previous save
        self.empty = False  # found empty when taken: waits for a write to follow


class Batcher:
    """Pending paths and when they form a batch; every method takes the current time."""

    def __init__(self, *, debounce: float, flushes: bool = True) -> None:
        self.debounce = debounce
        self.flushes = flushes
        self._pending: dict[str, _Entry] = {}
        self._done_at: dict[str, float] = {}  # path -> time of its last completed save
        self._last_event = 0.0
        self._flushed = True
        self._waited_empty: set[str] = set()  # found empty and waited for since its event

    def __bool__(self) -> bool:
        return bool(self._pending)

    def event(self, path: str, kind: Kind, now: float) -> None:
        """Record one event for ``path``."""
        self._last_event = now
        self._flushed = False
        self._waited_empty.discard(path)
        entry = self._pending.get(path)
        if entry is None:
            entry = self._pending[path] = _Entry(kind, now)
        entry.kind, entry.last, entry.empty = kind, now, False
        if kind == "done":
            previous = self._done_at.get(path)
            entry.hot = entry.hot or (previous is not None and now - previous < HOT)
            self._done_at[path] = now

    def flush(self) -> None:
        """The backend has handed over every event it had."""
        self._flushed = True

    def requeue(self, path: str, now: float) -> None:
        """Put back a taken path found still open for writing (unless newer events came)."""
        if path not in self._pending:
            self._pending[path] = _Entry("write", now)

    def requeue_empty(self, path: str, now: float) -> bool:
        """Put back a taken path found empty, to wait for a write to follow; False if
        it waited so already (an empty file saved on purpose: it goes)."""
        if path in self._waited_empty:
            self._waited_empty.discard(path)
            return False
        if path not in self._pending:
            entry = self._pending[path] = _Entry("done", now)
            entry.empty = True
            self._waited_empty.add(path)
        return True

    def _ready_at(self, entry: _Entry) -> float:
        """When a pending path counts as complete, if no new event comes."""
        if entry.empty:
            return entry.last + max(self.debounce, EMPTY)
        if entry.kind == "write":
            return entry.last + STALL
        if entry.kind == "changed" or entry.hot:
            return entry.last + self.debounce
        return entry.last

    def take(self, now: float) -> frozenset[str] | None:
        """Remove and return the paths that go now (None: none yet)."""
        ready: list[str] = []
        oldest = now
        waiting = False
        for path, entry in self._pending.items():
            at = self._ready_at(entry)
            if at <= now + _EPSILON:
                ready.append(path)
                oldest = min(oldest, at)
            else:
                waiting = True
        if not ready:
            return None
        if waiting:  # wait for follow-up writes, at most debounce
            if now + _EPSILON < oldest + self.debounce:
                return None
        elif not self._drained(now):
            return None
        for path in ready:
            del self._pending[path]
        self._forget_old(now)
        return frozenset(ready)

    def _drained(self, now: float) -> bool:
        if self.flushes:
            return self._flushed or now + _EPSILON >= self._last_event + self.debounce
        return now + _EPSILON >= self._last_event + min(self.debounce, _SETTLE)

    def wake_at(self, now: float) -> float | None:
        """When `take` may succeed without a new event (None: only after one)."""
        if not self._pending:
            return None
        times = [self._ready_at(e) for e in self._pending.values()]
        times += [t + self.debounce for t in times]
        settle = self.debounce if self.flushes else min(self.debounce, _SETTLE)
        times.append(self._last_event + settle)
        future = [t for t in times if t > now]
        return min(future) if future else now

    def _forget_old(self, now: float) -> None:
        if len(self._done_at) > 256:
            self._done_at = {p: t for p, t in self._done_at.items() if now - t < HOT}


class Delivery:
    """Runs a `Batcher` on its own thread: events from any thread, batches to ``on_batch``."""

    def __init__(
        self,
        on_batch: Callable[[frozenset[Path]], None],
        *,
        debounce: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_batch = on_batch
        self._clock = clock
        self._batcher = Batcher(debounce=debounce)
        self._cond = threading.Condition()
        self._stopping = False
        self._delivering = False  # a batch is with on_batch (on this or the backend's thread)
        self._hurry = Hurry()  # a finer share of the GIL while a save is in flight
        self._thread: threading.Thread | None = None

    def set_flushes(self, flushes: bool) -> None:
        """Whether the backend calls `flush` after handing over what it had."""
        with self._cond:
            self._batcher.flushes = flushes

    def emit(self, path: str, kind: Kind) -> None:
        """Take one event (any thread)."""
        with self._cond:
            self._batcher.event(path, kind, self._clock())
            if not self._stopping:
                self._hurry.begin()
            if not self._batcher.flushes:  # else the backend's flush wakes the thread
                self._cond.notify()

    def flush(self) -> None:
        """The backend has handed over every event it had (any thread)."""
        with self._cond:
            self._batcher.flush()
            if self._batcher:  # (events of files the filter drops leave it empty)
                self._cond.notify()

    def flush_here(self) -> None:
        """`flush`, then deliver a batch that goes now on the calling thread.

        For a backend whose reader thread holds no lock when it flushes: the save is
        applied without waking the delivery thread first (a thread hand-over costs a
        quarter of a millisecond). Events meanwhile wait in the kernel's queue.
        """
        with self._cond:
            self._batcher.flush()
            paths = None
            if not self._delivering and not self._stopping:
                paths = self._batcher.take(self._clock())
            if paths is None:
                if self._batcher:  # (events of files the filter drops leave it empty)
                    self._cond.notify()
                return
            self._delivering = True
        self._deliver(frozenset(map(Path, paths)))

    def start(self) -> None:
        """Start the delivery thread (and the lease keeper, see `_lease`)."""
        keeper.start()
        self._thread = threading.Thread(target=self._run, name="hotmod-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop the delivery thread and join it (bounded); pending paths are dropped."""
        with self._cond:
            self._stopping = True
            self._hurry.end()
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is not None:
            keeper.stop()

    def _next_batch(self) -> frozenset[Path] | None:
        """Block until a batch goes and no other is being delivered (None: stopping)."""
        with self._cond:
            while not self._stopping:
                now = self._clock()
                paths = None if self._delivering else self._batcher.take(now)
                if paths is not None:
                    self._delivering = True
                    return frozenset(map(Path, paths))
                wake = None if self._delivering else self._batcher.wake_at(now)
                self._cond.wait(None if wake is None else max(wake - now, 0.0005))
            return None

    def _run(self) -> None:
        """One batch at a time; errors are logged, never fatal."""
        while True:
            try:
                batch = self._next_batch()
            except Exception:
                log.exception("error in the file monitor; watching goes on")
                continue
            if batch is None:
                return
            self._deliver(batch)

    def _deliver(self, batch: frozenset[Path]) -> None:
        """Hand ``batch`` (taken with ``_delivering`` set) to ``on_batch``, files held still."""
        try:
            with hold_still(map(str, batch)) as busy:
                if busy:  # a newer write has begun: wait for it to finish
                    self._requeue(busy)
                    batch = batch - {Path(p) for p in busy}
                empty = {str(p) for p in batch if size_held(str(p)) == 0}
                if empty:  # truncated, its writer maybe about to reopen it
                    batch = batch - {Path(p) for p in self._requeue_empty(empty)}
                if batch:
                    self._on_batch(batch)
        except BaseException:  # even SystemExit: the delivering thread must not die
            log.exception("on_batch raised on a batch of %d path(s); watching goes on", len(batch))
        finally:
            with self._cond:
                self._delivering = False
                if not self._batcher:
                    self._hurry.end()
                self._cond.notify()

    def _requeue_empty(self, paths: set[str]) -> set[str]:
        """Put back paths found empty that have not waited yet; those put back."""
        with self._cond:
            now = self._clock()
            return {path for path in paths if self._batcher.requeue_empty(path, now)}

    def _requeue(self, paths: set[str]) -> None:
        """Put back paths found still open for writing."""
        with self._cond:
            now = self._clock()
            for path in paths:
                self._batcher.requeue(path, now)
