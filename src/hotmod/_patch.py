"""Keeping identity: update old functions and classes in place with the new definitions.

A ``Patcher`` works on one transaction. For every object it keeps, it records how to
undo the change, and maps the new object to the old one (``canonical``) so that closure
cells, ``super()`` cells and ``__wrapped__`` chains end up pointing at the kept objects.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import operator
import sys
from collections.abc import Callable, Mapping
from itertools import compress
from types import CellType, CodeType, FunctionType, GetSetDescriptorType, MemberDescriptorType
from typing import TYPE_CHECKING, Any

from ._missing import MISSING

if TYPE_CHECKING:
    from typing_extensions import TypeIs

__all__ = ["Patcher"]

_FUNC_ATTRS_ALL = (
    "__code__",
    "__defaults__",
    "__kwdefaults__",
    "__doc__",
    "__name__",
    "__qualname__",
    "__annotations__",
    "__type_params__",
)
# The attributes this Python's functions have (``__type_params__`` is 3.12+).
_FUNC_ATTRS = tuple(a for a in _FUNC_ATTRS_ALL if hasattr(lambda: None, a))
# Per-class data that belongs to the class object itself, not to its definition.
_CLASS_SKIP = frozenset({"__dict__", "__weakref__", "_abc_impl"})
# Immutable values: nothing to keep, a new one is simply bound (and rebound elsewhere).
# Types by id: a metaclass with __eq__ and no __hash__ makes its classes unhashable.
_VALUES = frozenset(map(id, (int, float, complex, str, bytes, bool, type(None))))
_CTYPES_FINAL = frozenset({"_fields_", "_pack_", "_anonymous_", "_align_", "_layout_"})
_METHOD_TYPES = (FunctionType, staticmethod, classmethod, property)


def is_class(obj: object) -> TypeIs[type]:
    """``isinstance(obj, type)``, by its type: never asks a lazy proxy (`is_proxy`)."""
    return issubclass(type(obj), type)


def is_function(obj: object) -> TypeIs[FunctionType]:
    """``isinstance(obj, FunctionType)``, by its type: never asks a lazy proxy."""
    return type(obj) is FunctionType


def is_proxy(obj: object) -> bool:
    """Whether ``obj`` stands for another object it gives as its ``__class__``: a lazy
    proxy (Celery's task proxies, werkzeug's ``LocalProxy``, Django's ``LazyObject``),
    which ``isinstance`` and most attributes evaluate, and may fail to."""
    return any("__class__" in vars(cls) for cls in type(obj).__mro__[:-1])


def _same_function(old: FunctionType, new: FunctionType) -> bool:
    """True when ``new`` has exactly what ``old`` has: equal code, identical defaults.

    Equal code (bytecode, constants, names, line table) is what a dependent re-run from
    its cached code has, and what the unchanged functions of a big module compiled
    again from its text have.
    """
    if old.__closure__ or old.__dict__ or new.__dict__ or old.__globals__ is not new.__globals__:
        return False
    if old.__code__ is not new.__code__ and (
        old.__code__ != new.__code__ or old.__qualname__ != new.__qualname__
    ):
        return False
    if old.__kwdefaults__ is not None or new.__kwdefaults__ is not None:
        return False
    if old.__defaults__ is not new.__defaults__ and not _identical(
        old.__defaults__, new.__defaults__
    ):
        return False
    mine, theirs = old.__annotations__, new.__annotations__
    if not mine and not theirs:
        return True  # the common case, checked first: this runs for every kept function
    return mine.keys() == theirs.keys() and all(map(operator.is_, mine.values(), theirs.values()))


def _same_members(old: type, new: type) -> bool:
    mine, theirs = old.__dict__, new.__dict__
    get = mine.get
    for name, value in theirs.items():
        if (
            get(name, MISSING) is not value
            and name not in _CLASS_SKIP
            and not isinstance(value, (MemberDescriptorType, GetSetDescriptorType))
        ):
            return False
    return mine.keys() - _CLASS_SKIP <= theirs.keys()


def _identical(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _is_sunder(name: str) -> bool:
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


def _reset(state: dict[str, Any], saved: dict[str, Any]) -> None:
    state.clear()
    state.update(saved)


def _cell_get(cell: CellType) -> Any:
    try:
        return cell.cell_contents
    except ValueError:
        return MISSING


def _cell_set(cell: CellType, value: Any) -> None:
    if value is MISSING:
        with contextlib.suppress(ValueError):
            del cell.cell_contents
    else:
        cell.cell_contents = value


class Patcher:
    """Patches old objects with new definitions and remembers how to undo it."""

    def __init__(self) -> None:
        self.undo: list[Callable[[], None]] = []
        self.on_commit: list[Callable[[], None]] = []
        self.notes: list[str] = []
        self.patched = 0
        self._canon: dict[int, Any] = {}
        # Keeps mapped new objects alive so ids stay unique (one reference each).
        self._alive: dict[int, Any] = {}
        self._cells: list[tuple[CellType, CellType]] = []
        self._patched_old: set[int] = set()
        self._failed: set[tuple[int, int]] = set()
        self._kept_functions: dict[int, tuple[FunctionType, Callable[[], None]]] = {}
        # (kept function, qualified name, previous code) of each function given new
        # code: a call may still be running that code (see `_audit.CodeHistory`).
        self.replaced: list[tuple[FunctionType, str, CodeType]] = []
        # Adapters' identity for framework objects: hook(old, new) -> kept object, or new.
        self.object_hooks: list[Callable[[Any, Any], Any]] = []
        # A class of the module running now was added, patched or replaced: classes may
        # derive from a new twin (not when every class was kept as is, the common case).
        self.classes_changed = False
        # Kept classes that gained or lost members (an ABC's verdicts on them may change).
        self.reshaped: list[type] = []
        # Kept dataclasses of the module running now, with their fields before.
        self._fields: list[tuple[type, Any]] = []

    def release(self) -> None:
        """Let go of every object and undo step held, once the transaction ended."""
        for held in (self.undo, self.on_commit, self._cells, self.replaced, self._fields):
            held.clear()
        for mapping in (self._canon, self._alive, self._kept_functions):
            mapping.clear()
        self.object_hooks.clear()
        self.reshaped.clear()

    def is_patched(self, obj: Any) -> bool:
        """True when ``obj`` is a kept object already updated by this transaction."""
        return id(obj) in self._patched_old

    def canonical(self, obj: Any) -> Any:
        """The kept old object standing for ``obj``, or ``obj`` itself."""
        return self._canon.get(id(obj), obj)

    @property
    def twins(self) -> Mapping[int, Any]:
        """``id(new object) -> the kept old object standing for it``, for this
        transaction (the new objects are held, so their ids stay theirs)."""
        return self._canon

    def _map(self, new: Any, old: Any) -> None:
        self._canon[id(new)] = old
        self._alive[id(new)] = new

    def is_replaced(self, obj: Any) -> bool:
        """True when ``obj`` is a new object that an old one now stands for."""
        return id(obj) in self._canon

    # -- namespaces -----------------------------------------------------------------

    def patch_namespace(self, owner: str, old_ns: dict[str, Any], ns: dict[str, Any]) -> None:
        """Put kept old objects back into a re-executed module namespace ``ns``."""
        get = old_ns.get
        # Only names bound anew (in C loops: most of a dependent's are untouched).
        rebound = list(compress(ns.items(), map(operator.is_not, map(get, ns), ns.values())))
        for name, new in rebound:
            old = get(name, MISSING)
            if old is MISSING or id(type(new)) in _VALUES:
                continue
            kept = self.keep(old, new, owner)
            if kept is not new:
                ns[name] = kept
        self.fix_cells(final=True)
        for cls, before in self._fields:
            missing = _required_fields_added(before, cls.__dict__.get("__dataclass_fields__"))
            if missing:
                self.notes.append(
                    f"{owner}.{cls.__qualname__}: new fields without a default "
                    f"({', '.join(missing)}): its instances made before have no value for them"
                )
        self._fields.clear()
        if self.classes_changed:
            self._rebase_classes(ns, owner)
            self.classes_changed = False

    def fix_cells(self, *, final: bool = False) -> None:
        """Point closure cells at kept objects.

        A cell the new code has not filled yet (a method's ``__class__`` before its class
        exists) waits for a later call; the ``final`` call, at the end of the module,
        empties the old cell too.
        """
        waiting = []
        for old_cell, new_cell in self._cells:
            value = _cell_get(new_cell)
            if value is MISSING and not final:
                waiting.append((old_cell, new_cell))
                continue
            _cell_set(old_cell, value if value is MISSING else self.canonical(value))
        self._cells = waiting

    def _rebase_classes(self, ns: dict[str, Any], owner: str) -> None:
        # A class that is new (added, or replacing one that could not be kept) must derive
        # from the kept classes, not from their discarded new twins, as after a fresh import.
        # Classes from elsewhere are their own module's business.
        seen: set[int] = set()
        canon = self._canon
        todo = [v for v in ns.values() if is_class(v) and v.__module__ == owner]
        while todo:
            cls = todo.pop()
            if id(cls) in seen or id(cls) in canon:
                continue
            seen.add(id(cls))
            todo.extend(v for v in vars(cls).values() if is_class(v))
            if canon.keys().isdisjoint(map(id, cls.__bases__)):
                continue
            bases = tuple(canon.get(id(b), b) for b in cls.__bases__)
            try:
                cls.__bases__ = bases
            except TypeError as exc:
                self.notes.append(f"{cls.__module__}.{cls.__qualname__}: bases not kept ({exc})")

    # -- dispatch -------------------------------------------------------------------

    def keep(self, old: Any, new: Any, owner: str) -> Any:
        """Return the object to bind: ``old`` patched with ``new``, or ``new`` itself."""
        if id(new) in self._canon:
            return self._canon[id(new)]
        if (id(old), id(new)) in self._failed or is_proxy(old) or is_proxy(new):
            return new
        kept = self._keep(old, new, owner)
        if kept is new:
            self._failed.add((id(old), id(new)))
        return kept

    def _keep(self, old: Any, new: Any, owner: str) -> Any:
        if is_class(new):
            self.classes_changed = True
        if is_function(old) and is_function(new):
            # Defined here, or made here by a factory from elsewhere (a decorator without
            # functools.wraps, make_handler(config)): the same code, so the old object
            # can become the new one.
            mine = old.__module__ == owner or old.__code__ is new.__code__
            if mine and self.patch_function(old, new, owner):
                return old
            return new
        if is_class(old) and is_class(new):
            if (
                old.__module__ == owner
                and old.__qualname__ == new.__qualname__
                and self.patch_class(old, new, owner)
            ):
                return old
            return new
        if (
            type(old) is type(new)
            and not isinstance(old, (FunctionType, type))
            and isinstance(getattr(old, "__wrapped__", None), FunctionType)
            and isinstance(getattr(new, "__wrapped__", None), FunctionType)
        ):
            return self._patch_wrapper(old, new, owner)
        for hook in self.object_hooks:
            kept = hook(old, new)
            if kept is not new:
                self._map(new, kept)
                return kept
        return new

    def keep_callable(self, old: Any, new: Any) -> Any:
        """Keep a callable object a decorator made (a command, a task): take ``new``'s state.

        Only for the final object of a ``def`` whose decorators built an instance of the
        same class as before; the function inside is already the kept one.
        """
        cls = type(old)
        if (
            cls is not type(new)
            or not callable(old)
            or isinstance(old, (type, FunctionType))
            or cls.__module__ == "builtins"
            or not isinstance(getattr(old, "__dict__", None), dict)
        ):
            return new
        saved = dict(old.__dict__)

        def undo() -> None:
            old.__dict__.clear()
            old.__dict__.update(saved)

        self.undo.append(undo)
        old.__dict__.clear()
        old.__dict__.update({k: self.canonical(v) for k, v in new.__dict__.items()})
        self._map(new, old)
        return old

    def _patch_wrapper(self, old: Any, new: Any, owner: str) -> Any:
        # A callable object around a function (functools.lru_cache, cache, ...): keep the
        # object, patch the function it calls, and empty its cache once committed.
        inner = self.keep(old.__wrapped__, new.__wrapped__, owner)
        if inner is not old.__wrapped__:
            return new
        self._map(new, old)
        state = getattr(old, "__dict__", None)
        if isinstance(state, dict) and state is not getattr(new, "__dict__", None):
            saved = dict(state)
            self.undo.append(functools.partial(_reset, state, saved))
            state.update({k: self.canonical(v) for k, v in new.__dict__.items()})
        clear = getattr(old, "cache_clear", None)
        if callable(clear):
            self.on_commit.append(clear)
        return old

    # -- functions ------------------------------------------------------------------

    def has_cells(self) -> bool:
        """True when closure cells wait to be pointed at kept objects."""
        return bool(self._cells)

    def keep_unchanged(self, old: Any, new: Any, owner: str) -> bool:
        """Keep ``old`` for ``new`` if it is the same definition, code and all (cheap).

        What a dependent re-run from its cached code defines: functions with equal code,
        classes whose members are all the kept ones.
        """
        if id(old) in self._patched_old or type(old) is not type(new):
            return False
        if type(new) is FunctionType:
            if old.__module__ != owner or not _same_function(old, new):
                return False
        elif not (
            is_class(new)
            and old.__module__ == owner
            and old.__qualname__ == new.__qualname__
            and _identical(old.__bases__, new.__bases__)
            and _same_members(old, new)
        ):
            return False
        self._kept_as_is(old, new)
        return True

    def _kept_as_is(self, old: Any, new: Any) -> None:
        # ``old`` stands for ``new`` and already has everything it has: nothing to undo.
        self._map(new, old)
        self._patched_old.add(id(old))
        self.patched += 1

    def patch_function(self, old: FunctionType, new: FunctionType, owner: str) -> bool:
        """Give ``old`` the code, defaults and attributes of ``new``; False if impossible."""
        if id(old) in self._patched_old:
            return False  # already stands for another new object (an alias that changed)
        if old.__globals__ is not new.__globals__:
            # (read-only) A module that replaced its sys.modules entry by a copy of its
            # namespace, a function made by exec in a fresh dict: the kept one would
            # run the new code against the previous namespace. Code written at run time
            # (attrs' methods, each run's own) goes without a word: made anew by design.
            if not new.__code__.co_filename.startswith("<"):
                self.notes.append(
                    f"{owner}.{new.__qualname__}: its globals are another namespace than "
                    "before; references were rebound instead"
                )
            return False
        if _same_function(old, new):
            self._kept_as_is(old, new)  # equal code: nothing to change, nothing to undo
            return True
        if old.__code__.co_freevars != new.__code__.co_freevars:
            self.notes.append(
                f"{owner}.{new.__qualname__}: its closure changed "
                f"({old.__code__.co_freevars} -> {new.__code__.co_freevars}); "
                "references were rebound instead"
            )
            return False
        old_inner = old.__dict__.get("__wrapped__")
        new_inner = new.__dict__.get("__wrapped__")
        if old_inner is not None and new_inner is not None:
            self.keep(old_inner, new_inner, owner)
        saved = {a: getattr(old, a) for a in _FUNC_ATTRS}
        saved_dict = dict(old.__dict__)
        cells = old.__closure__ or ()
        saved_cells = [_cell_get(c) for c in cells]

        def undo() -> None:
            for attr, value in saved.items():
                setattr(old, attr, value)
            old.__dict__.clear()
            old.__dict__.update(saved_dict)
            for cell, value in zip(cells, saved_cells, strict=True):
                _cell_set(cell, value)

        self.undo.append(undo)
        self._map(new, old)
        self._patched_old.add(id(old))
        self._kept_functions[id(old)] = (new, undo)
        if old.__code__ is not new.__code__:
            self.replaced.append((old, f"{owner}.{new.__qualname__}", old.__code__))
        for attr in _FUNC_ATTRS:
            setattr(old, attr, getattr(new, attr))
        if saved_dict or new.__dict__:
            old.__dict__.clear()
            old.__dict__.update({k: self.canonical(v) for k, v in new.__dict__.items()})
        self._cells.extend(zip(cells, new.__closure__ or (), strict=False))
        self.patched += 1
        return True

    def _release_methods(self, new_cls: type) -> None:
        # The class is replaced, not kept: its methods, kept at definition time, go back
        # to the old class as they were, and the new class gets its own (old instances
        # keep the old class with its old methods; super() cells stay consistent).
        for name, value in list(new_cls.__dict__.items()):
            func = getattr(value, "__func__", value)
            entry = self._kept_functions.pop(id(func), None)
            if entry is None:
                continue
            twin, undo = entry
            undo()
            self.replaced = [entry for entry in self.replaced if entry[0] is not func]
            self._patched_old.discard(id(func))
            self._canon.pop(id(twin), None)
            replacement = type(value)(twin) if func is not value else twin
            type.__setattr__(new_cls, name, replacement)

    def _adopt_function(self, new: FunctionType) -> None:
        # A new function placed into a kept class: its cells (``super()``'s ``__class__``)
        # must point at kept objects too.
        for cell in new.__closure__ or ():
            self._cells.append((cell, cell))

    # -- classes --------------------------------------------------------------------

    def _incompatible(self, old: type, new: type) -> str | None:
        canon = self._canon
        if type(new) is not type(old) and canon.get(id(type(new))) is not type(old):
            return "its metaclass changed"
        bases = new.__bases__
        if bases != old.__bases__ and tuple(canon.get(id(b), b) for b in bases) != old.__bases__:
            return "its base classes changed"
        if old.__dict__.get("__slots__") != new.__dict__.get("__slots__"):
            return "its __slots__ changed"
        if (old.__basicsize__, old.__itemsize__) != (new.__basicsize__, new.__itemsize__):
            return "its instance layout changed"
        if issubclass(old, tuple) and old.__dict__.get("_fields") != new.__dict__.get("_fields"):
            return "its fields changed"
        if old.__dict__.get("_fields_", ()) != new.__dict__.get("_fields_", ()):
            return "its fields changed"
        if isinstance(old, enum.EnumMeta):
            return self._enum_incompatible(old, new)
        return None

    def _enum_incompatible(self, old: type, new: type) -> str | None:
        # Members are moved into the kept enum; a member that is itself an int, a str
        # (any mixin) holds its value and cannot take another.
        mixin = new.__dict__.get("_member_type_")
        if self._canon.get(id(mixin), mixin) is not old.__dict__.get("_member_type_"):
            return "its member type changed"
        if mixin is object:
            return None
        mine: dict[str, Any] = old.__members__  # type: ignore[attr-defined]
        for name, member in new.__members__.items():  # type: ignore[attr-defined]
            current = mine.get(name)
            if current is not None and current._value_ != member._value_:
                return f"the value of its member {name} changed"
        return None

    def patch_class(self, old: type, new: type, owner: str) -> bool:
        """Update ``old`` in place to match ``new``; False (with a note) if it cannot be."""
        if id(old) in self._patched_old:
            return False
        reason = self._incompatible(old, new)
        if reason is not None:
            self._release_methods(new)
            self.notes.append(
                f"{owner}.{new.__qualname__}: {reason}; the new class replaces it and "
                "existing instances keep the old class"
            )
            return False
        self._map(new, old)
        self._patched_old.add(id(old))
        if _same_members(old, new):
            # Re-run from cached bytecode, its methods kept at definition time: the class
            # already has everything the new one has.
            self.patched += 1
            return True
        saved = dict(old.__dict__)

        def undo() -> None:
            for name in list(old.__dict__):
                if name not in saved and name not in _CLASS_SKIP:
                    type.__delattr__(old, name)
            for name, value in saved.items():
                if name not in _CLASS_SKIP and old.__dict__.get(name, MISSING) is not value:
                    type.__setattr__(old, name, value)

        try:
            if isinstance(old, enum.EnumMeta):
                self._patch_enum(old, new, owner)
            else:
                self._patch_members(old, new, owner)
        except (AttributeError, TypeError) as exc:
            # A class that refuses attribute changes (ctypes.Structure's _fields_): the
            # new class replaces it.
            undo()
            del self._canon[id(new)]
            self._patched_old.discard(id(old))
            self._release_methods(new)
            self.notes.append(
                f"{owner}.{new.__qualname__}: cannot be updated in place ({exc}); the new "
                "class replaces it and existing instances keep the old class"
            )
            return False
        self.undo.append(undo)
        self.patched += 1
        if old.__dict__.keys() != saved.keys():
            self.reshaped.append(old)
        if "__dataclass_fields__" in saved:  # (its decorator runs on the kept class next)
            self._fields.append((old, saved["__dataclass_fields__"]))
        return True

    def _patch_members(self, old: type, new: type, owner: str) -> None:
        for name, value in new.__dict__.items():
            if name in _CLASS_SKIP or isinstance(
                value, (MemberDescriptorType, GetSetDescriptorType)
            ):
                continue
            if type(value).__name__ == "CField" or name in _CTYPES_FINAL:
                continue  # ctypes layout: equal (checked above) and final once set
            current = old.__dict__.get(name, MISSING)
            kept = value if current is MISSING else self._keep_member(current, value, owner)
            if kept is value:
                self._adopt_member(value)
            if current is not kept:
                type.__setattr__(old, name, kept)
        for name in [n for n in old.__dict__ if n not in new.__dict__]:
            if name not in _CLASS_SKIP and not isinstance(
                old.__dict__[name], (MemberDescriptorType, GetSetDescriptorType)
            ):
                type.__delattr__(old, name)

    def _patch_enum(self, old: type, new: type, owner: str) -> None:
        # The kept enum takes the new members: one of the same name stays the same
        # object (its attributes, value included, become the new member's), an added one
        # moves into the kept class, a removed one is no longer a member.
        mine: dict[str, Any] = old.__members__  # type: ignore[attr-defined]
        theirs: dict[str, Any] = new.__members__  # type: ignore[attr-defined]
        for name in new._member_names_:  # type: ignore[attr-defined]
            member = theirs[name]
            current = mine.get(name)
            if current is not None and current._name_ == name:
                self._take_member_state(current, member, old)
                self._map(member, current)

        def moved(value: Any) -> Any:
            if type(value) is new and id(value) not in self._canon:
                value.__class__ = old  # an added member (or a flag's pseudo-member)
                value.__dict__["__objclass__"] = old
            return self.canonical(value)

        for name, value in new.__dict__.items():
            if _is_sunder(name) and not isinstance(value, _METHOD_TYPES):
                # The enum's own tables (member map, value map, flag masks): new members
                # in them are the kept ones.
                if isinstance(value, dict):
                    value = {k: moved(v) for k, v in value.items()}
                elif isinstance(value, list):
                    value = [moved(v) for v in value]
                type.__setattr__(old, name, value)
        for name in theirs:
            type.__setattr__(old, name, moved(new.__dict__.get(name, theirs[name])))
        for name in [n for n in mine if n not in theirs and n in old.__dict__]:
            type.__delattr__(old, name)
        for name, value in new.__dict__.items():
            if name in theirs or not isinstance(value, _METHOD_TYPES):
                continue
            current = old.__dict__.get(name, MISSING)
            kept = value if current is MISSING else self._keep_member(current, value, owner)
            if kept is value:
                self._adopt_member(value)
            type.__setattr__(old, name, kept)

    def _take_member_state(self, member: Any, new: Any, cls: type) -> None:
        # Like an instance, a member keeps what the program stored on it since.
        state = member.__dict__
        saved = dict(state)
        state.update(new.__dict__)
        state["__objclass__"] = cls
        self.undo.append(functools.partial(_reset, state, saved))

    def _keep_member(self, old: Any, new: Any, owner: str) -> Any:
        if isinstance(old, (staticmethod, classmethod)) and type(old) is type(new):
            if self.keep(old.__func__, new.__func__, owner) is old.__func__:
                self._map(new, old)
                return old
            return new
        return self.keep(old, new, owner)

    def _adopt_member(self, value: Any) -> None:
        funcs: list[Any] = [value]
        if isinstance(value, (staticmethod, classmethod)):
            funcs = [value.__func__]
        elif isinstance(value, property):
            funcs = [value.fget, value.fset, value.fdel]
        elif hasattr(value, "func"):  # functools.cached_property, partialmethod
            funcs = [value.func]
        for func in funcs:
            if is_function(func):
                self._adopt_function(func)


def forget_abc_verdicts(reshaped: list[type]) -> None:
    """Clear the cached ``isinstance``/``issubclass`` verdicts of the ABCs that are
    ``reshaped`` classes (a Protocol whose methods changed), derive from one, or hold a
    verdict on one (``collections.abc.Iterable`` on a class that gained ``__iter__``):
    after a fresh import none would have them."""
    import abc

    dump = getattr(abc, "_get_dump", None)  # (None: the pure-Python abc, every one goes)
    ids = set(map(id, reshaped))
    todo, seen = [object], set()
    while todo:
        cls = todo.pop()
        for sub in type.__subclasses__(cls):
            if id(sub) not in seen:
                seen.add(id(sub))
                todo.append(sub)
        if not isinstance(cls, abc.ABCMeta):
            continue
        mro = getattr(cls, "__mro__", ())
        if dump is None or not ids.isdisjoint(map(id, mro)) or _holds_verdict(cls, ids, dump):
            cls._abc_caches_clear()  # type: ignore[attr-defined]


def _holds_verdict(cls: type, ids: set[int], dump: Callable[[type], Any]) -> bool:
    _, cache, negative, _ = dump(cls)
    return any(id(ref()) in ids for ref in (*cache, *negative))


def _required_fields_added(before: Any, now: Any) -> list[str]:
    """The fields a dataclass gained that have no default (what a kept instance lacks)."""
    dataclasses = sys.modules.get("dataclasses")
    if not isinstance(before, dict) or not isinstance(now, dict) or dataclasses is None:
        return []
    missing = dataclasses.MISSING
    return [
        name
        for name, field in now.items()
        if name not in before
        and getattr(field, "_field_type", None) is dataclasses._FIELD
        and field.default is missing
        and field.default_factory is missing
    ]
