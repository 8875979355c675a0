"""Registries put back as a fresh import leaves them, once a module ran again: kept
objects in place of their new twins, the previous version's entries gone, the rest in
the order the run made them (`settle_containers`, `settle_wrapped`).

A registry several modules of one transaction share is settled once for all of them
(`Shared`); a dict registry the module can reach loses its entries before the module
runs, as on a fresh import, and gets them back in place (`Taken`).
"""

from __future__ import annotations

import functools
import itertools
import sys
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from types import FunctionType
from typing import Any

from ._containers import Container, ListLike, refill, replace_items
from ._holders import Tallies, count_held, defined_in, wrapped_names
from ._missing import MISSING
from ._patch import Patcher, is_class
from ._reach import REGISTRY_MAX
from ._registrants import global_of

__all__ = [
    "Seen",
    "Shared",
    "Shares",
    "Taken",
    "cut_back",
    "settle_containers",
    "settle_wrapped",
    "successors_of",
]


def successors_of(
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
        key = global_of(name)
        previous, now = old.get(key, MISSING), namespace.get(key, MISSING)
        if previous is MISSING or now is MISSING or now is previous:
            continue
        if patcher.canonical(now) is not previous and is_class(now) is is_class(previous):
            found[id(previous)] = now
    return found


def settle_containers(
    containers: list[Container],
    counts: list[dict[int, int]],
    ids: set[int],
    gone_in: list[set[int]],
    patcher: Patcher,
    undo: list[Callable[[], None]],
    successors: Mapping[int, Any],
    previous: list[Any],
    module: str,
) -> None:
    """After ``module`` ran again: in each of its registries, kept objects in place of
    their twins, and the previous version's entries (``counts`` and ``previous``: as
    the registry held them before the run) gone where the run registered them again."""
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
                undo.append(functools.partial(refill, container, set(container)))
                container.clear()
                container.update(kept)
        else:
            if after:  # what was counted of a previous object counts for its successor
                ids = ids | {id(s) for s in after.values()}
                before = {id(after[i]) if i in after else i: n for i, n in before.items()}
            if (
                was is not None
                and type(container) is list
                and _only_appended(container, was, gone)
                and cut_back(container, len(was), [*filter(ids.__contains__, was)], current, undo)
            ):
                continue
            made = (
                None
                if was is None
                else _as_made(container, was, ids, gone, current, module, patcher.twins)
            )
            if made is not None:
                saved = list(container)
                undo.append(lambda c=container, s=saved: replace_items(c, s))  # type: ignore[misc]
                replace_items(container, made)
                continue
            _settle_sequence(container, before, ids, gone, current, undo)


def cut_back(
    container: list[Any],
    count: int,
    previous: list[int],
    canonical: Callable[[Any], Any],
    undo: list[Callable[[], None]],
) -> bool:
    """Cut off what the run appended to a list past ``count`` if it is just the module's
    ``previous`` entries again (their ids, in order): the usual reload. The previous
    places stay; only what was appended is read (a program's list of millions holding
    a handler was settled entry by entry in Python). False if it is not so."""
    if len(container) <= count:
        return False
    tail = container[count:]
    if [id(canonical(item)) for item in tail] != previous:
        return False
    undo.append(functools.partial(container.extend, tail))
    del container[count:]
    return True


def _only_appended(container: list[Any], was: list[int], gone: set[int]) -> bool:
    """Whether the list still starts as ``was`` and none of it is to go (in C)."""
    start = len(was)
    return len(container) > start and gone.isdisjoint(was) and was == [*map(id, container[:start])]


def _as_it_is(container: Container, gone: set[int], twins: Mapping[int, Any]) -> bool:
    """Whether a dict or set holds nothing to settle: no twin, nothing to go."""
    if isinstance(container, dict):
        values = list(map(id, container.values()))
        keys = list(map(id, container))
        return gone.isdisjoint(values + keys) and twins.keys().isdisjoint(values + keys)
    if isinstance(container, set):
        held = list(map(id, container))
        return gone.isdisjoint(held) and twins.keys().isdisjoint(held)
    return False


class Seen:
    """The ids of a list's entries as a module saw them before it ran, read only if the
    module settles the list on its own (rarely): a prefix of the log the modules of a
    transaction keep of a list they share (`Shared.look`), or of the list itself."""

    __slots__ = ("_container", "_count", "_ends", "_log")

    def __init__(
        self, count: int, log: list[int] | None = None, container: list[Any] | None = None
    ) -> None:
        self._count = count
        self._log = log  # (its ids: the first ``count`` of them)
        self._container = container  # (else: read later, if its ends are those seen)
        self._ends = (id(container[0]), id(container[-1])) if container else (0, 0)

    @classmethod
    def later(cls, container: list[Any]) -> Seen:
        """The list as it is now, to read later: a program's data longer than a
        registry, read only if the run changed its length; None then unless its first
        and last entries seen are still there."""
        return cls(len(container), container=container)

    def ids(self) -> list[int] | None:
        """The ids, in order; None if they can no longer be told."""
        if self._log is not None:
            return self._log[: self._count]
        container, count = self._container, self._count
        assert container is not None
        if len(container) < count or (
            count and (id(container[0]), id(container[count - 1])) != self._ends
        ):
            return None
        return list(map(id, container[:count]))


class Shares(dict[int, "Shared"]):
    """The registries the modules of one transaction share (`Shared`, by id), with the
    order of modules on a fresh import (``order``: of some module names), which places
    a module's first entries in a list."""

    def __init__(self, order: Callable[[set[str]], list[str]] | None = None) -> None:
        super().__init__()
        self.order = order
        self._homes: dict[int, str] | None = None
        self.lists: dict[int, list[Any]] | None = None  # (the list registries known, by id)
        # Run once every registry was settled: the modules' first entries in lists.
        self.later: list[Callable[[Patcher, list[Callable[[], None]]], None]] = []
        self.tallies = Tallies()  # (the long lists and dicts the near looks read)
        # The modules loaded when the transaction began (a module first imported by a
        # module of the plan registers as a part of that module's run).
        self.loaded: Set[str] = frozenset()

    def homes(self) -> Callable[[Any], str | None]:
        """The module an entry of a list comes from: a function's or class's own, else
        the first of the user modules binding it, in import order (read once)."""
        if self._homes is None:
            ordered = self.order(set(sys.modules)) if self.order is not None else []
            self._homes = {}
            for name in ordered:
                module = sys.modules.get(name)
                if module is not None:
                    for value in vars(module).values():
                        self._homes.setdefault(id(value), name)
        homes = self._homes
        return lambda item: _home(item) or homes.get(id(item))


class Shared:
    """A registry (list or dict) the modules of one transaction share: its entries
    before the first of them ran, and which module's objects are which. Once the whole
    plan ran, `settled` settles it at once, when every module registered there again
    what it had (the usual reload of a leaf's importers), or more or fewer entries
    that can be placed as a fresh import places them; else each module does."""

    def __init__(self, container: Container, shares: Shares | None = None) -> None:
        self.container = container
        # (weakly: the transaction's records hold this one, and a cycle kept a registry
        # a module had replaced alive after the reload, taken for its registry next)
        self._shares = weakref.ref(Shares() if shares is None else shares)
        self.keys = list(container) if isinstance(container, dict) else []
        # (ids of its entries; a dict's: of its values)
        self.first = list(map(id, container.values() if isinstance(container, dict) else container))
        self._log = list(self.first)  # (a list's ids as the last module saw it: `look`)
        self.owner: dict[int, str] = {}
        self.gone: set[int] = set()
        self.defined: dict[str, set[str]] = {}  # names each module defines (`earlier_twins`)
        self.runs: list[tuple[str, int]] = []  # (a module about to run, the list's length)
        self.state: bool | None = None
        self._places: dict[int, list[int]] | None = None

    def places(self) -> dict[int, list[int]]:
        """The places holding each entry (a dict's: each value) as the first module
        found it, by id (read once: N plugins each read a shared dict whole)."""
        if self._places is None:
            self._places = {}
            for place, i in enumerate(self.first):
                self._places.setdefault(i, []).append(place)
        return self._places

    @property
    def shares(self) -> Shares:
        """The transaction's records this one is among."""
        shares = self._shares()
        return Shares() if shares is None else shares

    @classmethod
    def note(
        cls,
        shared: Shares,
        container: Container,
        module: str,
        ids: set[int],
        gone: set[int],
        defined: set[str],
    ) -> Shared:
        """The record of ``container``, noting ``module``'s objects in it and the names
        it defines."""
        record = shared.get(id(container))
        if record is None:
            record = shared[id(container)] = cls(container, shared)
        record.owner.update(dict.fromkeys(ids, module))
        record.gone |= gone
        record.defined[module] = defined
        return record

    def look(self, module: str) -> Seen:
        """The list as ``module``, about to run, sees it. The modules of a transaction
        only append to a list they share: each reads what was appended since the last
        look, not the whole list (a registry of N plugins was read N times)."""
        container, log = self.container, self._log
        assert isinstance(container, list)
        count = len(container)
        self.runs.append((module, count))
        if count < len(log) or (
            log and (id(container[0]), id(container[len(log) - 1])) != (log[0], log[-1])
        ):
            log = self._log = list(map(id, container))  # (not only appended to: read whole)
        else:
            log.extend(map(id, container[len(log) :]))
        return Seen(count, log)

    def settled(self, patcher: Patcher, undo: list[Callable[[], None]]) -> bool:
        """Settle it for every module at once, if it can be (once per transaction)."""
        if self.state is None:
            self.state = self._settle(patcher, undo)
        return self.state

    def _settle(self, patcher: Patcher, undo: list[Callable[[], None]]) -> bool:
        container, first, owner = self.container, self.first, self.owner
        if type(container) is dict:
            if not self.gone.isdisjoint(first) or not self.gone.isdisjoint(map(id, self.keys)):
                return False
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
                undo.append(functools.partial(refill, container, saved))
                container.clear()
                container.update(zip(self.keys, map(saved.__getitem__, self.keys), strict=True))
            return True
        if type(container) is not list:
            return False
        start = len(first)
        if len(container) <= start or first != list(map(id, itertools.islice(container, start))):
            return False
        items = list(container)
        # The earlier objects of a name a module defines several times: bound to no
        # name (owned by none), made anew by its run, they go.
        twins = self._twins(items[:start], first)
        owner = {**owner, **twins} if twins else owner
        made = self._made(patcher)
        if made is None:
            return False
        had: dict[str, list[int]] = {}
        for i in first:
            module = owner.get(i)
            if module is not None:
                had.setdefault(module, []).append(i)
        if {m: list(map(id, entries)) for m, entries in made.items() if entries} == had:
            # (the usual reload: each module's previous entries again, in their order)
            undo.append(lambda: replace_items(container, items))
            del container[start:]
            return True
        placed = _placed(items[:start], first, owner, had, made, twins.keys() | self.gone)
        if placed is None:
            return False
        if any(entries and module not in had for module, entries in made.items()):
            placed = self._first_entries(placed, had, made)
        undo.append(lambda: replace_items(container, items))
        replace_items(container, placed)
        return True

    def _made(self, patcher: Patcher) -> dict[str, list[Any]] | None:
        """What each module's run appended to the list (kept objects for twins), told
        by where the list ended when it was about to run; None where an entry is not
        that module's (its object from before, or one its namespace binds now)."""
        container, owner = self.container, self.owner
        assert isinstance(container, list)
        made: dict[str, list[Any]] = {}
        runs = [*self.runs, ("", len(container))]
        if runs[0][1] != len(self.first):
            return None
        home: Callable[[Any], str | None] | None = None
        for (module, start), (_, end) in itertools.pairwise(runs):
            if end < start:
                return None
            for item in container[start:end]:  # (islice would step over the start)
                kept = patcher.canonical(item)
                mine = owner.get(id(kept))
                if mine is None:  # (new: a module registering there for the first time)
                    home = home or self.shares.homes()
                    mine = home(kept)
                    if mine is None:
                        return None
                    if module and mine not in self.shares.loaded:
                        mine = module  # (first imported by it: its entries are in its run)
                elif mine != module:
                    return None
                made.setdefault(mine, []).append(kept)
        return made

    def _first_entries(
        self, placed: list[Any], had: Mapping[str, list[int]], made: Mapping[str, list[Any]]
    ) -> list[Any]:
        """``placed`` with the entries of the modules registering there for the first
        time put where a fresh import puts them (`first_places`)."""
        owner, homes = self.owner, self.shares.homes()
        new = {m: entries for m, entries in made.items() if entries and m not in had}
        return first_places(placed, new, lambda e: owner.get(id(e)) or homes(e), self.shares.order)

    def _twins(self, entries: list[Any], ids: list[int]) -> dict[int, str]:
        """``id -> module`` of the earlier objects of a name a module defines again
        among ``entries`` (bound to no name, so owned by none)."""
        owner, defined = self.owner, self.defined
        return {
            i: e.__module__
            for e, i in zip(entries, ids, strict=True)
            if i not in owner and defined_in(e, defined)
        }


def first_places(
    items: list[Any],
    new: Mapping[str, list[Any]],
    home: Callable[[Any], str | None],
    order: Callable[[set[str]], list[str]] | None,
) -> list[Any]:
    """``items`` with the ``new`` entries of each module registering in the list for
    the first time put where a fresh import puts them: right after the last entry of
    a module imported before it, else right before the first of a module imported
    after it; at the end when none of the entries tells (``home``: an entry's module,
    ``order``: module names in import order)."""
    result = list(items)
    homes = list(map(home, result))
    known = {h for h in homes if h is not None}
    rank = {m: i for i, m in enumerate(order(known | set(new)))} if order is not None else {}
    for module, entries in new.items():
        place, mine = len(result), rank.get(module)
        if mine is not None:
            ranks = [rank.get(h, -1) if h is not None else -1 for h in homes]
            before = [p for p, r in enumerate(ranks) if 0 <= r < mine]
            after = [p for p, r in enumerate(ranks) if r > mine]
            place = before[-1] + 1 if before else after[0] if after else place
        result[place:place] = entries
        homes[place:place] = [module] * len(entries)
    return result


def _home(item: Any) -> str | None:
    """The module of a function or class, if imported."""
    if isinstance(item, (FunctionType, type)):
        name = getattr(item, "__module__", None)
        if isinstance(name, str) and name in sys.modules:
            return name
    return None


def _placed(
    items: list[Any],
    first: list[int],
    owner: Mapping[int, str],
    had: Mapping[str, list[int]],
    made: Mapping[str, list[Any]],
    going: Set[int],
) -> list[Any] | None:
    """The list as a fresh import makes it: each module's new entries take the places
    of its previous ones, in the order its run made them; more of them go right after
    the last of those places, fewer leave the last places out. None if a previous
    entry of a module was not registered again (the program's own) and is not one to
    go (``going``: of a name the source stopped registering, or the earlier object of a
    name defined several times)."""
    again = {id(item) for entries in made.values() for item in entries} | going
    if any(i not in again for entries in had.values() for i in entries):
        return None
    taken = dict.fromkeys(had, 0)
    result: list[Any] = []
    for item, i in zip(items, first, strict=True):
        module = owner.get(i)
        if module is None:
            result.append(item)
            continue
        entries, count = made.get(module, []), taken[module]
        taken[module] = count = count + 1
        if count <= len(entries):
            result.append(entries[count - 1])
        if count == len(had[module]):  # (its last place: more entries go after it)
            result.extend(entries[count:])
    return result


class Taken:
    """A dict registry's entries of one module, taken out before the module runs.

    A dict longer than a registry (a program's data mapping millions of keys to a
    handler) is read once, not on each reload: its keys holding the module's objects
    are given (``keys``, as the last reload found them, checked one by one), and its
    order is not noted (the entries the run makes again stay where it puts them).
    """

    def __init__(
        self, container: dict[Any, Any], ids: set[int], keys: Sequence[Any] | None = None
    ) -> None:
        self.container = container
        self.ids = ids
        self.size = len(container)  # (before the run)
        self.order: list[Any] | None = None  # (as the running version left it)
        self.slots: list[int] = []
        self.removed: list[Any] = []  # (the keys `take` took out)
        self.last: Any = MISSING  # (the last key as the run began: what it made follows)
        if keys is not None:
            self.taken = list(keys)
            return
        # (in C: a registry many modules share is read once by each; a long one without
        # a list of millions of flags made first)
        held = map(ids.__contains__, map(id, container.values()))
        if len(container) > REGISTRY_MAX:
            self.taken = list(itertools.compress(container, held))
            return
        mine = list(held)
        self.order = list(container)
        self.slots = list(itertools.compress(itertools.count(), mine))
        self.taken = list(itertools.compress(self.order, mine))

    @classmethod
    def shared(cls, container: dict[Any, Any], ids: set[int], record: Shared) -> Taken | None:
        """The module's entries in a dict the transaction's modules share, found at the
        places the transaction's first look noted (its `Shared` record); None unless
        each of them still holds its object there. Only the module's own entries change
        as the modules before it run; its order is the first look's, which places what
        the run makes as a fresh import would."""
        keys, places = record.keys, record.places()
        slots = sorted(p for i in ids for p in places.get(i, ()))
        taken = [keys[p] for p in slots]
        if not all(id(container.get(key, MISSING)) in ids for key in taken):
            return None
        entry = cls(container, ids, taken)
        entry.order, entry.slots = keys, slots
        return entry

    @staticmethod
    def holding(container: dict[Any, Any], ids: set[int], keys: Sequence[Any]) -> bool:
        """Whether each of ``keys`` still holds one of ``ids`` in ``container``."""
        return all(id(container.get(key, MISSING)) in ids for key in keys)

    def take(self) -> None:
        """Take the module's entries out."""
        container, ids, removed = self.container, self.ids, self.removed
        for key in self.taken:
            if key in container and id(container[key]) in ids:
                del container[key]
                removed.append(key)
        self.last = next(reversed(container), MISSING)

    def in_order(self, undo: list[Callable[[], None]]) -> None:
        """The entries the run made take the places of the module's previous ones, in
        the order it made them; more of them go right after the last of those places."""
        order = self.order
        if order is None:
            return  # (a program's data: read once, never reordered)
        container, slots = self.container, set(self.slots)
        keys = list(container)
        taken = [order[place] for place in self.slots]
        # (the keys there as the module ran, up to the last: read here, not in `take`,
        # which every module of a plan sharing the dict passes and few come here)
        if self.last is MISSING or self.last not in container:
            removed = set(self.removed)
            left = {k for k in order if k not in removed}
        else:
            left = set(keys[: keys.index(self.last) + 1])
        if (
            len(keys) == len(order)
            and keys[len(left) :] == taken
            and container.keys() == set(order)
        ):
            # (the usual case: the same keys again, put back where they were, in C)
            saved = dict(container)
            undo.append(functools.partial(refill, container, saved))
            container.clear()
            container.update(zip(order, map(saved.__getitem__, order), strict=True))
            return
        made = [k for k in keys if k not in left]
        want: list[Any] = []
        for place, key in enumerate(order):
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
        undo.append(functools.partial(refill, container, dict(container)))
        items = [(k, container[k]) for k in want]
        container.clear()
        container.update(items)


def _settle_dict(
    container: dict[Any, Any],
    canonical: Callable[[Any], Any],
    gone: set[int],
    undo: list[Callable[[], None]],
) -> None:
    # (a registry keyed by the object, ``LABELS[f] = "x"``, loses its key too)
    going = [k for k, v in container.items() if id(v) in gone or id(k) in gone] if gone else []
    if going:
        undo.append(functools.partial(refill, container, dict(container)))
        for key in going:
            del container[key]
    changed = [
        (k, v) for k, v in container.items() if canonical(v) is not v or canonical(k) is not k
    ]
    if not changed:
        return
    undo.append(functools.partial(refill, container, dict(container)))
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
    after = count_held(map(id, items), ids)
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
    undo.append(lambda: replace_items(container, saved))
    replace_items(container, items)


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


def settle_wrapped(
    container: ListLike,
    earlier: list[Any],
    module: str,
    adapted: frozenset[str],
    undo: list[Callable[[], None]],
    classes: Set[str] = frozenset(),
) -> None:
    """The module's new wrapped entries take the places of the previous version's
    entries wrapping the same definitions, one for one, in order. Previous entries left
    unmatched stay: the program may have made them while running (a job it queued).
    ``classes``: those of the module's classes whose instances it registers
    (`wrapped_names`)."""
    present = {id(e) for e in container}
    earlier = [e for e in earlier if id(e) in present]  # (an adapter may have taken some)
    before = {id(e) for e in earlier}

    def names(entry: Any) -> frozenset[str]:
        return wrapped_names(entry, module, adapted, classes)

    new = [e for e in container if id(e) not in before and names(e)]
    if not new or not earlier:
        return
    waiting: dict[frozenset[str], list[Any]] = {}
    for entry in earlier:
        waiting.setdefault(names(entry), []).append(entry)
    place: dict[int, Any] = {}
    moved: set[int] = set()
    for entry in new:
        previous = waiting.get(names(entry))
        if previous:
            place[id(previous.pop(0))] = entry
            moved.add(id(entry))
    if not place:
        return
    items = [place.get(id(e), e) for e in container if id(e) not in moved]
    saved = list(container)
    undo.append(lambda: replace_items(container, saved))
    replace_items(container, items)
