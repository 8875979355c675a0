"""The public functions of hotmod that act on the reloader directly."""

from __future__ import annotations

import sys

from ._runtime import get_reloader

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import hotmod stays light)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any, TypeVar

    from ._report import ReloadReport

    T = TypeVar("T")

__all__ = ["dependents", "keep", "reload"]


def reload(*targets: object, cascade: bool = True) -> ReloadReport:
    """Reload modules now, as one transaction.

    Args:
        *targets: module objects, dotted module names or file paths.
        cascade: also re-execute every module that imports a target, directly or
            transitively, after the modules it imports.

    Returns:
        The report. On failure every module is back as it was and ``report.error``
            holds the exception.

    Raises:
        ValueError: a target is not loaded, has no source, or belongs to the standard
            library or site-packages.
    """
    return get_reloader().reload(targets, cascade=cascade)


def dependents(target: object) -> list[str]:
    """The modules that import ``target`` directly or transitively, in reload order."""
    return get_reloader().dependents(target)


def keep(name: str, factory: Callable[[], T]) -> T:
    """Module state that survives reloads.

    ``conn = hotmod.keep("conn", connect)`` calls ``connect()`` on the first import and
    returns the object the module held under ``name`` on every reload after it.

    Raises:
        ValueError: the result is assigned to another global than ``name``
            (``ITEMS = hotmod.keep("items", list)`` would make a new list on every
            reload, the previous one lost).
    """
    frame = sys._getframe(1)
    namespace = frame.f_globals
    if name in namespace:
        value: T = namespace[name]
        return value
    target = _assigned_to(frame)
    del frame
    if target is not None and target != name:
        raise ValueError(
            f"hotmod.keep({name!r}, ...) is assigned to {target!r}: keep finds the object"
            f" by the name it is assigned to; write {target} = hotmod.keep({target!r}, ...)"
        )
    return factory()


def _assigned_to(frame: FrameType) -> str | None:
    """The global the calling statement assigns the call's result to, read off the
    instruction after the call (None: not a plain assignment to a global)."""
    import opcode

    code, at = frame.f_code.co_code, frame.f_lasti
    # (3.11+: the call is followed by its inline cache entries; 3.13 keys them by name)
    caches: Any = getattr(opcode, "_inline_cache_entries", None)
    at += 2
    if isinstance(caches, dict):
        at += 2 * caches.get(opcode.opname[code[at - 2]], 0)
    elif caches is not None:
        at += 2 * caches[code[at - 2]]
    arg = 0
    while at + 1 < len(code) and code[at] == opcode.EXTENDED_ARG:
        arg = (arg | code[at + 1]) << 8
        at += 2
    if at + 1 >= len(code) or opcode.opname[code[at]] not in ("STORE_NAME", "STORE_GLOBAL"):
        return None
    names: tuple[str, ...] = frame.f_code.co_names
    return names[arg | code[at + 1]]
