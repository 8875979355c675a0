"""The ledger: what each module's top-level code registered, so a reload can take it back.

A registration is a pair of callables: ``undo`` takes it back, ``redo`` makes it again.
Before a module is re-executed, the registrations of its previous version are undone;
the new version makes its own. If the reload rolls back, the new ones are undone and
the old ones redone. Registrations made outside a reload go straight to the ledger.
"""

from __future__ import annotations

import functools
import sys
from _thread import allocate_lock, get_ident  # threading's own primitives, without its import

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import hotmod stays light)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["Ledger", "current_module"]


class Entry:
    """One registration: how to take it back and how to make it again."""

    __slots__ = ("definition", "redo", "undo")

    def __init__(
        self, undo: Callable[[], None], redo: Callable[[], None], definition: bool = False
    ) -> None:
        self.undo = undo
        self.redo = redo
        self.definition = definition  # made while a def or class statement ran (its decorators)


def current_module() -> str | None:
    """The module whose top-level code is running in this thread (importing or reloading)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            name = frame.f_globals.get("__name__")
            return name if isinstance(name, str) else None
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _in_definition() -> bool:
    """True when the top-level code running is a ``def``/``class`` statement or its
    decorators (the line it is at reads ``@...``, ``def``, ``async def`` or ``class``)."""
    import linecache

    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_name != "<module>":
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None or frame.f_lineno is None:
        return False
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).lstrip()
    return line.startswith(("@", "def ", "async def ", "class "))


class Ledger:
    """Registrations per module, with the transaction's pending changes."""

    def __init__(self) -> None:
        self._lock = allocate_lock()
        self._entries: dict[str, list[Entry]] = {}
        self._txn_thread: int | None = None
        self._new: list[tuple[str, Entry]] = []
        self._retracted: dict[str, list[Entry]] = {}

    def record(self, module: str, undo: Callable[[], None], redo: Callable[[], None]) -> None:
        """Note a registration made by ``module``'s top-level code.

        The running script's top-level statements never run again (its loop may make
        the same call a million times): only what its definitions make is noted.
        """
        entry = Entry(undo, redo, _in_definition())
        if module == "__main__" and not entry.definition:
            return
        with self._lock:
            if self._txn_thread == get_ident():
                self._new.append((module, entry))
            else:
                self._entries.setdefault(module, []).append(entry)

    def holds(self, module: str) -> bool:
        """Whether ``module`` holds registrations now."""
        return module in self._entries

    def entries(self, module: str) -> list[Entry]:
        """The registrations ``module`` holds now (a copy)."""
        with self._lock:
            return list(self._entries.get(module, ()))

    # -- the transaction ----------------------------------------------------------------

    def begin(self) -> None:
        """A reload starts in this thread: its registrations are pending until commit."""
        with self._lock:
            self._txn_thread = get_ident()
            self._new = []
            self._retracted = {}

    def retract(self, module: str, *, definitions_only: bool = False) -> None:
        """Undo what the running version of ``module`` registered (it runs again next).

        With ``definitions_only`` (the running script, whose top-level statements do
        not run again), only what its ``def`` and ``class`` statements registered.
        """
        if module not in self._entries:
            return  # (most modules register nothing: no lock taken for them)
        with self._lock:
            kept = self._entries.pop(module, None)
            if not kept:
                return
            entries = [e for e in kept if e.definition or not definitions_only]
            kept = [e for e in kept if e not in entries]
            if kept:
                self._entries[module] = kept
            self._retracted.setdefault(module, []).extend(entries)
        for entry in reversed(entries):
            _call(entry.undo, module)

    def commit(self) -> None:
        """Keep the new registrations; forget the retracted ones."""
        with self._lock:
            for module, entry in self._new:
                self._entries.setdefault(module, []).append(entry)
            self._end()

    def rollback(self) -> None:
        """Undo the new registrations and redo the retracted ones."""
        with self._lock:
            new, retracted = self._new, self._retracted
            self._end()
        for module, entry in reversed(new):
            _call(entry.undo, module)
        for module, entries in retracted.items():
            for entry in entries:
                _call(entry.redo, module)
            with self._lock:
                self._entries[module] = entries + self._entries.get(module, [])

    def _end(self) -> None:
        self._txn_thread = None
        self._new = []
        self._retracted = {}

    def holders(self) -> list[Any]:
        """What holds the objects the registrations' undo and redo actions refer to,
        each once: a partial's arguments and keywords, a closure's cells."""
        with self._lock:
            entries = [e for kept in self._entries.values() for e in kept]
            entries += [e for _, e in self._new]
            entries += [e for taken in self._retracted.values() for e in taken]
        held: dict[int, Any] = {}
        for entry in entries:
            for action in (entry.undo, entry.redo):
                if isinstance(action, functools.partial):
                    held[id(action.args)] = action.args
                    held[id(action.keywords)] = action.keywords
                for cell in getattr(action, "__closure__", None) or ():
                    held[id(cell)] = cell
        return list(held.values())

    def forget(self, module: str) -> None:
        """Drop the entries of a module that left the program (without undoing them)."""
        with self._lock:
            self._entries.pop(module, None)


def _call(action: Callable[[], None], module: str) -> None:
    try:
        action()
    except Exception:
        import logging

        logging.getLogger("hotmod.ledger").exception(
            "could not take back or redo a registration of %s", module
        )
