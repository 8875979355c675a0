"""Rebinding ``from x import y`` names whose object could not keep its identity."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from ._missing import MISSING

__all__ = ["rebind"]


def _star_names(old: dict[str, Any]) -> list[str]:
    public = old.get("__all__")
    if isinstance(public, (list, tuple)):
        return [n for n in public if isinstance(n, str)]
    return [n for n in old if not n.startswith("_")]


def rebind(
    namespace: dict[str, Any],
    bindings: Iterable[tuple[str, str]],
    old: dict[str, Any],
    new: dict[str, Any],
    undo: list[Callable[[], None]],
    canonical: Callable[[Any], Any] | None = None,
) -> int:
    """Rebind ``local`` to ``new[name]`` for each ``(name, local)`` still holding ``old[name]``.

    Goes by identity, never equality: a name the user reassigned, or that merely holds
    an equal value, is left alone. A name holding an object that ``canonical`` maps to
    ``new[name]`` (a new twin of a kept object, bound while the reload ran) is rebound
    too. Returns the number of names rebound.
    """
    count = 0
    for name, local in bindings:
        pairs = [(n, n) for n in _star_names(old)] if name == "*" else [(name, local)]
        for src, dst in pairs:
            before = old.get(src, MISSING)
            after = new.get(src, MISSING)
            if before is MISSING or after is MISSING:
                continue
            current = namespace.get(dst, MISSING)
            if current is after or current is MISSING:
                continue
            if current is not before and (canonical is None or canonical(current) is not after):
                continue
            namespace[dst] = after
            undo.append(partial(namespace.__setitem__, dst, current))
            count += 1
    return count
