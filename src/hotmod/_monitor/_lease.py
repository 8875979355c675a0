"""Holding files still while they are read: Linux read leases.

A complete file can still be truncated by the next save between the moment it is seen
complete and the moment the reloader reads it. While we hold a read lease on a file,
a process opening it for writing or truncating it waits (the kernel tells us with a
signal, for at most ``/proc/sys/fs/lease-break-time``), so a batch is read whole. Taking
the lease fails with EAGAIN while any process has the file open for writing, which
also tells us, cheaply, that a write is still going on.

Leases need Linux, a local filesystem and a file we own (or CAP_LEASE); elsewhere a
file is read without one, as before.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterable, Iterator

__all__ = ["hold_still", "open_for_writing"]

_ENABLED = sys.platform.startswith("linux")


def _lease(path: str) -> int | None:
    """An fd holding a read lease on ``path``; None if unsupported; raises EAGAIN if busy."""
    import fcntl
    import signal

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None  # gone: nothing to hold
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


def _release(fd: int) -> None:
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    os.close(fd)


@contextlib.contextmanager
def hold_still(paths: Iterable[str]) -> Iterator[set[str]]:
    """Hold ``paths`` still (no new write or truncation) for the ``with`` body.

    Yields the paths that some process has open for writing right now: their write is
    not finished, and they are not held.
    """
    fds: list[int] = []
    busy: set[str] = set()
    if _ENABLED:
        for path in paths:
            try:
                fd = _lease(path)
            except OSError:
                busy.add(path)
                continue
            if fd is not None:
                fds.append(fd)
    try:
        yield busy
    finally:
        for fd in fds:
            _release(fd)


def open_for_writing(path: str) -> bool | None:
    """Whether some process has ``path`` open for writing (None: cannot tell here)."""
    if not _ENABLED:
        return None
    try:
        fd = _lease(path)
    except OSError:
        return True
    if fd is None:
        return None
    _release(fd)
    return False
