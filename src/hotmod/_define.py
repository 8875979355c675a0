"""Identity at definition time: a re-executed ``def`` or ``class`` yields the kept object.

The module's syntax tree gets two decorators on every function and class defined at
module level or in a class body::

    @__hotmod_bind__("Name.attr")   # outermost: the final object (a wrapper, a command)
    @user_decorator                 # receives the kept function, registers it
    @__hotmod_def__                 # innermost: the raw function or class, kept
    def attr(...): ...

So a decorator that registers the function (``@app.route``, ``@registry.register``)
receives the object that existed before the reload, updated in place, and every later
statement of the module sees kept objects: nothing needs fixing up afterwards.
"""

from __future__ import annotations

import ast
import contextlib
import operator
from collections.abc import Iterator, Mapping
from operator import attrgetter
from types import FunctionType
from typing import Any, NamedTuple
from weakref import ReferenceType, ref

from ._patch import Patcher

__all__ = [
    "BIND",
    "DEF",
    "SKIP",
    "Definer",
    "fingerprints",
    "instrument",
    "plain_definitions",
    "unchanged",
]

DEF = "__hotmod_def__"
BIND = "__hotmod_bind__"
SKIP = "__hotmod_skip__"

_Def = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def instrument(tree: ast.Module, plain: frozenset[str] = frozenset()) -> ast.Module:
    """Add the two decorators to module-level and class-level definitions (in place).

    The top-level definitions named in ``plain`` (`plain_definitions`) are guarded too:
    ``if "name" not in __hotmod_skip__:``, so that a run can leave them as they are.
    """
    _instrument_body(tree.body, "")
    if plain:
        tree.body = [_guard(node) if _defines(node, plain) else node for node in tree.body]
    return tree


def _defines(node: ast.stmt, names: frozenset[str]) -> bool:
    return isinstance(node, _Def) and node.name in names


def _guard(node: ast.stmt) -> ast.stmt:
    assert isinstance(node, _Def)
    test = ast.Compare(
        left=ast.Constant(value=node.name),
        ops=[ast.NotIn()],
        comparators=[ast.Name(id=SKIP, ctx=ast.Load())],
    )
    guard = ast.If(test=test, body=[node], orelse=[])
    ast.copy_location(guard, node)
    return ast.fix_missing_locations(guard)


def plain_definitions(tree: ast.Module, dynamic: bool) -> frozenset[str]:
    """Top-level functions and classes that a run of the same source defines the same.

    A plain function has no decorators, no type parameters, only constant defaults and
    no annotations evaluated at definition time; a plain class has no decorators, bases
    or keywords, and a body of a docstring, plain methods and constant assignments. Its
    name is bound by this one statement and read by no top-level code: a run of the same
    source would define an equal object and keep the old one (`Patcher.keep_unchanged`),
    so an unchanged dependent may skip it (`Definer.skip`). None in a module that binds
    names dynamically or star-imports.
    """
    if dynamic:
        return frozenset()
    lazy = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    )
    candidates = {
        node.name: node
        for node in tree.body
        if isinstance(node, _Def) and node.name != "__hotmod_unload__" and _plain(node, lazy)
    }
    if not candidates:
        return frozenset()
    counts: dict[str, int] = {}
    for node in tree.body:
        for name in _top_level_names(node):
            if name == "*":
                return frozenset()
            counts[name] = counts.get(name, 0) + 1
    return frozenset(name for name, node in candidates.items() if counts.get(name) == 1)


def _plain(node: ast.stmt, lazy: bool) -> bool:
    if getattr(node, "type_params", None) or getattr(node, "decorator_list", None):
        return False
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = node.args
        defaults = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
        if not all(isinstance(d, ast.Constant) for d in defaults):
            return False
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        annotated = node.returns is not None or any(
            a is not None and a.annotation is not None for a in every
        )
        return lazy or not annotated
    if isinstance(node, ast.ClassDef):
        if node.bases or node.keywords:
            return False
        for i, item in enumerate(node.body):
            if isinstance(item, ast.Pass) or (
                i == 0 and isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant)
            ):
                continue
            if (
                isinstance(item, ast.Assign)
                and isinstance(item.value, ast.Constant)
                and all(isinstance(t, ast.Name) for t in item.targets)
            ):
                continue
            if not (
                isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _plain(item, lazy)
            ):
                return False
        return True
    return False


def _top_level_names(node: ast.stmt) -> Iterator[str]:
    # Every name a top-level statement binds, reads or deletes outside function bodies
    # (one per mention), and the names functions declare global; "*" for a star import.
    # (Names a class body binds count too: a few plain classes fewer, nothing wrong.)
    todo: list[tuple[ast.AST, bool]] = [(node, False)]
    while todo:
        item, in_class = todo.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not in_class:
                yield item.name
            parts: list[ast.AST] = [*item.decorator_list, item.args]
            parts += [n for n in ast.walk(item) if isinstance(n, (ast.Global, ast.Nonlocal))]
            if item.returns is not None:
                parts.append(item.returns)
            todo.extend((part, False) for part in parts)
            continue
        if isinstance(item, ast.ClassDef):
            yield item.name
            todo.extend((part, False) for part in (*item.bases, *item.keywords))
            todo.extend((part, False) for part in item.decorator_list)
            todo.extend((part, True) for part in item.body)
            continue
        if isinstance(item, ast.Name):
            yield item.id
        elif isinstance(item, (ast.Global, ast.Nonlocal)):
            yield from item.names
        elif isinstance(item, ast.alias):
            yield item.asname or item.name.split(".")[0]
        todo.extend((child, False) for child in ast.iter_child_nodes(item))


def _instrument_body(body: list[ast.stmt], prefix: str) -> None:
    for node in body:
        if isinstance(node, _Def):
            _decorate(node, prefix)
            if isinstance(node, ast.ClassDef):
                _instrument_body(node.body, f"{prefix}{node.name}.")
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.While)):
            for field in ("body", "orelse", "finalbody"):
                _instrument_body(getattr(node, field, []), prefix)
            for handler in getattr(node, "handlers", []):
                _instrument_body(handler.body, prefix)
        elif _is_try_star(node):
            _instrument_body(node.body, prefix)  # type: ignore[attr-defined]


def _is_try_star(node: ast.stmt) -> bool:
    return type(node).__name__ == "TryStar"


def _decorate(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, prefix: str) -> None:
    first = node.decorator_list[0] if node.decorator_list else node
    inner = ast.copy_location(ast.Name(id=DEF, ctx=ast.Load()), first)
    if node.decorator_list:
        path = ast.copy_location(ast.Constant(value=prefix + node.name), first)
        outer = ast.copy_location(
            ast.Call(func=ast.Name(id=BIND, ctx=ast.Load()), args=[path], keywords=[]), first
        )
        ast.fix_missing_locations(outer)
        node.decorator_list = [outer, *node.decorator_list, inner]
    else:
        node.decorator_list = [inner]


class Prints(NamedTuple):
    """How a run left the plain definitions of a namespace (`fingerprints`).

    Objects are held weakly and class members by id: a definition deleted later must
    not look held by hotmod to the stale-code audit.
    """

    names: frozenset[str]
    functions: tuple[str, ...]
    function_refs: tuple[ReferenceType[Any], ...]
    function_state: tuple[tuple[Any, ...], ...]  # (code, defaults, kwdefaults) each
    classes: tuple[str, ...]
    class_refs: tuple[ReferenceType[Any], ...]
    class_state: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]
    kept: dict[str, int]  # objects a run would keep per name (a class and its methods)


_FUNCTION_STATE = attrgetter("__code__", "__defaults__", "__kwdefaults__")
_DICT = attrgetter("__dict__")
_DEREF = ReferenceType.__call__


def _class_state(cls: Any) -> tuple[tuple[str, ...], tuple[int, ...]]:
    members = cls.__dict__
    return tuple(members), tuple(map(id, members.values()))


def fingerprints(ns: Mapping[str, Any], names: frozenset[str]) -> Prints:
    """How a run left the plain definitions ``names`` of a namespace."""
    functions = [n for n in names if type(ns.get(n)) is FunctionType and not ns[n].__dict__]
    classes = [n for n in names if type(ns.get(n)) is type]
    return Prints(
        frozenset(functions + classes),
        tuple(functions),
        tuple(ref(ns[n]) for n in functions),
        tuple(_FUNCTION_STATE(ns[n]) for n in functions),
        tuple(classes),
        tuple(ref(ns[n]) for n in classes),
        tuple(_class_state(ns[n]) for n in classes),
        {
            n: 1 + sum(type(v) is FunctionType for v in vars(ns[n]).values()) if n in classes else 1
            for n in functions + classes
        },
    )


def unchanged(ns: Mapping[str, Any], prints: Prints) -> frozenset[str]:
    """The names of ``prints`` bound to an object still as the last run left it."""
    get = ns.get
    functions = tuple(map(get, prints.functions))
    classes = tuple(map(get, prints.classes))
    if (
        all(map(operator.is_, functions, map(_DEREF, prints.function_refs)))
        and all(map(operator.is_, classes, map(_DEREF, prints.class_refs)))
        and tuple(map(_FUNCTION_STATE, functions)) == prints.function_state
        and not any(map(len, map(_DICT, functions)))
        and tuple(map(_class_state, classes)) == prints.class_state
    ):
        return prints.names  # the common case, in a few C loops
    same = [
        name
        for name, obj, held, state in zip(
            prints.functions, functions, prints.function_refs, prints.function_state, strict=True
        )
        if obj is held() and _FUNCTION_STATE(obj) == state and not obj.__dict__
    ]
    same += [
        name
        for name, obj, held, state in zip(
            prints.classes, classes, prints.class_refs, prints.class_state, strict=True
        )
        if obj is held() and _class_state(obj) == state
    ]
    return frozenset(same)


class Definer:
    """The two decorators for one module of one transaction."""

    def __init__(self, patcher: Patcher, owner: str, old: Mapping[str, Any]) -> None:
        self.patcher = patcher
        self.owner = owner
        self.old = old
        # Notes of raw definitions not kept, by qualified name: moot once a decorator's
        # result is kept (``@dataclass(slots=True)`` makes the class that is bound).
        self._unkept: dict[str, list[str]] = {}

    def install(self, ns: dict[str, Any], skip: frozenset[str] = frozenset()) -> None:
        """Make the decorators visible to the module's code, and the plain definitions
        it leaves as they are (``skip``)."""
        ns[DEF] = self.define
        ns[BIND] = self.bind
        ns[SKIP] = skip

    @staticmethod
    def remove(ns: dict[str, Any]) -> None:
        """Take the decorators out of the namespace again."""
        ns.pop(DEF, None)
        ns.pop(BIND, None)
        ns.pop(SKIP, None)

    def define(self, new: Any) -> Any:
        """The kept function or class for a fresh definition (or the definition itself)."""
        qualname = getattr(new, "__qualname__", None)
        if not isinstance(qualname, str) or "<locals>" in qualname:
            return new
        old = self.old.get(qualname) if "." not in qualname else self._lookup(qualname.split("."))
        if old is not None and self.patcher.keep_unchanged(old, new, self.owner):
            return old  # a dependent re-run from its cached code: the common case
        if isinstance(new, type):
            self.patcher.classes_changed = True
        if old is None:
            return new
        if type(old) is not type(new) or not _defined_as(old, qualname, self.owner):
            old = self._raw(old, qualname, isinstance(new, type))
            if old is None or old is new:
                return new
        notes = len(self.patcher.notes)
        kept = self.patcher.keep(old, new, self.owner)
        if kept is new and len(self.patcher.notes) > notes:
            self._unkept[qualname] = self.patcher.notes[notes:]
        if self.patcher.has_cells():
            self.patcher.fix_cells()
        return kept

    def bind(self, path: str) -> Any:
        """A decorator giving the final object bound at ``path`` its kept predecessor."""

        def keep(new: Any) -> Any:
            old = self._lookup(path.split("."))
            if old is None or old is new:
                return new
            notes = len(self.patcher.notes)
            kept = self.patcher.keep(old, new, self.owner)
            if kept is new:
                kept = self.patcher.keep_callable(old, new)
            moot = self._unkept.pop(path, ())
            if kept is not new or len(self.patcher.notes) > notes:  # (else the only word)
                for note in moot:
                    self.patcher.notes.remove(note)
            self.patcher.fix_cells()
            return kept

        return keep

    def _lookup(self, parts: list[str]) -> Any:
        obj = self.old.get(parts[0])
        for part in parts[1:]:
            if not isinstance(obj, type):
                return None
            obj = obj.__dict__.get(part)
        return obj

    def _raw(self, obj: Any, qualname: str, want_class: bool) -> Any:
        # The old raw definition may sit inside what the name is bound to: a staticmethod,
        # a property (getter, setter), a wrapper's __wrapped__ or its closure.
        todo: list[Any] = [obj]
        seen: set[int] = set()
        while todo:
            item = todo.pop(0)
            if id(item) in seen or len(seen) > 32:
                continue
            seen.add(id(item))
            if want_class:
                if isinstance(item, type) and _defined_as(item, qualname, self.owner):
                    return item
                continue
            if (
                isinstance(item, FunctionType)
                and _defined_as(item, qualname, self.owner)
                and not self.patcher.is_patched(item)
            ):
                return item
            todo.extend(_inner_objects(item))
        return None


def _defined_as(obj: Any, qualname: str, owner: str) -> bool:
    return (
        getattr(obj, "__qualname__", None) == qualname and getattr(obj, "__module__", None) == owner
    )


def _inner_objects(obj: Any) -> list[Any]:
    found: list[Any] = []
    for attr in ("__func__", "__wrapped__", "fget", "fset", "fdel", "func"):
        try:
            value = getattr(obj, attr, None)
        except Exception:  # a descriptor or proxy that raises on access
            continue
        if value is not None:
            found.append(value)
    if isinstance(obj, FunctionType):
        for cell in obj.__closure__ or ():
            with contextlib.suppress(ValueError):  # an empty cell
                found.append(cell.cell_contents)
    return found
