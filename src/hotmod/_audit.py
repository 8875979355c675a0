"""After a commit: previous versions of functions and classes still reachable (``report.stale``).

Only objects whose identity could not be kept are looked at (a class whose layout
changed, a function whose closure changed, a definition deleted from the source), and
only those something else still holds. The usual holder is a registry the program keeps
in a module global or in an attribute of one (``HANDLERS``, ``app.view_functions``):
those are read first, directly, and what is found there is held for certain, with no
garbage collection. For the rest, finding who holds them asks the garbage collector, at
most twice per reload whatever their number: once for the holders, once for the owners
of holders that are containers, so that a holder reads like
``Flask.view_functions['blog.index']``. Whether anything holds them at all is told by
reference counts, less the references an object's own parts make (a class's
``__mro__``, descriptors and ``__class__`` cell).

A function kept in place gets new code, but calls already under way keep the previous
one: `find_running` lists the threads' frames and the paused generators and coroutines
still running it.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Set
from types import (
    AsyncGeneratorType,
    CellType,
    CodeType,
    CoroutineType,
    FrameType,
    FunctionType,
    GeneratorType,
    MethodType,
    ModuleType,
)
from typing import Any, TypeVar

from ._closures import BEHAVIOUR
from ._patch import is_class, is_function
from ._reach import instances_of, reach, referents, referrers, without_instances

__all__ = ["CodeHistory", "Reported", "find_running", "find_stale", "own_references"]

_Pair = TypeVar("_Pair", bound=tuple[str, Any])  # (name, object) looked at
_CONTAINER_TYPES = (dict, list, tuple, set, frozenset)
_CONTAINERS = frozenset(map(id, _CONTAINER_TYPES))  # (by id: a class may be unhashable)


_SCAN_AT_MOST = 50_000  # entries read in module globals before asking the collector
_GRACE = 0.02  # seconds other threads get to drop what they are letting go of


def find_stale(
    discarded: list[tuple[str, Any]],
    forget: Callable[[], bool] | None = None,
    namespaces: Callable[[set[str]], Iterable[tuple[str, dict[str, Any]]]] | None = None,
) -> list[str]:
    """``"pkg.mod.f (previous code) held by <holder>"`` for each discarded object still held.

    ``forget`` drops hotmod's own caches of what the garbage collection just freed (the
    registries' containers), before the holders are looked for; True if it dropped any.
    ``namespaces(modules)``: the program's module namespaces (name, dict), those near
    ``modules`` (the discarded objects' own) first; their globals are looked at first.
    """
    discarded = discarded + _members(discarded)
    expected = _expected(discarded)
    suspects = _still_held(discarded, expected)
    if not suspects:
        return []
    out: list[str] = []
    if namespaces is not None:
        owners = {getattr(obj, "__module__", None) or "" for _, obj in suspects}
        found = _held_by_globals(suspects, namespaces(owners))
        # (no loop variable left bound to a suspect: its reference would count)
        out += [
            f"{name} (previous code) held by {', '.join(found[id(obj)][:3])}"
            for name, obj in suspects
            if id(obj) in found
        ]
        suspects = [pair for pair in suspects if id(pair[1]) not in found]  # same pairs
        if not suspects:
            return out
    held, holders = _collect_and_find(discarded, suspects, expected, forget)
    if holders:
        # Another thread may be letting go right now (an event loop tidying up a request
        # that has just been answered still holds its scope): look once more, a moment
        # later, our caches pruned again (what it let go may be held by them alone).
        # Only a reload that reports stale code pays for it (instances alone: no pause).
        time.sleep(_GRACE)
        held, _ = _collect_and_find(discarded, suspects, expected, forget)
    return out + held


class CodeHistory:
    """The previous codes of kept functions, across reloads, while something still runs
    them: weak references, so a code nothing runs any more drops out by itself.

    A call that started before a save that only moved its function (lines added above
    it) runs code equal to the function's but for positions; once a later save changes
    the function, that call runs previous code, though not the code just replaced.
    """

    def __init__(self) -> None:
        self._codes: weakref.WeakKeyDictionary[FunctionType, list[weakref.ref[CodeType]]]
        self._codes = weakref.WeakKeyDictionary()

    def previous(
        self, replaced: list[tuple[FunctionType, str, CodeType]]
    ) -> list[tuple[str, CodeType]]:
        """Note what a committed reload replaced; return ``(name, code)`` for each
        previous code of those functions still alive that does more than move what
        the function's code now does."""
        out: list[tuple[str, CodeType]] = []
        for func, name, code in replaced:
            refs = [ref for ref in self._codes.get(func, ()) if ref() is not None]
            refs.append(weakref.ref(code))
            self._codes[func] = refs
            out += [
                (name, old)
                for ref in refs
                if (old := ref()) is not None and not _moved(old, func.__code__)
            ]
        return out


class Reported:
    """Previous versions reported held, by module, while they live (weak references).

    A later reload of their module reports each again while it is still held (its
    reference count tells, as for `find_stale`), with the holder named the first time:
    its log must not say "reloaded" alone while old code is served, and naming the
    holder again would walk the heap on every reload.
    """

    def __init__(self) -> None:
        self._by_module: dict[str, list[tuple[weakref.ref[Any], str, str]]] = {}

    def note(
        self, discarded: list[tuple[str, Any]], modules: Mapping[str, str], lines: list[str]
    ) -> None:
        """Remember the ``discarded`` objects ``lines`` report, under their ``modules``."""
        for name, obj in discarded:
            line = next((x for x in lines if x.startswith(f"{name} (previous code)")), None)
            if line is None:
                continue
            try:
                ref = weakref.ref(obj)
            except TypeError:
                continue
            self._by_module.setdefault(modules[name], []).append((ref, name, line))

    def again(self, modules: Iterable[str]) -> list[str]:
        """The lines of the previous versions of ``modules`` reported before and held still."""
        out: list[str] = []
        if not self._by_module:
            return out  # (the usual case)
        for module in modules:
            records = [r for r in self._by_module.pop(module, ()) if r[0]() is not None]
            if not records:
                continue
            self._by_module[module] = records
            pairs = [(name, ref()) for ref, name, _ in records]  # (alive: just checked)
            held = {id(pair[1]) for pair in _still_held(pairs, _expected(pairs))}
            out += [r[2] for r, pair in zip(records, pairs, strict=True) if id(pair[1]) in held]
            del pairs
        return out


def find_running(replaced: list[tuple[str, CodeType]]) -> list[str]:
    """``"pkg.mod.f (previous code) running in thread 'T', line N"`` for each frame of a
    thread executing a function whose code the reload replaced, and ``"... suspended in
    a coroutine, line N"`` for a generator or coroutine paused in one: each keeps the
    previous code until it returns (a loop in it never sees the edit).

    Threads' frames are read directly. A paused generator or coroutine is looked for (a
    walk of the heap) only when a previous code has more references than those frames.
    """
    if not replaced:
        return []
    names = {id(code): name for name, code in replaced}
    out, running = _running(names)
    paused = _still_held(replaced, running)
    if paused:
        out += _paused(tuple(code for _, code in paused), names)
    return out


def _running(names: dict[int, str]) -> tuple[list[str], dict[int, int]]:
    """What the threads' frames run of ``names`` (by code id), and how many frames run
    each code."""
    threads = {t.ident: t.name for t in threading.enumerate()}
    # No frame is kept past this line: this very one is among them, and a frame that
    # refers to itself would keep the previous codes its callers hold until the next
    # collection (and the next reload's audit would walk the heap for them).
    stacks = [
        (threads.get(ident, str(ident)), _stack(frame))
        for ident, frame in sys._current_frames().items()
    ]
    out: list[str] = []
    running: dict[int, int] = {}
    for where, stack in stacks:
        for code, line in stack:
            name = names.get(id(code))
            if name is not None:
                running[id(code)] = running.get(id(code), 0) + 1
                out.append(f"{name} (previous code) running in thread {where!r}, line {line}")
    return out, running


def _stack(frame: FrameType | None) -> list[tuple[CodeType, int]]:
    stack = []
    while frame is not None:
        stack.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return stack


# Objects that resume paused code: the attribute holding it, their frame, their name.
_RESUMABLE = {
    GeneratorType: ("gi_code", "gi_frame", "a generator"),
    CoroutineType: ("cr_code", "cr_frame", "a coroutine"),
    AsyncGeneratorType: ("ag_code", "ag_frame", "an async generator"),
}


def _paused(codes: tuple[CodeType, ...], names: dict[int, str]) -> list[str]:
    """The generators and coroutines paused in one of ``codes``."""
    out: list[str] = []
    for ref in referrers(codes):
        kind = _RESUMABLE.get(type(ref))
        if kind is None:
            continue  # (a module's code holding it as a constant, a function copy)
        code_attr, frame_attr, label = kind
        name = names.get(id(getattr(ref, code_attr)))
        frame = getattr(ref, frame_attr)
        if name is not None and frame is not None:  # (no frame: finished)
            out.append(f"{name} (previous code) suspended in {label}, line {frame.f_lineno}")
    return out


def _moved(old: CodeType, new: CodeType) -> bool:
    """Whether ``new`` is ``old`` at other lines (an edit above it): a call running
    ``old`` behaves as one running ``new`` would, its positions aside."""
    if old is new:
        return True
    if any(getattr(old, a) != getattr(new, a) for a in BEHAVIOUR):
        return False
    if len(old.co_consts) != len(new.co_consts):
        return False
    for mine, theirs in zip(old.co_consts, new.co_consts, strict=True):
        if isinstance(mine, CodeType) and isinstance(theirs, CodeType):
            if not _moved(mine, theirs):
                return False
        elif type(mine) is not type(theirs) or mine != theirs:
            return False
    return True


def _held_by_globals(
    suspects: list[tuple[str, Any]], namespaces: Iterable[tuple[str, dict[str, Any]]]
) -> dict[int, list[str]]:
    """``id(obj) -> holders`` for suspects bound to a module global or to an attribute of
    one, or in a container either holds. Stops once every suspect is found, or after
    reading ``_SCAN_AT_MOST`` entries."""
    wanted = {id(obj) for _, obj in suspects}
    found: dict[int, list[str]] = {}
    budget = _SCAN_AT_MOST
    for module, namespace in namespaces:
        for owner, attr, value in reach(module, namespace):
            if id(value) in wanted:
                found.setdefault(id(value), []).append(f"{owner}.{attr}")
            elif id(type(value)) in _CONTAINERS:
                budget -= len(value)
                if budget < 0:
                    return found
                _scan(value, owner, attr, wanted, found)
        if len(found) == len(wanted):
            break
    return found


def _scan(
    container: Any, owner: str, attr: str, wanted: set[int], found: dict[int, list[str]]
) -> None:
    if isinstance(container, dict):
        if wanted.isdisjoint(map(id, container.values())) and wanted.isdisjoint(map(id, container)):
            return
        for key, value in list(container.items()):
            if id(value) in wanted:
                found.setdefault(id(value), []).append(f"{owner}.{attr}[{key!r}]")
            if id(key) in wanted:
                found.setdefault(id(key), []).append(f"a key of {owner}.{attr}")
    elif wanted.isdisjoint(map(id, container)):
        return
    elif isinstance(container, (list, tuple)):
        for index, value in enumerate(container):
            if id(value) in wanted:
                found.setdefault(id(value), []).append(f"{owner}.{attr}[{index}]")
    else:
        for value in list(container):
            if id(value) in wanted:
                found.setdefault(id(value), []).append(f"{owner}.{attr}")


def _collect_and_find(
    discarded: list[tuple[str, Any]],
    suspects: list[tuple[str, Any]],
    expected: dict[int, int],
    forget: Callable[[], bool] | None,
) -> tuple[list[str], bool]:
    """What holds the ``suspects``, and whether a holder other than a discarded class's
    own instances was found."""
    # Cyclic garbage (a finished request's context holding an app) is no holder. What
    # the reload itself let go is young: collecting the young generations frees it for
    # the cost of what is young. The whole heap (100 ms for a million objects, five
    # walks of it) is collected only if one walk still finds a suspect held.
    gc.collect(1)
    ignore = _ignored(discarded, suspects)
    holders, instances = _holders(suspects, ignore)
    found = any(holders.values()) or bool(instances)
    del holders, instances  # (what they hold must be free to go in the collection)
    if not found:
        return [], False
    gc.collect()
    if forget is not None and forget():
        gc.collect()  # what our caches let go
    suspects = _still_held(suspects, expected)
    if not suspects:
        return [], False
    ignore = _ignored(discarded, suspects)
    holders, instances = _holders(suspects, ignore)
    containers = [
        ref for refs in holders.values() for ref in refs if isinstance(ref, _CONTAINER_TYPES)
    ]
    ignore.update(id(refs) for refs in holders.values())
    ignore.add(id(containers))
    owners = _owners(containers, ignore)
    out: list[str] = []
    for name, obj in suspects:
        names = sorted({_describe(ref, obj, owners) for ref in holders[id(obj)]})[:3]
        count = instances.get(id(obj), 0)
        if count:  # they run its previous methods: the new class is another one
            names.append(f"{count:,} existing instance{'s' if count > 1 else ''} of it")
        if names:
            out.append(f"{name} (previous code) held by {', '.join(names)}")
    return out, any(holders.values())


def _holders(
    suspects: list[tuple[str, Any]], ignore: set[int]
) -> tuple[dict[int, list[Any]], dict[int, int]]:
    """``id(obj) -> what refers to it``, beside ``ignore``, frames and its instances;
    ``id(cls) -> how many instances of it`` for the discarded classes that have some."""
    objects = tuple(obj for _, obj in suspects)
    holders: dict[int, list[Any]] = {id(obj): [] for obj in objects}
    ignore = ignore | {id(objects)}  # 3.13 sees the call's own argument tuple as a referrer
    refs = referrers(objects)
    classes = [obj for obj in objects if is_class(obj)]
    counts: dict[int, int] = {}
    if classes:
        # A discarded class's instances refer to it (counted, not listed), and there may
        # be millions: they are read one by one only if one refers to another suspect.
        found, refs = refs, without_instances(refs, classes)
        if len(refs) < len(found):
            counts, holding = _instances(found, refs, classes, holders.keys())
            refs += holding
    for ref in refs:
        if id(ref) in ignore or isinstance(ref, FrameType):
            continue
        for held in referents(ref):
            if id(held) in holders and not (is_class(held) and type(ref) is held):
                holders[id(held)].append(ref)  # (an instance of an old class is counted)
    return holders, counts


def _instances(
    found: list[Any], others: list[Any], classes: list[type], suspects: Set[int]
) -> tuple[dict[int, int], list[Any]]:
    """``id(cls) -> its instances`` among ``found`` (the walk's referrers; ``others``,
    those that are no instance), and the instances to read as holders: all of them if
    one refers to a suspect other than its own class, else none."""
    instances = None
    if len(classes) == 1:
        counts = Counter({id(classes[0]): len(found) - len(others)})
    else:
        instances = instances_of(found, classes)
        counts = Counter(map(id, map(type, instances)))
    # An enum's members are instances of it, and part of it (`_parts`).
    counts.subtract(id(type(v)) for cls in classes for v in vars(cls).values() if type(v) is cls)
    counts = +counts  # (only the classes left with some)
    if suspects <= counts.keys():
        return counts, []  # (the usual case: they refer to nothing else to look at)
    if instances is None:
        instances = instances_of(found, classes)
    held = suspects & set(map(id, referents(*instances)))
    return counts, (instances if not held <= counts.keys() else [])


def _functions(cls: type) -> list[FunctionType]:
    found = []
    for member in vars(cls).values():
        func = getattr(member, "__func__", member)
        if is_function(func):
            found.append(func)
    return found


def _excess(obj: Any, expected: int) -> int:
    """The references to ``obj`` beyond the ``expected`` ones: more than `_UNHELD`, and
    something holds it."""
    return sys.getrefcount(obj) - expected


def _still_held(pairs: list[_Pair], expected: Mapping[int, int]) -> list[_Pair]:
    """The ``(name, object)`` pairs whose object has more references than the
    ``expected`` ones (by id) and this look's own."""
    return [p for p in pairs if _excess(p[1], expected.get(id(p[1]), 0)) > _UNHELD]


def _unheld() -> int:
    # What a look at a (name, object) pair in a list counts for an object nothing else
    # holds: the pair, the arguments on the way (one more on 3.10). Measured the way
    # `_still_held` looks: from a list comprehension.
    pairs = [("", object())]
    return [_excess(p[1], 0) for p in pairs][0]  # noqa: RUF015


_UNHELD = _unheld()


def _members(discarded: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """``(name, member)`` for the instances a discarded class holds itself (an enum's
    members, a singleton in a class attribute): part of the class while it holds them,
    but one held elsewhere keeps the class, and its previous methods, in use."""
    out: list[tuple[str, Any]] = []
    for name, cls in discarded:
        if is_class(cls):
            out += [(f"{name}.{attr}", v) for attr, v in vars(cls).items() if type(v) is cls]
    return out


def _expected(discarded: list[tuple[str, Any]]) -> dict[int, int]:
    """``id(obj) -> references to it`` from the discarded objects themselves: a
    discarded class's dict holds its methods and its members; a class refers to itself
    (`own_references`), and a discarded subclass to it (its bases and ``__mro__``)."""
    classes = [obj for _, obj in discarded if is_class(obj)]
    # What each class refers to beside itself: its tp_base (a referent), bases and mro.
    subclassed = Counter(
        id(ref) for c in classes for ref in (*referents(c), *c.__bases__, *c.__mro__[1:])
    )
    expected: dict[int, int] = {}
    for cls in classes:
        for func in _functions(cls):
            expected[id(func)] = expected.get(id(func), 0) + 1
        own = own_references(cls)
        expected[id(cls)] = own[id(cls)] + subclassed[id(cls)]
        for member in (v for v in vars(cls).values() if type(v) is cls):
            expected[id(member)] = own[id(member)]  # (its dict, an enum's maps by name, value)
    return expected


def own_references(cls: type) -> Counter[int]:
    """``id(obj) -> references to it`` from what ``cls`` is made of (its dict and
    `_parts`, each counted once): to the class itself, and to its members.

    One it misses makes an object look held (the collector is asked), never the reverse.
    """
    own = Counter(map(id, vars(cls).values()))
    own.update(id(ref) for part in _parts(cls) for ref in referents(part))
    return own


def _parts(cls: type) -> list[Any]:
    """What a class is made of, each once: its ``__mro__``; the values of its own dict
    (its methods, the descriptors of its slots and ``__dict__``, members that are its
    instances with the dicts they own); the closure cells of the functions those run
    (``super()``'s ``__class__``). They refer back to the class, and hold nothing of it.
    """
    parts: dict[int, Any] = {id(cls.__mro__): cls.__mro__}
    for value in list(vars(cls).values()):
        if value is cls:
            continue
        parts[id(value)] = value
        if type(value) is cls:  # an enum's member
            # Its dict, if it is an object of its own (3.10, or once read on 3.11 and
            # 3.12); otherwise the member holds its attributes itself.
            parts.update((id(ref), ref) for ref in referents(value) if type(ref) is dict)
        for func in _wrapped(value):
            parts.update((id(cell), cell) for cell in func.__closure__ or ())
    return list(parts.values())


def _wrapped(value: Any) -> list[FunctionType]:
    """The functions a class member runs: itself, a static or class method's, a
    property's accessors."""
    if isinstance(value, property):
        found = [value.fget, value.fset, value.fdel]
    else:
        found = [getattr(value, "__func__", value)]
    return [f for f in found if is_function(f)]


def _ignored(discarded: list[tuple[str, Any]], suspects: list[tuple[str, Any]]) -> set[int]:
    ignore = {id(discarded), id(suspects), *(id(p) for p in discarded), *(id(p) for p in suspects)}
    for _, obj in discarded:
        if is_class(obj):
            # What a discarded class is made of refers back to it: not a holder. (Its
            # dict, behind the mappingproxy, holds its methods.)
            ignore.update(map(id, _parts(obj)))
            ignore.update(id(ref) for ref in referents(obj.__dict__))
    return ignore


def _owners(containers: list[Any], ignore: set[int]) -> dict[int, str]:
    """``id(container) -> "Owner.attr"`` for containers held by a module or an object."""
    names: dict[int, str] = {}
    loaded = [
        (m.__dict__, getattr(m, "__name__", "?"))
        for m in list(sys.modules.values())
        if isinstance(getattr(m, "__dict__", None), dict)
    ]
    modules = {id(state): name for state, name in loaded}
    pending = []
    for container in containers:
        if id(container) in modules:
            names[id(container)] = f"the namespace of {modules[id(container)]}"
        else:
            pending.append(container)
    if pending:
        # A module's global first (``holder.HELD``): reading namespaces beats a heap walk.
        wanted = {id(c) for c in pending}
        for namespace, name in loaded:
            for attr, value in list(namespace.items()):
                if id(value) in wanted and id(value) not in names:
                    names[id(value)] = f"{name}.{attr}"
        pending = [c for c in pending if id(c) not in names]
    if not pending:
        return names
    wanted = {id(c) for c in pending}
    ignore = ignore | {id(pending)}
    for owner in referrers(pending):
        if id(owner) in ignore or isinstance(owner, (FrameType, ModuleType)):
            continue
        state = owner if isinstance(owner, dict) else getattr(owner, "__dict__", None)
        if not isinstance(state, dict):
            continue
        for attr, value in state.items():
            if id(value) in wanted and id(value) not in names:
                if id(state) in modules:
                    names[id(value)] = f"{modules[id(state)]}.{attr}"
                elif state is not owner:
                    names[id(value)] = f"{type(owner).__qualname__}.{attr}"
                else:
                    names[id(value)] = str(attr)
    return names


def _describe(ref: Any, obj: Any, owners: dict[int, str]) -> str:
    if isinstance(ref, _CONTAINER_TYPES):
        where = owners.get(id(ref), f"a {type(ref).__qualname__}")
        if isinstance(ref, dict):
            key = next((k for k, v in ref.items() if v is obj), None)
            return where if where.startswith("the namespace") else f"{where}[{key!r}]"
        if isinstance(ref, (list, tuple)):
            index = next((i for i, v in enumerate(ref) if v is obj), None)
            return f"{where}[{index}]"
        return where
    if isinstance(ref, CellType):
        return "a closure"
    if isinstance(ref, MethodType):
        return f"a bound method of a {type(ref.__self__).__qualname__}"
    return f"a {type(ref).__qualname__} object"
