"""What the import system did: when each module started importing, and what it read.

Two small hooks, installed once at ``import hotmod``:

- a meta path finder that finds nothing and notes when each import starts (and tells
  the integrations when a framework finished importing);
- a wrapper of the source loader's ``path_stats``/``get_data`` that notes the size, mtime
  and hash of each source file as it is imported, so that a file written just before
  its import is known to be what the module runs (no spurious reload of it); and of its
  ``source_to_code``, keeping the code compiled from a big user source until the
  reloader first reads that source (compiling a few megabytes again costs seconds).
"""

from __future__ import annotations

import os
import sys
import time
from _frozen_importlib_external import SourceFileLoader  # importlib.machinery's, unimported
from _thread import _local

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import hotmod stays light)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import CodeType, ModuleType
    from typing import Any

__all__ = ["BIG", "ImportClock"]

BIG = 128_000  # bytes: a source this big is read off its bytecode (`_bigsource`)

_COARSE_CLOCK = 0.025  # seconds: a generous bound on a kernel tick (HZ=100 gives 10 ms)


class ImportClock:
    """A meta path finder that finds nothing and notes when each import started.

    A module first seen by hotmod after it was imported could have been edited in
    between; what the loader read tells, and failing that the file's mtime against
    the import's start.
    """

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.count = 0  # imports started so far
        self._local = _local()  # .finding: asking the adapters (no re-entry)
        # Called with the name of each module about to be imported (cheap callables).
        self.listeners: list[Callable[[str], None]] = []
        # Called with a top-level module's name once it finished importing, for the
        # names ``is_trigger`` accepts (both set by `_runtime`).
        self.on_import: Callable[[str], None] | None = None
        self.is_trigger: Callable[[str], bool] = lambda name: False
        self.read: dict[str, int] = {}  # source path -> hash of the bytes the loader read
        self.stats: dict[str, tuple[float, int]] = {}  # source path -> (mtime, size) seen
        # The text of user modules as imported, until the reloader first looks at them.
        self.sources: dict[str, bytes] = {}
        # The code the import compiled from such a text, if it is big (same keys).
        self.codes: dict[str, CodeType] = {}

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """Note the time; never find anything."""
        self.count += 1
        self.started[name] = time.time()
        for listener in self.listeners:
            listener(name)
        if self.on_import is not None and "." not in name:
            return self._watch_top_level(name, path, target)
        return None

    def _watch_top_level(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> ModuleSpec | None:
        # Find the spec the rest of sys.meta_path would, and hear when it has run.
        if getattr(self._local, "finding", False):
            return None  # a nested import
        self._local.finding = True
        try:
            if not self.is_trigger(name):
                return None
        finally:
            self._local.finding = False
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Announcing(spec.loader, self)  # type: ignore[assignment]
                return spec
        return None

    def invalidate_caches(self) -> None:
        """Nothing cached."""

    def install(self) -> None:
        """Put the clock first on ``sys.meta_path`` and note source reads (once)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)
        _wrap_source_loader(self)

    def edited_after_import(self, name: str, path: str, digest: int | None = None) -> bool:
        """True when the file may hold other text than what ``name`` ran.

        Known exactly when the loader read the source (its hash) or validated a cached
        bytecode against the file's mtime and size. Otherwise file times come from the
        kernel's coarse clock, a few milliseconds behind ``time.time()``, so a save just
        after the import can carry an earlier mtime: erring on "edited" costs at most
        one reload of identical content.
        """
        if digest is not None and self.read.get(path) == digest:
            return False
        try:
            st = os.stat(path)
        except OSError:
            return True
        seen = self.stats.get(path)
        if seen is not None:
            return seen != (st.st_mtime, st.st_size)
        started = self.started.get(name)
        return started is not None and st.st_mtime > started - _COARSE_CLOCK


class _Announcing:
    """A loader proxy that tells the clock when the module it loads has run."""

    def __init__(self, loader: Any, clock: ImportClock) -> None:
        self._loader = loader
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        spec = module.__spec__
        if spec is not None:
            spec.loader = self._loader
        module.__loader__ = self._loader
        self._loader.exec_module(module)
        callback = self._clock.on_import
        if callback is not None:
            callback(module.__name__)


def _wrap_source_loader(clock: ImportClock) -> None:
    if getattr(SourceFileLoader, "_hotmod_clock", None) is clock:
        return
    get_data, path_stats = SourceFileLoader.get_data, SourceFileLoader.path_stats
    source_to_code = SourceFileLoader.source_to_code

    def noted_get_data(self: Any, path: str) -> bytes:
        data = get_data(self, path)
        if path.endswith(".py"):
            real = os.path.realpath(path)
            clock.read[real] = hash(data)
            # (hotmod's own modules are read while _modmap may still be importing)
            excluded_reason = getattr(sys.modules.get("hotmod._modmap"), "excluded_reason", None)
            if excluded_reason is not None and excluded_reason(real) is None:
                clock.sources[real] = data
        return data

    def noted_path_stats(self: Any, path: str) -> Any:
        stats = path_stats(self, path)
        clock.stats[os.path.realpath(path)] = (stats["mtime"], stats["size"])
        return stats

    def kept_source_to_code(self: Any, data: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        code = source_to_code(self, data, path, *args, **kwargs)
        if len(data) > BIG and isinstance(path, str):
            real = os.path.realpath(path)
            if clock.sources.get(real) is data:  # a user module's text, as read
                clock.codes[real] = code
        return code

    SourceFileLoader.source_to_code = kept_source_to_code  # type: ignore[method-assign]
    SourceFileLoader.get_data = noted_get_data  # type: ignore[method-assign]
    SourceFileLoader.path_stats = noted_path_stats  # type: ignore[method-assign]
    SourceFileLoader._hotmod_clock = clock  # type: ignore[attr-defined]
