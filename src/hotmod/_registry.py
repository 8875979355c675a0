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

import gc
import itertools
import logging
import sys
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from types import FunctionType, ModuleType
from typing import Any, NamedTuple, TypeVar

from ._containers import (
    SAVED,
    Container,
    Found,
    SavedLength,
    base_type,
    refill,
    replace_items,
)
from ._holders import (
    Tallies,
    count_held,
    defined_in,
    dispatch_caches,
    earlier_twins,
    find_containers,
    holds_any,
    near_containers,
    near_namespaces,
    nested_containers,
    reachable_containers,
    registered_objects,
    unheld,
    unknown_dispatch_registry,
    wrapped_names,
    wraps_any,
)
from ._missing import MISSING
from ._patch import Patcher, is_class
from ._reach import REGISTRY_MAX
from ._registrants import DEFINED, global_of, instances, site_changes, without_sites
from ._settle import (
    Seen,
    Shared,
    Shares,
    Taken,
    cut_back,
    first_places,
    settle_containers,
    settle_wrapped,
    successors_of,
)

__all__ = ["Counted", "Registries", "take_out_modules"]

_log = logging.getLogger("hotmod")

_C = TypeVar("_C")


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
        self._known: dict[str, tuple[frozenset[str], Found]] = {}
        # How many of the lists in `_known` hold each container, by id: one modules
        # reloaded together share is held by each of their lists.
        self._listed: Counter[int] = Counter()
        self._running: dict[str, frozenset[str]] = {}  # registrants of the running version
        # The copies `held` made, alive while a rollback may need them (by id, weakly).
        self._copies: dict[int, weakref.ref[Any]] = {}
        self._counted: dict[int, tuple[int, Counter[int]]] = {}  # (`_counts`)
        # The containers each module's namespace bound when they were found, by id.
        self._own: dict[str, set[int]] = {}
        # The copy `held` made of each container in the running transaction, by id.
        self._held: dict[int, weakref.ref[Any]] = {}
        # What `take_back` takes out of dict registries before each module runs.
        self._taking: dict[str, list[Taken]] = {}
        # The set registries it reaches, and the objects of the names it now registers
        # in fewer places, taken out of them before it runs (as `_taking`).
        self._unsetting: dict[str, tuple[list[set[Any]], set[int]]] = {}
        # The keys of each dict longer than a registry that held a module's objects
        # when last read, by (module, id of the dict): read again only when one no
        # longer holds them.
        self._keys: dict[tuple[str, int], list[Any]] = {}
        # The same of each list longer than a registry: the places holding them.
        self._slots: dict[tuple[str, int], list[int]] = {}
        # The dicts holding a module's objects under more keys than a registry has:
        # the program's data, filled as it runs; nothing is taken out of them.
        self._data: set[tuple[str, int]] = set()

    def forget(self, module: str) -> None:
        """Drop what is known of a module."""
        self._remember(module, None)
        self._own.pop(module, None)
        self._running.pop(module, None)
        for key in [k for k in self._keys if k[0] == module]:
            del self._keys[key]
        for key in [k for k in self._slots if k[0] == module]:
            del self._slots[key]
        self._data = {key for key in self._data if key[0] != module}

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

    def _remember(self, module: str, known: tuple[frozenset[str], Found] | None) -> None:
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

    def held(self, module: str, take_out: Callable[[], None] | None) -> Callable[[], None] | None:
        """How to put the module's registries back as they are now (a rollback undoes
        what the module's run added, and runs ``take_out``: `Counted`), or None when
        there is nothing to undo."""
        known = self._known.get(module)
        if known is None:
            return take_out
        _, (containers, wrapping) = known
        # (once per transaction: a registry many modules share is put back as it was
        # before the first of them ran; a copy per module made copies of N entries N
        # times, each read by the next modules' near look)
        held = self._held
        taking = {id(entry.container): entry for entry in self._taking.get(module, ())}
        saved: list[tuple[Container, Container]] = []
        for container in (*containers, *wrapping):
            copy = held[id(container)]() if id(container) in held else None
            taken = taking.get(id(container))
            if isinstance(copy, SavedLength):  # (what this module takes out goes back too)
                copy.values.update(_values(taken, copy.values))
            if copy is not None:
                continue
            if len(container) > REGISTRY_MAX and type(container) in (list, deque, dict):
                values = self._saved(SAVED[dict](_values(taken, {})))
                copy = self._saved(SavedLength(container, values))
            else:
                copy = self._saved(SAVED[base_type(container)](container))
            saved.append((container, copy))
            held[id(container)] = weakref.ref(copy)
        if not saved:
            return take_out

        def restore() -> None:
            if take_out is not None:
                take_out()
            for container, items in saved:
                if isinstance(items, SavedLength):
                    if not items.cut(container):
                        _log.warning(
                            "a failed reload changed a %s of %d entries beyond adding to it;"
                            " hotmod does not copy containers that long for a rollback, so"
                            " it stays as the failed run left it",
                            type(container).__name__,
                            items.size,
                        )
                elif isinstance(container, (list, deque)):
                    replace_items(container, list(items))
                else:
                    refill(container, items)  # type: ignore[arg-type]

        return restore

    def _uncopied(self) -> set[int]:
        """The ids of the containers a rollback puts back by `SavedLength`, not a copy."""
        return {key for key, ref in self._held.items() if isinstance(ref(), SavedLength)}

    def _saved(self, copy: _C) -> _C:
        # Of a type of our own: never taken for a registry by the next module's look,
        # and read as a known place by its near look (each copy holds every entry, of
        # every module: taken for registries, the copies of copies doubled per module).
        key = id(copy)

        def gone(_: weakref.ref[Any]) -> None:
            self._copies.pop(key, None)
            self._counted.pop(key, None)

        self._copies[key] = weakref.ref(copy, gone)
        return copy

    def _counts(self) -> list[tuple[int, Mapping[int, int]]]:
        """(id, how many times it holds each id) of each copy alive: a copy holds every
        entry of a registry the plan's modules share, and each module's near look read
        it whole (N plugins, N times N). Counted once; a copy only ever grows (the values
        a module takes out of a long dict), so its length tells when to count again."""
        counts: list[tuple[int, Mapping[int, int]]] = []
        for key, ref in list(self._copies.items()):
            copy = ref()
            if copy is None:
                continue
            known = self._counted.get(key)
            if known is None or known[0] != len(copy):
                ids = (
                    (*map(id, copy.keys()), *map(id, copy.values()))
                    if isinstance(copy, dict)
                    else map(id, copy)
                )
                known = self._counted[key] = (len(copy), Counter(ids))
            counts.append((key, known[1]))
        return counts

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
        shared: Shares | None = None,
    ) -> Counted:
        """Count the module's entries in its registries before it runs again.

        ``imported``: the modules it imports (where its registries usually are);
        ``importers``: the namespaces of those importing it, live and as they were before
        this reload (``from mod import f`` holds its objects too). ``shared``: the
        transaction's records of the registries its modules share (`Shared`).

        Returns the step to run once the whole plan has executed (twins replaced,
        entries of the previous version removed), if the module registers anything, and
        what a rollback takes out (`Counted`).
        """
        change = _Change.between(module, self._running.get(module, frozenset()), names, old)
        objects, gone, present = registered_objects(
            change.registers | change.dropped, change.dropped, old, module
        )
        # (names it registers anew: first entries in a list go where a fresh import
        # puts them)
        first = {global_of(n) for n in change.anew}
        if first and shared is not None:
            shared.later.append(self._first_entries(module, first, objects, imported(), shared))
        if not objects:
            return Counted(None, self._take_out(module, {}, set(), change.fresh, old, internal))
        ids = {id(o) for o in objects}
        adapted = frozenset(self._adapted())
        found, take_out = self._holders(
            module,
            objects,
            ids,
            present,
            adapted,
            near=lambda: [*near_namespaces(module, old, imported()), *importers()],
            internal=internal,
            old=old,
            tallies=shared.tallies if shared is not None else None,
            change=change,
        )
        if not found[0] and not found[1]:
            return Counted(None, take_out)
        fewer = {i for name in change.narrow for i in present.get(name, ())}
        count = _Count(
            module,
            ids,
            old,
            adapted,
            found,
            change=change,
            present=present,
            gone=(gone, fewer),
            imported=imported,
            places=(self._slots, self._keys),
        )
        self._note(count, shared, fewer)
        return Counted(count.settle, take_out)

    def _note(self, count: _Count, shared: Shares | None, fewer: set[int]) -> None:
        """Count the module's entries, and note what `take_back` takes out before it
        runs: its entries in the dicts it reaches, and those of names it registers in
        fewer places (``fewer``: their ids) in the sets it reaches."""
        count.note(shared, self._taken)
        if count.taken:
            self._taking[count.module] = count.taken
        if fewer:  # (its run adds them back where it still registers them)
            sets = [c for c in count.containers if type(c) is set and id(c) in count.reach]
            if sets:
                self._unsetting[count.module] = (sets, fewer)

    def _first_entries(
        self,
        module: str,
        names: set[str],
        objects: list[Any],
        imported: Iterable[ModuleType],
        shared: Shares,
    ) -> Callable[[Patcher, list[Callable[[], None]]], None]:
        """Once every registry was settled: the module's objects bound to ``names``
        (new registrants of its source) that it appended to a list where it had no
        entry before it ran go where a fresh import puts them (`first_places`), not at
        the end. The lists looked at: those of the modules it imports, and the
        registries known."""
        had = set(map(id, objects))
        if shared.lists is None:  # (once per transaction: N modules, N known each)
            shared.lists = {
                id(c): c for _, (found, _) in self._known.values() for c in found if type(c) is list
            }
        places = dict(shared.lists)
        for source in imported:
            places.update((id(v), v) for v in vars(source).values() if type(v) is list)
        lists = [
            c for c in places.values() if len(c) <= REGISTRY_MAX and had.isdisjoint(map(id, c))
        ]

        def place(patcher: Patcher, undo: list[Callable[[], None]]) -> None:
            live = sys.modules.get(module)
            if live is None:
                return
            namespace = vars(live)
            ids = {id(namespace[n]) for n in names if n in namespace}
            defined = {module: names}
            for container in lists:
                if ids.isdisjoint(map(id, container)):
                    continue
                # (and the earlier objects of a name defined several times: unbound)
                ids.update(id(e) for e in container if defined_in(e, defined))
                mine = [e for e in container if id(e) in ids]
                rest = [e for e in container if id(e) not in ids]
                placed = first_places(rest, {module: mine}, shared.homes(), shared.order)
                if any(a is not b for a, b in zip(placed, container, strict=True)):
                    items = list(container)
                    undo.append(lambda c=container, i=items: replace_items(c, i))  # type: ignore[misc]
                    replace_items(container, placed)

        return place

    def _taken(
        self, module: str, container: dict[Any, Any], ids: set[int], record: Shared | None
    ) -> Taken:
        """The module's entries in a dict registry it reaches, to take out: those of a
        dict longer than a registry at the keys the last reload found, if they still
        hold its objects; of one the transaction's modules share (``record``), where
        its first look found them, if they still do."""
        place = (module, id(container))
        if len(container) <= REGISTRY_MAX:
            found = Taken.shared(container, ids, record) if record is not None else None
            entry = found or Taken(container, ids)
            self._keys[place] = list(entry.taken)
            return entry
        if place in self._data:
            return Taken(container, ids, ())
        keys = self._keys.get(place)
        if keys and Taken.holding(container, ids, keys):
            return Taken(container, ids, keys)
        entry = Taken(container, ids)
        if len(entry.taken) > REGISTRY_MAX:
            # (no module's run registers that many: the program put them there as it
            # ran, a table of millions of keys mapping to the module's handler, and a
            # fresh import of the module would not take them out of it)
            self._data.add(place)
            return Taken(container, ids, ())
        self._keys[place] = list(entry.taken)
        return entry

    def _holds(self, module: str, container: Container, ids: set[int]) -> bool:
        """Whether a container still holds one of the module's objects (at the keys or
        places the last reload found, if it does: a registry N plugins share was read
        whole by each)."""
        place = (module, id(container))
        keys = self._keys.get(place)
        if keys and type(container) is dict and Taken.holding(container, ids, keys):
            return True
        if type(container) is list:
            slots = self._slots.get(place)
            if slots and _holding(container, ids, slots):
                return True
            mine = map(ids.__contains__, map(id, container))
            slots = self._slots[place] = list(itertools.compress(itertools.count(), mine))
            return bool(slots)
        return holds_any(container, ids)

    def take_back(self, module: str) -> None:
        """Take the module's entries out of the dict registries `before` found it can
        reach, and those of names it registers in fewer places out of the sets (after
        `held` saved them for a rollback)."""
        for entry in self._taking.pop(module, ()):
            entry.take()
        sets, ids = self._unsetting.pop(module, ((), set()))
        for container in sets:
            container.difference_update([e for e in container if id(e) in ids])

    def _holders(
        self,
        module: str,
        objects: list[Any],
        ids: set[int],
        present: Mapping[str, list[int]],
        adapted: frozenset[str],
        *,
        near: Callable[[], list[Mapping[str, Any]]],
        internal: Callable[[], set[int]],
        old: Mapping[str, Any],
        tallies: Tallies | None,
        change: _Change,
    ) -> tuple[Found, Callable[[], None] | None]:
        """The registries holding the module's objects (containers, wrapping ones),
        as found by the last scan, or scanned again; and how a rollback takes out
        what the run registers where nothing held it before (`_taking_out`).

        Scanned again when an object registered since the last scan exists now, or when
        the registries found then no longer hold any of them. None found is remembered
        too: a heap walk per reload would cost more than the reload. The registrants the
        new source registers and the running version did not (``change.anew``: a
        decorator put on a function it had) are registered by the run that follows this
        look, maybe where it found nothing, so the next reload looks again. A rollback
        takes out what the run registered of those no registry held, of
        ``change.wide`` (those of them registered before, in fewer places than now) and
        of ``change.fresh`` (`_take_out`).
        """
        seen, (containers, wrapping), alive = self._known_alive(module)
        classes, kinds = change.classes, change.kinds
        if (
            not present.keys() <= seen
            or not alive
            or self._moved(module, (containers, wrapping), ids, (adapted, kinds), near)
        ):
            found = near_containers(
                objects, near(), adapted, self._recorded(), self._counts(), tallies
            )
            containers, wrapping = (
                found
                if found is not None
                else find_containers(objects, internal(), adapted, classes)
            )
            bound = set(map(id, old.values()))
            self._own[module] = {id(c) for c in containers if id(c) in bound}
            seen = frozenset(present)
            self._remember(module, (seen, (containers, wrapping)))
            for container in containers:
                if type(container) is list and len(container) > REGISTRY_MAX:
                    # (a program's long list: its places holding the module's objects,
                    # read once now, spare the settle after the run its reads in full)
                    self._holds(module, container, ids)
        mine = {name: present[name] for name in change.anew & seen if name in present}
        missing: set[str] = set()
        if mine:
            # (the places the run puts them in are found by the next look: those found
            # now may be the program's own, or the places a name is put in besides)
            self._remember(module, (seen - mine.keys(), (containers, wrapping)))
            missing = unheld(mine, containers, tallies) | (change.wide & mine.keys())
        take_out = self._take_out(module, mine, missing, change.fresh, old, internal)
        return (containers, wrapping), take_out

    def _known_alive(self, module: str) -> tuple[frozenset[str], Found, bool]:
        """What the last scan found for the module, less a container of its own that
        only we hold now (its run made another, which holds the kept objects as it made
        it); and whether something but our records holds each container left (another
        module's, made again by that module, a registry module reloaded: its new one is
        looked for)."""
        seen, (containers, wrapping) = self._known.get(module, (frozenset(), ([], [])))
        alive = self._alive(containers)
        if len(alive) != len(containers):
            gone = {id(c) for c in containers} - set(map(id, alive))
            if gone <= self._own.get(module, set()):
                self._remember(module, (seen, (alive, wrapping)))
                return seen, (alive, wrapping), True
            return seen, (containers, wrapping), False
        return seen, (containers, wrapping), True

    def _moved(
        self,
        module: str,
        found: Found,
        ids: set[int],
        wrapped: tuple[frozenset[str], frozenset[str]],
        near: Callable[[], list[Mapping[str, Any]]],
    ) -> bool:
        """Whether the registries the last scan found may no longer be where the
        module's objects are: none holding any of them, or a dict beside a dispatch
        registry not known. (``wrapped``: the packages adapted, and the module's
        classes whose instances it registers, for `wrapped_names`.)"""
        containers, wrapping = found
        return bool(
            (containers and not any(self._holds(module, c, ids) for c in containers))
            or (
                wrapping
                and not any(wrapped_names(e, module, *wrapped) for c in wrapping for e in c)
            )
            or (
                any(type(c) is dict for c in containers)
                and unknown_dispatch_registry(near(), ids, set(map(id, containers)))
            )
        )

    def _take_out(
        self,
        module: str,
        present: Mapping[str, list[int]],
        missing: set[str],
        fresh: frozenset[str],
        old: Mapping[str, Any],
        internal: Callable[[], set[int]],
    ) -> Callable[[], None] | None:
        """How a rollback takes out what the run registers of ``missing`` (held by no
        registry before it: wherever a failed run put them) and of ``fresh`` (registrant
        names of globals the module did not bind before), if any."""
        if not missing and not fresh:
            return None
        ids = {oid for name in missing for oid in present[name]}
        names = {global_of(name) for name in missing}
        return _taking_out(
            module, ids, names, fresh, set(map(id, old.values())), internal(), self._uncopied
        )


class _Change(NamedTuple):
    """How a module's registrant names change from its running version to its new
    source (`_registrants`)."""

    registers: frozenset[str]  # the new source's registrant names, sites left out
    dropped: frozenset[str]  # registered by the running version, not by the new one
    # registered where they were not: a new name, or a new decorator on one
    anew: frozenset[str]
    narrow: frozenset[str]  # still registered, in fewer places (`site_changes`)
    wide: frozenset[str]  # registered in places the running version did not use
    fresh: frozenset[str]  # names of globals it binds anew: a failed run leaves nothing
    # the module's own classes an instance of which it registers (`NEW`), and their
    # qualified names (`wrapped_names`)
    classes: tuple[type, ...]
    kinds: frozenset[str]

    @classmethod
    def between(
        cls, module: str, running: frozenset[str], names: frozenset[str], old: Mapping[str, Any]
    ) -> _Change:
        """The change from ``running`` to ``names`` (``old``: the namespace before)."""
        narrow, wide = site_changes(running, names)
        found = (old.get(name) for name in instances(names))
        classes = tuple(c for c in found if is_class(c) and c.__module__ == module)
        kinds = frozenset(c.__qualname__ for c in classes)
        running, names = without_sites(running), without_sites(names)
        anew = (names - running if running else names) | wide
        fresh = frozenset(name for name in names if global_of(name) not in old)
        return cls(names, running - names, anew, narrow, wide, fresh, classes, kinds)


class Counted(NamedTuple):
    """What `Registries.before` counted of a module about to run again."""

    # The step settling its registries once the whole plan has run, if it has any.
    settle: Callable[[Patcher, list[Callable[[], None]]], None] | None
    # What a rollback takes out: objects the run registers where no registry held them
    # before (a decorator newly put on a function), wherever a failed run put them.
    take_out: Callable[[], None] | None


class _Count:
    """A module's entries in its registries, counted before it runs again (`note`), and
    the step settling them once the whole plan has run (`settle`)."""

    def __init__(
        self,
        module: str,
        ids: set[int],
        old: Mapping[str, Any],
        adapted: frozenset[str],
        found: Found,
        *,
        change: _Change,
        present: Mapping[str, list[int]],
        gone: tuple[set[int], set[int]],
        imported: Callable[[], Iterable[ModuleType]],
        places: tuple[dict[tuple[str, int], list[int]], dict[tuple[str, int], list[Any]]],
    ) -> None:
        # ``present``: the registrants bound before the run, with the ids of their
        # objects; ``gone``: the ids of those it no longer registers, and of those it
        # registers in fewer places; ``places``: `Registries._slots` and
        # `Registries._keys`.
        self.module = module
        self.registrants = present.keys() & change.registers
        # Names the module defines and may register (a name defined several times: the
        # previous version's other objects of it are bound to no name, and go), and
        # those it no longer registers (their other objects go with the bound one).
        self.defined = {global_of(n) for n in change.registers if n.startswith(DEFINED)}
        self.stopped = {global_of(n) for n in change.dropped if n.startswith(DEFINED)}
        self.ids = ids
        self.old = old
        self.adapted = adapted
        self.classes = change.kinds
        self.containers, self.wrapping = containers, wrapping = found
        dropped, fewer = gone
        # (the ids of the containers the module reaches: `_reach`)
        self.dispatchers, self.reach = _reach(containers, dropped | fewer, old, imported)
        self.gone_in = [_gone_in(c, dropped, fewer, self.reach) for c in containers]
        self.slots, self.keys = places
        self.records: list[Shared] = []
        self.taken: list[Taken] = []
        self.seen: list[Seen | None] = []
        # The previous version's wrapped entries (held: their ids must stay theirs).
        # (a list longer than a registry is read only if the run appended to it: its
        # first entries are then those it had)
        self.earlier = [
            [e for e in c if wrapped_names(e, module, adapted, self.classes)]
            if len(c) <= REGISTRY_MAX
            else None
            for c in wrapping
        ]
        self.lengths = [len(c) for c in wrapping]
        # (a container longer than a registry that the run leaves as long: a program's
        # data holding the module's objects, to be read only if the run registered there)
        self.sizes = [len(c) if len(c) > REGISTRY_MAX else -1 for c in (*containers, *wrapping)]

    def note(
        self,
        shared: Shares | None,
        taking: Callable[[str, dict[Any, Any], set[int], Shared | None], Taken],
    ) -> None:
        """Note the registries the transaction's modules share (``shared``), what the
        module takes out of the dicts it reaches before it runs (``taking``: how), and
        each list as it is now."""
        module, ids = self.module, self.ids
        if shared is not None:
            going = self.defined | self.stopped
            self.records = [
                Shared.note(shared, c, module, ids, gone, going)
                for c, gone in zip(self.containers, self.gone_in, strict=True)
                if len(c) <= REGISTRY_MAX
            ]
        noted = {id(r.container): r for r in self.records}
        # A dict registry it reaches so loses the entries holding its objects before it
        # runs (`Registries.take_back`), as on a fresh import: the run puts back what it
        # registers, under the keys it registers them with now (a key renamed, a
        # duplicate refused).
        taken = [
            taking(module, c, ids, noted.get(id(c)))
            for c in self.containers
            if isinstance(c, dict) and id(c) in self.reach
        ]
        self.taken = [entry for entry in taken if entry.taken]
        # A list as it was, by ids: what the run appends to it is what it registers there
        # (counted from them when a module settles on its own: rarely).
        looked = {k: r for k, r in noted.items() if type(r.container) is list}
        self.seen = [_seen(c, looked, module) for c in self.containers]

    def settle(self, patcher: Patcher, undo: list[Callable[[], None]]) -> None:
        """Replace twins by kept objects and remove the previous version's entries."""
        # (a registry the plan's modules share, settled at once for all: each of
        # them read it whole, and a plan of N plugins took N times N steps)
        done = {id(r.container) for r in self.records if r.settled(patcher, undo)}
        everything = (*self.containers, *self.wrapping)
        done.update(id(c) for c, n in zip(everything, self.sizes, strict=True) if len(c) == n)
        mine = [
            i
            for i, c in enumerate(self.containers)
            if id(c) not in done and not self._cut_back(i, patcher, undo)
        ]
        if mine:
            self._settle_own(mine, patcher, undo)
        for entry in self.taken:
            if id(entry.container) not in done:
                entry.in_order(undo)
            if len(entry.container) != entry.size:  # (other keys now: read it again)
                self.keys.pop((self.module, id(entry.container)), None)
        for clear in self.dispatchers.values():
            clear()  # (a type dispatched before may be cached with a removed function)
            undo.append(clear)
        wrapped = zip(self.wrapping, self.earlier, self.lengths, strict=True)
        for container, entries, length in wrapped:
            if id(container) in done:
                continue
            if entries is None:
                before = itertools.islice(container, length)
                entries = [
                    e for e in before if wrapped_names(e, self.module, self.adapted, self.classes)
                ]
            settle_wrapped(container, entries, self.module, self.adapted, undo, self.classes)

    def _settle_own(
        self, mine: list[int], patcher: Patcher, undo: list[Callable[[], None]]
    ) -> None:
        """Settle the containers at ``mine`` on the module's own (no record settled them)."""
        module, ids, containers = self.module, self.ids, self.containers
        previous: dict[int, list[int] | None] = {}
        for i in mine:
            look = self.seen[i]
            previous[i] = None if look is None else look.ids()
        successors = successors_of(self.registrants, self.old, module, patcher)
        # (a name it stopped registering: its other objects go where its bound one goes)
        stops = [self.stopped if self.gone_in[i] else set() for i in mine]
        older = [
            earlier_twins(containers[i], previous[i], ids, module, self.defined, stop)
            for i, stop in zip(mine, stops, strict=True)
        ]
        everyone = ids.union(*older)
        settle_containers(
            [containers[i] for i in mine],
            [count_held(previous[i] or (), everyone) for i in mine],
            everyone,
            [self.gone_in[i] | more for i, more in zip(mine, older, strict=True)],
            patcher,
            undo,
            successors,
            [previous[i] for i in mine],
            module,
        )
        for i in mine:  # (its places moved: found again when next needed)
            container, place = containers[i], (module, id(containers[i]))
            if type(container) is list and len(container) > REGISTRY_MAX:
                # (a program's long list, read whole here already: read once more, in C,
                # so that the next reload finds the entries at their places, not by a
                # read of its own)
                held = map(ids.__contains__, map(id, container))
                self.slots[place] = list(itertools.compress(itertools.count(), held))
            else:
                self.slots.pop(place, None)

    def _cut_back(self, i: int, patcher: Patcher, undo: list[Callable[[], None]]) -> bool:
        """Cut back container ``i`` if it is a list longer than a registry that the run
        appended the module's entries to again, as they are at the places the last
        reload found them (read at those places and what was appended only); False if
        it is not so."""
        container, count = self.containers[i], self.sizes[i]
        slots = self.slots.get((self.module, id(container)))
        if (
            not slots
            or self.gone_in[i]
            or type(container) is not list
            or len(container) <= count
            or slots[-1] >= count
            or not _holding(container, self.ids, slots)
        ):
            return False
        previous = [id(container[place]) for place in slots]
        return cut_back(container, count, previous, patcher.canonical, undo)


def _taking_out(
    module: str,
    ids: set[int],
    names: set[str],
    fresh: frozenset[str],
    bound: set[int],
    internal: set[int],
    uncopied: Callable[[], set[int]],
) -> Callable[[], None]:
    """How a rollback takes the module's objects ``ids`` (none of them in a registry
    before the run), bound to some of the globals ``names``, out of the lists, sets and
    dicts its failed run put them in (found by a walk of the heap, then: a failure is
    rare), but those the run made itself (bound in its namespace now, not in ``bound``
    before); and the functions and classes of the module the run bound ``names`` to
    instead (a class whose bases changed is a new class, and ``__init_subclass__``
    registered it). Of the registrant names ``fresh`` (globals the module did not bind
    before), what the run bound: the module's functions and classes, what a ``def`` or
    ``class`` statement bound that wraps one (a class-based decorator's instance), and
    the entries of lists wrapping one (``ROUTES.append(Route("/", home))``). Not out of
    the containers too long to be copied for the rollback (``uncopied``, by id): what
    the run added to those goes by their `SavedLength`."""

    def take_out() -> None:
        live = sys.modules.get(module)
        namespace = vars(live) if live is not None else {}
        objects = [
            value
            for value in (namespace.get(n, MISSING) for n in names)
            if id(value) in ids or _own(value, module)
        ]
        made = [
            value
            for name in fresh
            for value in [namespace.get(global_of(name), MISSING)]
            if id(value) not in bound
            and (
                _own(value, module)
                or (name.startswith(DEFINED) and bool(wrapped_names(value, module, frozenset())))
            )
        ]
        own = {id(v) for v in namespace.values()} - bound  # (go with the namespace)
        _take_from_heap(objects, made, internal | own | uncopied())

    return take_out


def take_out_modules(modules: Iterable[ModuleType], internal: set[int]) -> None:
    """On a rollback: take the functions and classes of the modules the failed run
    imported first (they go from ``sys.modules``), what a ``def`` or ``class`` statement
    of theirs bound that wraps one, and the list entries wrapping those, out of the
    registries they were put in (one walk of the heap)."""
    made: list[Any] = []
    skip = set(internal)
    for module in modules:
        namespace, name = vars(module), module.__name__
        skip.add(id(namespace))
        made += [
            value
            for value in namespace.values()
            if _own(value, name) or wrapped_names(value, name, frozenset())
        ]
    _take_from_heap([], made, skip)


def _take_from_heap(objects: list[Any], made: list[Any], internal: set[int]) -> None:
    """Take ``objects`` and ``made`` out of the lists, sets and dicts holding them (but
    ``internal`` ones, by id), and the entries of lists wrapping one of ``made``, an
    instance of one of its classes among them (a wrapper of an object from before may
    be the program's)."""
    if not objects and not made:
        return
    internal = internal | {id(objects), id(made)}
    # (the instances of a class the failed run made are its registrations too)
    classes = [c for c in made if is_class(c)]
    containers, wrapping = find_containers([*objects, *made], internal, frozenset(), classes)
    going = set(map(id, objects)) | set(map(id, made))
    for container in containers:
        if isinstance(container, dict):
            if _attributes(container):
                continue
            for key in [k for k, v in container.items() if id(k) in going or id(v) in going]:
                del container[key]
        elif isinstance(container, set):
            container.difference_update([e for e in container if id(e) in going])
        else:
            replace_items(container, [e for e in container if id(e) not in going])
    new = set(map(id, made))
    for listed in wrapping if new else ():
        if any(wraps_any(e, new) for e in listed):
            replace_items(listed, [e for e in listed if not wraps_any(e, new)])


def _own(value: Any, module: str) -> bool:
    """Whether ``value`` is a function or class of ``module``."""
    return isinstance(value, (FunctionType, type)) and value.__module__ == module


def _attributes(container: dict[Any, Any]) -> bool:
    """Whether a dict is the attributes of a class or another object, not a registry
    (a class attribute may name a function: ``on_save = handler``)."""
    return any(
        is_class(owner) or getattr(owner, "__dict__", None) is container
        for owner in gc.get_referrers(container)
        if not isinstance(owner, (dict, list, tuple, set, frozenset))
    )


def _reach(
    containers: list[Any],
    gone: set[int],
    old: Mapping[str, Any],
    imported: Callable[[], Iterable[ModuleType]],
) -> tuple[dict[int, Callable[[], None]], set[int]]:
    """The singledispatch functions whose registries (dicts) are among ``containers``,
    by registry (their caches go after the run), and the containers the module reaches
    through its imports. Only such a registry loses an entry because the new source
    stopped registering (``gone``); a list the program keeps (callbacks it collected
    itself) is left alone. The namespaces are read only when needed."""
    dicts = {id(c) for c in containers if type(c) is dict}
    dispatchers = dispatch_caches([old, *map(vars, imported())], dicts) if dicts else {}
    reach = reachable_containers(imported()) | dispatchers.keys() if gone or dicts else set()
    if gone:  # (a list under a key of a dict it reaches: read only when one would lose one)
        further = {id(c) for c in containers if type(c) in (list, set, deque)} - reach
        if further:
            reach |= nested_containers(imported(), further)
    return dispatchers, reach


def _gone_in(container: Container, gone: set[int], fewer: set[int], reach: set[int]) -> set[int]:
    """The ids of the module's objects whose entries in ``container`` go unless its run
    registers them there again: those of the names it stopped registering (``gone``),
    and in a list those of the names it registers in fewer places (``fewer``: a set
    loses them before the run, `Registries.take_back`). Only in a container it reaches
    (``reach``): one the program keeps is left alone."""
    if id(container) not in reach:
        return set()
    return gone | fewer if isinstance(container, (list, deque)) else gone


def _seen(container: Container, looked: Mapping[int, Shared], module: str) -> Seen | None:
    """How ``module`` sees a list before it runs (`Seen`); None for any other container."""
    record = looked.get(id(container))
    if record is not None:
        return record.look(module)
    if type(container) is list and len(container) > REGISTRY_MAX:
        return Seen.later(container)
    if isinstance(container, (list, deque)):
        return Seen(len(container), [*map(id, container)])
    return None


def _holding(container: list[Any], ids: set[int], slots: list[int]) -> bool:
    """Whether each of ``slots`` of ``container`` still holds one of ``ids``."""
    return slots[-1] < len(container) and all(id(container[p]) in ids for p in slots)


def _values(entry: Taken | None, known: Mapping[Any, Any]) -> dict[Any, Any]:
    """The values a module is about to take out of a dict (those not saved already)."""
    if entry is None:
        return {}
    container = entry.container
    return {k: container[k] for k in entry.taken if k in container and k not in known}
