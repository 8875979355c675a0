"""Names from ``typing_extensions`` for the type checker, at no cost when running.

``typing_extensions`` imports ``inspect`` and more (about 20 ms on a bare interpreter),
and these names only matter to mypy: hotmod's own code runs without importing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

__all__ = ["override"]

if TYPE_CHECKING:
    from typing_extensions import override
else:
    _F = TypeVar("_F")

    def override(method: _F) -> _F:
        """Mark a method as overriding its base class's (checked by mypy)."""
        return method
