"""Quiet modules: a top level a reload may bind anew instead of running.

A quiet module's top level is only imports (none of ``*``), docstrings, plain definitions
(`_define.plain_definitions`), names assigned a literal (``__all__ = ["f"]``,
``TIMEOUT = 30``) and ``if TYPE_CHECKING:`` blocks of imports. A run of the same source
that finds its definitions unchanged and each literal's name still bound to an equal
value only binds its imports again: `Reloader._bind_only` does that instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from ._define import Groups
from ._graph import type_checking_test
from ._missing import MISSING

__all__ = ["Constants", "literals_hold", "maybe_quiet", "quiet", "same_literal"]

Constants = tuple[tuple[str, Any], ...]
"""The names a quiet module assigns a literal, each with its value."""

# A module holding longer literals runs: its step keeps no copy of big tables.
_MAX_ITEMS = 1000

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TYPING = frozenset({"typing", "typing_extensions"})


def quiet(tree: ast.Module, plain: Groups) -> Constants | None:
    """The literals of a quiet module (``()`` if none), or None if it is not quiet: its
    top level holds anything but imports, docstrings, the plain definitions ``plain``
    names, one assignment of a literal per name and ``if TYPE_CHECKING:`` imports."""
    names = {name for group in plain for name in group}
    bound: list[str] = []  # every name the top level binds, to find a name bound twice
    constants: list[tuple[str, Any]] = []
    items = 0
    checks: list[ast.expr] = []
    for node in tree.body:
        if isinstance(node, _DEFS):
            if node.name not in names:
                return None
            bound.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if not _imports(node, bound):
                return None
        elif isinstance(node, ast.Assign):
            size = _literal_size(node.value)
            if size is None or not all(isinstance(t, ast.Name) for t in node.targets):
                return None
            items += size
            try:
                value = ast.literal_eval(node.value)
            except (TypeError, ValueError):  # {[1]: 2}: fails as it runs
                return None
            for target in node.targets:
                bound.append(target.id)  # type: ignore[attr-defined]
                constants.append((target.id, value))  # type: ignore[attr-defined]
        elif isinstance(node, ast.If):
            if type_checking_test(node.test) is not True or node.orelse:
                return None
            if not all(_inert(item) for item in node.body):
                return None
            checks.append(node.test)
        elif not _inert(node):
            return None
    if items > _MAX_ITEMS or len(bound) != len(set(bound)):
        return None
    if not all(_names_typing_flag(test, tree) for test in checks):
        return None
    return tuple(constants)


_KINDS = (*_DEFS, ast.Import, ast.ImportFrom, ast.Assign, ast.If, ast.Expr, ast.Pass)


def maybe_quiet(tree: ast.Module) -> bool:
    """Whether the top level holds only statements of the kinds a quiet module has
    (`quiet` tells): cheap, and false for most modules."""
    return all(isinstance(node, _KINDS) for node in tree.body)


def _imports(node: ast.Import | ast.ImportFrom, bound: list[str]) -> bool:
    """Add the names an import binds; False for ``import *``."""
    for alias in node.names:
        if alias.name == "*":
            return False
        if isinstance(node, ast.Import) and alias.asname is None:
            bound.append(alias.name.partition(".")[0])
        else:
            bound.append(alias.asname or alias.name)
    return True


def _inert(node: ast.stmt) -> bool:
    """A statement whose run binds nothing but what an import binds: an import (not
    ``*``), ``pass``, a docstring."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return all(alias.name != "*" for alias in node.names)
    return isinstance(node, ast.Pass) or (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    )


def _names_typing_flag(test: ast.expr, tree: ast.Module) -> bool:
    """Whether the ``TYPE_CHECKING`` of an ``if`` is the typing module's (False when the
    program runs), as a top-level import of this module binds it."""
    for node in tree.body:
        if (
            isinstance(test, ast.Name)
            and isinstance(node, ast.ImportFrom)
            and node.module in _TYPING
            and node.level == 0
            and any((a.asname or a.name) == test.id == a.name for a in node.names)
        ):
            return True
        elif isinstance(test, ast.Attribute) and isinstance(node, ast.Import):
            local = test.value.id if isinstance(test.value, ast.Name) else None
            if any(a.name in _TYPING and (a.asname or a.name) == local for a in node.names):
                return True
    return False


def _literal_size(node: ast.expr) -> int | None:
    """How many items a literal holds (constants, lists, tuples, sets, dicts of them,
    signed numbers), or None for any other expression."""
    if isinstance(node, ast.Constant):
        return 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = node.operand
        if isinstance(operand, ast.Constant) and type(operand.value) in (int, float, complex):
            return 1
        return None
    parts: Iterable[ast.expr | None]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        parts = node.elts
    elif isinstance(node, ast.Dict):
        parts = (*node.keys, *node.values)
    else:
        return None
    total = 1
    for part in parts:
        size = _literal_size(part) if part is not None else None  # (None: ``**spread``)
        if size is None:
            return None
        total += size
    return total


def same_literal(value: Any, literal: Any) -> bool:
    """Whether ``value`` is what a run assigning ``literal`` would bind: the same types
    throughout, equal items, a dict's keys in the same order."""
    kind = type(literal)
    if type(value) is not kind:
        return False
    if kind is list or kind is tuple:
        return len(value) == len(literal) and all(map(same_literal, value, literal))
    if kind is dict:
        return len(value) == len(literal) and all(
            same_literal(k, j) and same_literal(v, w)
            for (k, v), (j, w) in zip(value.items(), literal.items(), strict=True)
        )
    return bool(value == literal)


def literals_hold(namespace: dict[str, Any], constants: Constants) -> bool:
    """Whether each name of ``constants`` is bound to what its literal makes."""
    return all(same_literal(namespace.get(name, MISSING), value) for name, value in constants)
