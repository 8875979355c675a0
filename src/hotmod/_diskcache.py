"""What the reloader reads off each source, kept on disk beside Python's own bytecode.

Reading a module for a reload costs a parse, the definition hooks (`_define`) and a
compile: about 0.25 ms for a small module, 20 times what loading bytecode costs. The
first reload of a leaf with thousands of dependents paid it for every one of them, and
so did ``watch()`` at start for the parse. Each module's `Entry` (its imports, its
registrants, its names and its instrumented code) is therefore written to
``__pycache__/<name>.<tag>-hotmod.pyc``, the way pytest keeps its rewritten tests:

- a reload writes the entries of what it compiled, off its path, on a worker thread;
- a started watcher has the worker write the entries of every module it can reload,
  a module at a time, between reloads and at most half of the time;
- the next reload (or the next run of the program) loads an entry in about 12 µs.

An entry is used only for the exact bytes it was made from (a hash of them, the path,
the module name, the Python and hotmod versions). Nothing is written when the program
asks for no bytecode (``sys.dont_write_bytecode``): a watcher's warm-up then fills the
reloader's compile cache instead (`Reloader._warm`). A missing, stale or broken entry
is read as no entry.

Python's own bytecode cache is checked here too (`bytecode_current`): a module a
reload may only bind must be known to run the text on disk, on stricter conditions
than the import's.
"""

from __future__ import annotations

import _imp
import atexit
import contextlib
import functools
import logging
import marshal
import os
import sys
import threading
import time
import weakref
from _frozen_importlib_external import MAGIC_NUMBER, cache_from_source
from collections import deque
from collections.abc import Callable
from types import CodeType
from typing import Any, NamedTuple

from ._graph import ImportRef

__all__ = ["Entry", "Worker", "bytecode_current", "load", "store"]

_FORMAT = 6  # bumped when an entry's layout or the instrumentation changes (6: lines)
_SUFFIX = "-hotmod.pyc"
_RAW_MAGIC = int.from_bytes(MAGIC_NUMBER, "little")  # the key of hash-based .pyc files


class Entry(NamedTuple):
    """What the reloader reads off one source."""

    refs: tuple[tuple[Any, ...], ...]  # its `ImportRef`s as plain tuples (`imports`)
    registrants: frozenset[str]
    code: CodeType  # instrumented (`_define.instrument`)
    bound: frozenset[str]
    dynamic: bool
    plain: tuple[tuple[str, ...], ...]  # definitions a run may skip (`_define.Groups`)
    quiet: tuple[tuple[str, Any], ...] | None = None  # its literals if quiet (`_quiet`)
    lines: tuple[tuple[Any, ...], ...] = ()  # where its plain definitions begin (`_define.Lines`)
    size: int = 0  # bytes of the entry on disk (0: not read from disk)

    def imports(self) -> list[ImportRef]:
        """Its imports (made only when asked: a reload needs its code alone)."""
        return [ImportRef(*ref) for ref in self.refs]


_MAKERS = (
    "_bigsource",
    "_bytecode",
    "_define",
    "_diskcache",
    "_graph",
    "_registrants",
    "_reloader",
    "_steps",
)
_made_by: tuple[object, ...] | None = None


def _hotmod() -> tuple[object, ...]:
    # This hotmod, down to the files of the code that makes entries: an edited or
    # upgraded hotmod never reads entries an older one wrote.
    global _made_by
    if _made_by is None:
        here = os.path.dirname(os.path.abspath(__file__))
        stats: list[tuple[int, int] | None] = []
        for name in _MAKERS:
            try:
                st = os.stat(os.path.join(here, name + ".py"))
                stats.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stats.append(None)
        version = getattr(sys.modules.get("hotmod"), "__version__", None)
        _made_by = (_FORMAT, version, MAGIC_NUMBER, tuple(stats))
    return _made_by


def _key(source: bytes, path: str, name: str, is_package: bool) -> tuple[object, ...]:
    digest = _imp.source_hash(_RAW_MAGIC, source)
    return (*_hotmod(), sys.flags.optimize, digest, path, name, is_package)


def _file(path: str) -> str | None:
    try:
        pyc = cache_from_source(path)  # honours sys.pycache_prefix and -O
    except (NotImplementedError, ValueError):
        return None  # no cache tag (an embedded interpreter) or an odd path
    return pyc[: -len(".pyc")] + _SUFFIX


def bytecode_current(source: bytes, path: str, stat: tuple[int, int] | None) -> bool:
    """Whether Python's own bytecode cache of ``path`` was made from ``source``: by its
    hash (a hash-based ``.pyc``), or by the source's mtime and size (``stat``: mtime in
    ns, size) as the import checks them *and* the file written after the source last
    changed. (An import that found it current ran that text, not the file's.)"""
    try:
        with open(cache_from_source(path), "rb") as f:
            header = f.read(16)
            written = os.fstat(f.fileno()).st_mtime_ns
    except (OSError, ValueError, NotImplementedError):
        return False
    if len(header) < 16 or header[:4] != MAGIC_NUMBER:
        return False
    flags = int.from_bytes(header[4:8], "little")
    if flags & 1:  # hash-based
        return header[8:16] == _imp.source_hash(_RAW_MAGIC, source)
    # A source saved again within the second its bytecode was written, at the same
    # size, passes the import's check, and the import runs the old code: the file
    # written strictly later tells it was not.
    if flags or stat is None or written <= stat[0]:
        return False
    mtime, size = (stat[0] // 1_000_000_000) & 0xFFFFFFFF, stat[1] & 0xFFFFFFFF
    return header[8:16] == mtime.to_bytes(4, "little") + size.to_bytes(4, "little")


def load(source: bytes, path: str, name: str, is_package: bool) -> Entry | None:
    """The entry made from exactly this source, or None."""
    file = _file(path)
    if file is None:
        return None
    try:
        with open(file, "rb") as f:
            data = f.read()
        key, payload = marshal.loads(data)
        if key != _key(source, path, name, is_package):
            return None
        entry = Entry(*payload)._replace(size=len(data))  # (marshal keeps frozensets)
        return entry if isinstance(entry.code, CodeType) else None
    except Exception:  # missing, unreadable or not an entry: as if there were none
        return None


def store(source: bytes, path: str, name: str, is_package: bool, entry: Entry) -> None:
    """Write the entry (atomically); failures are ignored: it is only a cache."""
    file = _file(path)
    if file is None or sys.dont_write_bytecode:
        return
    payload = (
        tuple(map(tuple, entry.refs)),
        frozenset(entry.registrants),
        entry.code,
        frozenset(entry.bound),
        bool(entry.dynamic),
        entry.plain,
        entry.quiet,
        entry.lines,
    )
    temp = f"{file}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        record: Any = (_key(source, path, name, is_package), payload)
        data = marshal.dumps(record)
        os.makedirs(os.path.dirname(file), exist_ok=True)
        with open(temp, "wb") as f:
            f.write(data)
        os.replace(temp, file)
    except (OSError, ValueError):  # a read-only folder, a full disk, an unmarshallable constant
        logging.getLogger("hotmod").debug("could not write %s", file, exc_info=True)
        with contextlib.suppress(OSError):
            os.remove(temp)


# Entries still waiting when the program ends are written before it does (a second
# at most): the next run's first reload reads them instead of compiling.
_EXIT_WAIT = 1.0
_workers: weakref.WeakSet[Worker] = weakref.WeakSet()


def _finish_all() -> None:
    deadline = time.monotonic() + _EXIT_WAIT
    for worker in list(_workers):
        worker.finish(max(0.0, deadline - time.monotonic()))


atexit.register(_finish_all)


def _forked(worker: weakref.ref[Worker]) -> None:
    alive = worker()
    if alive is not None:
        alive._forked()


class Worker:
    """One thread that writes entries and warms sources up, while there is work.

    Writes go first. A warm-up job takes ``lock`` (the reloader's), so it never runs
    beside a reload, and the worker then rests as long as the job took: a started
    watcher's warm-up uses at most half of one core, and none while a save is applied.
    The thread ends when it runs out of work.
    """

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self._lock = lock
        self._guard = threading.Lock()
        # Keyed by file: a newer text's entry replaces an older one not written yet.
        self._writes: dict[str, Callable[[], None]] = {}
        self._warm: deque[Callable[[], None]] = deque()
        self._thread: threading.Thread | None = None
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=functools.partial(_forked, weakref.ref(self)))
        self.idle = threading.Event()
        self.idle.set()
        _workers.add(self)

    def write(self, jobs: dict[str, Callable[[], None]]) -> None:
        """Run these jobs soon, on the worker thread, each replacing the job of the same
        key (the file whose entry it writes) still waiting: the backlog of a burst of
        reloads is one entry per file, the latest."""
        if jobs:
            with self._guard:
                for key, job in jobs.items():
                    self._writes.pop(key, None)  # (re-inserted last: the newest goes last)
                    self._writes[key] = job
                self._wake()

    def warm(self, jobs: list[Callable[[], None]]) -> None:
        """Run these jobs after every write, one at a time, under the lock."""
        if jobs:
            with self._guard:
                self._warm.extend(jobs)
                self._wake()

    def cancel_warming(self) -> None:
        """Drop the warm-up jobs not started yet."""
        with self._guard:
            self._warm.clear()

    def finish(self, timeout: float) -> None:
        """Drop the warm-ups not started and wait up to ``timeout`` seconds for the
        writes."""
        self.cancel_warming()
        self.idle.wait(timeout)

    def _wake(self) -> None:
        self.idle.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hotmod-cache", daemon=True)
            self._thread.start()

    def _forked(self) -> None:
        # In a forked child: no thread runs here, and the guard may have been held.
        self._guard = threading.Lock()
        self._thread = None
        self._writes.clear()
        self._warm.clear()
        self.idle = threading.Event()
        self.idle.set()

    def _next(self) -> tuple[Callable[[], None], bool] | None:
        with self._guard:
            if self._writes:
                return self._writes.pop(next(iter(self._writes))), False
            if self._warm:
                return self._warm.popleft(), True
            self._thread = None
            self.idle.set()
            return None

    def _run(self) -> None:
        while (job := self._next()) is not None:
            run, warming = job
            started = time.perf_counter()
            try:
                if warming and self._lock is not None:
                    with self._lock:
                        run()
                else:
                    run()
            except Exception:
                logging.getLogger("hotmod").debug("cache job failed", exc_info=True)
            if warming:
                time.sleep(time.perf_counter() - started)
