"""Framework adapters: how a framework's import-time registrations join the reload transaction.

An adapter is a subclass of `Integration` named by the top-level module of its
framework (``framework = "flask"``). hotmod activates it by itself when the program
imports that module (or at the next reload if it was imported before hotmod), then
calls its hooks during every reload::

    begin(txn)                      plan known, nothing executed yet
      before_module(txn, module)    for each module, before it is re-executed
      after_module(txn, module)     after it ran and its objects were kept
    finish(txn)                     all modules ran; raise to roll everything back
    committed(report) | rolled_back(report)

Every change an adapter makes to live objects must be undoable: it passes the undo
to `Transaction.on_rollback`. What a module registers at import time (a route, a
handler, a signal receiver) is written to the ledger with `record`: before the module
runs again, hotmod undoes what its previous version registered, so registrations never
pile up, and a rollback puts them back.

Third-party adapters register through the ``hotmod.integrations`` entry-point group;
the entry point's value is the `Integration` subclass::

    [project.entry-points."hotmod.integrations"]
    myframework = "hotmod_myframework:MyFrameworkIntegration"
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Final, NoReturn, final

from .._frameworks import BUILTIN
from .._ledger import current_module
from .._runtime import ledger
from .._typing import override

if TYPE_CHECKING:
    from .._report import ReloadReport

__all__ = [
    "NOT_HANDLED",
    "Integration",
    "RestartRequired",
    "Transaction",
    "current_module",
    "record",
    "register",
]

log = logging.getLogger("hotmod.integrations")


@final
class _NotHandled:
    @override
    def __repr__(self) -> str:
        return "NOT_HANDLED"


NOT_HANDLED: Final = _NotHandled()
"""Returned by `Integration.keep` for objects the adapter does not know."""


class RestartRequired(Exception):
    """Raised (through `Transaction.restart`) when a change cannot be applied in place.

    The reload rolls back and the module is listed in ``report.needs_restart``.

    Attributes:
        module: the module whose change needs a restart.
        reason: one line saying why, shown in the log.
    """

    def __init__(self, module: str, reason: str) -> None:
        super().__init__(f"{module}: {reason}")
        self.module = module
        self.reason = reason


class Transaction:
    """What an adapter sees of one reload (a view over hotmod's transaction)."""

    def __init__(
        self,
        modules: Sequence[str],
        changed: Sequence[str],
        old: Callable[[str], Mapping[str, Any]],
        on_rollback: Callable[[Callable[[], None]], None],
        on_commit: Callable[[Callable[[], None]], None],
        note: Callable[[str], None],
        canonical: Callable[[Any], Any],
    ) -> None:
        self.modules = tuple(modules)
        self.changed = tuple(changed)
        self._old = old
        self._on_rollback = on_rollback
        self._on_commit = on_commit
        self._note = note
        self._canonical = canonical
        self.state: dict[str, Any] = {}  # scratch space shared by the adapters

    def old_namespace(self, module: str) -> Mapping[str, Any]:
        """The namespace ``module`` had before this reload (empty if it is not in the plan)."""
        return self._old(module)

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Call ``undo()`` if the reload rolls back (undos run newest first)."""
        self._on_rollback(undo)

    def on_commit(self, action: Callable[[], None]) -> None:
        """Call ``action()`` once the reload has committed."""
        self._on_commit(action)

    def note(self, text: str) -> None:
        """Add a line to ``report.notes`` (logged at DEBUG)."""
        self._note(text)

    def canonical(self, obj: Any) -> Any:
        """The kept object that stands for ``obj`` (a new twin of a kept function or class)."""
        return self._canonical(obj)

    def restart(self, module: str, reason: str) -> NoReturn:
        """Give up: roll the reload back and report that ``module`` needs a restart."""
        raise RestartRequired(module, reason)


class Integration:
    """Base class of framework adapters; override only the hooks you need.

    Attributes:
        framework: the top-level module whose import activates the adapter.
    """

    framework: ClassVar[str] = ""

    def activate(self) -> None:
        """Called once, right after the framework is imported (install recorders here)."""

    def begin(self, txn: Transaction) -> None:
        """A reload starts: every source compiled, nothing executed yet."""

    def before_module(self, txn: Transaction, module: ModuleType) -> None:
        """``module`` is about to be re-executed."""

    def after_module(self, txn: Transaction, module: ModuleType) -> None:
        """``module`` was re-executed and its functions and classes kept."""

    def keep(self, txn: Transaction, old: object, new: object) -> object:
        """Identity for framework objects a module creates at import (an app, a router).

        Called for each name a re-executed module binds to a different object than
        before. Return the object to bind (``old`` updated from ``new``, with undo
        registered), or `NOT_HANDLED`.
        """
        return NOT_HANDLED

    def finish(self, txn: Transaction) -> None:
        """Every module ran; last chance to fail (raise) before the commit."""

    def committed(self, report: ReloadReport) -> None:
        """The reload committed."""

    def rolled_back(self, report: ReloadReport) -> None:
        """The reload failed and everything was restored."""


def record(
    undo: Callable[[], None], redo: Callable[[], None], *, module: str | None = None
) -> bool:
    """Write a registration to the ledger of the module whose top-level code is running.

    ``undo()`` takes the registration back, ``redo()`` makes it again. Before that module
    is re-executed hotmod calls ``undo``; if the reload rolls back, ``redo``. Returns
    False (and records nothing) when no module's top-level code is running.
    """
    name = module or current_module()
    if name is None:
        return False
    ledger.record(name, undo, redo)
    return True


_registered: dict[str, list[Callable[[], Integration]]] = {}
_active: list[Integration] = []
_activated: set[str] = set()
_entry_points_read = False


def register(framework: str, factory: Callable[[], Integration]) -> None:
    """Activate ``factory()`` when ``framework`` is imported (now, if it already is)."""
    _registered.setdefault(framework, []).append(factory)
    if framework in sys.modules and framework in _activated:
        _start(factory)


def triggers(*, entry_points: bool = True) -> set[str]:
    """Top-level module names whose import activates an adapter.

    ``entry_points=False`` (inside an import: reading them imports modules) gives the
    built-in ones and those already known.
    """
    if entry_points:
        _read_entry_points()
    return set(BUILTIN) | set(_registered)


def activate(framework: str) -> None:
    """Start the adapters of ``framework`` (once); called after it was imported."""
    if framework in _activated:
        return
    _activated.add(framework)
    target = BUILTIN.get(framework)
    if target is not None:
        _start(lambda: _load(target)())
    for factory in _registered.get(framework, ()):
        _start(factory)


def activate_imported() -> None:
    """Activate the adapters of frameworks imported before hotmod looked."""
    for framework in triggers():
        if framework not in _activated and framework in sys.modules:
            activate(framework)


def active() -> list[Integration]:
    """The running adapters."""
    return _active


def _start(factory: Callable[[], Integration]) -> None:
    try:
        adapter = factory()
        adapter.activate()
    except Exception:
        log.exception("hotmod integration %r failed to start; reloads go on without it", factory)
        return
    _active.append(adapter)


def _load(target: str) -> type[Integration]:
    import importlib

    module, _, attr = target.partition(":")
    cls: type[Integration] = getattr(importlib.import_module(module), attr)
    return cls


def _read_entry_points() -> None:
    global _entry_points_read
    if _entry_points_read:
        return
    metadata = sys.modules.get("importlib.metadata")
    if getattr(getattr(metadata, "__spec__", None), "_initializing", False):
        return  # called from within its own import: next time
    _entry_points_read = True
    from importlib.metadata import entry_points

    try:
        found = entry_points(group="hotmod.integrations")
    except Exception:  # broken metadata of some installed package
        log.exception("could not read the hotmod.integrations entry points")
        return
    for ep in found:
        _registered.setdefault(_framework_of(ep), []).append(_entry_factory(ep))


def _framework_of(ep: Any) -> str:
    # The entry point's name is the framework's top-level module unless the class says.
    return str(ep.name).split(".")[0]


def _entry_factory(ep: Any) -> Callable[[], Integration]:
    def factory() -> Integration:
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Integration)):
            raise TypeError(f"entry point {ep.name!r} is not an Integration subclass: {cls!r}")
        return cls()

    return factory
