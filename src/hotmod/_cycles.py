"""Re-running an import cycle as a fresh import would.

In a fresh import, a cycle member that imports a member not yet started runs that one
to completion first, and the rest run in the order they started. `Cycles` takes the
members not yet re-executed out of ``sys.modules`` (and their packages' attributes),
so such an import reaches a finder that re-executes the member into its existing
module object at that point; the rest run in start order. It also remembers how to
put ``sys.modules`` back, order included (the next reload's cycle order reads it).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, Protocol

__all__ = ["Cycles"]


class Member(Protocol):
    """What the runner needs of a planned module."""

    @property
    def name(self) -> str: ...

    @property
    def definitions_only(self) -> bool: ...


class Cycles:
    """Runs the cycles of one transaction; undoes what it did to ``sys.modules``."""

    def __init__(self, modules: Mapping[str, ModuleType], specs: Mapping[str, Any]) -> None:
        self._modules = modules  # the module objects of the plan
        self._specs = specs  # their __spec__ before the reload
        self._thread = threading.get_ident()
        self._displaced: dict[str, ModuleType] = {}
        self._parent_attrs: list[tuple[ModuleType, str, ModuleType]] = []
        self._order_before: list[str] = []
        self._moved: dict[str, None] = {}  # members run, moved to the end of sys.modules

    def run(
        self,
        members: Sequence[Member],
        run: Callable[[Any], None],
        imported: Callable[[Any], None] | None = None,
    ) -> None:
        """Execute one cycle group, as a fresh import would order it.

        ``run(member)`` executes a member in start order; ``imported(member)`` (default
        ``run``) one that another member's import reached first.
        """
        pending = {m.name: m for m in members if not m.definitions_only}
        if not self._order_before:
            self._order_before = list(sys.modules)
        for name in pending:
            self._displace(name)
        finder = _PendingFinder(pending, self, imported or run)
        sys.meta_path.insert(0, finder)
        try:
            for member in members:
                if member.name not in pending and member.definitions_only:
                    run(member)
                elif pending.pop(member.name, None) is not None:
                    self._put_back(member.name)
                    run(member)
                    # Finished last, as an import would record it.
                    if member.name in sys.modules:
                        sys.modules[member.name] = sys.modules.pop(member.name)
                        self._moved[member.name] = None
            if finder.error is not None:
                raise finder.error  # raised by a member imported from a caught import
        finally:
            sys.meta_path.remove(finder)
        for name in self._displaced:
            sys.modules.setdefault(name, self._modules[name])
        self._displaced.clear()
        for parent, child, value in self._parent_attrs:
            if child not in parent.__dict__:
                setattr(parent, child, value)
        self._parent_attrs.clear()

    def finish_order(self, before: Sequence[str]) -> list[str] | None:
        """Once the cycles ran: the modules in the order a fresh import finishes them,
        ``before`` being that order before the transaction (None if no member moved).

        A member run goes to the end of ``sys.modules``, after modules a fresh import
        finishes later (those imported after the cycle's first member): here the
        members take the places members had in ``before``, in the order they finished
        now. Modules new since go last."""
        moved = self._moved
        if not moved:
            return None
        modules = list(sys.modules)  # (a snapshot: other threads import meanwhile)
        live = set(modules)
        order = [name for name in before if name in live]
        places = [i for i, name in enumerate(order) if name in moved]
        now = [name for name in modules if name in moved]
        if len(places) != len(now):
            return None
        for place, name in zip(places, now, strict=True):
            order[place] = name
        known = set(before)
        order.extend(name for name in modules if name not in known)
        return order

    def rollback(self) -> None:
        """Put displaced members, package attributes and the ``sys.modules`` order back."""
        for name, displaced in self._displaced.items():
            sys.modules[name] = displaced
        if self._order_before:
            for name in self._order_before:
                if name in sys.modules:
                    sys.modules[name] = sys.modules.pop(name)
        for package, attr, value in self._parent_attrs:
            setattr(package, attr, value)

    def _displace(self, name: str) -> None:
        if name not in sys.modules:
            return
        module = self._displaced[name] = sys.modules.pop(name)
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name) or self._modules.get(parent_name)
        if parent is not None and parent.__dict__.get(child) is module:
            delattr(parent, child)
            self._parent_attrs.append((parent, child, module))

    def _put_back(self, name: str) -> None:
        # A member run in start order (not imported by another): back in, as an import
        # would put it, before its code runs.
        module = self._modules[name]
        sys.modules[name] = module
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name)
        if parent is not None and child not in parent.__dict__:
            setattr(parent, child, module)


class _PendingFinder:
    """Finds the cycle members not yet re-executed; loading one re-executes it in place."""

    def __init__(
        self, pending: dict[str, Member], cycles: Cycles, run: Callable[[Any], None]
    ) -> None:
        self.pending = pending
        self.cycles = cycles
        self.run = run
        self.error: BaseException | None = None

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name not in self.pending:
            return None
        module = self.cycles._modules[name]
        origin = getattr(module.__spec__, "origin", None)
        loader: Any = self
        return ModuleSpec(name, loader, origin=origin, is_package=hasattr(module, "__path__"))

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return self.cycles._modules[spec.name]

    def exec_module(self, module: ModuleType) -> None:
        name = next(n for n, m in self.cycles._modules.items() if m is module)
        module.__spec__ = self.cycles._specs.get(name)  # the import set ours
        if threading.get_ident() != self.cycles._thread:
            # Another thread imports a member mid-reload: it gets the module object as
            # it is (as with importlib.reload); the reload runs it in its own order.
            return
        member = self.pending.pop(name)
        try:
            self.run(member)
        except BaseException as exc:
            self.error = self.error or exc
            raise

    def invalidate_caches(self) -> None:
        """Nothing cached."""
