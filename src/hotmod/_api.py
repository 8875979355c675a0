"""The public functions of hotmod that act on the reloader directly."""

from __future__ import annotations

import sys

from ._runtime import get_reloader

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import hotmod stays light)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

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
    """
    namespace = sys._getframe(1).f_globals
    if name in namespace:
        value: T = namespace[name]
        return value
    return factory()
