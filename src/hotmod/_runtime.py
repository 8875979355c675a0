"""The one home of hotmod's process state, with a `reset` for tests.

Everything else is an instance. The hooks that the import system and the standard
library call (`import_clock`, the `ledger`) and the request gate (`safepoint`) live
for the whole process; the reloader is made on first use; watchers register here
while they run.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ._ledger import Ledger
from ._safepoint import SafePoint
from ._tracker import ImportClock

if TYPE_CHECKING:
    from ._reloader import Reloader
    from ._watcher import Watcher

__all__ = ["State", "get_reloader", "import_clock", "ledger", "reset", "safepoint", "state"]

import_clock = ImportClock()
"""Notes when each module starts importing and what the loader read (`_tracker`)."""

ledger = Ledger()
"""What each module's top-level code registered (`_ledger`)."""

safepoint = SafePoint()
"""The gate between units of work (requests) and reloads (`_safepoint`)."""


class State:
    """The reloader and the running watchers of the process."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reloader: Reloader | None = None
        self.current: Watcher | None = None  # the one `hotmod.watch()` returns
        self.watchers: list[Watcher] = []  # every started watcher, for `hotmod.apply()`


state = State()


def get_reloader() -> Reloader:
    """The process-wide reloader, created on first use."""
    with state.lock:
        if state.reloader is None:
            from ._reloader import Reloader

            state.reloader = Reloader()
        return state.reloader


def reset() -> None:
    """Stop every watcher and forget the reloader (tests; never while reloading)."""
    with state.lock:
        watchers = list(state.watchers)
    for watcher in watchers:
        watcher.stop()
    with state.lock:
        state.reloader = None
        state.current = None
        state.watchers.clear()
    safepoint.pending = None
