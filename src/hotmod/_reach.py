"""What a module's globals reach in two steps: where programs keep their registries.

A registry is a container bound to a module global (``HANDLERS = []``), an attribute
of an object or class bound to one (``app.view_functions``, ``Plugins.found``) or, for
a decorator made by a factory, a variable of a function's closure. Both the registry
bookkeeping (`_registry`) and the stale-code audit (`_audit`) look there, before any
walk of the whole heap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import FunctionType, ModuleType
from typing import Any

__all__ = ["attributes", "reach"]

# What holds no registry and has no attributes that could.
_LEAVES = frozenset({ModuleType, int, float, complex, str, bytes, bool, type(None)})


def reach(
    module: str, namespace: Mapping[str, Any], *, closures: bool = False
) -> Iterator[tuple[str, str, Any]]:
    """``(owner, name, value)``: the globals of ``namespace`` (owner ``module``), then the
    attributes of the classes and objects bound there (owner: their qualified name) and,
    with ``closures``, the closure variables of its functions (owner: the function).

    Names starting with ``__`` are skipped: a module's and a class's own machinery
    (``__builtins__``, ``__dict__``) holds no registry.
    """
    second: list[tuple[str, Mapping[str, Any]]] = []
    for name, value in list(namespace.items()):
        if name.startswith("__"):
            continue
        yield module, name, value
        kind = type(value)
        if kind is FunctionType:
            if closures and value.__closure__:
                second.append((value.__qualname__, _closure(value)))
        elif kind not in _LEAVES:
            found = attributes(value)
            if found is not None:
                second.append(found)
    for owner, state in second:
        for name, value in list(state.items()):
            if not name.startswith("__"):
                yield owner, name, value


def attributes(value: Any) -> tuple[str, Mapping[str, Any]] | None:
    """(owner's name, attributes) of a class or of an object with a ``__dict__``."""
    kind = type(value)
    if issubclass(kind, type):
        return value.__qualname__, vars(value)
    try:  # not getattr(): a proxy may raise on any attribute (werkzeug's request)
        state = object.__getattribute__(value, "__dict__")
    except Exception:
        return None
    return (kind.__qualname__, state) if type(state) is dict else None


def _closure(function: FunctionType) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, cell in zip(function.__code__.co_freevars, function.__closure__ or (), strict=False):
        try:
            values[name] = cell.cell_contents
        except ValueError:  # not filled in yet
            continue
    return values
