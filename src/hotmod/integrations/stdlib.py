"""Process-wide side effects of module code: atexit, logging, warnings filters, signals.

The wrapping itself lives in `hotmod._sideeffects`, installed at ``import hotmod``; this
adapter makes sure it is, for a reloader made in a process that imported hotmod's
engine some other way.
"""

from __future__ import annotations

from typing_extensions import override

from .. import _sideeffects
from . import Integration

__all__ = ["StdlibIntegration"]


class StdlibIntegration(Integration):
    """Ledger entries for atexit handlers, logging handlers and filters, warnings filters
    and signal handlers registered by a module's top-level code."""

    framework = "atexit"

    @override
    def activate(self) -> None:
        """Wrap the registering functions of the modules loaded now (once per process)."""
        _sideeffects.install()
