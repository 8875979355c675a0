"""The one sentinel for "no value here" (``None`` is a value a namespace may hold)."""

from __future__ import annotations

from typing import Any, Final, final

from ._typing import override

__all__ = ["MISSING"]


@final
class _Missing:
    __slots__ = ()

    @override
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()
