"""Exceptions and warnings raised by hotmod.

::

    Exception
     └── ReloadError          raised by ReloadReport.raise_for_error(), chained to the cause
    UserWarning
     └── HotmodWarning        fallbacks and conditions that need the user's attention
"""

from __future__ import annotations

__all__ = ["HotmodWarning", "ReloadError"]


class ReloadError(Exception):
    """A reload failed and was rolled back; ``__cause__`` is the original exception.

    Attributes:
        module: the module whose compilation, hook or execution failed, if known.
    """

    def __init__(self, message: str, *, module: str | None = None) -> None:
        super().__init__(message)
        self.module = module


class HotmodWarning(UserWarning):
    """A condition the user should know about, e.g. native file watching is unavailable."""
