"""The containers a registry is (a list, set, dict or deque), and the copies of them
saved for a rollback: of types of their own, so that no look for registries takes a
copy of ours for one of the program's.
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = [
    "SAVED",
    "SavedOrder",
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


class SavedOrder(_SavedList):
    """A dict longer than a registry saved for a rollback: its keys in order, and the
    values of the entries the modules took out (copied whole, it cost a reload 0.2 s
    at five million keys). Values the runs set under other keys stay theirs."""

    def __init__(self, container: dict[Any, Any], values: dict[Any, Any]) -> None:
        super().__init__(container)
        self.values = values


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
SAVED_TYPES = frozenset([*SAVED.values(), SavedOrder])


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
