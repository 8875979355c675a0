"""What a module may register somewhere else, read off its syntax tree (`registrants`).

Each name is marked by how the module binds it: ``def:`` by a ``def`` or ``class``
statement, ``made:`` to what a top-level call returned; a plain name was passed to a
call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ._syntax import walk

__all__ = ["DEFINED", "MADE", "global_of", "registrants"]


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def registrants(tree: ast.Module) -> frozenset[str]:
    """Top-level names whose objects the module may register somewhere else.

    Decorated functions and classes, classes with bases or a metaclass (their base's
    ``__init_subclass__`` or metaclass may register them), names passed to calls made
    by top-level statements (``registry.append(handler)``), names stored at a key
    (``HANDLERS["ping"] = on_ping``), and names bound to what a call returned
    (``hello = make_handler("hi")``: a factory may register what it made).
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
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) for t in node.targets
        ):  # HANDLERS["ping"] = on_ping
            names.update(n.id for n in _outside_lambdas(node.value) if isinstance(n, ast.Name))
    return frozenset(names)


def _outside_lambdas(node: ast.AST) -> Iterable[ast.AST]:
    """`ast.walk`, leaving out lambda bodies: ``keep("t", lambda: [Cell(i) ...])`` runs
    ``Cell`` later and registers the lambda (no name of the module) at most."""
    return walk(node, skip=ast.Lambda)


def _top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(node, field, []))


DEFINED = "def:"  # marks the registrant names bound by a def or class statement


MADE = "made:"  # marks names bound to what a top-level call returned


def global_of(name: str) -> str:
    """The module global a registrant name is about."""
    return name.split(":", 1)[1] if name.startswith((DEFINED, MADE)) else name
