"""What a framework call registered: a before/after diff of the containers it may touch.

Frameworks keep their registrations in plain dicts and lists (routes, view functions,
hooks, handlers). Instead of knowing every method, an adapter snapshots the containers
of an object before a registering call and diffs them after it: the added list items
and the added or replaced dict values are the registration, which can be undone and
redone exactly, whatever else was registered since.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from .._missing import MISSING

__all__ = ["Change", "Snapshot", "recording"]


class Change:
    """The additions a call made to some containers; `undo` and `redo` replay them."""

    __slots__ = ("_dict_edits", "_list_adds")

    def __init__(self) -> None:
        self._list_adds: list[tuple[list[Any], Any, int]] = []
        self._dict_edits: list[tuple[dict[Any, Any], Any, Any, Any]] = []

    def __bool__(self) -> bool:
        return bool(self._list_adds or self._dict_edits)

    def undo(self) -> None:
        """Take the additions back (only those still in place)."""
        for container, item, _ in reversed(self._list_adds):
            for i, value in enumerate(container):
                if value is item:
                    del container[i]
                    break
        for mapping, key, old, new in reversed(self._dict_edits):
            if mapping.get(key, MISSING) is new:
                if old is MISSING:
                    del mapping[key]
                else:
                    mapping[key] = old

    def redo(self) -> None:
        """Make the additions again."""
        for mapping, key, _, new in self._dict_edits:
            mapping[key] = new
        for container, item, index in self._list_adds:
            if not any(value is item for value in container):
                container.insert(min(index, len(container)), item)


class Snapshot:
    """Shallow copies of containers (and of the dicts and lists they hold, ``depth`` deep)."""

    __slots__ = ("_copies",)

    def __init__(self, roots: Iterable[Any], depth: int = 3) -> None:
        self._copies: list[tuple[Any, Any]] = []
        seen: set[int] = set()
        todo = [(root, depth) for root in roots]
        while todo:
            obj, left = todo.pop()
            if id(obj) in seen or not isinstance(obj, (dict, list)):
                continue
            seen.add(id(obj))
            values: Iterable[Any]
            if isinstance(obj, dict):
                self._copies.append((obj, dict(obj)))
                values = obj.values()
            else:
                self._copies.append((obj, list(obj)))
                values = obj
            if left > 1:
                todo.extend((v, left - 1) for v in values if isinstance(v, (dict, list)))

    def diff(self) -> Change:
        """What was added to the snapshotted containers since."""
        change = Change()
        for container, before in self._copies:
            if isinstance(container, dict):
                for key, value in container.items():
                    old = before.get(key, MISSING)
                    if old is not value:
                        change._dict_edits.append((container, key, old, value))
            else:
                ids = {id(v) for v in before}
                for index, value in enumerate(container):
                    if id(value) not in ids:
                        change._list_adds.append((container, value, index))
        return change


_local = threading.local()


def recording(
    containers: Callable[[Any], Iterable[Any]],
    record: Callable[[Any, Change], None],
    allowed: Callable[[Any], bool],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a registering method: the outermost call's additions go to ``record(obj, change)``.

    ``containers(obj)`` names what the method may touch; ``allowed(obj)`` says whether
    this call is worth recording (a module's top-level code is running). Nested registering
    calls (a method that calls others) count as one.
    """

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(_local, "depth", 0) or not allowed(self):
                return method(self, *args, **kwargs)
            snapshot = Snapshot(containers(self))
            _local.depth = 1
            try:
                result = method(self, *args, **kwargs)
            finally:
                _local.depth = 0
            change = snapshot.diff()
            if change:
                record(self, change)
            return result

        recorded.__name__ = getattr(method, "__name__", "recorded")
        recorded.__qualname__ = getattr(method, "__qualname__", "recorded")
        recorded.__doc__ = method.__doc__
        recorded.__wrapped__ = method  # type: ignore[attr-defined]
        return recorded

    return wrap
