"""loguru: a sink a module adds at import is there once after it runs again.

A module's top-level ``logger.add(sink, ...)`` goes to the ledger, as the standard
library's ``addHandler`` does (`hotmod._sideeffects`). Before the module runs again its
sinks are removed, so the new run adds them once: without this, each reload added one
more sink, and every message was written once more per reload. A rollback takes out the
sinks the failed run added and adds the previous ones again, with the same arguments.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from .._typing import override
from . import Integration
from ._common import Entry, track_calls

__all__ = ["LoguruIntegration"]


class LoguruIntegration(Integration):
    """Sinks added by modules' top-level code go to the ledger."""

    framework = "loguru"

    @override
    def activate(self) -> None:
        """Record ``logger.add`` calls made at module level."""
        from loguru._logger import Logger

        track_calls(Logger, "add", _sink)


def _sink(add: Any, handler_id: int, logger: Any, *args: Any, **kwargs: Any) -> Entry:
    sink = [handler_id]  # (its id, which a rollback's add makes anew)
    return (
        functools.partial(_remove, logger, sink),
        functools.partial(_add_again, add, logger, sink, args, kwargs),
    )


def _remove(logger: Any, sink: list[int]) -> None:
    with contextlib.suppress(ValueError):  # (the program removed it already)
        logger.remove(sink[0])


def _add_again(
    add: Any, logger: Any, sink: list[int], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    sink[0] = add(logger, *args, **kwargs)
