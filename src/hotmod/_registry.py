"""Registries outside a module: containers its top-level code put its objects into.

Definition-time identity (`_define`) makes a re-executed ``@register`` hand the kept
function to the registry again. A dict or set registry then holds it once, as before; a
list registry would hold it twice, and a class registered by ``__init_subclass__`` or a
metaclass arrives as the new twin of the kept class. This stage finds those containers
(once per module, by asking the garbage collector who holds the module's registered
objects), counts the module's entries before it runs, and afterwards puts kept objects
in place of twins and removes the entries the previous version made.
"""

from __future__ import annotations

import ast
import gc
import sys
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._patch import Patcher

__all__ = ["Registries", "registrants"]

_Container = list[Any] | set[Any] | dict[Any, Any] | deque[Any]
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def registrants(tree: ast.Module) -> frozenset[str]:
    """Top-level names whose objects the module may register somewhere else.

    Decorated functions and classes, classes with bases or a metaclass (their base's
    ``__init_subclass__`` or metaclass may register them), and names passed to calls
    made by top-level statements (``registry.append(handler)``).
    """
    names: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, _DEFS):
            if node.decorator_list or (
                isinstance(node, ast.ClassDef) and (node.bases or node.keywords)
            ):
                names.add(_DEFINED + node.name)
        elif isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)) and node.value is not None:
            for call in ast.walk(node.value):
                if isinstance(call, ast.Call):
                    args = [*call.args, *(k.value for k in call.keywords)]
                    names.update(n.id for a in args for n in ast.walk(a) if isinstance(n, ast.Name))
    return frozenset(names)


def _top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(node, field, []))


_DEFINED = "def:"  # marks names bound by a def or class statement of the module


def _owned(value: Any, owner: str, defined: bool) -> list[Any]:
    # The object bound to a name and the definitions inside it (a decorator's function).
    # What a def or class statement bound is the module's own, even an instance a
    # class-based decorator made; a name merely passed to a call must be defined here.
    found, todo = [], [value]
    while todo and len(found) < 8:
        item = todo.pop()
        own = defined and item is value or getattr(item, "__module__", None) == owner
        if not own or any(item is f for f in found):
            continue
        found.append(item)
        for attr in ("__wrapped__", "__func__"):
            inner = getattr(item, attr, None) if callable(item) or attr == "__func__" else None
            if inner is not None:
                todo.append(inner)
    return found


class Registries:
    """Containers holding each module's registered objects, found once per module."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[frozenset[str], list[_Container]]] = {}

    def forget(self, module: str) -> None:
        """Drop what is known of a module."""
        self._known.pop(module, None)

    def before(
        self, module: str, names: frozenset[str], old: Mapping[str, Any], internal: set[int]
    ) -> Callable[[Patcher, list[Callable[[], None]]], None] | None:
        """Count the module's entries in its registries before it runs again.

        Returns the step to run once the whole plan has executed (twins replaced,
        entries of the previous version removed), or None when the module registers
        nothing.
        """
        objects = []
        for name in names:
            defined = name.startswith(_DEFINED)
            key = name[len(_DEFINED) :] if defined else name
            if key in old:
                objects.extend(_owned(old[key], module, defined))
        if not objects:
            return None
        ids = {id(o) for o in objects}
        seen, containers = self._known.get(module, (frozenset(), []))
        if not names <= seen or not any(_holds(c, ids) for c in containers):
            containers = _find_containers(objects, internal)
            self._known[module] = (names | seen, containers)
        if not containers:
            return None
        counts = [_count(c, ids) for c in containers]
        return lambda patcher, undo: _settle(containers, counts, ids, patcher, undo)


def _holds(container: _Container, ids: set[int]) -> bool:
    values = container.values() if isinstance(container, dict) else container
    return any(id(item) in ids for item in values)


def _count(container: _Container | list[Any], ids: set[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    if isinstance(container, (list, deque)):
        for item in container:
            if id(item) in ids:
                counts[id(item)] = counts.get(id(item), 0) + 1
    return counts


def _find_containers(objects: list[Any], internal: set[int]) -> list[_Container]:
    internal = internal | {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}
    internal.add(id(objects))
    found: list[_Container] = []
    for ref in gc.get_referrers(*objects):
        if id(ref) in internal or not isinstance(ref, (list, set, dict, deque)):
            continue
        if isinstance(ref, dict) and "__wrapped__" in ref:
            continue  # a wrapper function's attributes
        found.append(ref)
    return found


def _settle(
    containers: list[_Container],
    counts: list[dict[int, int]],
    ids: set[int],
    patcher: Patcher,
    undo: list[Callable[[], None]],
) -> None:
    canonical = patcher.canonical
    for container, before in zip(containers, counts, strict=True):
        if isinstance(container, dict):
            _settle_dict(container, canonical, undo)
        elif isinstance(container, set):
            if any(patcher.is_replaced(item) for item in container):
                saved_set = set(container)
                undo.append(lambda c=container, s=saved_set: (c.clear(), c.update(s)))  # type: ignore[misc]
                kept = {canonical(item) for item in container}
                container.clear()
                container.update(kept)
        else:
            _settle_sequence(container, before, ids, canonical, undo)


def _settle_dict(
    container: dict[Any, Any], canonical: Callable[[Any], Any], undo: list[Callable[[], None]]
) -> None:
    changed = [(k, v) for k, v in container.items() if canonical(v) is not v or canonical(k) is not k]
    if not changed:
        return
    saved = dict(container)
    undo.append(lambda: (container.clear(), container.update(saved)))
    if any(canonical(k) is not k for k, _ in changed):
        items = [(canonical(k), canonical(v)) for k, v in container.items()]
        container.clear()
        container.update(items)
    else:
        for key, value in changed:
            container[key] = canonical(value)


def _settle_sequence(
    container: list[Any] | deque[Any],
    before: dict[int, int],
    ids: set[int],
    canonical: Callable[[Any], Any],
    undo: list[Callable[[], None]],
) -> None:
    items = [canonical(item) for item in container]
    after = _count(items, ids)
    # Where the new version registered an object again, the previous version's entries
    # of it are dropped: the earliest positions stay, as after a fresh import.
    keep = {i: n - before.get(i, 0) for i, n in after.items() if n > before.get(i, 0)}
    if keep:
        result = []
        for item in items:
            left = keep.get(id(item))
            if left is not None:
                if left == 0:
                    continue
                keep[id(item)] = left - 1
            result.append(item)
        items = result
    elif all(a is b for a, b in zip(items, container, strict=True)):
        return
    saved = list(container)
    undo.append(lambda: _replace(container, saved))
    _replace(container, items)


def _replace(container: list[Any] | deque[Any], items: list[Any]) -> None:
    if isinstance(container, list):
        container[:] = items
    else:
        container.clear()
        container.extend(items)
