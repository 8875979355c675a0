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
from collections.abc import Mapping
from types import FunctionType
from typing import Any

from ._patch import Patcher

__all__ = ["BIND", "DEF", "Definer", "instrument"]

DEF = "__hotmod_def__"
BIND = "__hotmod_bind__"

_Def = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def instrument(tree: ast.Module) -> ast.Module:
    """Add the two decorators to module-level and class-level definitions (in place)."""
    _instrument_body(tree.body, "")
    return tree


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


class Definer:
    """The two decorators for one module of one transaction."""

    def __init__(self, patcher: Patcher, owner: str, old: Mapping[str, Any]) -> None:
        self.patcher = patcher
        self.owner = owner
        self.old = old
        # Notes of raw definitions not kept, by qualified name: moot once a decorator's
        # result is kept (``@dataclass(slots=True)`` makes the class that is bound).
        self._unkept: dict[str, list[str]] = {}

    def install(self, ns: dict[str, Any]) -> None:
        """Make the decorators visible to the module's code."""
        ns[DEF] = self.define
        ns[BIND] = self.bind

    @staticmethod
    def remove(ns: dict[str, Any]) -> None:
        """Take the decorators out of the namespace again."""
        ns.pop(DEF, None)
        ns.pop(BIND, None)

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
