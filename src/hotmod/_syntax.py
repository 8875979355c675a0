"""Quick walks of syntax trees: the stages read a module's whole tree on each reload
(its imports, the names it binds and registers, its plain definitions), and a module
of a few hundred kilobytes has a million nodes. `ast.iter_child_nodes` visits every
field of every node, the expression context of each name (``Load()``) included;
these visit the fields that may hold a node, and only statement lists where only
statements matter.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

__all__ = ["children", "nested_statements", "walk"]

# Fields that never hold a node: names, numbers and flags, and the expression context.
_LEAF_FIELDS = frozenset(
    {"ctx", "id", "attr", "arg", "name", "asname", "module", "level", "kind", "is_async"}
    | {"conversion", "type_comment", "tag"}
)
_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}
# Fields of a statement that hold statements (or handlers and match cases, that do).
_BODIES = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
_STATEMENT_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _fields(kind: type[ast.AST]) -> tuple[str, ...]:
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
    return fields


def children(node: ast.AST) -> list[ast.AST]:
    """The nodes directly under ``node``, as `ast.iter_child_nodes` gives them, but
    for expression contexts."""
    found: list[ast.AST] = []
    for field in _fields(type(node)):
        value = getattr(node, field, None)
        if type(value) is list:
            found += [item for item in value if isinstance(item, ast.AST)]
        elif isinstance(value, ast.AST):
            found.append(value)
    return found


def walk(node: ast.AST, skip: type[ast.AST] | None = None) -> Iterator[ast.AST]:
    """Every node under ``node`` and itself (as `ast.walk`, depth first), but for
    expression contexts and what is under a node of type ``skip``."""
    todo = [node]
    while todo:
        item = todo.pop()
        yield item
        if skip is None or not isinstance(item, skip):
            todo += children(item)


def nested_statements(node: ast.AST) -> list[ast.AST]:
    """The statements directly in ``node``'s bodies, and its exception handlers and
    match cases (which hold statements), in source order: nothing for a simple
    statement."""
    kind = type(node)
    fields = _STATEMENT_FIELDS.get(kind)
    if fields is None:
        fields = _STATEMENT_FIELDS[kind] = tuple(f for f in kind._fields if f in _BODIES)
    found: list[ast.AST] = []
    for field in fields:
        found += getattr(node, field)
    return found
