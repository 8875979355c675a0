"""When each module started importing, to tell an edit made after the import."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["ImportClock", "import_clock"]

_COARSE_CLOCK = 0.025  # seconds: a generous bound on a kernel tick (HZ=100 gives 10 ms)


class ImportClock:
    """A meta path finder that finds nothing and notes when each import started.

    A module first seen by hotmod after it was imported could have been edited in
    between; comparing its file's mtime with this time tells, so that edit is not
    mistaken for the source the module runs.
    """

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        # Called with the name of each module about to be imported (cheap callables).
        self.listeners: list[Callable[[str], None]] = []

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """Note the time; never find anything."""
        self.started[name] = time.time()
        for listener in self.listeners:
            listener(name)
        return None

    def invalidate_caches(self) -> None:
        """Nothing cached."""

    def install(self) -> None:
        """Put the clock first on ``sys.meta_path`` (once)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def edited_after_import(self, name: str, mtime: float) -> bool:
        """True when a file modified at ``mtime`` may have changed after ``name`` was imported.

        File times come from the kernel's coarse clock, a few milliseconds behind
        ``time.time()``, so a save just after the import can carry an earlier mtime.
        Erring on "edited" costs at most one reload of identical content.
        """
        started = self.started.get(name)
        return started is not None and mtime > started - _COARSE_CLOCK


import_clock = ImportClock()
