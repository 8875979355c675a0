"""Holding files still while they are read: Linux read leases.

A complete file can still be truncated by the next save between the moment it is seen
complete and the moment the reloader reads it. While we hold a read lease on a file,
a process opening it for writing or truncating it waits (the kernel tells us with a
signal), so a batch is read whole. We hold a lease at most ``HOLD_AT_MOST`` seconds. Taking
the lease fails with EAGAIN while any process has the file open for writing, which
also tells us, cheaply, that a write is still going on.

The reloader reads a held file through the held descriptor (`read_held`): the file
seen complete, even if the path was renamed over or recreated since. Read after its
hold ran out (a long reload retried), it is read under a lease taken again, or not at
all while a writer has it open (`BlockingIOError`). A path found
missing is not read at all within the hold: a file created there since may still be
half-written, and its own events bring it. A file read outside a hold gets a lease of
its own for the read (`read_still`).

Leases need Linux, a local filesystem and a file we own (or CAP_LEASE); elsewhere a
file is read without one, as before.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator

__all__ = ["hold_still", "open_for_writing", "read_held", "read_still", "size_held"]

_ENABLED = sys.platform.startswith("linux")


def _lease(path: str) -> int | None:
    """An fd holding a read lease on ``path``; None if unsupported or unreadable.

    Raises:
        FileNotFoundError: the path is gone.
        OSError: EAGAIN or EBUSY, some process has the file open for writing.
    """
    import fcntl
    import signal

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError:
        return None  # unreadable: the read itself says why
    try:
        # The signal the kernel sends when a writer waits on the lease: SIGIO (the
        # default) would end the process; SIGURG is ignored unless a handler is set.
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EBUSY):
            raise
        return None  # not our file, no CAP_LEASE, or a filesystem without leases
    return fd


def _unlock(fd: int) -> None:
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)


def _release(fd: int) -> None:
    _unlock(fd)
    os.close(fd)


def _read_fd(fd: int) -> bytes:
    parts: list[bytes] = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        parts.append(chunk)
        offset += len(chunk)
    return b"".join(parts)


HOLD_AT_MOST = 0.5  # seconds a save may wait on us, however long the reload takes
# For LINGER seconds after a hold the keeper looks every TICK seconds, so a hold taken
# meanwhile needs no wake-up: waking it cost a thread switch in the middle of the reload
# (0.1 ms of 3). Each look costs about 0.2 ms of CPU: a few dozen per burst of saves.
TICK = HOLD_AT_MOST
LINGER = 10.0
# .fds: path -> (the fd this thread holds it by, its hold); .gone: paths found missing
_this_thread = threading.local()


class _Held:
    """Leases taken: released once, by the ``with`` exit or by the time limit; their
    descriptors closed by the ``with`` exit (reads may go on past the time limit)."""

    def __init__(self, fds: list[int]) -> None:
        self._fds = fds
        self._locked = list(fds)
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            locked, self._locked = self._locked, []
        for fd in locked:
            _unlock(fd)

    def leased(self, fd: int) -> bool:
        """Whether ``fd``'s lease still holds (the time limit has not ended it)."""
        with self._lock:
            return fd in self._locked

    def close(self) -> None:
        self.release()
        with self._lock:
            fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)


class _Keeper:
    """One thread ending holds that outlive their time limit, while some monitor runs.

    A thread per batch would cost a thread start on every save; this one is started
    with the first running monitor and joined with the last. Idle, it sleeps until told
    of a hold; for ``LINGER`` seconds after one it looks every ``TICK`` instead, so that
    the next saves' holds do not wake it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holds: dict[int, tuple[float, _Held]] = {}
        self._wake_at: float | None = None  # when the thread looks next (None: when told)
        self._last_hold = -LINGER
        self._users = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """One more running monitor."""
        with self._cond:
            self._users += 1
            if self._thread is None:
                self._wake_at = None
                self._thread = threading.Thread(target=self._run, name="hotmod-lease", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """One running monitor fewer; the last one joins the thread."""
        with self._cond:
            self._users -= 1
            thread = self._thread if self._users == 0 else None
            if thread is not None:
                self._thread = None
                self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)

    def watch(self, held: _Held, deadline: float) -> bool:
        """End ``held`` at ``deadline`` unless it ends before; False if not running."""
        with self._cond:
            if self._thread is None:
                return False
            self._holds[id(held)] = (deadline, held)
            self._last_hold = time.monotonic()
            if self._wake_at is None or deadline < self._wake_at:
                self._cond.notify()  # (else it wakes in time: no thread switch mid-reload)
            return True

    def forget(self, held: _Held) -> None:
        """``held`` ended by itself."""
        with self._cond:
            self._holds.pop(id(held), None)

    def _run(self) -> None:
        me = threading.current_thread()
        with self._cond:
            while self._thread is me:
                now = time.monotonic()
                for key, (deadline, held) in list(self._holds.items()):
                    if deadline <= now:
                        del self._holds[key]
                        held.release()
                wake = min((d for d, _ in self._holds.values()), default=None)
                if now - self._last_hold < LINGER:  # saves come in sessions
                    wake = min(wake, now + TICK) if wake is not None else now + TICK
                self._wake_at = wake
                self._cond.wait(None if wake is None else max(wake - now, 0.001))


keeper = _Keeper()


@contextlib.contextmanager
def hold_still(paths: Iterable[str], *, at_most: float = HOLD_AT_MOST) -> Iterator[set[str]]:
    """Hold ``paths`` still (no new write or truncation) for the ``with`` body.

    Yields the paths that some process has open for writing right now: their write is
    not finished, and they are not held. The hold ends after ``at_most`` seconds even if
    the body goes on (a reload reads its sources first; an editor must not hang).
    Within the body, `read_held` in this thread reads the held files.
    """
    fds: dict[str, int] = {}
    gone: set[str] = set()
    busy: set[str] = set()
    fds_here: dict[str, tuple[int, _Held]] = getattr(_this_thread, "fds", {})
    gone_here: set[str] = getattr(_this_thread, "gone", set())
    if _ENABLED:
        for path in paths:
            if path in fds_here or path in gone_here:
                continue  # this thread looked already (the watcher applying a batch)
            try:
                fd = _lease(path)
            except FileNotFoundError:
                gone.add(path)
                continue
            except OSError:
                busy.add(path)
                continue
            if fd is not None:
                fds[path] = fd
    held = _Held(list(fds.values()))
    timer = None
    if fds and not keeper.watch(held, time.monotonic() + at_most):
        timer = threading.Timer(at_most, held.release)  # no monitor running: a safe point
        timer.name = "hotmod-lease"
        timer.daemon = True
        timer.start()
    _this_thread.fds = {**fds_here, **{path: (fd, held) for path, fd in fds.items()}}
    _this_thread.gone = gone_here | gone
    try:
        yield busy
    finally:
        _this_thread.fds, _this_thread.gone = fds_here, gone_here
        keeper.forget(held)
        if timer is not None:
            timer.cancel()
        held.close()
        if timer is not None:
            timer.join()


def read_held(path: str) -> bytes:
    """The bytes of ``path``; within `hold_still` in this thread, those of the file it
    held, whatever the path names now.

    Raises:
        FileNotFoundError: the file is gone, or was gone when this thread's hold looked
            (one created since may be half-written; its own events bring it).
        BlockingIOError: the hold ran out before this read and a writer has the file
            open now (its own events bring it once it is closed).
    """
    entry = getattr(_this_thread, "fds", {}).get(path)
    if entry is not None:
        fd, held = entry
        return _read_fd(fd) if held.leased(fd) else _read_leased_again(fd, path)
    if path in getattr(_this_thread, "gone", ()):
        raise FileNotFoundError(errno.ENOENT, "gone when its batch was taken", path)
    with open(path, "rb") as f:
        return f.read()


def size_held(path: str) -> int | None:
    """The size of ``path``: of the file this thread's hold holds, else as it is now;
    None if it is gone."""
    entry = getattr(_this_thread, "fds", {}).get(path)
    try:
        return os.fstat(entry[0]).st_size if entry is not None else os.stat(path).st_size
    except OSError:
        return None


def _read_leased_again(fd: int, path: str) -> bytes:
    # A save may have begun once the hold ran out: read only if no writer has it open.
    import fcntl

    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EBUSY):
            raise BlockingIOError(errno.EAGAIN, "being written (its hold ran out)", path) from None
        raise
    try:
        return _read_fd(fd)
    finally:
        _unlock(fd)


def read_still(path: str) -> bytes | None:
    """`read_held`, and a file this thread does not hold is read under a lease of its
    own, so that no save lands in the middle of the read; None when some process has
    it open for writing right now."""
    looked = path in getattr(_this_thread, "fds", {}) or path in getattr(_this_thread, "gone", ())
    if looked or not _ENABLED:
        try:
            return read_held(path)
        except BlockingIOError:
            return None
    try:
        fd = _lease(path)
    except FileNotFoundError:
        raise
    except OSError:
        return None
    if fd is None:
        return read_held(path)
    try:
        return _read_fd(fd)
    finally:
        _release(fd)


def open_for_writing(path: str) -> bool | None:
    """Whether some process has ``path`` open for writing (None: cannot tell here)."""
    if not _ENABLED:
        return None
    try:
        fd = _lease(path)
    except FileNotFoundError:
        return None
    except OSError:
        return True
    if fd is None:
        return None
    _release(fd)
    return False
