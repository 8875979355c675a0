"""The one home of hotmod's process state, with a `reset` for tests.

Everything else is an instance. The hooks that the import system and the standard
library call (`import_clock`, the `ledger`) and the request gate (`safepoint`) live
for the whole process; the reloader is made on first use; watchers register here
while they run.
"""

from __future__ import annotations

import gc
import sys
from _thread import RLock, allocate_lock  # threading's own, without its import

from ._frameworks import BUILTIN
from ._ledger import Ledger
from ._tracker import ImportClock

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import hotmod stays light)
if TYPE_CHECKING:
    from ._reloader import Reloader
    from ._safepoint import SafePoint
    from ._watcher import Watcher

    safepoint: SafePoint
    """The gate between units of work (requests) and reloads (`_safepoint`); made on
    first use (``from ._runtime import safepoint`` works: see `__getattr__`)."""

__all__ = ["State", "get_reloader", "import_clock", "ledger", "reset", "safepoint", "state"]

import_clock = ImportClock()
"""Notes when each module starts importing and what the loader read (`_tracker`)."""

ledger = Ledger()
"""What each module's top-level code registered (`_ledger`)."""


class State:
    """The reloader and the running watchers of the process."""

    def __init__(self) -> None:
        self.lock = RLock()
        self.reloader: Reloader | None = None
        self.current: Watcher | None = None  # the one `hotmod.watch()` returns
        self.watchers: list[Watcher] = []  # every started watcher, for `hotmod.apply()`
        self.reloads = 0  # reloads under way, in any thread, by any reloader
        self._collecting = False  # whether the collector ran when the first of them began
        self._counting = allocate_lock()

    def reload_begins(self) -> None:
        """Count a reload in (the first notes whether the garbage collector runs)."""
        with self._counting:
            if self.reloads == 0:
                self._collecting = gc.isenabled()
            self.reloads += 1

    def reload_ends(self) -> None:
        """Count a reload out; the last one resumes the collector if it ran before.

        Reloads pause the collector while module code runs. A count, not each reload's
        own note: a reload that began while another had it paused would otherwise
        leave it off for good.
        """
        with self._counting:
            self.reloads -= 1
            if self.reloads == 0 and self._collecting:
                gc.enable()


state = State()


def get_reloader() -> Reloader:
    """The process-wide reloader, created on first use."""
    with state.lock:
        if state.reloader is None:
            from ._reloader import Reloader

            state.reloader = Reloader()
        return state.reloader


def __getattr__(name: str) -> object:
    # The safe point is made on first use: its module (contextvars, logging) is not
    # needed by a program that imports hotmod and never serves requests.
    if name != "safepoint":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with state.lock:
        made = globals().get("safepoint")
        if made is None:
            from ._safepoint import SafePoint

            made = globals()["safepoint"] = SafePoint()
    return made


def is_trigger(name: str) -> bool:
    """Whether the import of top-level module ``name`` starts an adapter."""
    side_effects = sys.modules.get("hotmod._sideeffects")
    if side_effects is not None and side_effects.pending(name):
        return True  # logging or signal: their registering functions are wrapped then
    triggers = getattr(sys.modules.get("hotmod.integrations"), "triggers", None)
    if triggers is not None:
        return name in triggers(entry_points=False)
    return name in BUILTIN  # the adapters' module is not (fully) imported yet


def framework_imported(name: str) -> None:
    """Start the adapters of a framework that finished importing (the clock calls it).

    Runs inside the program's import statement: a failure is logged, never raised.
    """
    try:
        from . import _sideeffects

        if _sideeffects.pending(name):
            _sideeffects.wrap(name)
            if name not in BUILTIN:
                return
        from . import integrations

        if name in integrations.triggers(entry_points=False):
            integrations.activate(name)
    except Exception:
        import logging

        logging.getLogger("hotmod").exception("could not start hotmod's adapters for %s", name)


def install_clock() -> None:
    """Install the import clock, telling it which imports start an adapter (idempotent)."""
    import_clock.is_trigger = is_trigger
    import_clock.on_import = framework_imported
    import_clock.install()


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
    made = globals().get("safepoint")
    if made is not None:
        made.pending = None
    scans = sys.modules.get("hotmod._bigsource")
    if scans is not None:
        scans.forget_compiled()  # (the runs compiled for big sources' next versions)
