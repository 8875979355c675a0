"""pluggy: what a module adds to a plugin manager made elsewhere is taken back before it
runs again.

A module's top-level ``pm.register(plugin)`` (an instance of one of its classes, the
module itself, a plugin it loads) and ``pm.add_hookspecs(Spec)`` go to the ledger.
Before the module runs again its plugins are unregistered and its hook specifications
taken off, so the new run registers its plugins once and adds its specifications again:
pluggy refuses a plugin name or a hook specification it holds already, and an unnamed
instance would be one more plugin per reload. A plugin the run registers again takes its
previous version's places in the call order of each hook (pluggy calls the latest
registered first: a reloaded plugin would go first, and win a ``firstresult`` hook). A
rollback takes out what the failed run added and puts the previous plugins back, in
their places, and their specifications.
"""

from __future__ import annotations

import functools
import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .._typing import override
from . import Integration, Transaction
from ._common import Entry, registering_module, track_calls

if TYPE_CHECKING:
    from .._report import ReloadReport

__all__ = ["PluggyIntegration"]


class PluggyIntegration(Integration):
    """Plugins and hook specifications added by modules' top-level code go to the ledger."""

    framework = "pluggy"

    @override
    def activate(self) -> None:
        """Record ``PluginManager.register`` and ``add_hookspecs`` calls made at module
        level."""
        import pluggy

        track_calls(pluggy.PluginManager, "register", _plugin)
        track_calls(pluggy.PluginManager, "add_hookspecs", _specs)

    @override
    def finish(self, txn: Transaction) -> None:
        """Forget the places of plugins taken back that no run registered again."""
        _forget_vacated()

    @override
    def rolled_back(self, report: ReloadReport) -> None:
        """As `finish`, after a rollback."""
        _forget_vacated()


# Where a hook implementation was: its hook's caller, its index in the call order, and
# its kind (a place is taken again only by an implementation of the same kind).
_Place = tuple[Any, int, tuple[Any, ...]]
# Each manager's plugins taken back in this reload, by module, with their places (an
# attribute of the manager: it goes with it).
_VACATED = "_hotmod_vacated"
_managers: weakref.WeakSet[Any] = weakref.WeakSet()


def _plugin(
    register: Any, registered: str | None, manager: Any, plugin: Any, name: str | None = None
) -> Entry | None:
    module = registering_module(manager)
    if registered is None or module is None:  # (None: pluggy's answer for a blocked plugin)
        return None
    vacated = manager.__dict__.get(_VACATED, {}).get(module)
    if vacated:
        _take_place(plugin, vacated)
    places: list[_Place] = []  # (filled when it is taken back)
    return (
        functools.partial(_unregister, manager, plugin, module, places),
        functools.partial(_register_again, register, manager, plugin, name, places),
    )


def _specs(add_hookspecs: Any, result: None, manager: Any, module_or_class: Any) -> Entry:
    return (
        functools.partial(_remove_specs, manager, module_or_class),
        functools.partial(add_hookspecs, manager, module_or_class),
    )


def _kind(impl: Any) -> tuple[Any, ...]:
    return tuple(getattr(impl, flag, None) for flag in _FLAGS)


_FLAGS = ("hookwrapper", "wrapper", "tryfirst", "trylast")


def _callers(manager: Any) -> list[Any]:
    # (the list of implementations in call order is pluggy's own: left alone when absent)
    callers = vars(manager.hook).values()
    return [c for c in callers if isinstance(getattr(c, "_hookimpls", None), list)]


def _unregister(manager: Any, plugin: Any, module: str, places: list[_Place]) -> None:
    if not manager.is_registered(plugin):
        return
    places[:] = [
        (caller, i, _kind(impl))
        for caller in _callers(manager)
        for i, impl in enumerate(caller._hookimpls)
        if impl.plugin is plugin
    ]
    manager.unregister(plugin)
    manager.__dict__.setdefault(_VACATED, {}).setdefault(module, []).append((plugin, places))
    _managers.add(manager)


def _register_again(
    register: Any, manager: Any, plugin: Any, name: str | None, places: list[_Place]
) -> None:
    register(manager, plugin, name)
    _put_back(plugin, places)


def _take_place(plugin: Any, vacated: list[tuple[Any, list[_Place]]]) -> None:
    """A plugin registered again (the same object, or an instance of the same class:
    kept across reloads) takes the places of the one taken back."""
    for i, (old, places) in enumerate(vacated):
        if old is plugin or (type(old) is type(plugin) and not isinstance(plugin, ModuleType)):
            del vacated[i]
            _put_back(plugin, places)
            return


def _put_back(plugin: Any, places: list[_Place]) -> None:
    """Move ``plugin``'s implementations to the ``places`` of the plugin it replaces,
    where the implementation is of the same kind."""
    for caller, index, kind in places:
        impls = caller._hookimpls
        mine = [i for i, impl in enumerate(impls) if impl.plugin is plugin]
        if len(mine) == 1 and _kind(impls[mine[0]]) == kind:
            impls.insert(min(index, len(impls) - 1), impls.pop(mine[0]))


def _forget_vacated() -> None:
    for manager in list(_managers):
        manager.__dict__.pop(_VACATED, None)
    _managers.clear()


def _remove_specs(manager: Any, namespace: Any) -> None:
    """Take off the hook specifications ``namespace`` gave (the hooks stay, with their
    implementations: a plugin may implement a hook before its specification is added)."""
    for caller in list(vars(manager.hook).values()):
        spec = getattr(caller, "spec", None)
        if spec is not None and spec.namespace is namespace:
            caller.spec = None
            if hasattr(caller, "_call_history"):
                caller._call_history = None  # (a historic hook's calls: a fresh start has none)
