"""SQLAlchemy 2 declarative models: methods reload in place, a schema change asks for a restart.

A module of mapped classes run again would map each class a second time into the
same registry and MetaData ("Table 'user' is already defined for this MetaData
instance"). Instead, while such a module runs, its declarative bases map into a
scratch registry: the new classes' tables are compared with the mapped ones. When
they match, the mapped classes stay what SQLAlchemy knows (their table, mapper,
instrumented attributes, sessions' identity maps) and take the new methods,
properties and class attributes. When a table's columns or a class's relationships
changed, the reload rolls back and ``report.needs_restart`` names the module, with
the model and the change in the log line.

Event listeners a module's top-level code adds (``event.listen``, ``@event.listens_for``)
go to the ledger: removed before the module runs again, so a listener renamed or deleted
in the source stops being called, as after a restart.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Callable
from types import FunctionType, ModuleType
from typing import Any

from .._typing import override
from . import NOT_HANDLED, Integration, Transaction
from ._common import Entry, track_calls

__all__ = ["SQLAlchemyIntegration"]

log = logging.getLogger("hotmod.integrations")

_KEY = "sqlalchemy.swaps"  # Transaction.state: the modules of mapped classes running now
_BASE_ATTRS = ("_sa_registry", "registry", "metadata")


class SQLAlchemyIntegration(Integration):
    """Keeps mapped classes mapped once, in their registry and MetaData."""

    framework = "sqlalchemy"

    @override
    def activate(self) -> None:
        """Record the event listeners modules' top-level code adds."""
        from sqlalchemy import event
        from sqlalchemy.event import api

        track_calls(api, "listen", _listener)
        event.listen = api.listen  # (``listens_for`` calls it in `api`)

    @override
    def before_module(self, txn: Transaction, module: ModuleType) -> None:
        """Point the declarative bases at a scratch registry while the module runs."""
        if "sqlalchemy.orm" not in sys.modules:
            return
        old = txn.old_namespace(module.__name__)
        mapped = _mapped_classes(old, module.__name__)
        bases = _declarative_bases(mapped, old, module.__name__)
        if mapped or bases:
            txn.state.setdefault(_KEY, {})[module.__name__] = _Swap(txn, mapped, bases)

    @override
    def keep(self, txn: Transaction, old: object, new: object) -> object:
        """A declarative base defined again keeps its registry and MetaData."""
        orm = sys.modules.get("sqlalchemy.orm")
        if orm is None or type(old) is not type(new):
            return NOT_HANDLED
        from sqlalchemy import MetaData

        if isinstance(old, (orm.registry, MetaData)) and _SWAPPING:
            return old
        return NOT_HANDLED

    @override
    def after_module(self, txn: Transaction, module: ModuleType) -> None:
        """Compare the new tables with the mapped ones; keep the mapped classes."""
        swap = txn.state.get(_KEY, {}).pop(module.__name__, None)
        if swap is not None:
            swap.finish(txn, module)


def _listener(
    listen: Any, result: None, target: Any, identifier: str, fn: Any, *args: Any, **kw: Any
) -> Entry:
    return (
        functools.partial(_unlisten, target, identifier, fn),
        functools.partial(listen, target, identifier, fn, *args, **kw),
    )


def _unlisten(target: Any, identifier: str, fn: Callable[..., Any]) -> None:
    from sqlalchemy import event

    if event.contains(target, identifier, fn):  # (the program may have removed it)
        # (a failed run's listener: the rollback took it out of its list already, and
        # SQLAlchemy forgets it before it finds it missing there)
        with contextlib.suppress(ValueError):
            event.remove(target, identifier, fn)


_SWAPPING: list[object] = []  # swaps in progress (the keep hook acts only during one)


def _sa_internal(value: Any) -> bool:
    """True for what mapping put on a class: instrumented attributes, manager, table, mapper."""
    from sqlalchemy import Table
    from sqlalchemy.orm import Mapper, QueryableAttribute
    from sqlalchemy.orm.instrumentation import ClassManager

    if isinstance(value, FunctionType):
        return hasattr(value, "_sa_original_init")  # the instrumented __init__
    return isinstance(value, (QueryableAttribute, ClassManager, Table, Mapper))


def _mapped_classes(namespace: Any, module: str) -> list[type]:
    return [
        value
        for value in namespace.values()
        if isinstance(value, type)
        and value.__module__ == module
        and "__mapper__" in value.__dict__
        and "_sa_class_manager" in value.__dict__
    ]


def _declarative_bases(mapped: list[type], namespace: Any, module: str) -> list[type]:
    found: dict[int, type] = {}
    for cls in mapped:
        for base in cls.__mro__:
            if "_sa_registry" in base.__dict__:
                found.setdefault(id(base), base)
                break
    for value in namespace.values():
        if (
            isinstance(value, type)
            and value.__module__ == module
            and "_sa_registry" in value.__dict__
        ):
            found.setdefault(id(value), value)
    return list(found.values())


class _Swap:
    """One module of mapped classes while it runs again."""

    def __init__(self, txn: Transaction, mapped: list[type], bases: list[type]) -> None:
        from sqlalchemy import MetaData
        from sqlalchemy.orm import registry

        self.mapped = mapped
        self.saved = {
            id(c): {k: v for k, v in c.__dict__.items() if _sa_internal(v)} for c in mapped
        }
        self.base_attrs = {
            id(b): {k: b.__dict__[k] for k in _BASE_ATTRS if k in b.__dict__} for b in bases
        }
        self.bases = bases
        self.scratch: list[Any] = []
        for base in bases:
            old_registry = base.__dict__.get("_sa_registry")
            if old_registry is None:
                continue
            metadata = old_registry.metadata
            scratch = registry(
                metadata=MetaData(
                    schema=metadata.schema, naming_convention=metadata.naming_convention
                ),
                type_annotation_map=old_registry.type_annotation_map,
            )
            self.scratch.append(scratch)
            values = {"_sa_registry": scratch, "registry": scratch, "metadata": scratch.metadata}
            for key in self.base_attrs[id(base)]:
                type.__setattr__(base, key, values[key])
        _SWAPPING.append(self)
        # Undone newest first: after the classes' own patches are undone, the bases.
        txn.on_rollback(self._end)

    def finish(self, txn: Transaction, module: ModuleType) -> None:
        twins = {
            m.class_.__qualname__: m.class_ for scratch in self.scratch for m in scratch.mappers
        }
        ns = module.__dict__
        for cls in self.mapped:
            where = f"{module.__name__}.{cls.__qualname__}"
            twin = twins.pop(cls.__qualname__, None)
            if ns.get(cls.__name__) is None:
                self._restart(txn, module, f"{where}: mapped class removed")
            if ns.get(cls.__name__) is not cls:
                self._restart(txn, module, f"{where}: the class cannot be updated in place")
            if twin is None:
                self._restart(txn, module, f"{where}: no longer mapped")
            reason = _mapping_change(self.saved[id(cls)], twin)
            if reason is not None:
                self._restart(txn, module, f"{where}: {reason}")
        for name in twins:
            self._restart(txn, module, f"{module.__name__}.{name}: new mapped class")
        for cls in self.mapped:
            _restore(cls, self.saved[id(cls)])
        self._end()

    def _restart(self, txn: Transaction, module: ModuleType, reason: str) -> None:
        txn.restart(module.__name__, reason)

    def _end(self) -> None:
        for base in self.bases:
            for key, value in self.base_attrs[id(base)].items():
                type.__setattr__(base, key, value)
        for scratch in self.scratch:
            with contextlib.suppress(Exception):  # only the new twins are mapped there
                scratch.dispose()
        self.scratch = []
        if self in _SWAPPING:
            _SWAPPING.remove(self)


def _restore(cls: type, saved: dict[str, Any]) -> None:
    # The mapped class keeps what SQLAlchemy knows of it; the twin's mapping goes.
    for key in [k for k, v in cls.__dict__.items() if _sa_internal(v) and k not in saved]:
        type.__delattr__(cls, key)
    for key, value in saved.items():
        if cls.__dict__.get(key) is not value:
            type.__setattr__(cls, key, value)


def _mapping_change(saved: dict[str, Any], twin: type) -> str | None:
    """Why the twin's table or relationships differ from the mapped class's, or None."""
    old_table, new_table = saved.get("__table__"), twin.__dict__.get("__table__")
    if old_table is not None and new_table is not None:
        if (old_table.schema, old_table.name) != (new_table.schema, new_table.name):
            return f"table changed ({old_table.name} -> {new_table.name})"
        before, after = _columns(old_table), _columns(new_table)
        if before != after:
            parts = [
                f"{label} {', '.join(names)}"
                for label, names in (
                    ("added", [n for n in after if n not in before]),
                    ("removed", [n for n in before if n not in after]),
                    ("changed", [n for n in after if n in before and after[n] != before[n]]),
                )
                if names
            ]
            return f"columns changed ({'; '.join(parts)})"
    old_mapper, new_mapper = saved.get("__mapper__"), twin.__dict__.get("__mapper__")
    if old_mapper is not None and new_mapper is not None:
        before_props = _relationships(old_mapper)
        after_props = _relationships(new_mapper)
        if before_props != after_props:
            names = sorted(set(before_props) ^ set(after_props)) or sorted(after_props)
            return f"relationships changed ({', '.join(names)})"
    return None


def _columns(table: Any) -> dict[str, tuple[Any, ...]]:
    def default(column: Any) -> Any:
        value = getattr(column.default, "arg", None)
        return "callable" if callable(value) else repr(value)

    return {
        column.name: (
            repr(column.type),
            column.primary_key,
            column.nullable,
            column.unique,
            column.index,
            tuple(sorted(fk.target_fullname for fk in column.foreign_keys)),
            default(column),
            repr(getattr(column.server_default, "arg", None)),
        )
        for column in table.columns
    }


def _relationships(mapper: Any) -> dict[str, tuple[Any, ...]]:
    from sqlalchemy.orm import RelationshipProperty

    found = {}
    for key, prop in mapper._props.items():
        if isinstance(prop, RelationshipProperty):
            target = getattr(prop, "argument", None)
            name = getattr(target, "__name__", None) or str(target)
            secondary = getattr(prop, "secondary", None)
            found[key] = (name, getattr(prop, "back_populates", None), secondary is not None)
    return found
