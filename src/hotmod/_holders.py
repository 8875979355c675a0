"""Where a module's registered objects are held: the containers its top-level code put
them into (`Registries` asks once per module).

Looked for near the module first (`near_containers`: its namespaces, old and live, what
they reach, the modules it imports); else the garbage collector is asked who holds the
objects (`find_containers`). Either way, a list can also hold them wrapped in objects
of its own (a route, a ``(priority, handler)`` pair, a ``partial``).
"""

from __future__ import annotations

import functools
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from types import CellType, FunctionType, MappingProxyType, MethodType, ModuleType
from typing import Any

from ._audit import own_references
from ._containers import SAVED_TYPES, Container, Found, ListLike
from ._missing import MISSING
from ._patch import is_class, is_proxy
from ._reach import (
    REGISTRY_MAX,
    instances_of,
    places,
    reach,
    referents,
    referrers,
    without_instances,
)
from ._registrants import DEFINED, MADE, global_of

__all__ = [
    "Tallies",
    "count_held",
    "defined_in",
    "dispatch_caches",
    "earlier_twins",
    "find_containers",
    "holds_any",
    "near_containers",
    "near_namespaces",
    "nested_containers",
    "reachable_containers",
    "registered_objects",
    "unheld",
    "unknown_dispatch_registry",
    "wrapped_names",
    "wraps_any",
]


def _made(value: Any) -> bool:
    """A function made by a factory while the module ran (a closure it may register)."""
    return type(value) is FunctionType and "<locals>" in value.__qualname__


def _owned(value: Any, owner: str, defined: bool) -> list[Any]:
    # The object bound to a name and the definitions inside it (a decorator's function).
    # What a def or class statement bound is the module's own, even an instance a
    # class-based decorator made; a name merely passed to a call must be defined here.
    found: list[Any] = []
    todo = [value]
    while todo and len(found) < 8:
        item = todo.pop()
        # (a lazy proxy, werkzeug's request: any attribute evaluates it, and may raise)
        proxy = is_proxy(item)
        try:
            own = (defined and item is value) or (
                not proxy and getattr(item, "__module__", None) == owner
            )
            if not own or any(item is f for f in found):
                continue
            found.append(item)
            if proxy:
                continue
            for attr in ("__wrapped__", "__func__"):
                inner = getattr(item, attr, None) if callable(item) or attr == "__func__" else None
                if inner is not None:
                    todo.append(inner)
        except Exception:
            continue
    return found


def earlier_twins(
    container: Container,
    was: list[int] | None,
    ids: set[int],
    module: str,
    defined: set[str],
    stopped: set[str],
) -> set[int]:
    """Entries a list held before the run that are the module's earlier objects of a name
    it defines again (several definitions of one name, each registered: only the last is
    bound, and so known), if the run registered the module's objects there again (a kept
    one, or a new twin); and those of the names it ``stopped`` registering there.

    By ids, not positions: the modules settled before this one took their previous
    entries out of a list they share. Not in a list longer than a registry (a program's
    data: each entry would be read in Python).
    """
    if (
        not (defined or stopped)
        or was is None
        or type(container) is not list
        or len(container) > REGISTRY_MAX
    ):
        return set()
    before = set(was)
    entries = list(container)
    held = list(map(id, entries))
    pairs = [(i, e) for i, e in zip(held, entries, strict=True) if i not in ids]
    names = {module: stopped}
    if sum(map(ids.__contains__, held)) > sum(map(ids.__contains__, was)) or any(
        i not in before and defined_in(e, {module: defined}) for i, e in pairs
    ):
        names = {module: defined | stopped}
    return {i for i, e in pairs if i in before and defined_in(e, names)}


def defined_in(entry: Any, names: Mapping[str, Set[str]]) -> bool:
    """Whether ``entry`` is a function or class whose module's ``names`` hold its name."""
    try:
        return isinstance(entry, (FunctionType, type)) and entry.__qualname__ in names.get(
            entry.__module__, ()
        )
    except Exception:  # (an object whose attributes raise: not one of these)
        return False


def registered_objects(
    names: frozenset[str], dropped: frozenset[str], old: Mapping[str, Any], module: str
) -> tuple[list[Any], set[int], dict[str, list[int]]]:
    """The objects the module's registrant ``names`` bind in ``old``; the ids of those
    bound by ``dropped`` names; the names found, each with the ids of its objects (ids
    only: a list of ours holding them would be taken for a registry)."""
    objects: list[Any] = []
    gone: set[int] = set()
    present: dict[str, list[int]] = {}
    for name in names:
        key = global_of(name)
        if key in old:
            if name.startswith(MADE):
                if not _made(old[key]):
                    continue
                owned = [old[key]]  # (its own module is the factory's)
            else:
                owned = _owned(old[key], module, name.startswith(DEFINED))
            present[name] = [*map(id, owned)]
            objects.extend(owned)
            if name in dropped:
                gone.update(id(o) for o in owned)
            del owned  # a list of ours must not be found holding them
    return objects, gone, present


def unheld(
    owned: Mapping[str, list[int]], containers: list[Any], tallies: Tallies | None
) -> set[str]:
    """Those of the names in ``owned`` (each with the ids of its objects) whose objects
    none of ``containers`` holds (one longer than a registry, not read, counts as
    holding them all). ``tallies``: where the long lists and dicts near were found to
    hold what, in this transaction."""
    if any(len(c) > REGISTRY_MAX for c in containers):
        return set()
    names = list(owned)
    index = {oid: i for i, name in enumerate(names) for oid in owned[name]}
    found: set[int] = set()
    for container in containers:
        if tallies is not None and type(container) in (list, dict) and len(container) >= _TALLY_MIN:
            found.update(tallies.hits(container, index))
            continue
        found.update(_hits(index, _held_ids(container)))
    return {name for i, name in enumerate(names) if i not in found}


def _held_ids(place: Any) -> list[int]:
    """The ids of what a container refers to: a dict's keys and values, a cell's
    contents (none if empty), a sequence's or a set's entries."""
    if issubclass(type(place), (dict, MappingProxyType)):
        return [*map(id, place.keys()), *map(id, place.values())]
    if type(place) is CellType:
        return [*map(id, referents(place))]
    return [*map(id, place)]


def _hits(index: Mapping[int, int], ids: Iterable[int]) -> list[int]:
    """The indexes of those of ``ids`` in ``index`` (in C)."""
    return list(map(index.__getitem__, filter(index.__contains__, ids)))


def near_namespaces(
    module: str, old: Mapping[str, Any], imported: Iterable[ModuleType]
) -> list[Mapping[str, Any]]:
    """Where a module's registries usually are: its namespaces, old and live, and those
    of the modules it imports."""
    live = sys.modules.get(module)
    return [old, *([vars(live)] if live is not None else []), *map(vars, imported)]


def reachable_containers(modules: Iterable[ModuleType]) -> set[int]:
    """Containers within two steps of these namespaces (attributes, class and closure)."""
    return {
        id(value)
        for module in modules
        for _, _, value in reach("", vars(module), closures=True)
        # not isinstance(): a proxy would resolve its __class__, and may raise doing so
        if issubclass(type(value), (list, set, dict, deque))
    }


def nested_containers(modules: Iterable[ModuleType], wanted: Set[int]) -> set[int]:
    """Those of the containers ``wanted`` (by id) that a dict within two steps of these
    namespaces holds as a value: a list of handlers under each event's name
    (``EVENTS.setdefault("tick", []).append(f)``). A dict longer than a registry is
    not read."""
    found: set[int] = set()
    for module in modules:
        for _, _, value in reach("", vars(module), closures=True):
            # (a defaultdict too; its own methods: a subclass may change values())
            if issubclass(type(value), dict) and len(value) <= REGISTRY_MAX:
                found.update(i for i in map(id, dict.values(value)) if i in wanted)
    return found


def dispatch_caches(
    namespaces: Iterable[Mapping[str, Any]], containers: set[int]
) -> dict[int, Callable[[], None]]:
    """``id(registry) -> clear its dispatch cache`` for the `functools.singledispatch`
    functions bound in ``namespaces`` whose registry is one of ``containers``."""
    return {id(r): clear for r, clear in _dispatchers(namespaces) if id(r) in containers}


def unknown_dispatch_registry(
    namespaces: Iterable[Mapping[str, Any]], ids: set[int], known: set[int]
) -> bool:
    """Whether a `functools.singledispatch` function bound in ``namespaces`` has a
    registry holding one of ``ids`` that is none of ``known``: the function was made
    again (its module ran again), and what the module registered with it went there."""
    return any(id(r) not in known and holds_any(r, ids) for r, _ in _dispatchers(namespaces))


def _dispatchers(
    namespaces: Iterable[Mapping[str, Any]],
) -> Iterator[tuple[dict[Any, Any], Callable[[], None]]]:
    """(registry, clear its dispatch cache) of each `functools.singledispatch` function
    bound in ``namespaces``: its registry is the dict behind its ``registry`` proxy."""
    for namespace in namespaces:
        for value in list(namespace.values()):
            if type(value) is not FunctionType:
                continue
            proxy, clear = value.__dict__.get("registry"), value.__dict__.get("_clear_cache")
            if type(proxy) is MappingProxyType and callable(clear):
                registry = referents(proxy)
                if registry and type(registry[0]) is dict:
                    yield registry[0], clear


def holds_any(container: Container, ids: set[int]) -> bool:
    """Whether a container holds one of ``ids`` (a dict: as a value)."""
    values = container.values() if isinstance(container, dict) else container
    return not ids.isdisjoint(map(id, values))  # (in C: a shared registry is read by each)


def count_held(held: Iterable[int], ids: set[int]) -> dict[int, int]:
    """How many times each of ``ids`` is among the ``held`` ids of a list's entries."""
    return dict(Counter(filter(ids.__contains__, held)))


_TALLY_MIN = 64  # entries: a shorter list or dict is read whole, as it is cheap
_IDENTITY_EQ = object.__eq__  # (functions' and most classes' equality: identity)


class Tallies:
    """Where each object is in the long lists and dicts the near looks of one
    transaction read, by id: a registry N plugins share was read whole by each.

    A list is read once and then only where it grew; a dict once. What a tally says is
    checked at its place before it counts (no reference is ever counted that is not
    there); a reference it misses (an entry moved, a key added after the dict was
    read) makes the totals fall short, and the look walks the heap, as for any
    reference it cannot see.
    """

    def __init__(self) -> None:
        # id of the container -> (its length read, keys read, id -> places)
        self._read: dict[int, tuple[int, list[Any], dict[int, list[int]]]] = {}

    def hits(self, container: list[Any] | dict[Any, Any], index: Mapping[int, int]) -> list[int]:
        """The ``index`` values (object id -> its index) of the objects the container
        holds, once per place (a dict: as a key or as a value)."""
        size, keys, where = self._read.get(id(container), (0, [], {}))
        found: list[int] = []
        if type(container) is list:
            if size > len(container) or size == 0:
                size, where = 0, {}
            for place, item in enumerate(container[size:], size):
                where.setdefault(id(item), []).append(place)
            self._read[id(container)] = (len(container), keys, where)
            for oid, i in index.items():
                for p in where.get(oid, ()):
                    if p < len(container) and id(container[p]) == oid:
                        found.append(i)
            return found
        assert type(container) is dict
        if size == 0:
            keys, where = list(container), {}
            for place, (key, value) in enumerate(container.items()):
                where.setdefault(id(key), []).append(-1 - place)  # (a key: below zero)
                where.setdefault(id(value), []).append(place)
            self._read[id(container)] = (len(container), keys, where)
        for oid, i in index.items():
            for p in where.get(oid, ()):
                if p >= 0:
                    held = container.get(keys[p], MISSING)
                else:  # (a key found equal may be another object: counted if by identity)
                    key = keys[-1 - p]
                    by_identity = getattr(type(key), "__eq__", None) is _IDENTITY_EQ
                    held = key if by_identity and key in container else MISSING
                if id(held) == oid:
                    found.append(i)
        return found


def near_containers(
    objects: list[Any],
    namespaces: list[Mapping[str, Any]],
    adapted: frozenset[str],
    recorded: Sequence[Any] = (),
    counted: Sequence[tuple[int, Mapping[int, int]]] = (),
    tallies: Tallies | None = None,
) -> Found | None:
    """The registries holding ``objects``, when every reference to each of them is
    found within two steps of ``namespaces`` (their values, the containers and the
    attributes of what they bind, closures), in ``recorded`` (tuples, dicts and cells:
    what the ledger's records hold) or in ``counted`` (places of ours, by id, counted
    already: how many times each holds each id): then no walk of the heap is needed.
    None when some reference comes from elsewhere. ``tallies``: where the long lists
    and dicts near were found to hold what, earlier in the transaction."""
    # Taken before and after the count: another thread dropping a reference the count
    # has read, while a holder it cannot see exists, would make the totals agree after.
    before = _refcounts(objects)
    counts, holding, wrapping = _count_near(
        objects, namespaces, adapted, recorded, counted, tallies
    )
    after = _refcounts(objects)
    # Beside the places counted (``objects`` among them): getrefcount's argument.
    if after != before or any(
        n - 1 != c + _self_references(o) for n, c, o in zip(after, counts, objects, strict=True)
    ):
        return None
    # (all namespaces gathered only when one may be among them: once per module of a
    # first reload of N modules, it was N times N)
    maybe = any(type(c) is dict and "__name__" in c for c in holding)
    modules = _module_dicts() if maybe else set()
    return [c for c in holding if id(c) not in modules and not _not_a_registry(c)], wrapping


def _self_references(obj: Any) -> int:
    """The references a class has from its own parts (its ``__mro__``, descriptors,
    ``super()`` cells) and from its subclasses (their bases and ``__mro__``): none of
    them a registry. Without them, every module defining a subclass walked the heap."""
    if not is_class(obj):  # (by its type: a lazy proxy is not evaluated)
        return 0
    count = own_references(obj)[id(obj)]
    for sub in type.__subclasses__(obj):  # type: ignore[var-annotated]
        parts = (*referents(sub), *sub.__bases__, *sub.__mro__[1:])
        count += sum(part is obj for part in parts)
    return count


def _refcounts(objects: list[Any]) -> list[int]:
    # (objects[i] goes to getrefcount directly: its argument is the one extra reference)
    return [sys.getrefcount(objects[i]) for i in range(len(objects))]


# Wrappers written in C that hold the function they call in a field of their own, out
# of sight of its attributes: `gc.get_referents` reads it (and their ``__dict__`` as one
# object, never its values, so nothing is counted twice).
_C_WRAPPERS = (functools.partial, staticmethod, classmethod, type(functools.lru_cache(id)))


# What most values of a namespace are, holding no registry (types by id, tested first: a
# metaclass with __eq__ and no __hash__ makes its classes unhashable).
_NOT_HOLDING = frozenset(map(id, (FunctionType, type, int, str, float, bool, bytes, type(None))))


def _count_near(
    objects: list[Any],
    namespaces: list[Mapping[str, Any]],
    adapted: frozenset[str],
    recorded: Sequence[Any] = (),
    counted: Sequence[tuple[int, Mapping[int, int]]] = (),
    tallies: Tallies | None = None,
) -> tuple[list[int], list[Container], list[ListLike]]:
    """References to each of ``objects`` from the places near ``namespaces``, each place
    read once; the containers among them that hold one; the lists among them holding
    one wrapped in an entry."""
    near = _Near(objects, adapted, tallies)
    for key, held in counted:
        near.seen.add(key)
        for n, obj in enumerate(objects):
            near.counts[n] += held.get(id(obj), 0)
    near.read(objects, id(objects))
    for held in recorded:
        near.read(held, id(held))
    for obj in objects:
        if type(obj) is FunctionType:
            # Its attributes: a wrapper's ``__wrapped__`` (``functools.wraps``) refers
            # to the function it wraps, one of these objects too.
            for state in referents(obj):
                if type(state) is dict and state is not obj.__globals__:
                    near.read(state, id(state))
    for namespace in namespaces:
        for _, key, state in places("", namespace, closures=True):
            near.read(state, key)
            near.values(state)
    return near.counts, near.holding, near.wrapping


class _Near:
    """The count `_count_near` makes: references to each object by index, the places
    read (by id), and the containers found holding or wrapping one."""

    def __init__(
        self, objects: list[Any], adapted: frozenset[str], tallies: Tallies | None
    ) -> None:
        self.index = {id(o): i for i, o in enumerate(objects)}  # (ids only: no references)
        self.counts = [0] * len(objects)
        self.seen: set[int] = set()
        self.holding: list[Container] = []
        self.wrapping: list[ListLike] = []
        self._adapted = adapted
        self._tallies = tallies
        self._wrappers: set[int] = set()

    def read(self, place: Any, key: int) -> bool:
        """Count what ``place`` refers to (once per ``key``); whether it holds one."""
        if key in self.seen:
            return False
        self.seen.add(key)
        ids = _held_ids(place)
        index = self.index
        if index.keys().isdisjoint(ids):  # (most places: in C)
            return False
        hits = _hits(index, ids)
        self._add(hits)
        return bool(hits)

    def values(self, state: Mapping[str, Any]) -> None:
        """Count the containers and C wrappers among the values of a place."""
        for value in list(state.values()):
            kind = type(value)
            if id(kind) in _NOT_HOLDING:
                continue
            if issubclass(kind, (list, tuple, set, frozenset, dict, deque)):
                self._container(value)
            elif kind in _C_WRAPPERS and id(value) not in self._wrappers:
                self._wrappers.add(id(value))
                # the function it calls (its __dict__ is a place)
                self._add(
                    [i for i in map(self.index.get, map(id, referents(value))) if i is not None]
                )

    def _add(self, hits: Iterable[int]) -> None:
        counts = self.counts
        for i in hits:
            counts[i] += 1

    def _container(self, value: Any) -> None:
        if id(value) in self.seen or len(value) > REGISTRY_MAX:
            return  # (read before: from the old namespace and the live one)
        tallies = self._tallies
        if tallies is not None and type(value) in (list, dict) and len(value) >= _TALLY_MIN:
            self.seen.add(id(value))
            hits = tallies.hits(value, self.index)
            self._add(hits)
            holds = bool(hits)
        else:
            holds = self.read(value, id(value))
        if holds and issubclass(type(value), (list, set, dict, deque)):
            self.holding.append(value)
        elif issubclass(type(value), (list, deque)) and _wraps_any(
            value, self.index, self._adapted
        ):
            self.wrapping.append(value)


def _module_dicts() -> set[int]:
    # A module's namespace holds its definitions, never registrations of them.
    return {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}


def _not_a_registry(container: Any) -> bool:
    """A wrapper function's attributes, or a namespace: the globals of code, a copy of a
    module's (attrs copies it into the globals of the methods it writes)."""
    return isinstance(container, dict) and (
        "__wrapped__" in container or "__builtins__" in container
    )


# The most instances of a class taken for its registrations (more are data).
_INSTANCES_MAX = 1000


def find_containers(
    objects: list[Any],
    internal: set[int],
    adapted: frozenset[str],
    instances: Sequence[type] = (),
) -> Found:
    """The containers holding ``objects`` (but ``internal`` ones, by id), and the lists
    holding them wrapped, as the garbage collector finds them: a walk of the heap.
    ``instances``: classes among them whose instances are registered as they are
    (``PLUGINS.append(Greeter())``): entries wrapping them, if they are few."""
    internal = internal | _module_dicts()
    internal.add(id(objects))
    found: list[Container] = []
    wrappers: list[Any] = []  # entries that wrap one of ``objects``
    ids = {id(o) for o in objects}
    internal |= ids  # (a decorator's wrapper holding the function is no registration)
    # A class's instances refer to it (their type), and a program may hold millions; its
    # own __mro__ tuple refers to it too.
    classes = [o for o in objects if is_class(o)]
    internal.update([id(classes), *(id(c.__mro__) for c in classes)])
    refs = referrers(objects)
    made = instances_of(refs, instances) if instances else []
    refs = without_instances(refs, classes)
    internal.add(id(refs))  # (it holds them while the lists holding wrappers are sought)
    for ref in refs:
        if id(ref) in internal or type(ref) in SAVED_TYPES:
            continue
        if not isinstance(ref, (list, set, dict, deque)):
            # (3.11+: an object with inline attributes refers to them itself)
            if any(id(v) in ids for v in _inner(ref, adapted)):
                wrappers.append(ref)
            continue
        if _not_a_registry(ref):
            continue
        found.append(ref)
    found, owners = _without_instance_dicts(found)
    wrappers += [o for o in owners if any(id(v) in ids for v in _inner(o, adapted))]
    if len(made) <= _INSTANCES_MAX:  # (more are the program's data)
        wrappers += made
    internal |= {id(found), id(wrappers), id(owners)}
    wrappers += _holding_calls(wrappers, internal, adapted)
    return found, _lists_holding(wrappers, internal)


def _holding_calls(wrappers: list[Any], internal: set[int], adapted: frozenset[str]) -> list[Any]:
    """The objects holding one of the partials and bound methods among ``wrappers`` (a
    scheduler's job holding ``partial(tick)``): entries wrapping what those call (one
    more walk of the heap, only when there is one)."""
    calls = [w for w in wrappers if type(w) is functools.partial or type(w) is MethodType]
    if not calls:
        return []
    internal = internal | {id(calls)}
    refs = [r for r in referrers(calls) if id(r) not in internal]
    internal.add(id(refs))
    _, owners = _without_instance_dicts([r for r in refs if type(r) is dict])
    plain = (list, set, dict, deque, tuple, frozenset, ModuleType, type, FunctionType)
    holders = [r for r in refs if not isinstance(r, plain) and type(r) not in SAVED_TYPES]
    ids = set(map(id, calls))
    return [o for o in [*holders, *owners] if any(id(v) in ids for v in _inner(o, adapted))]


def _without_instance_dicts(found: list[Container]) -> tuple[list[Container], list[Any]]:
    # An object's own __dict__ (materialised on Python 3.10, or by __dict__ access) holds
    # attributes, not registrations; keeping it would keep a dropped object alive. The
    # objects themselves are returned: a list may hold them as wrapped registrations.
    dicts = [c for c in found if isinstance(c, dict)]
    if not dicts:
        return found, []
    owned: set[int] = set()
    owners: list[Any] = []
    for owner in referrers(dicts):
        if isinstance(owner, (dict, list, tuple, set, ModuleType, type)) or owner is found:
            continue
        state = getattr(owner, "__dict__", None)
        if isinstance(state, dict):
            owned.add(id(state))
            owners.append(owner)
    return [c for c in found if id(c) not in owned], owners


def _lists_holding(entries: list[Any], internal: set[int]) -> list[ListLike]:
    """The lists and deques holding any of ``entries`` (one more walk of the heap)."""
    if not entries:
        return []
    internal = internal | {id(entries)}
    return [
        ref
        for ref in referrers(entries)
        if id(ref) not in internal
        and isinstance(ref, (list, deque))
        and type(ref) not in SAVED_TYPES
    ]


# Entries that are data, never a wrapped registration (checked first: lists can be long).
_DATA = frozenset(map(id, (int, float, complex, str, bytes, bool, type(None), dict, list, set)))


def _wraps_any(container: ListLike, index: Mapping[int, int], adapted: frozenset[str]) -> bool:
    """Whether an entry of ``container`` wraps one of the objects ``index`` counts."""
    # Per type (by id: a metaclass may make its classes unhashable): can its objects
    # wrap anything?
    able: dict[int, bool] = {}
    for item in list(container):
        kind = type(item)
        if id(kind) not in able:
            able[id(kind)] = id(kind) not in _DATA and (
                kind in (tuple, functools.partial, MethodType) or kind.__dictoffset__ != 0
            )
        if not able[id(kind)]:
            continue
        inner = item if kind is tuple else _inner(item, adapted)
        if not index.keys().isdisjoint(map(id, inner)):
            return True
    return False


def _inner(entry: Any, adapted: frozenset[str] = frozenset()) -> list[Any]:
    """What a registration entry wraps: an object's attributes, a tuple's items, a
    partial's function, a bound method's function ([] for anything else, and for the
    objects of the ``adapted`` packages)."""
    kind = type(entry)
    try:
        if kind.__module__.partition(".")[0] in adapted:
            return []
        if kind is tuple:
            return list(entry)
        if kind is functools.partial:
            return [entry.func]
        if kind is MethodType:
            return [entry.__func__]
        if issubclass(kind, (type, ModuleType, FunctionType, list, dict, set, deque)):
            return []
        state = getattr(entry, "__dict__", None)  # a proxy may raise
        return list(state.values()) if type(state) is dict else []
    except Exception:
        return []


def _wrapped(entry: Any, adapted: frozenset[str] = frozenset()) -> Iterator[Any]:
    """What a registration entry wraps (`_inner`), a partial's or bound method's
    function in place of it."""
    for value in _inner(entry, adapted):
        if type(value) is functools.partial or type(value) is MethodType:
            value = _inner(value)[0]
        yield value


def wraps_any(entry: Any, ids: Set[int]) -> bool:
    """Whether a registration entry wraps one of the objects ``ids`` (an instance: its
    class too)."""
    return id(type(entry)) in ids or any(id(value) in ids for value in _wrapped(entry))


def wrapped_names(
    entry: Any, module: str, adapted: frozenset[str], classes: Set[str] = frozenset()
) -> frozenset[str]:
    """The qualified names of ``module``'s functions and classes ``entry`` wraps; with
    its own class's if that is one of ``classes`` (qualified names of the module's
    classes whose instances it registers)."""
    names = frozenset(
        value.__qualname__
        for value in _wrapped(entry, adapted)
        if isinstance(value, (FunctionType, type)) and value.__module__ == module
    )
    if classes:
        kind = type(entry)
        if kind.__qualname__ in classes and kind.__module__ == module:
            return names | {kind.__qualname__}
    return names
