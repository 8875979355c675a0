"""What a module may register somewhere else, read off its syntax tree (`registrants`).

Each name is marked by how the module binds it: ``def:`` by a ``def`` or ``class``
statement, ``made:`` to what a top-level call returned; a plain name was passed to a
call. Beside them, ``by:`` names tell where each is registered (`SITE`), and ``new:``
names the classes an instance of which is registered (`NEW`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from ._syntax import walk

__all__ = [
    "DEFINED",
    "MADE",
    "NEW",
    "SITE",
    "global_of",
    "instances",
    "registrants",
    "site_changes",
    "without_sites",
]


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def registrants(tree: ast.Module, *, sites: bool = True) -> frozenset[str]:
    """Top-level names whose objects the module may register somewhere else.

    Decorated functions and classes, classes with bases or a metaclass (their base's
    ``__init_subclass__`` or metaclass may register them), names passed to calls made
    by top-level statements (``registry.append(handler)``), names stored at a key
    (``HANDLERS["ping"] = on_ping``) or added in place (``HANDLERS += [on_ping]``), and
    names bound to what a call returned
    (``hello = make_handler("hi")``: a factory may register what it made).

    With ``sites``, also the decorators and callables each name goes through
    (``by:f:app.register``), the names called to make what a call registers
    (``new:Greeter`` for ``PLUGINS.append(Greeter())``), and `SITE` itself once there
    is any name.
    """
    names: set[str] = set()
    found: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, _DEFS):
            if node.decorator_list or (
                isinstance(node, ast.ClassDef) and (node.bases or node.keywords)
            ):
                names.add(DEFINED + node.name)
                found.update(f"{SITE}{node.name}:{_site(d)}" for d in node.decorator_list)
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
                    passed = {
                        n.id for a in args for n in _outside_lambdas(a) if isinstance(n, ast.Name)
                    }
                    names |= passed
                    site = _site(call.func)
                    found.update(f"{SITE}{name}:{site}" for name in passed)
                    found.update(NEW + name for name in _made(args))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) for t in node.targets
        ):  # HANDLERS["ping"] = on_ping
            names.update(n.id for n in _outside_lambdas(node.value) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AugAssign):  # HANDLERS += [on_ping]
            added = {n.id for n in _outside_lambdas(node.value) if isinstance(n, ast.Name)}
            names |= added
            site = f"{_site(node.target)}+="
            found.update(f"{SITE}{name}:{site}" for name in added)
    if sites and names:
        names |= found
        names.add(SITE)
    return frozenset(names)


def _made(args: list[ast.expr]) -> Iterable[str]:
    """The names called to make arguments, or the items of literal arguments
    (``add(Greeter())``, ``PLUGINS.extend([A(), B()])``)."""
    for arg in args:
        items = arg.elts if isinstance(arg, (ast.List, ast.Tuple, ast.Set)) else [arg]
        for item in items:
            if isinstance(item, ast.Call) and isinstance(item.func, ast.Name):
                yield item.func.id


def _site(node: ast.expr) -> str:
    """A decorator or callable as a short text: its dotted name, a call with its
    arguments (``on('tick')``: the key of an event's list of handlers), else its kind
    of expression (the arguments of a call: constants by value)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_site(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        args = [*map(_site, node.args), *(f"{k.arg}={_site(k.value)}" for k in node.keywords)]
        return f"{_site(node.func)}({', '.join(args)})"
    if isinstance(node, ast.Constant):
        return repr(node.value)
    return type(node).__name__


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


# Marks where a name is registered (``by:f:register``: passed to, or decorated by,
# ``register``); alone, it tells that a source's sites were read (a big source's are
# not: `_bigsource`).
SITE = "by:"


# Marks a name called to make what a call registers (``new:Greeter``: an instance).
NEW = "new:"


def without_sites(names: frozenset[str]) -> frozenset[str]:
    """The registrant names, their sites and `NEW` marks left out."""
    return frozenset(n for n in names if not n.startswith((SITE, NEW)))


def instances(names: frozenset[str]) -> frozenset[str]:
    """The globals of ``names`` an instance of which the module registers (`NEW`)."""
    return frozenset(n[len(NEW) :] for n in names if n.startswith(NEW))


def site_changes(
    running: frozenset[str], names: frozenset[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """The registrant names of ``names`` registered in fewer places than by the running
    version (``running``: a decorator or a registering call of theirs is gone, or
    another took its place), and those registered in places it did not register them.
    Both empty unless the sites of both versions were read."""
    if SITE not in running or SITE not in names:
        return frozenset(), frozenset()
    return _sited(names, running - names), _sited(names, names - running)


def _sited(names: frozenset[str], sites: frozenset[str]) -> frozenset[str]:
    """The registrant names of ``names`` with one of ``sites``."""
    of = {site[len(SITE) :].split(":", 1)[0] for site in sites if site.startswith(SITE)}
    return frozenset(n for n in names if not n.startswith(SITE) and global_of(n) in of)


def global_of(name: str) -> str:
    """The module global a registrant name is about."""
    return name.split(":", 1)[1] if name.startswith((DEFINED, MADE)) else name
