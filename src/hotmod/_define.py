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
import functools
import itertools
import sys
from collections.abc import Callable, Iterator, Mapping, Set
from operator import attrgetter, eq
from types import CodeType, FunctionType
from typing import Any, NamedTuple

from ._audit import own_references
from ._containers import SAVED, refill
from ._missing import MISSING
from ._patch import Patcher, is_class, is_function, is_proxy
from ._reach import REGISTRY_MAX, places
from ._syntax import children, walk

__all__ = [
    "AROUND",
    "BIND",
    "adopt",
    "bound_names",
    "DEF",
    "SKIP",
    "Definer",
    "fingerprints",
    "kept_count",
    "instrument",
    "Lines",
    "made_here",
    "plain_definitions",
    "plain_lines",
    "unchanged",
]

DEF = "__hotmod_def__"
BIND = "__hotmod_bind__"
SKIP = "__hotmod_skip__"
AROUND = "__hotmod_around__"  # both around a decorator, in its line (`_bigsource`)

_Def = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


Groups = tuple[tuple[str, ...], ...]
"""Runs of consecutive plain top-level definitions, by name (`plain_definitions`)."""

Lines = tuple[tuple[str, int, tuple[tuple[str, int], ...]], ...]
"""Where each plain definition begins: its name, first line, and for a class the name
and first line of each function of its body (`plain_lines`)."""


def instrument(tree: ast.Module, plain: Groups = ()) -> ast.Module:
    """Add the two decorators to module-level and class-level definitions (in place).

    Each run of plain definitions (`plain_definitions`) is guarded too, by its first
    name: ``if "name" not in __hotmod_skip__:``, so that a run can leave them be.
    """
    _instrument_body(tree.body, "")
    if plain:
        first = {group[0]: len(group) for group in plain}
        body: list[ast.stmt] = []
        nodes = iter(tree.body)
        for node in nodes:
            size = first.get(node.name, 0) if isinstance(node, _Def) else 0
            if size:
                body.append(_guard([node, *itertools.islice(nodes, size - 1)]))
            else:
                body.append(node)
        tree.body = body
    return tree


def _guard(run: list[ast.stmt]) -> ast.stmt:
    head, last = run[0], run[-1]
    assert isinstance(head, _Def)
    name = ast.Name(SKIP, ast.Load())
    test = ast.Compare(ast.Constant(head.name), [ast.NotIn()], [name])
    guard = ast.If(test, run, [])
    for node in (guard, test, test.left, name):
        node.lineno, node.col_offset = head.lineno, head.col_offset
        node.end_lineno, node.end_col_offset = last.end_lineno, last.end_col_offset
    return guard


def plain_definitions(tree: ast.Module, dynamic: bool, source: bytes | None = None) -> Groups:
    """Top-level functions and classes that a run of the same source defines the same,
    in runs of consecutive statements.

    A plain function has no decorators, no type parameters, only constant defaults and
    no annotations evaluated at definition time; a plain class has no decorators, bases
    or keywords, and a body of a docstring, plain methods and constant assignments. Its
    name is bound by this one statement and read by no top-level code: a run of the same
    source would define an equal object and keep the old one (`Patcher.keep_unchanged`),
    so an unchanged dependent may skip it. None in a module that binds names dynamically
    or star-imports. With ``source``, function bodies are read only if its text has a
    ``global`` statement.
    """
    if dynamic:
        return ()
    lazy = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    )
    candidates = [
        node
        for node in tree.body
        if isinstance(node, _Def) and node.name != "__hotmod_unload__" and _plain(node, lazy)
    ]
    if not candidates:
        return ()
    mentions = _Mentions(source is None or b"global" in source)
    for node in tree.body:
        mentions.statement(node)
    if mentions.star:
        return ()
    plain = {id(node) for node in candidates if mentions.counts.get(node.name) == 1}
    groups: list[tuple[str, ...]] = []
    run: list[str] = []
    for node in tree.body:
        if id(node) in plain:
            run.append(node.name)  # type: ignore[attr-defined]
        elif run:
            groups.append(tuple(run))
            run = []
    if run:
        groups.append(tuple(run))
    return tuple(groups)


def plain_lines(tree: ast.Module, plain: Groups) -> Lines:
    """Where each of the plain definitions ``plain`` of ``tree`` begins (`made_here`)."""
    names = {name for group in plain for name in group}
    return tuple(
        (
            node.name,
            node.lineno,
            tuple(
                (item.name, item.lineno)
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
            if isinstance(node, ast.ClassDef)
            else (),
        )
        for node in tree.body
        if isinstance(node, _Def) and node.name in names
    )


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


class _Mentions:
    """Counts each name a top-level statement binds, reads or deletes outside function
    bodies, and the names functions declare global (read only when ``deep``).

    (Names a class body binds count too: a few plain classes fewer, nothing wrong.)
    """

    def __init__(self, deep: bool) -> None:
        self.deep = deep
        self.counts: dict[str, int] = {}
        self.star = False

    def add(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.add(node.name)
            self.function(node)
        elif isinstance(node, ast.ClassDef):
            self.add(node.name)
            for part in (*node.bases, *node.keywords, *node.decorator_list):
                self.expression(part)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.function(item)
                else:
                    self.expression(item)
        else:
            self.expression(node)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # What a def statement evaluates: decorators, defaults, annotations.
        args = node.args
        for part in (*node.decorator_list, *args.defaults, *args.kw_defaults):
            if part is not None:
                self.expression(part)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self.expression(arg.annotation)
        if node.returns is not None:
            self.expression(node.returns)
        if self.deep:
            for item in walk(node):
                if isinstance(item, ast.Global):
                    for name in item.names:
                        self.add(name)

    def expression(self, node: ast.AST) -> None:
        for item in _walk_names(node):
            if isinstance(item, ast.Name):
                self.add(item.id)
            elif isinstance(item, ast.alias):
                if item.name == "*":
                    self.star = True
                self.add(item.asname or item.name.split(".")[0])
            elif isinstance(item, ast.Global):
                for name in item.names:
                    self.add(name)
            elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.add(item.name)  # (nested in a top-level if or try; body read too)


def _walk_names(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk` (in another order), leaving out literals of constants: the tables of a
    generated module hold hundreds of thousands of nodes and no name."""
    todo = [node]
    while todo:
        item = todo.pop()
        kind = type(item)
        if kind is ast.Constant:
            continue
        if kind in _LITERALS and all(
            type(e) is ast.Constant
            for e in (item.elts if kind is not ast.Dict else (*item.keys, *item.values))  # type: ignore[attr-defined]
        ):
            continue
        yield item
        todo += children(item)


_LITERALS = frozenset({ast.List, ast.Tuple, ast.Set, ast.Dict})


def _instrument_body(body: list[ast.stmt], prefix: str) -> None:
    replaced = superseded(body)
    for node in body:
        if isinstance(node, _Def):
            if id(node) in replaced:
                continue  # (a fresh object: the kept one is the later definition's)
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


def superseded(body: list[ast.stmt]) -> set[int]:
    """The definitions of ``body`` (by id) whose name a later definition of the same
    body binds again without reading it (``@overload`` stubs before the implementation,
    a function defined and registered several times).

    The object the name is bound to when the body has run, the one references elsewhere
    hold, is the last definition's: it keeps its identity, the earlier ones are made
    anew. A later definition whose decorators read the name (``@x.setter``) builds on
    the earlier one: both are the same definition's parts, superseded or not together.
    """
    found: set[int] = set()
    later: set[str] = set()  # names bound again below, without building on this one
    for node in reversed(body):
        if not isinstance(node, _Def):
            continue
        if node.name in later:
            found.add(id(node))
        elif not any(
            isinstance(n, ast.Name) and n.id == node.name
            for decorator in node.decorator_list
            for n in ast.walk(decorator)
        ):
            later.add(node.name)
    return found


def _is_try_star(node: ast.stmt) -> bool:
    return type(node).__name__ == "TryStar"


def _decorate(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, prefix: str) -> None:
    first = node.decorator_list[0] if node.decorator_list else node
    inner = ast.copy_location(ast.Name(id=DEF, ctx=ast.Load()), first)
    if node.decorator_list:
        path = ast.copy_location(ast.Constant(value=prefix + node.name), first)
        bind = ast.copy_location(ast.Name(id=BIND, ctx=ast.Load()), first)
        outer = ast.copy_location(ast.Call(func=bind, args=[path], keywords=[]), first)
        node.decorator_list = [outer, *node.decorator_list, inner]
    else:
        node.decorator_list = [inner]


class Prints(NamedTuple):
    """How a run left the plain definitions of a namespace (`fingerprints`).

    Objects are known by id, not held: a definition deleted later must not look held by
    hotmod to the stale-code audit. (An id can be reused only once its object is gone;
    the same code or the same members would then have to be found there too.)
    """

    names: tuple[str, ...]  # functions, then classes
    functions: int  # how many of them are functions
    ids: tuple[int, ...]
    state: tuple[tuple[Any, ...], ...]  # (code, defaults, kwdefaults) of the functions
    members: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]  # of the classes
    every: frozenset[str]  # all the names, if every plain name was printed, else empty
    kept: int  # objects a run would keep (a class counts its methods too)


_STATE = attrgetter("__code__", "__defaults__", "__kwdefaults__")
_DICT = attrgetter("__dict__")


def _members(cls: Any) -> tuple[tuple[str, ...], tuple[int, ...]]:
    members = cls.__dict__
    return tuple(members), tuple(map(id, members.values()))


def _kept(obj: Any) -> int:
    if type(obj) is FunctionType:
        return 1
    return 1 + sum(type(v) is FunctionType for v in vars(obj).values())


def fingerprints(ns: Mapping[str, Any], plain: Groups, only: set[str] | None = None) -> Prints:
    """How a run left the plain definitions of a namespace (``only`` these of them)."""
    every = [name for group in plain for name in group]
    named = every if only is None else [n for n in every if n in only]
    functions = [n for n in named if type(ns.get(n)) is FunctionType and not ns[n].__dict__]
    classes = [n for n in named if type(ns.get(n)) is type]
    names = (*functions, *classes)
    objects = [ns[n] for n in names]
    return Prints(
        names,
        len(functions),
        tuple(map(id, objects)),
        tuple(map(_STATE, objects[: len(functions)])),
        tuple(map(_members, objects[len(functions) :])),
        frozenset(names) if len(names) == len(every) else frozenset(),
        sum(map(_kept, objects)),
    )


def adopt(ns: Mapping[str, Any], code: CodeType, plain: Groups, owner: str) -> Prints:
    """Fingerprints of the plain definitions that already are what ``code`` defines:
    those an import (or a run of another process's code) of the same text left, as if a
    run of ``code`` had, so that its first run may skip them too. (Only for the text
    that made them: defaults and annotations are not in a function's code.)

    A function qualifies if it is the module's own, with no closure and code equal to
    the one ``code`` makes it from; a class if it is the module's own, derives from
    object only, has no members but functions and dunders, and each function is such a
    function of the class body. (Which is what `Patcher.keep_unchanged` would find.)
    """
    made = {c.co_name: c for c in code.co_consts if isinstance(c, CodeType)}

    def methods(name: str) -> dict[str, CodeType]:
        return {c.co_name: c for c in made[name].co_consts if isinstance(c, CodeType)}

    return _adopted(ns, plain, owner, made, methods, eq)


def made_here(
    ns: Mapping[str, Any], plain: Groups, lines: Lines, owner: str, files: Set[str]
) -> Prints:
    """Fingerprints of the plain definitions an import of the source of ``lines`` left
    (`plain_lines`): as `adopt` finds them, each function known by where its code
    begins (its file, one of ``files``, and first line) instead of by its code.

    Only for a namespace known to have run that very source: a function of the same
    name, module and line could otherwise come from another text of the file.
    """
    top = {name: line for name, line, _ in lines}
    inner = {name: dict(members) for name, _, members in lines}

    def where(code: CodeType, line: int) -> bool:
        return code.co_firstlineno == line and code.co_filename in files

    return _adopted(ns, plain, owner, top, inner.__getitem__, where)


def _adopted(
    ns: Mapping[str, Any],
    plain: Groups,
    owner: str,
    made: Mapping[str, Any],
    methods: Callable[[str], Mapping[str, Any]],
    same: Callable[[CodeType, Any], bool],
) -> Prints:
    # ``made``: what tells each definition (by name) apart, ``methods`` the same for
    # the functions of a class body, and ``same`` whether a code object is the one told.
    found = set()
    for group in plain:
        for name in group:
            obj, mark = ns.get(name), made.get(name)
            if mark is None or getattr(obj, "__module__", None) != owner:
                continue
            if type(obj) is FunctionType:
                if (
                    obj.__qualname__ == name
                    and obj.__closure__ is None
                    and not obj.__dict__
                    and same(obj.__code__, mark)
                ):
                    found.add(name)
            elif (
                type(obj) is type
                and obj.__qualname__ == name
                and obj.__bases__ == (object,)
                and _made_by(obj, methods(name), owner, same)
            ):
                found.add(name)
    return fingerprints(ns, plain, found)


def _made_by(
    cls: type, methods: Mapping[str, Any], owner: str, same: Callable[[CodeType, Any], bool]
) -> bool:
    count = 0
    for key, value in cls.__dict__.items():
        if type(value) is FunctionType:
            mark = methods.get(key)
            if (
                mark is None
                or value.__closure__ is not None
                or value.__dict__
                or value.__qualname__ != f"{cls.__qualname__}.{key}"
                or value.__module__ != owner
                or not same(value.__code__, mark)
            ):
                return False
            count += 1
        elif not (key[:2] == key[-2:] == "__"):
            return False  # a constant, or set by the program: a run tells
    return count == len(methods)


def unchanged(ns: Mapping[str, Any], prints: Prints, plain: Groups) -> frozenset[str]:
    """The plain definitions a run may skip: those of each run of ``plain`` whose names
    are all still bound to the object the last run left, with the same code, defaults
    and no attributes (a function) or the same members (a class): what a run would
    keep as it is. (What else a program changed, a run changes back, as before.)
    """
    objects = tuple(map(ns.get, prints.names))
    split = prints.functions
    if (
        prints.every
        and tuple(map(id, objects)) == prints.ids
        and tuple(map(_STATE, objects[:split])) == prints.state
        and not any(map(len, map(_DICT, objects[:split])))
        and tuple(map(_members, objects[split:])) == prints.members
    ):
        return prints.every  # the common case, in a few C loops
    same = {
        name
        for i, (name, obj) in enumerate(zip(prints.names, objects, strict=True))
        if id(obj) == prints.ids[i]
        and (
            type(obj) is FunctionType and _STATE(obj) == prints.state[i] and not obj.__dict__
            if i < split
            else is_class(obj) and _members(obj) == prints.members[i - split]
        )
    }
    return frozenset(name for group in plain if same.issuperset(group) for name in group)


def kept_count(ns: Mapping[str, Any], names: frozenset[str]) -> int:
    """How many objects a run would have kept for these plain definitions."""
    return sum(_kept(ns[name]) for name in names)


def _replace_in(container: Any, twins: Mapping[int, Any]) -> Callable[[], None]:
    """Replace ``twins`` (by id) in a list, dict or set; the undo.

    The undo holds what it put back, not a copy of the container: a plain copy held
    the module's objects like a registry, and each module of a reload of N plugins
    filling one list found the copies the others made (N times N entries).
    """
    if type(container) is list:
        return _replace_at(container, _indexes(list(map(id, container)), twins.keys()), twins)
    if type(container) is dict and twins.keys().isdisjoint(map(id, container)):
        values = [(k, v, twins[id(v)]) for k, v in container.items() if id(v) in twins]
        container.update((k, kept) for k, _, kept in values)

        def put_back() -> None:
            for key, made, kept in values:
                if container.get(key, MISSING) is kept:
                    container[key] = made

        return put_back
    saved = SAVED[type(container)](container)  # (of a type no registry look takes)
    if type(container) is dict:
        replaced: Any = {twins.get(id(k), k): twins.get(id(v), v) for k, v in container.items()}
    else:
        replaced = {twins.get(id(v), v) for v in container}
    container.clear()
    container.update(replaced)
    return functools.partial(refill, container, saved)


_TAIL = 8  # entries read from the end of each list before reading lists whole


def _in_tails(
    containers: list[Any],
    twins: Mapping[int, Any],
    classes: list[type],
    undo: list[Callable[[], None]],
) -> bool:
    """Put the kept classes in place of ``classes`` (given up, ``twins`` by id) where
    the last entries of the lists among ``containers`` hold them, if that is every
    reference to them (their reference counts, less their own and the patcher's, tell):
    ``__init_subclass__`` appended them, and no list of N plugins is read whole N
    times. False, changing nothing, when some reference is elsewhere."""
    outside = 0
    for cls in classes:
        # Known: getrefcount's argument, ``cls``, ``classes``, the caller's map of the
        # classes given up, the patcher's (which keeps it alive), and its own parts.
        outside += sys.getrefcount(cls) - 5 - own_references(cls)[id(cls)]
    held: list[tuple[list[Any], int]] = []
    for container in containers:
        if type(container) is list:
            start = max(len(container) - _TAIL, 0)
            tail = map(id, container[start:])  # (islice would step over the start)
            held += [(container, start + i) for i, t in enumerate(tail) if t in twins]
    if len(held) != outside:
        return False
    for container in {id(c): c for c, _ in held}.values():
        where = [i for c, i in held if c is container]
        undo.append(_replace_at(container, where, twins))
    return True


def _replace_at(
    container: list[Any], where: list[int], twins: Mapping[int, Any]
) -> Callable[[], None]:
    """Put the kept objects in place of the ``twins`` at the places ``where``; the undo
    (where the kept object still is: a registry's own rollback may have run first)."""
    places = [(i, container[i], twins[id(container[i])]) for i in where]
    for i, _, kept in places:
        container[i] = kept

    def undo() -> None:
        for i, made, kept in places:
            if i < len(container) and container[i] is kept:
                container[i] = made

    return undo


def _indexes(ids: list[int], wanted: Set[int]) -> list[int]:
    """Where ``ids`` hold any of ``wanted``, in order."""
    found: list[int] = []
    for i in wanted:
        at = -1
        with contextlib.suppress(ValueError):
            while True:
                at = ids.index(i, at + 1)
                found.append(at)
    return sorted(found)


# The `Definer` of each module namespace running now, by id. The decorators a module's
# code calls find theirs here, not in the namespace: a library may copy the namespace
# (attrs copies it into the globals of the methods it writes), and a copy holding the
# Definer would keep the transaction, and every object it replaced, alive.
_running: dict[int, Definer] = {}


def _caller() -> Definer:
    return _running[id(sys._getframe(2).f_globals)]


def _define(new: Any) -> Any:
    return _caller().define(new)


def _bind(path: str) -> Callable[[Any], Any]:
    return _caller().bind(path)


def _around(decorator: Callable[[Any], Any], path: str | None, inner: bool) -> Callable[[Any], Any]:
    return _caller().around(decorator, path, inner)


class Definer:
    """The two decorators for one module of one transaction."""

    def __init__(self, patcher: Patcher, owner: str, old: Mapping[str, Any]) -> None:
        self.patcher = patcher
        self.owner = owner
        self.old = old
        # Notes of raw definitions not kept, by qualified name: moot once a decorator's
        # result is kept (``@dataclass(slots=True)`` makes the class that is bound).
        self._unkept: dict[str, list[str]] = {}
        # The classes the run made and gave up for the kept ones, by id:
        # ``__init_subclass__`` or a metaclass may have stored them.
        self._given_up: dict[int, type] = {}

    def install(self, ns: dict[str, Any], skip: frozenset[str] = frozenset()) -> None:
        """Make the decorators visible to the module's code, and the plain definitions
        it leaves as they are (``skip``)."""
        _running[id(ns)] = self
        ns[DEF] = _define
        ns[BIND] = _bind
        ns[SKIP] = skip
        ns[AROUND] = _around

    @staticmethod
    def remove(ns: dict[str, Any]) -> None:
        """Take the decorators out of the namespace again."""
        _running.pop(id(ns), None)
        ns.pop(DEF, None)
        ns.pop(BIND, None)
        ns.pop(SKIP, None)
        ns.pop(AROUND, None)

    def define(self, new: Any) -> Any:
        """The kept function or class for a fresh definition (or the definition itself)."""
        qualname = getattr(new, "__qualname__", None)
        if not isinstance(qualname, str) or "<locals>" in qualname:
            return new
        old = self.old.get(qualname) if "." not in qualname else self._lookup(qualname.split("."))
        if old is not None and self.patcher.keep_unchanged(old, new, self.owner):
            if is_class(new):
                self._given_up[id(new)] = new
            return old  # a dependent re-run from its cached code: the common case
        if is_class(new):
            self.patcher.classes_changed = True
        if old is None:
            return new
        if (
            type(old) is not type(new)
            or not _defined_as(old, qualname, self.owner)
            or _is_wrapper(old)
        ):
            old = self._raw(old, qualname, is_class(new))
            if old is None or old is new:
                return new
        notes = len(self.patcher.notes)
        kept = self.patcher.keep(old, new, self.owner)
        if kept is new and len(self.patcher.notes) > notes:
            self._unkept[qualname] = self.patcher.notes[notes:]
        if self.patcher.has_cells():
            self.patcher.fix_cells()
        if kept is not new and is_class(new):
            self._given_up[id(new)] = new
        return kept

    def settle_twins(self, ns: Mapping[str, Any]) -> None:
        """Put the kept classes in place of the classes the run made and gave up, in the
        containers the module's namespace and its classes hold (a registry that
        ``__init_subclass__`` fills), as a fresh import would have them there."""
        made, self._given_up = self._given_up, {}
        twins = {i: self.patcher.twins[i] for i in made if i in self.patcher.twins}
        if not twins:
            return
        old = self.old
        found: dict[int, Any] = {}
        for _, _, state in places(self.owner, ns):
            for name, value in list(state.items()):
                if type(value) not in (list, dict, set) or len(value) > REGISTRY_MAX:
                    continue
                if state is ns and old.get(name) is value:
                    continue  # (not made by this run: imported, kept; a registry's own)
                found[id(value)] = value
        containers = list(found.values())
        if _in_tails(containers, twins, [made[i] for i in twins], self.patcher.undo):
            return
        for value in containers:
            if not twins.keys().isdisjoint(map(id, value)) or (
                type(value) is dict and not twins.keys().isdisjoint(map(id, value.values()))
            ):
                self.patcher.undo.append(_replace_in(value, twins))

    def bind(self, path: str) -> Callable[[Any], Any]:
        """A decorator giving the final object bound at ``path`` its kept predecessor."""

        def keep(new: Any) -> Any:
            old = self._lookup(path.split("."))
            if old is None or old is new or is_proxy(old) or is_proxy(new):
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

    def around(
        self, decorator: Callable[[Any], Any], path: str | None, inner: bool
    ) -> Callable[[Any], Any]:
        """A user's ``decorator`` with the definition hooks around it: `bind` after it
        (``path``: it is the outermost), `define` before it (``inner``: the innermost).
        What a decorator's line becomes when the hooks cannot have lines of their own."""
        keep = self.bind(path) if path is not None else None

        def decorate(new: Any) -> Any:
            made = decorator(self.define(new) if inner else new)
            return made if keep is None else keep(made)

        return decorate

    def _lookup(self, parts: list[str]) -> Any:
        obj = self.old.get(parts[0])
        for part in parts[1:]:
            if not is_class(obj):
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
            if is_proxy(item):
                continue
            if want_class:
                if is_class(item) and _defined_as(item, qualname, self.owner):
                    return item
                continue
            if (
                is_function(item)
                and _defined_as(item, qualname, self.owner)
                and not self.patcher.is_patched(item)
                and not _is_wrapper(item)
            ):
                return item
            todo.extend(_inner_objects(item))
        return None


def _is_wrapper(obj: Any) -> bool:
    # A function made by a decorator with functools.wraps: its name and module are the
    # definition's, the definition is its __wrapped__ (a decorator gets that one kept).
    return type(obj) is FunctionType and isinstance(obj.__dict__.get("__wrapped__"), FunctionType)


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
    if is_function(obj):
        for cell in obj.__closure__ or ():
            with contextlib.suppress(ValueError):  # an empty cell
                found.append(cell.cell_contents)
    return found


# Words whose absence from a source lets `bound_names` skip expressions (big data
# literals) and function bodies: no walrus, no dynamic binding, no ``global``.
_DEEP_WORDS = (
    *(b":=", b"globals", b"vars", b"setattr", b"exec", b"__import__", b"modules"),
    *(b"__dict__", b"import_module"),
)


def bound_names(tree: ast.Module, source: bytes | None = None) -> tuple[set[str], bool]:
    """Names a module's top-level code may bind, and whether it binds names dynamically.

    With ``source``, expressions are skipped unless its text could bind names in them.
    """
    names: set[str] = set()
    dynamic = False
    deep = source is None or any(word in source for word in _DEEP_WORDS)
    globals_ = source is None or b"global" in source

    def visit(node: ast.AST, top: bool) -> None:
        nonlocal dynamic
        if (
            not deep
            and isinstance(node, ast.expr)
            and not isinstance(getattr(node, "ctx", None), ast.Store)
        ):
            return  # a value: it binds nothing (no walrus in this source)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if top:
                names.add(node.name)
            for child in walk(node) if globals_ else ():
                if isinstance(child, ast.Global):
                    names.update(child.names)
            if top:
                for dec in node.decorator_list:
                    visit(dec, top)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and top:
            names.add(node.id)
        elif isinstance(node, ast.alias):
            if node.name == "*":
                dynamic = True
            else:
                names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("globals", "vars", "setattr", "exec", "__import__")
        ):
            dynamic = True
        elif isinstance(node, ast.Attribute) and (
            node.attr in ("modules", "__dict__", "import_module")
            or (isinstance(node.ctx, ast.Store) and not isinstance(node.value, ast.Name))
        ):
            dynamic = True  # sys.modules[__name__].X = ..., a module object bound by hand
        for child in children(node):
            visit(child, top)

    for stmt in tree.body:
        visit(stmt, True)
    return names, dynamic
