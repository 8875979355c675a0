"""After a commit: previous versions of functions and classes still reachable (``report.stale``).

Only objects whose identity could not be kept are looked at (a class whose layout
changed, a function whose closure changed, a definition deleted from the source), and
only those something else still holds; finding who holds them asks the garbage
collector, which is why the cheap reference count comes first.
"""

from __future__ import annotations

import gc
import sys
from types import CellType, FrameType, FunctionType, MethodType, ModuleType
from typing import Any

__all__ = ["find_stale"]

# References to an object while we look at it: the list holding the pairs, the tuple
# (name, object) in it, and getrefcount's own argument.
_OURS = 3


def find_stale(discarded: list[tuple[str, Any]]) -> list[str]:
    """``"pkg.mod.f (previous code) held by <holder>"`` for each discarded object still held."""
    suspects = [(name, obj) for name, obj in discarded if _held(obj)]
    if not suspects:
        return []
    # Cyclic garbage (a finished request's context holding an app) is no holder: collect
    # it, only now that something looks held.
    gc.collect()
    suspects = [(name, obj) for name, obj in suspects if _held(obj)]
    if not suspects:
        return []
    ignore = {id(discarded), id(suspects), *(id(pair) for pair in discarded)}
    ignore.update(id(pair) for pair in suspects)
    out: list[str] = []
    for name, obj in suspects:
        holders: list[str] = []
        for ref in _referrers(obj, ignore):  # no comprehension: its closure would hold obj
            held = _describe(ref, obj)
            if held:
                holders.append(held)
        if holders:
            out.append(f"{name} (previous code) held by {', '.join(sorted(set(holders))[:3])}")
    return out


def _held(obj: Any) -> bool:
    # Classes always refer to themselves (their __mro__, descriptors, method cells).
    return isinstance(obj, type) or sys.getrefcount(obj) > _OURS + 1


def _referrers(obj: Any, ignore: set[int]) -> list[Any]:
    own = _own_parts(obj)
    refs = []
    for ref in gc.get_referrers(obj):
        if id(ref) in ignore or id(ref) in own or isinstance(ref, FrameType):
            continue
        if isinstance(obj, type) and type(ref) is obj:
            continue  # an existing instance of the old class: reported in the notes
        refs.append(ref)
    return refs


def _own_parts(obj: Any) -> set[int]:
    # What a discarded class is made of refers back to it; that is not a holder.
    if not isinstance(obj, type):
        return set()
    parts: set[int] = {id(obj.__mro__)}
    for value in vars(obj).values():
        parts.add(id(value))
        func = getattr(value, "__func__", value)
        if isinstance(func, FunctionType):
            parts.update(id(c) for c in func.__closure__ or ())
    parts.update(id(ref) for ref in gc.get_referents(obj.__dict__))
    return parts


def _describe(ref: Any, obj: Any) -> str | None:
    if isinstance(ref, dict):
        keys = [k for k, v in ref.items() if v is obj]
        if not keys:
            return None
        return _place(ref, f"[{keys[0]!r}]")
    if isinstance(ref, (list, tuple, set, frozenset)):
        if isinstance(ref, (list, tuple)):
            index = next((i for i, v in enumerate(ref) if v is obj), None)
            return _place(ref, f"[{index}]")
        return _place(ref, "")
    if isinstance(ref, CellType):
        for owner in gc.get_referrers(ref):
            for func in gc.get_referrers(owner) if isinstance(owner, tuple) else ():
                if isinstance(func, FunctionType):
                    return f"the closure of {func.__module__}.{func.__qualname__}"
        return "a closure"
    if isinstance(ref, MethodType):
        return f"a bound method of {type(ref.__self__).__qualname__}"
    return f"a {type(ref).__qualname__} object"


def _place(container: Any, suffix: str) -> str:
    # "Flask.view_functions['blog.index']", "plugins.REGISTRY[0]", or "a list".
    for module in list(sys.modules.values()):
        if isinstance(module, ModuleType) and module.__dict__ is container:
            return f"the namespace of {module.__name__}{suffix}"
    for owner in gc.get_referrers(container):
        if isinstance(owner, (ModuleType, FrameType)):
            continue
        if not isinstance(owner, dict):
            state = getattr(owner, "__dict__", None)
            attr = (
                next((k for k, v in state.items() if v is container), None)
                if isinstance(state, dict)
                else None
            )
            if attr is not None:
                return f"{type(owner).__qualname__}.{attr}{suffix}"
            continue
        if isinstance(owner, dict):
            attr = next((k for k, v in owner.items() if v is container), None)
            if attr is None:
                continue
            for module in list(sys.modules.values()):
                if isinstance(module, ModuleType) and module.__dict__ is owner:
                    return f"{module.__name__}.{attr}{suffix}"
            for instance in gc.get_referrers(owner):
                if getattr(instance, "__dict__", None) is owner:
                    return f"{type(instance).__qualname__}.{attr}{suffix}"
            return f"{attr}{suffix}"
    return f"a {type(container).__qualname__}{suffix}"
