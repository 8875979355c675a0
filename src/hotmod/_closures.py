"""Functions that earlier calls made: nested definitions the program still holds.

A function's nested definitions are made anew each time it is called: the views that
``register(app)`` defines and registers, a handler a factory returns. A reload gives the
kept function new code, but what its earlier calls made still runs the previous nested
code, and nothing runs that call again (the script's top level called it once).

After a commit, for each function given new code: the previous nested codes still held
(by reference count, so the garbage collector is asked only when one is) are looked up
in the functions that hold them. Where the function changed in its nested bodies only,
a call now would make the same functions with the new bodies: each gets the new code of
its definition (same name, same free variables). Where it changed otherwise (a route's
path, which functions it makes, their defaults), a call now would make something else:
what it made is left as it is, whole, and reported (`report.stale`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from types import CodeType, FunctionType
from typing import Any

from ._reach import referrers

__all__ = ["BEHAVIOUR", "Made", "update_made"]

# What a code object does, lines aside (co_exceptiontable, 3.11+, holds offsets only).
BEHAVIOUR = tuple(
    a
    for a in (
        "co_code",
        "co_names",
        "co_varnames",
        "co_freevars",
        "co_cellvars",
        "co_argcount",
        "co_posonlyargcount",
        "co_kwonlyargcount",
        "co_flags",
        "co_exceptiontable",
    )
    if hasattr(CodeType, a)
)


class Made:
    """What `update_made` did."""

    def __init__(self) -> None:
        # (function, qualified name, previous code) of each function given new code
        self.updated: list[tuple[FunctionType, str, CodeType]] = []
        # (qualified name, function) of each left as it was: its maker changed otherwise
        self.stale: list[tuple[str, FunctionType]] = []
        # qualified name -> the module of the function that made it
        self.makers: dict[str, str] = {}


def update_made(replaced: Sequence[tuple[FunctionType, str, CodeType]]) -> Made:
    """Give what earlier calls of the ``replaced`` functions made (``(function, name,
    previous code)``) the new code of their definitions, where a call now would make
    them so; note the others."""
    made = Made()
    pairs: list[tuple[CodeType, CodeType | None, bool, FunctionType]] = []
    for func, _, previous in replaced:
        if CodeType not in map(type, previous.co_consts):
            continue  # (most functions define none)
        if _same_shell(previous, func.__code__):
            pairs += [(old, new, True, func) for old, new in _nested(previous, func.__code__)]
        else:  # (all it made is as the previous version made it, whole)
            pairs += [
                (old, None, False, func) for _, code in _named(previous) for old in _every(code)
            ]
    if not pairs:
        return made  # (the usual case: the functions given new code define none)
    # A code object nothing else holds, held here as each previous nested code is (by
    # its parent's constants, an entry of ``pairs``, ``codes``): what ours count.
    parent = (compile("", "<control>", "exec"),)
    pairs.insert(0, (parent[0], None, True, replaced[0][0]))
    codes = [pair[0] for pair in pairs]
    counts = list(map(sys.getrefcount, codes))
    held = {id(code) for code, count in zip(codes, counts, strict=True) if count > counts[0]}
    del codes, parent, pairs[0]
    if not held:
        return made
    wanted = {id(pair[0]): pair for pair in pairs if id(pair[0]) in held}
    found = [
        f
        for f in referrers([pair[0] for pair in wanted.values()])
        if type(f) is FunctionType and id(f.__code__) in wanted
    ]
    for function in found:
        old, new, shell, maker = wanted[id(function.__code__)]
        name = f"{function.__module__}.{function.__qualname__}"
        if shell and new is not None and new.co_freevars == old.co_freevars:
            function.__code__ = new
            made.updated.append((function, name, old))
        else:
            made.stale.append((name, function))
            made.makers[name] = maker.__module__
    return made


def _nested(old: CodeType, new: CodeType) -> Iterator[tuple[CodeType, CodeType | None]]:
    """``(previous nested code, its new counterpart or None)`` under ``old`` and ``new``,
    matched by name and order, at every depth. Equal ones too: a function an earlier
    call made follows its definition from version to version."""
    theirs = dict(_named(new))
    for key, code in _named(old):
        counterpart = theirs.get(key)
        if counterpart is None:
            yield from ((inner, None) for inner in _every(code))
        else:
            yield code, counterpart
            yield from _nested(code, counterpart)


def _every(code: CodeType) -> Iterator[CodeType]:
    """``code`` and every code nested in it."""
    yield code
    for _, inner in _named(code):
        yield from _every(inner)


def _named(code: CodeType) -> Iterator[tuple[tuple[str, int], CodeType]]:
    seen: dict[str, int] = {}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            count = seen[const.co_name] = seen.get(const.co_name, -1) + 1
            yield (const.co_name, count), const


def _same_shell(old: CodeType, new: CodeType) -> bool:
    """Whether ``old`` and ``new`` do the same, lines and nested bodies aside."""
    if any(getattr(old, a) != getattr(new, a) for a in BEHAVIOUR):
        return False
    return list(map(_shell_const, old.co_consts)) == list(map(_shell_const, new.co_consts))


def _shell_const(const: Any) -> Any:
    return ("<code>", const.co_name) if isinstance(const, CodeType) else (type(const), const)
