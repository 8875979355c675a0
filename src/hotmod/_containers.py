"""The containers a registry is (a list, set, dict or deque), and the copies of them
saved for a rollback: of types of their own, so that no look for registries takes a
copy of ours for one of the program's.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from ._missing import MISSING

__all__ = [
    "SAVED",
    "SavedLength",
    "SAVED_TYPES",
    "Container",
    "Found",
    "ListLike",
    "base_type",
    "refill",
    "replace_items",
]


Container = list[Any] | set[Any] | dict[Any, Any] | deque[Any]
ListLike = list[Any] | deque[Any]
Found = tuple[list[Container], list[ListLike]]  # registries, lists of wrapped entries


class _SavedList(list[Any]):
    """A registry's items, saved for a rollback."""


class SavedLength(_SavedList):
    """A list, deque or dict longer than a registry (a program's data, a handler among
    its entries) saved for a rollback without its entries: copied whole, it cost every
    reload 50 ms at five million entries, failed or not. What it keeps tells whether a
    failed run only added to the container, and so how to undo that: its length, the
    entries at 17 places of a list, the last keys of a dict; and the values of the dict
    entries the modules took out (put back at the end of its order)."""

    PLACES = 16
    TAIL = 8

    def __init__(self, container: Container, values: dict[Any, Any]) -> None:
        self.size = len(container)
        self.values = values
        self.tail: list[Any] = []
        self.places: list[int] = []
        if isinstance(container, dict):
            super().__init__()
            # (its last keys but those taken out: a module after may take out one more)
            later = (k for k in reversed(container) if k not in values)
            self.tail = list(itertools.islice(later, self.TAIL))
        elif isinstance(container, (list, deque)):
            step = max(1, self.size // self.PLACES)
            self.places = [*range(0, self.size, step), self.size - 1]
            super().__init__(container[p] for p in self.places)

    def cut(self, container: Container) -> bool:
        """Put back ``container`` as it was saved if the failed run only added to it;
        False if it changed otherwise (what could be undone is)."""
        if isinstance(container, dict):
            return self._cut_dict(container)
        if not isinstance(container, (list, deque)) or len(container) < self.size:
            return False
        if any(container[p] is not e for p, e in zip(self.places, self, strict=True)):
            return False
        if isinstance(container, list):
            del container[self.size :]
        else:
            for _ in range(len(container) - self.size):
                container.pop()
        return True

    def _cut_dict(self, container: dict[Any, Any]) -> bool:
        if not self.tail:  # (every key was taken out: what it holds, the run put there)
            container.clear()
            container.update(self.values)
            return len(container) == self.size
        last = next((key for key in self.tail if key in container), MISSING)
        cut = last is not MISSING
        if cut:
            added = list(itertools.takewhile(lambda key: key is not last, reversed(container)))
            cut = len(added) < len(container)  # (else an equal key took its place)
            for key in added if cut else ():
                del container[key]
        container.update(self.values)
        return cut and len(container) == self.size


class _SavedSet(set[Any]):
    """A registry's items, saved for a rollback."""


class _SavedDict(dict[Any, Any]):
    """A registry's items, saved for a rollback."""


class _SavedDeque(deque[Any]):
    """A registry's items, saved for a rollback."""


# The type of a container's saved copy, by the built-in type it derives from.
SAVED: dict[type, type] = {
    list: _SavedList,
    set: _SavedSet,
    dict: _SavedDict,
    deque: _SavedDeque,
}
SAVED_TYPES = frozenset([*SAVED.values(), SavedLength])


def base_type(container: Container) -> type:
    """The built-in type a registry derives from (an OrderedDict's dict)."""
    return next(t for t in (dict, set, deque, list) if isinstance(container, t))


def refill(container: set[Any] | dict[Any, Any], saved: set[Any] | dict[Any, Any]) -> None:
    """Give a set or dict exactly the items of ``saved``, in place."""
    container.clear()
    container.update(saved)


def replace_items(container: list[Any] | deque[Any], items: list[Any]) -> None:
    """Give a list or deque exactly ``items``, in place."""
    if isinstance(container, list):
        container[:] = items
    else:
        container.clear()
        container.extend(items)
