"""Registries outside a module: containers its top-level code put its objects into.

Definition-time identity (`_define`) makes a re-executed ``@register`` hand the kept
function to the registry again. A dict or set registry then holds it once, as before; a
list registry would hold it twice, and a class registered by ``__init_subclass__`` or a
metaclass arrives as the new twin of the kept class. This stage finds those containers
(once per module, by asking the garbage collector who holds the module's registered
objects), counts the module's entries before it runs, and afterwards puts kept objects
in place of twins and removes the entries the previous version made.

A list can also hold the module's functions wrapped in objects of their own
(``ROUTES.append(Route("/", home))``, ``(priority, handler)`` tuples, a ``partial``):
where the module ran again and made new such entries, each takes the place of the
previous version's entry wrapping the same definitions, and the previous ones go.
"""

from __future__ import annotations

import ast
import functools
import itertools
import sys
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import CellType, FunctionType, MappingProxyType, MethodType, ModuleType
from typing import Any

from ._audit import own_references
from ._missing import MISSING
from ._patch import Patcher
from ._reach import REGISTRY_MAX, places, reach, referents, referrers, without_instances

__all__ = ["DEFINED", "MADE", "Registries", "Shared", "registrants"]

_Container = list[Any] | set[Any] | dict[Any, Any] | deque[Any]
_Sequence = list[Any] | deque[Any]
_Found = tuple[list[_Container], list[_Sequence]]  # registries, lists of wrapped entries
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def registrants(tree: ast.Module) -> frozenset[str]:
    """Top-level names whose objects the module may register somewhere else.

    Decorated functions and classes, classes with bases or a metaclass (their base's
    ``__init_subclass__`` or metaclass may register them), names passed to calls made
    by top-level statements (``registry.append(handler)``), and names bound to what a
    call returned (``hello = make_handler("hi")``: a factory may register what it made).
    """
    names: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, _DEFS):
            if node.decorator_list or (
                isinstance(node, ast.ClassDef) and (node.bases or node.keywords)
            ):
                names.add(DEFINED + node.name)
        elif isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)) and isinstance(
            node.value, ast.Call
        ):  # register(f), x = app.add(f) (a data literal is never walked)
            targets = (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            )
            names.update(MADE + t.id for t in targets if isinstance(t, ast.Name))
            for call in _outside_lambdas(node.value):
                if isinstance(call, ast.Call):
                    args = [*call.args, *(k.value for k in call.keywords)]
                    names.update(
                        n.id for a in args for n in _outside_lambdas(a) if isinstance(n, ast.Name)
                    )
    return frozenset(names)


def _outside_lambdas(node: ast.AST) -> Iterable[ast.AST]:
    """`ast.walk`, leaving out lambda bodies: ``keep("t", lambda: [Cell(i) ...])`` runs
    ``Cell`` later and registers the lambda (no name of the module) at most."""
    todo = [node]
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))


def _top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(node, field, []))


DEFINED = "def:"  # marks the registrant names bound by a def or class statement
MADE = "made:"  # marks names bound to what a top-level call returned


def _key(name: str) -> str:
    """The module global a registrant name is about."""
    return name.split(":", 1)[1] if name.startswith((DEFINED, MADE)) else name


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
        try:  # a proxy (werkzeug's request) may raise on any attribute
            own = (defined and item is value) or getattr(item, "__module__", None) == owner
            if not own or any(item is f for f in found):
                continue
            found.append(item)
            for attr in ("__wrapped__", "__func__"):
                inner = getattr(item, attr, None) if callable(item) or attr == "__func__" else None
                if inner is not None:
                    todo.append(inner)
        except Exception:
            continue
    return found


class Registries:
    """Containers holding each module's registered objects, found once per module."""

    def __init__(
        self,
        adapted: Callable[[], Iterable[str]] = frozenset,
        recorded: Callable[[], list[Any]] = list,
    ) -> None:
        # Top-level packages whose own objects an adapter keeps current (routes of a
        # framework): never taken for wrapped registrations here.
        self._adapted = adapted
        # What the ledger's records of registrations hold (`Ledger.holders`): counted
        # as places near every module.
        self._recorded = recorded
        self._known: dict[str, tuple[frozenset[str], _Found]] = {}
        # How many of the lists in `_known` hold each container, by id: one modules
        # reloaded together share is held by each of their lists.
        self._listed: Counter[int] = Counter()
        self._running: dict[str, frozenset[str]] = {}  # registrants of the running version
        # The copies `held` made, alive while a rollback may need them (by id, weakly).
        self._copies: dict[int, weakref.ref[Any]] = {}
        # The containers each module's namespace bound when they were found, by id.
        self._own: dict[str, set[int]] = {}
        # The copy `held` made of each container in the running transaction, by id.
        self._held: dict[int, weakref.ref[Any]] = {}
        # What `take_back` takes out of dict registries before each module runs.
        self._taking: dict[str, list[_Taken]] = {}

    def forget(self, module: str) -> None:
        """Drop what is known of a module."""
        self._remember(module, None)
        self._own.pop(module, None)
        self._running.pop(module, None)

    def committed(self, module: str, names: frozenset[str]) -> None:
        """The module now runs a source with these registrants."""
        self._running[module] = names

    def prune(self) -> bool:
        """Forget containers nothing but this cache holds any more (a framework's
        previous state): keeping them would keep old objects reachable. True if any."""
        pruned = False
        for module, (seen, (containers, wrapping)) in list(self._known.items()):
            alive, alive_wrapping = self._alive(containers), self._alive(wrapping)
            if len(alive) != len(containers) or len(alive_wrapping) != len(wrapping):
                self._remember(module, (seen, (alive, alive_wrapping)))
                pruned = True
        return pruned

    def _remember(self, module: str, known: tuple[frozenset[str], _Found] | None) -> None:
        before = self._known.pop(module, None)
        if before is not None:
            self._listed.subtract(map(id, (*before[1][0], *before[1][1])))
        if known is not None:
            self._known[module] = known
            self._listed.update(map(id, (*known[1][0], *known[1][1])))

    def _alive(self, containers: list[Any]) -> list[Any]:
        """The containers something but our records holds."""
        # References: each list of ours holding it, the loop variable, the argument.
        listed = self._listed
        return [c for c in containers if sys.getrefcount(c) > 2 + listed[id(c)]]

    def held(self, module: str) -> Callable[[], None] | None:
        """How to put the module's registries back as they are now (a rollback undoes
        what the module's run added), or None when it has none."""
        known = self._known.get(module)
        if known is None:
            return None
        _, (containers, wrapping) = known
        # (once per transaction: a registry many modules share is put back as it was
        # before the first of them ran; a copy per module made copies of N entries N
        # times, each read by the next modules' near look)
        held = self._held
        saved = [
            (c, self._copy(c))
            for c in (*containers, *wrapping)
            if id(c) not in held or held[id(c)]() is None
        ]
        for container, copy in saved:
            held[id(container)] = weakref.ref(copy)
        if not saved:
            return None

        def restore() -> None:
            for container, items in saved:
                if isinstance(container, (list, deque)):
                    _replace(container, list(items))
                else:
                    _refill(container, items)  # type: ignore[arg-type]

        return restore

    def _copy(self, container: _Container) -> _Container:
        # Of a type of our own: never taken for a registry by the next module's look,
        # and read as a known place by its near look (each copy holds every entry, of
        # every module: taken for registries, the copies of copies doubled per module).
        copy: _Container = _SAVED[_base(container)](container)
        key = id(copy)

        def gone(_: weakref.ref[Any]) -> None:
            self._copies.pop(key, None)

        self._copies[key] = weakref.ref(copy, gone)
        return copy

    def _places(self) -> list[Any]:
        copies = [ref() for ref in list(self._copies.values())]
        return [*self._recorded(), *(c for c in copies if c is not None)]

    def tracks(self, module: str, names: frozenset[str]) -> bool:
        """Whether `before` has anything to count: the module's new source registers
        ``names``, or its running version registered some."""
        return bool(names) or bool(self._running.get(module))

    def before(
        self,
        module: str,
        names: frozenset[str],
        old: Mapping[str, Any],
        internal: Callable[[], set[int]],
        imported: Callable[[], Iterable[ModuleType]],
        importers: Callable[[], Iterable[Mapping[str, Any]]],
        shared: dict[int, Shared] | None = None,
    ) -> Callable[[Patcher, list[Callable[[], None]]], None] | None:
        """Count the module's entries in its registries before it runs again.

        ``imported``: the modules it imports (where its registries usually are);
        ``importers``: the namespaces of those importing it, live and as they were before
        this reload (``from mod import f`` holds its objects too). ``shared``: the
        transaction's records of the registries its modules share (`Shared`).

        Returns the step to run once the whole plan has executed (twins replaced,
        entries of the previous version removed), or None when the module registers
        nothing.
        """
        # A name the running version registered and the new one no longer does: its
        # entries go, unless the new code registers it after all.
        dropped = self._running.get(module, frozenset()) - names
        objects, gone, present = _registered(names | dropped, dropped, old, module)
        if not objects:
            return None
        ids = {id(o) for o in objects}
        adapted = frozenset(self._adapted())
        containers, wrapping = self._holders(
            module,
            objects,
            ids,
            present,
            adapted,
            near=lambda: [*_near(module, old, imported()), *importers()],
            internal=internal,
            old=old,
        )
        if not containers and not wrapping:
            return None
        # (counted from the ids when a module settles on its own: rarely)
        counts = [list(map(id, c)) if isinstance(c, (list, deque)) else None for c in containers]
        # (a list as it was, by ids: what the run appends to it is what it registers there)
        previous = counts
        # The previous version's wrapped entries (held: their ids must stay theirs).
        # (a list longer than a registry is read only if the run appended to it: its
        # first entries are then those it had)
        earlier = [
            [e for e in c if _wrapped(e, module, adapted)] if len(c) <= REGISTRY_MAX else None
            for c in wrapping
        ]
        lengths = [len(c) for c in wrapping]
        # singledispatch functions whose registries (dicts) these are: their caches go
        # after (the namespaces are read only when a registry is a dict)
        dicts = {id(c) for c in containers if type(c) is dict}
        dispatchers = _dispatchers([old, *map(vars, imported())], dicts) if dicts else {}
        # Only a registry the module can reach through its imports loses an entry
        # because the new source stopped registering; a list the program keeps
        # (callbacks it collected itself) is left alone.
        reach = _reachable(imported()) | dispatchers.keys() if gone or dicts else set()
        gone_in = [gone if not gone or id(c) in reach else set() for c in containers]
        # A dict registry it reaches so loses the entries holding its objects before it
        # runs (`take_back`), as on a fresh import: the run puts back what it registers,
        # under the keys it registers them with now (a key renamed, a duplicate refused).
        taken = [
            _Taken(c, ids)
            for c in containers
            if isinstance(c, dict) and id(c) in reach and not ids.isdisjoint(map(id, c.values()))
        ]
        if taken:
            self._taking[module] = taken
        records = [
            Shared.note(shared, c, module, ids, gone)
            for c in containers
            if shared is not None and len(c) <= REGISTRY_MAX
        ]

        # (a container longer than a registry that the run leaves as long: a program's
        # data holding the module's objects, to be read only if the run registered there)
        sizes = [len(c) if len(c) > REGISTRY_MAX else -1 for c in (*containers, *wrapping)]

        def settle(patcher: Patcher, undo: list[Callable[[], None]]) -> None:
            # (a registry the plan's modules share, settled at once for all: each of
            # them read it whole, and a plan of N plugins took N times N steps)
            done = {id(r.container) for r in records if r.settled(patcher, undo)}
            done.update(
                id(c) for c, n in zip((*containers, *wrapping), sizes, strict=True) if len(c) == n
            )
            mine = [i for i, c in enumerate(containers) if id(c) not in done]
            if mine:
                successors = _successors(present & names, old, module, patcher)
                # (a name the source defines and registers several times: the previous
                # version's other objects of it are bound to no name, and go)
                defined = {_key(n) for n in names if n.startswith(DEFINED)}
                older = [
                    _earlier_twins(containers[i], counts[i], ids, module, defined) for i in mine
                ]
                _settle(
                    [containers[i] for i in mine],
                    [_count(counts[i] or (), ids.union(*older)) for i in mine],
                    ids.union(*older),
                    [gone_in[i] | more for i, more in zip(mine, older, strict=True)],
                    patcher,
                    undo,
                    successors,
                    [previous[i] for i in mine],
                    module,
                )
            for entry in taken:
                if id(entry.container) not in done:
                    entry.in_order(undo)
            for clear in dispatchers.values():
                clear()  # (a type dispatched before may be cached with a removed function)
                undo.append(clear)
            for container, entries, length in zip(wrapping, earlier, lengths, strict=True):
                if id(container) in done:
                    continue
                if entries is None:
                    before = itertools.islice(container, length)
                    entries = [e for e in before if _wrapped(e, module, adapted)]
                _settle_wrapped(container, entries, module, adapted, undo)

        return settle

    def take_back(self, module: str) -> None:
        """Take the module's entries out of the dict registries `before` found it can
        reach (after `held` saved them for a rollback)."""
        for entry in self._taking.pop(module, ()):
            entry.take()

    def _holders(
        self,
        module: str,
        objects: list[Any],
        ids: set[int],
        present: set[str],
        adapted: frozenset[str],
        *,
        near: Callable[[], list[Mapping[str, Any]]],
        internal: Callable[[], set[int]],
        old: Mapping[str, Any],
    ) -> tuple[list[Any], list[Any]]:
        """The registries holding the module's objects (containers, wrapping ones),
        as found by the last scan, or scanned again.

        Scanned again when an object registered since the last scan exists now, or when
        the registries found then no longer hold any of them. None found is remembered
        too: a heap walk per reload would cost more than the reload.
        """
        seen, (containers, wrapping) = self._known.get(module, (frozenset(), ([], [])))
        alive = self._alive(containers)
        if len(alive) != len(containers):
            # One only we hold: the module's own (its run made another, which holds the
            # kept objects as it made it) is let go; another module's was made again by
            # that module (a registry module reloaded): its new one is looked for.
            gone = {id(c) for c in containers} - set(map(id, alive))
            if gone <= self._own.get(module, set()):
                containers = alive
                self._remember(module, (seen, (containers, wrapping)))
        if (
            not present <= seen
            or len(alive) != len(containers)
            or (containers and not any(_holds(c, ids) for c in containers))
            or (wrapping and not any(_wrapped(e, module, adapted) for c in wrapping for e in c))
        ):
            found = _near_containers(objects, near(), adapted, self._places())
            containers, wrapping = (
                found if found is not None else _find_containers(objects, internal(), adapted)
            )
            bound = set(map(id, old.values()))
            self._own[module] = {id(c) for c in containers if id(c) in bound}
            self._remember(module, (frozenset(present), (containers, wrapping)))
        return containers, wrapping


def _earlier_twins(
    container: _Container, was: list[int] | None, ids: set[int], module: str, defined: set[str]
) -> set[int]:
    """Entries a list held before the run that are the module's earlier objects of a name
    it defines again (several definitions of one name, each registered: only the last
    is bound, and so known); none unless the run appended more than it had."""
    if not defined or was is None or type(container) is not list:
        return set()
    start = len(was)
    if len(container) - start <= sum(map(ids.__contains__, was)):
        return set()
    found = set()
    for entry in itertools.islice(container, start):
        try:
            if (
                id(entry) not in ids
                and isinstance(entry, (FunctionType, type))
                and entry.__module__ == module
                and entry.__qualname__ in defined
            ):
                found.add(id(entry))
        except Exception:  # (an object whose attributes raise: not one of these)
            continue
    return found


def _registered(
    names: frozenset[str], dropped: frozenset[str], old: Mapping[str, Any], module: str
) -> tuple[list[Any], set[int], set[str]]:
    """The objects the module's registrant ``names`` bind in ``old``; the ids of those
    bound by ``dropped`` names; the names found."""
    objects: list[Any] = []
    gone: set[int] = set()
    present = set()
    for name in names:
        key = _key(name)
        if key in old:
            if name.startswith(MADE):
                if not _made(old[key]):
                    continue
                owned = [old[key]]  # (its own module is the factory's)
            else:
                owned = _owned(old[key], module, name.startswith(DEFINED))
            present.add(name)
            objects.extend(owned)
            if name in dropped:
                gone.update(id(o) for o in owned)
            del owned  # a list of ours must not be found holding them
    return objects, gone, present


def _near(
    module: str, old: Mapping[str, Any], imported: Iterable[ModuleType]
) -> list[Mapping[str, Any]]:
    """Where a module's registries usually are: its namespaces, old and live, and those
    of the modules it imports."""
    live = sys.modules.get(module)
    return [old, *([vars(live)] if live is not None else []), *map(vars, imported)]


def _reachable(modules: Iterable[ModuleType]) -> set[int]:
    """Containers within two steps of these namespaces (attributes, class and closure)."""
    return {
        id(value)
        for module in modules
        for _, _, value in reach("", vars(module), closures=True)
        # not isinstance(): a proxy would resolve its __class__, and may raise doing so
        if issubclass(type(value), (list, set, dict, deque))
    }


def _dispatchers(
    namespaces: Iterable[Mapping[str, Any]], containers: set[int]
) -> dict[int, Callable[[], None]]:
    """``id(registry) -> clear its dispatch cache`` for the `functools.singledispatch`
    functions bound in ``namespaces`` whose registry is one of ``containers``."""
    found: dict[int, Callable[[], None]] = {}
    for namespace in namespaces:
        for value in list(namespace.values()):
            if type(value) is not FunctionType:
                continue
            proxy, clear = value.__dict__.get("registry"), value.__dict__.get("_clear_cache")
            if type(proxy) is MappingProxyType and callable(clear):
                registry = referents(proxy)  # (the dict behind it)
                if registry and id(registry[0]) in containers:
                    found[id(registry[0])] = clear
    return found


def _holds(container: _Container, ids: set[int]) -> bool:
    values = container.values() if isinstance(container, dict) else container
    return any(id(item) in ids for item in values)


def _count(held: Iterable[int], ids: set[int]) -> dict[int, int]:
    """How many times each of ``ids`` is among the ``held`` ids of a list's entries."""
    return dict(Counter(filter(ids.__contains__, held)))


def _near_containers(
    objects: list[Any],
    namespaces: list[Mapping[str, Any]],
    adapted: frozenset[str],
    recorded: Sequence[Any] = (),
) -> _Found | None:
    """The registries holding ``objects``, when every reference to each of them is
    found within two steps of ``namespaces`` (their values, the containers and the
    attributes of what they bind, closures) or in ``recorded`` (tuples, dicts and cells:
    what the ledger's records hold): then no walk of the heap is needed. None when some
    reference comes from elsewhere."""
    # Taken before and after the count: another thread dropping a reference the count
    # has read, while a holder it cannot see exists, would make the totals agree after.
    before = _refcounts(objects)
    counts, holding, wrapping = _count_near(objects, namespaces, adapted, recorded)
    after = _refcounts(objects)
    # Beside the places counted (``objects`` among them): getrefcount's argument.
    if after != before or any(
        n - 1 != c + _self_references(o) for n, c, o in zip(after, counts, objects, strict=True)
    ):
        return None
    modules = _module_dicts()
    return [c for c in holding if id(c) not in modules and not _wrapper_state(c)], wrapping


def _self_references(obj: Any) -> int:
    """The references a class has from its own parts (its ``__mro__``, descriptors,
    ``super()`` cells) and from its subclasses (their bases and ``__mro__``): none of
    them a registry. Without them, every module defining a subclass walked the heap."""
    if not isinstance(obj, type):
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
) -> tuple[list[int], list[_Container], list[_Sequence]]:
    """References to each of ``objects`` from the places near ``namespaces``, each place
    read once; the containers among them that hold one; the lists among them holding
    one wrapped in an entry."""
    index = {id(o): i for i, o in enumerate(objects)}  # (ids only: no references)
    wanted = index.keys()
    counts = [0] * len(objects)
    seen: set[int] = set()
    wrappers: set[int] = set()
    holding: list[_Container] = []
    wrapping: list[_Sequence] = []

    def read(place: Any, key: int) -> bool:
        """Count what ``place`` refers to (once per ``key``); whether it holds one."""
        if key in seen:
            return False
        seen.add(key)
        if issubclass(type(place), (dict, MappingProxyType)):
            ids: list[int] = [*map(id, place.keys()), *map(id, place.values())]
        elif type(place) is CellType:
            ids = [*map(id, referents(place))]  # (its contents; none if empty)
        else:
            ids = [*map(id, place)]
        if wanted.isdisjoint(ids):  # (most places: in C)
            return False
        hits = [index[i] for i in ids if i in index]
        for i in hits:
            counts[i] += 1
        return bool(hits)

    def container(value: Any) -> None:
        if id(value) in seen or len(value) > REGISTRY_MAX:
            return  # (read before: from the old namespace and the live one)
        if read(value, id(value)) and issubclass(type(value), (list, set, dict, deque)):
            holding.append(value)
        elif issubclass(type(value), (list, deque)) and _wraps_any(value, index, adapted):
            wrapping.append(value)

    read(objects, id(objects))
    for held in recorded:
        read(held, id(held))
    for namespace in namespaces:
        for _, key, state in places("", namespace, closures=True):
            read(state, key)
            for value in list(state.values()):
                kind = type(value)
                if id(kind) in _NOT_HOLDING:
                    continue
                if issubclass(kind, (list, tuple, set, frozenset, dict, deque)):
                    container(value)
                elif kind in _C_WRAPPERS and id(value) not in wrappers:
                    wrappers.add(id(value))
                    for i in (index.get(id(held)) for held in referents(value)):
                        if i is not None:
                            counts[i] += 1  # the function it calls (its __dict__ is a place)
    return counts, holding, wrapping


def _module_dicts() -> set[int]:
    # A module's namespace holds its definitions, never registrations of them.
    return {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}


def _wrapper_state(container: Any) -> bool:
    return isinstance(container, dict) and "__wrapped__" in container


def _find_containers(objects: list[Any], internal: set[int], adapted: frozenset[str]) -> _Found:
    internal = internal | _module_dicts()
    internal.add(id(objects))
    found: list[_Container] = []
    wrappers: list[Any] = []  # entries that wrap one of ``objects``
    ids = {id(o) for o in objects}
    internal |= ids  # (a decorator's wrapper holding the function is no registration)
    # A class's instances refer to it (their type), and a program may hold millions; its
    # own __mro__ tuple refers to it too.
    classes = [o for o in objects if isinstance(o, type)]
    internal.update([id(classes), *(id(c.__mro__) for c in classes)])
    refs = without_instances(referrers(objects), classes)
    internal.add(id(refs))  # (it holds them while the lists holding wrappers are sought)
    for ref in refs:
        if id(ref) in internal or type(ref) in _SAVED_TYPES:
            continue
        if not isinstance(ref, (list, set, dict, deque)):
            # (3.11+: an object with inline attributes refers to them itself)
            if any(id(v) in ids for v in _inner(ref, adapted)):
                wrappers.append(ref)
            continue
        if _wrapper_state(ref):
            continue  # a wrapper function's attributes
        found.append(ref)
    found, owners = _without_instance_dicts(found)
    wrappers += [o for o in owners if any(id(v) in ids for v in _inner(o, adapted))]
    return found, _lists_holding(wrappers, internal | {id(found), id(wrappers), id(owners)})


def _without_instance_dicts(found: list[_Container]) -> tuple[list[_Container], list[Any]]:
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


def _lists_holding(entries: list[Any], internal: set[int]) -> list[_Sequence]:
    """The lists and deques holding any of ``entries`` (one more walk of the heap)."""
    if not entries:
        return []
    internal = internal | {id(entries)}
    return [
        ref
        for ref in referrers(entries)
        if id(ref) not in internal
        and isinstance(ref, (list, deque))
        and type(ref) not in _SAVED_TYPES
    ]


# Entries that are data, never a wrapped registration (checked first: lists can be long).
_DATA = frozenset(map(id, (int, float, complex, str, bytes, bool, type(None), dict, list, set)))


def _wraps_any(container: _Sequence, index: Mapping[int, int], adapted: frozenset[str]) -> bool:
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


def _wrapped(entry: Any, module: str, adapted: frozenset[str]) -> frozenset[str]:
    """The qualified names of ``module``'s functions and classes ``entry`` wraps."""
    names = set()
    for value in _inner(entry, adapted):
        if type(value) is functools.partial or type(value) is MethodType:
            value = _inner(value)[0]
        if isinstance(value, (FunctionType, type)) and value.__module__ == module:
            names.add(value.__qualname__)
    return frozenset(names)


def _successors(
    names: Iterable[str], old: Mapping[str, Any], module: str, patcher: Patcher
) -> dict[int, Any]:
    """``id(previous object) -> its successor``: the new object a registrant name of the
    module is bound to now, where it could not be kept (a class whose bases changed)."""
    live = sys.modules.get(module)
    if live is None:
        return {}
    namespace = vars(live)
    found: dict[int, Any] = {}
    for name in names:
        key = _key(name)
        previous, now = old.get(key, MISSING), namespace.get(key, MISSING)
        if previous is MISSING or now is MISSING or now is previous:
            continue
        if patcher.canonical(now) is not previous and isinstance(now, type) is isinstance(
            previous, type
        ):
            found[id(previous)] = now
    return found


def _settle(
    containers: list[_Container],
    counts: list[dict[int, int]],
    ids: set[int],
    gone_in: list[set[int]],
    patcher: Patcher,
    undo: list[Callable[[], None]],
    successors: Mapping[int, Any],
    previous: list[Any],
    module: str,
) -> None:
    for container, before, gone, was in zip(containers, counts, gone_in, previous, strict=True):
        # Where the module's run registered a successor again, it takes the previous
        # object's entry; elsewhere (a list the program keeps) the previous one stays.
        after: dict[int, Any] = {}
        if successors:
            values = container.items() if isinstance(container, dict) else [container]
            present = {id(x) for pair in values for x in pair}
            after = {i: s for i, s in successors.items() if id(s) in present}

        def current(item: Any, after: Mapping[int, Any] = after) -> Any:
            # (the kept object a twin stands for; the successor of a replaced one)
            return after[id(item)] if id(item) in after else patcher.canonical(item)

        if not after and _as_it_is(container, gone, patcher.twins):
            continue  # (checked in C: a registry many modules share is read once each)
        if isinstance(container, dict):
            _settle_dict(container, current, gone, undo)
        elif isinstance(container, set):
            kept = {current(item) for item in container if id(item) not in gone}
            if len(kept) != len(container) or any(current(i) is not i for i in container):
                undo.append(functools.partial(_refill, container, set(container)))
                container.clear()
                container.update(kept)
        else:
            if after:  # what was counted of a previous object counts for its successor
                ids = ids | {id(s) for s in after.values()}
                before = {id(after[i]) if i in after else i: n for i, n in before.items()}
            made = (
                None
                if was is None
                else _as_made(container, was, ids, gone, current, module, patcher.twins)
            )
            if made is not None:
                saved = list(container)
                undo.append(lambda c=container, s=saved: _replace(c, s))  # type: ignore[misc]
                _replace(container, made)
                continue
            _settle_sequence(container, before, ids, gone, current, undo)


def _as_it_is(container: _Container, gone: set[int], twins: Mapping[int, Any]) -> bool:
    """Whether a dict or set holds nothing to settle: no twin, nothing to go."""
    if isinstance(container, dict):
        values = list(map(id, container.values()))
        keys = list(map(id, container))
        return gone.isdisjoint(values) and twins.keys().isdisjoint(values + keys)
    if isinstance(container, set):
        held = list(map(id, container))
        return gone.isdisjoint(held) and twins.keys().isdisjoint(held)
    return False


class Shared:
    """A registry (list or dict) the modules of one transaction share: its entries
    before the first of them ran, and which module's objects are which. Once the whole
    plan ran, `settled` settles it at once, when every module registered there again
    just what it had (the usual reload of a leaf's importers); else each module does."""

    def __init__(self, container: _Container) -> None:
        self.container = container
        self.first = list(map(id, container))  # (ids; a dict's: of its values)
        self.keys = list(container) if isinstance(container, dict) else []
        self.owner: dict[int, str] = {}
        self.gone: set[int] = set()
        self.state: bool | None = None

    @classmethod
    def note(
        cls,
        shared: dict[int, Shared],
        container: _Container,
        module: str,
        ids: set[int],
        gone: set[int],
    ) -> Shared:
        """The record of ``container``, noting ``module``'s objects in it."""
        record = shared.get(id(container))
        if record is None:
            record = shared[id(container)] = cls(container)
            if isinstance(container, dict):
                record.first = list(map(id, container.values()))
        record.owner.update(dict.fromkeys(ids, module))
        record.gone |= gone
        return record

    def settled(self, patcher: Patcher, undo: list[Callable[[], None]]) -> bool:
        """Settle it for every module at once, if it can be (once per transaction)."""
        if self.state is None:
            self.state = self._settle(patcher, undo)
        return self.state

    def _settle(self, patcher: Patcher, undo: list[Callable[[], None]]) -> bool:
        container, first, owner = self.container, self.first, self.owner
        if not self.gone.isdisjoint(first):
            return False
        if type(container) is dict:
            # Each module's entries taken out and made again: under the same keys, with
            # the kept objects, they go back where they were.
            if len(container) != len(self.keys) or container.keys() != set(self.keys):
                return False
            values = list(map(id, map(container.__getitem__, self.keys)))
            twins = patcher.twins
            if values != first or not twins.keys().isdisjoint(values):
                return False
            if list(container) != self.keys:
                saved = dict(container)
                undo.append(functools.partial(_refill, container, saved))
                container.clear()
                container.update(zip(self.keys, map(saved.__getitem__, self.keys), strict=True))
            return True
        if type(container) is not list:
            return False
        start = len(first)
        if len(container) <= start or first != list(map(id, itertools.islice(container, start))):
            return False
        # What the runs appended: each module's previous entries again, in their order.
        made: dict[str, list[int]] = {}
        for item in itertools.islice(container, start, None):
            kept = id(patcher.canonical(item))
            module = owner.get(kept)
            if module is None:
                return False
            made.setdefault(module, []).append(kept)
        had: dict[str, list[int]] = {}
        for i in first:
            module = owner.get(i)
            if module is not None:
                had.setdefault(module, []).append(i)
        if made != had:
            return False
        items = list(container)
        undo.append(lambda: _replace(container, items))
        del container[start:]
        return True


class _Taken:
    """A dict registry's entries of one module, taken out before the module runs."""

    def __init__(self, container: dict[Any, Any], ids: set[int]) -> None:
        self.container = container
        self.ids = ids
        self.order = list(container)  # (as the running version left it)
        # (in C: a registry many modules share is read once by each)
        mine = list(map(ids.__contains__, map(id, container.values())))
        self.slots = list(itertools.compress(itertools.count(), mine))
        self.taken = list(itertools.compress(self.order, mine))
        self.left: set[Any] = set()

    def take(self) -> None:
        """Take the module's entries out."""
        for key in self.taken:
            if key in self.container and id(self.container[key]) in self.ids:
                del self.container[key]
        self.left = set(self.container)

    def in_order(self, undo: list[Callable[[], None]]) -> None:
        """The entries the run made take the places of the module's previous ones, in
        the order it made them; more of them go right after the last of those places."""
        container, slots = self.container, set(self.slots)
        keys = list(container)
        taken = [self.order[place] for place in self.slots]
        if len(keys) == len(self.order) and keys[len(self.left) :] == taken:
            # (the usual case: the same keys again, put back where they were, in C)
            saved = dict(container)
            undo.append(functools.partial(_refill, container, saved))
            container.clear()
            container.update(zip(self.order, map(saved.__getitem__, self.order), strict=True))
            return
        made = [k for k in keys if k not in self.left]
        want: list[Any] = []
        for place, key in enumerate(self.order):
            if place in slots:
                want += made[:1]
                del made[:1]
                if place == self.slots[-1]:
                    want += made
            elif key in container:
                want.append(key)
        placed = set(want)
        want += [k for k in keys if k not in placed]
        if want == keys:
            return
        undo.append(functools.partial(_refill, container, dict(container)))
        items = [(k, container[k]) for k in want]
        container.clear()
        container.update(items)


def _settle_dict(
    container: dict[Any, Any],
    canonical: Callable[[Any], Any],
    gone: set[int],
    undo: list[Callable[[], None]],
) -> None:
    if gone and any(id(v) in gone for v in container.values()):
        undo.append(functools.partial(_refill, container, dict(container)))
        for key in [k for k, v in container.items() if id(v) in gone]:
            del container[key]
    changed = [
        (k, v) for k, v in container.items() if canonical(v) is not v or canonical(k) is not k
    ]
    if not changed:
        return
    undo.append(functools.partial(_refill, container, dict(container)))
    if any(canonical(k) is not k for k, _ in changed):
        items = [(canonical(k), canonical(v)) for k, v in container.items()]
        container.clear()
        container.update(items)
    else:
        for key, value in changed:
            container[key] = canonical(value)


def _settle_sequence(
    container: list[Any] | deque[Any],
    before: dict[int, int],
    ids: set[int],
    gone: set[int],
    canonical: Callable[[Any], Any],
    undo: list[Callable[[], None]],
) -> None:
    items = [canonical(item) for item in container]
    after = _count(map(id, items), ids)
    if any(i in gone and n <= before.get(i, 0) for i, n in after.items()):
        # no longer registered by the new version: its entries go
        items = [x for x in items if not (id(x) in gone and after[id(x)] <= before.get(id(x), 0))]
    # Where the new version registered an object again, the previous version's entries
    # of it are dropped: the earliest positions stay, as after a fresh import.
    keep = {i: n - before.get(i, 0) for i, n in after.items() if n > before.get(i, 0)}
    if keep and keep == before:  # (``before`` counts only what the container held)
        items = _in_new_order(items, before)
    elif keep:
        result = []
        for item in items:
            left = keep.get(id(item))
            if left is not None:
                if left == 0:
                    continue
                keep[id(item)] = left - 1
            result.append(item)
        items = result
    elif len(items) == len(container) and all(
        a is b for a, b in zip(items, container, strict=True)
    ):
        return
    saved = list(container)
    undo.append(lambda: _replace(container, saved))
    _replace(container, items)


def _as_made(
    container: list[Any] | deque[Any],
    was: list[int],
    ids: set[int],
    gone: set[int],
    canonical: Callable[[Any], Any],
    module: str,
    twins: Mapping[int, Any],
) -> list[Any] | None:
    """The list as a fresh import would have made it, when the module's run only
    appended its own definitions to it: they take the places of the previous version's
    entries (registered again, or of objects the new source no longer registers), in
    the order the run made them; more of them go right after the last of those places,
    fewer leave the last places out. None when the list holds another entry of the
    module that the run did not make again and that is not to go (the program's), or
    when the run did anything but append its own."""
    items = [canonical(item) for item in container]
    start = len(was)
    if len(items) <= start or list(map(id, items[:start])) != [
        id(twins[i]) if i in twins else i for i in was
    ]:
        return None  # (what was there before the run changed, twins aside)
    made = items[start:]
    if not all(getattr(item, "__module__", None) == module for item in made):
        return None  # (another module's too: modules reloaded together share a list)
    again = {id(item) for item in made}
    places = []
    for place, item in enumerate(items[:start]):
        if id(item) in again or id(item) in gone:
            places.append(place)  # (a previous entry: registered again, or to go)
        elif id(item) in ids:
            return None
    if not places or (
        len(places) == len(made) and all(items[p] is m for p, m in zip(places, made, strict=True))
    ):
        return None  # (nothing registered again, or in the same order: as it is)
    result: list[Any] = list(items[:start])
    for place, item in zip(places, made, strict=False):
        result[place] = item
    drop = set(places[len(made) :]) | {p for p, item in enumerate(result) if id(item) in gone}
    extra = made[len(places) :]
    out: list[Any] = []
    for place, item in enumerate(result):
        if place not in drop:
            out.append(item)
        if place == places[-1]:
            out.extend(extra)
    return out


def _in_new_order(items: list[Any], before: Mapping[int, int]) -> list[Any]:
    """``items`` where the module's run registered again exactly what its previous
    version had: the places of the previous entries (each object's first ones) take
    the new entries in the order the run made them (a reordered source reads so after a
    fresh import), and the new entries' own places go."""
    seen: dict[int, int] = {}
    places: list[int] = []
    made: list[tuple[int, Any]] = []
    for place, item in enumerate(items):
        count = before.get(id(item), 0)
        if count:
            seen[id(item)] = n = seen.get(id(item), 0) + 1
            if n <= count:
                places.append(place)
            else:
                made.append((place, item))
    result = list(items)
    for place, (_, item) in zip(places, made, strict=True):
        result[place] = item
    drop = {place for place, _ in made}
    return [item for place, item in enumerate(result) if place not in drop]


def _settle_wrapped(
    container: _Sequence,
    earlier: list[Any],
    module: str,
    adapted: frozenset[str],
    undo: list[Callable[[], None]],
) -> None:
    """The module's new wrapped entries take the places of the previous version's
    entries wrapping the same definitions, one for one, in order. Previous entries left
    unmatched stay: the program may have made them while running (a job it queued)."""
    present = {id(e) for e in container}
    earlier = [e for e in earlier if id(e) in present]  # (an adapter may have taken some)
    before = {id(e) for e in earlier}
    new = [e for e in container if id(e) not in before and _wrapped(e, module, adapted)]
    if not new or not earlier:
        return
    waiting: dict[frozenset[str], list[Any]] = {}
    for entry in earlier:
        waiting.setdefault(_wrapped(entry, module, adapted), []).append(entry)
    place: dict[int, Any] = {}
    moved: set[int] = set()
    for entry in new:
        previous = waiting.get(_wrapped(entry, module, adapted))
        if previous:
            place[id(previous.pop(0))] = entry
            moved.add(id(entry))
    if not place:
        return
    items = [place.get(id(e), e) for e in container if id(e) not in moved]
    saved = list(container)
    undo.append(lambda: _replace(container, saved))
    _replace(container, items)


class _SavedList(list[Any]):
    """A registry's items, saved for a rollback."""


class _SavedSet(set[Any]):
    """A registry's items, saved for a rollback."""


class _SavedDict(dict[Any, Any]):
    """A registry's items, saved for a rollback."""


class _SavedDeque(deque[Any]):
    """A registry's items, saved for a rollback."""


_SAVED: dict[type, type] = {
    list: _SavedList,
    set: _SavedSet,
    dict: _SavedDict,
    deque: _SavedDeque,
}
_SAVED_TYPES = frozenset(_SAVED.values())


def _base(container: _Container) -> type:
    """The built-in type a registry derives from (an OrderedDict's dict)."""
    return next(t for t in (dict, set, deque, list) if isinstance(container, t))


def _refill(container: set[Any] | dict[Any, Any], saved: set[Any] | dict[Any, Any]) -> None:
    container.clear()
    container.update(saved)


def _replace(container: list[Any] | deque[Any], items: list[Any]) -> None:
    if isinstance(container, list):
        container[:] = items
    else:
        container.clear()
        container.extend(items)
