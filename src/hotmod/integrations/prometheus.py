"""prometheus_client: a module defining metrics reloads, and its metrics keep counting.

A metric registers itself in its registry as it is made (``REQUESTS = Counter(...)``), and
the registry refuses a second metric of the same name ("Duplicated timeseries in
CollectorRegistry"): without this adapter every edit of such a module failed to reload.

Registrations made by a module's top-level code go to the ledger, so the module's
metrics leave their registry before it runs again. A metric the new run defines as it
was (same type, name, documentation, labels, unit and options such as a histogram's
buckets) stays the object bound, with its values and labelled children, in the
registry again; the new one goes. A metric whose definition changed starts anew, as it
would after a restart.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from .._typing import override
from . import NOT_HANDLED, Integration, Transaction
from ._common import Entry, IdentityMap, track_calls

__all__ = ["PrometheusIntegration"]

# A registration the ledger holds: [the collector registered, its registry]. A metric
# kept in place of the new run's one takes its place here, so the module's next run
# takes the kept metric out of the registry.
_Slot = list[Any]
_slots: IdentityMap[_Slot] = IdentityMap()


class PrometheusIntegration(Integration):
    """Metrics registered at import go to the ledger; an unchanged metric is kept."""

    framework = "prometheus_client"

    def __init__(self) -> None:
        self._register: Any = None  # the registry's own register, unwrapped

    @override
    def activate(self) -> None:
        """Record ``CollectorRegistry.register`` calls made by modules' top-level code."""
        from prometheus_client.registry import CollectorRegistry

        self._register = track_calls(CollectorRegistry, "register", _registration)

    @override
    def keep(self, txn: Transaction, old: object, new: object) -> object:
        """A metric defined again as it was: the old one stays, in the registry."""
        metrics = sys.modules.get("prometheus_client.metrics")
        base = getattr(metrics, "MetricWrapperBase", None)
        # (by the MRO: the metrics' base is an ABC, whose isinstance hashes the class,
        # and a program's metaclass may not hash)
        if base is None or type(old) is not type(new) or base not in type(old).__mro__:
            return NOT_HANDLED
        if _definition(old) != _definition(new):
            return NOT_HANDLED
        slot = _slots.get(new)
        if slot is not None:  # (the new run registered the new one)
            _unregister(slot)
            slot[0] = old
            _slots[old] = slot
            _register_again(self._register, slot)
        return old


def _registration(register: Any, result: None, registry: Any, collector: Any) -> Entry:
    slot = [collector, registry]
    _slots[collector] = slot
    return functools.partial(_unregister, slot), functools.partial(_register_again, register, slot)


def _definition(metric: Any) -> tuple[Any, ...]:
    """What makes two metrics the same series: type, name, documentation, labels, unit
    and options (a histogram's buckets, an enum's states)."""
    return tuple(
        getattr(metric, attr, None)
        for attr in ("_name", "_documentation", "_labelnames", "_labelvalues", "_unit", "_kwargs")
    )


def _unregister(slot: _Slot) -> None:
    collector, registry = slot
    if collector in registry._collector_to_names:
        registry.unregister(collector)


def _register_again(register: Any, slot: _Slot) -> None:
    collector, registry = slot
    if collector not in registry._collector_to_names:
        register(registry, collector)
