"""What a module's globals reach in two steps: where programs keep their registries.

A registry is a container bound to a module global (``HANDLERS = []``), an attribute
of an object or class bound to one (``app.view_functions``, ``Plugins.found``) or, for
a decorator made by a factory, a variable of a function's closure. Both the registry
bookkeeping (`_registry`) and the stale-code audit (`_audit`) look there, before any
walk of the whole heap.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from types import FunctionType, ModuleType
from typing import Any

__all__ = [
    "REGISTRY_MAX",
    "referents",
    "attributes",
    "instances_of",
    "places",
    "reach",
    "referrers",
    "without_instances",
]

# Containers longer than this are a program's data, not a registry: what looks in the
# places for registered objects leaves them unread (testing one against a set of ids, in
# C, takes about a millisecond for this many). A kept list of two million objects must
# not make the first reload of a module beside it take seconds.
REGISTRY_MAX = 65536

# Above this many objects, one pass over the heap with a set of them finds what refers
# to them sooner than `gc.get_referrers`, which compares each reference it meets with
# every object in turn (measured beside 600,000 objects: 17 ms for one object, 56 ms for
# 100, 374 ms for 1,000; 183 ms for the pass, however many).
_MANY = 400

# What holds no registry and has no attributes that could (types by id: a metaclass with
# __eq__ and no __hash__ makes its classes unhashable).
_LEAVES = frozenset(map(id, (ModuleType, int, float, complex, str, bytes, bool, type(None))))


def places(
    module: str, namespace: Mapping[str, Any], *, closures: bool = False
) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    """``(owner, key, mapping)``: ``namespace`` itself (owner ``module``), then the
    attributes of the classes and objects bound in it (owner: their qualified name) and,
    with ``closures``, each closure cell of its functions as ``{variable: value}``.

    ``key`` names what a mapping reads: the same object reached twice (two globals bound
    to one app, two functions sharing a cell) has the same key. Globals named ``__x``
    are not followed: a module's own machinery (``__builtins__``) holds no registry.
    """
    yield module, id(namespace), namespace
    for name, value in list(namespace.items()):
        if name.startswith("__"):
            continue
        kind = type(value)
        if kind is FunctionType:
            if closures:
                yield from _cells(value)
        elif id(kind) not in _LEAVES:
            found = attributes(value)
            if found is not None:
                owner, state = found
                # (a class's mappingproxy is made anew on each access: the class is the key)
                yield owner, id(value) if issubclass(kind, type) else id(state), state


def reach(
    module: str, namespace: Mapping[str, Any], *, closures: bool = False
) -> Iterator[tuple[str, str, Any]]:
    """``(owner, name, value)`` for every entry of the `places` of ``namespace``, names
    starting with ``__`` left out."""
    for owner, _, state in places(module, namespace, closures=closures):
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


def _cells(function: FunctionType) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    cells = function.__closure__ or ()
    for name, cell in zip(function.__code__.co_freevars, cells, strict=False):
        try:
            yield function.__qualname__, id(cell), {name: cell.cell_contents}
        except ValueError:  # not filled in yet
            continue


def without_instances(refs: list[Any], classes: Sequence[type]) -> list[Any]:
    """``refs`` that are no direct instance of one of ``classes``.

    A class may have millions of instances among the referrers the garbage collector
    gives: a comprehension over them is quicker than C loops of ``map`` and ``compress``
    (15 to 45 ms against 90 ms for a million).
    """
    if len(classes) == 1:
        cls = classes[0]
        return [r for r in refs if type(r) is not cls]
    ids = {id(c) for c in classes}  # (by id: a metaclass may have __eq__ and no __hash__)
    return [r for r in refs if id(type(r)) not in ids]


def instances_of(refs: list[Any], classes: Sequence[type]) -> list[Any]:
    """``refs`` that are direct instances of one of ``classes`` (`without_instances`'s
    other part)."""
    if len(classes) == 1:
        cls = classes[0]
        return [r for r in refs if type(r) is cls]
    ids = {id(c) for c in classes}
    return [r for r in refs if id(type(r)) in ids]


def referents(*objects: Any) -> list[Any]:
    """`gc.get_referents`, but a module refers to its namespace only.

    An extension module's state may list memory already freed: asyncio's free list of
    future iterators, on CPython before 3.12.5 and 3.13.0 (gh-122695). A reference to
    one, once dropped, frees it twice, and the collector later loops forever.
    """
    found: list[Any] = []
    plain = []
    for obj in objects:
        if issubclass(type(obj), ModuleType):
            found.append(obj.__dict__)
        else:
            plain.append(obj)
    return found + gc.get_referents(*plain) if plain else found


def referrers(objects: Sequence[Any]) -> list[Any]:
    """The objects referring to any of ``objects`` (`gc.get_referrers`), in a time that
    does not grow with how many they are."""
    if len(objects) <= _MANY:
        return gc.get_referrers(*objects)
    wanted = set(map(id, objects))
    found: list[Any] = []
    get_referents = gc.get_referents
    for owner in gc.get_objects():
        # (a module is passed over: its namespace is an object of its own, and its
        # state may hold freed memory, see `referents`)
        held = get_referents(owner) if type(owner) is not ModuleType else (owner.__dict__,)
        for item in held:
            if id(item) in wanted:
                found.append(owner)
                break
    return found
