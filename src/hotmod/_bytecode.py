"""What a piece of a big source's compiled code says, read off its instructions: the
names it binds, whether it may bind names dynamically, the lines of its imports and of
the module-level instructions that need the statement's syntax tree (a call, a class
built from more than names), the lines reading a definition just after it was made,
the names stored at a key (``HANDLERS["ping"] = on_ping``) and where the definition
hooks were written around a decorator (`Read`). Also: code moved down or up the file
(`shifted`).
"""

from __future__ import annotations

import itertools
import opcode
import re
from collections.abc import Callable, Iterator
from opcode import opmap
from types import CodeType
from typing import NamedTuple

from ._define import AROUND

__all__ = ["Read", "moved_read", "read_code", "read_nested", "read_top", "shifted"]

_EXTENDED_ARG = opmap["EXTENDED_ARG"]
_IMPORT_NAME = opmap["IMPORT_NAME"]
_LOAD_NAME = opmap["LOAD_NAME"]
_STORE_NAME = opmap["STORE_NAME"]
_STORE_SUBSCR = opmap["STORE_SUBSCR"]
_LOADS = frozenset({_LOAD_NAME})
_KEYS = frozenset({_LOAD_NAME, opmap["LOAD_CONST"]})
_STORES = frozenset(opmap[n] for n in ("STORE_NAME", "DELETE_NAME"))
_GLOBAL_STORES = frozenset(opmap[n] for n in ("STORE_GLOBAL", "DELETE_GLOBAL"))
# A function made by the instructions just before (3.13 sets its defaults after).
_MAKING = frozenset(opmap[n] for n in ("MAKE_FUNCTION", "SET_FUNCTION_ATTRIBUTE") if n in opmap)
# Module-level code with any of these needs its tree: it calls something (which may
# register an object), defines a class, enters a context or imports ``*``. (A store at
# a key registers the value: read off the instructions when both are names.)
_NOT_PLAIN = frozenset(
    op
    for name, op in opmap.items()
    if name.startswith(("CALL", "PRECALL", "BEFORE_WITH", "SETUP_WITH", "IMPORT_STAR"))
    or name == "LOAD_BUILD_CLASS"
)
# An in-place operation (``HANDLERS += [on_ping]`` adds what it names to a registry):
# 3.10's own opcodes; from 3.11 on, BINARY_OP with an in-place operator (`opcode`'s
# table of them, which numbers them 13 to 25).
_INPLACE = frozenset(op for name, op in opmap.items() if name.startswith("INPLACE_"))
_BINARY_OP = opmap.get("BINARY_OP", -1)
_INPLACE_ARGS = frozenset(
    i for i, (name, _) in enumerate(getattr(opcode, "_nb_ops", ())) if "INPLACE" in name
)
# A class statement whose bases are names: the instructions that build it, up to the
# call of ``__build_class__`` (then its caches, then the store of its name).
_LOAD_BUILD_CLASS = opmap["LOAD_BUILD_CLASS"]
_LOAD_CONST = opmap["LOAD_CONST"]
_CACHE = opmap.get("CACHE", -1)  # (3.11: inline caches, after an instruction)
_BUILDING = frozenset(
    opmap[n]
    for n in (
        "LOAD_CONST", "MAKE_FUNCTION", "LOAD_NAME", "LOAD_ATTR", "PUSH_NULL", "KW_NAMES",
        "PRECALL", "CACHE", "EXTENDED_ARG",
    )
    if n in opmap
)  # fmt: skip
_BUILD_CALLS = frozenset(
    opmap[n] for n in ("CALL", "CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_KW") if n in opmap
)
# Names whose mere mention at module level may bind names behind the compiler's back.
_DYNAMIC = frozenset(
    {"globals", "vars", "setattr", "exec", "__import__", "modules", "__dict__", "import_module"}
)
# The opcodes `read_top` visits (3.12 names pseudo-instructions above 255: never in code).
_WATCHED = re.compile(
    b"[%s]"
    % b"".join(
        re.escape(bytes([op]))
        for op in sorted(
            {*_NOT_PLAIN, *_STORES, _LOAD_NAME, _IMPORT_NAME, _STORE_SUBSCR, *_INPLACE, _BINARY_OP}
        )
        if 0 <= op < 256
    )
)
# A class body with any of these needs its statement's tree (a decorated method, a call,
# a nested class, an import).
_NOT_PLAIN_BODY = re.compile(
    b"[%s]"
    % b"".join(re.escape(bytes([op])) for op in sorted({*_NOT_PLAIN, _IMPORT_NAME}) if op < 256)
)


class Read(NamedTuple):
    """What a piece's bytecode says."""

    hot: set[int]  # lines of module-level instructions that need the statement's tree
    early: set[int]  # lines reading a definition above before its hooks
    defines: list[str]  # functions and classes its definitions bind, in order
    bound: set[str]
    dynamic: bool
    top: set[int]  # lines of its module-level import statements
    nested: set[int]  # lines of import statements inside its functions
    registered: list[str]  # classes with bases or keywords (registrants)
    hooks: set[int]  # lines where a decorator is wrapped in the definition hooks
    stored: list[str]  # names stored at a key (registrants: ``T["k"] = name``)


class _Top(NamedTuple):
    """What a module's own instructions say (offsets, not lines)."""

    hot: list[int]
    early: list[int]
    defines: list[str]
    bound: set[str]
    imports: list[int]
    registered: list[str]
    hooks: list[int]
    # Stores at a key, ``name[key] = value``: the offsets of the store, the value and
    # the instruction before, and the value's name.
    stores: list[tuple[int, int, int, str]]

    def read(self, code: CodeType, nested: set[int]) -> Read:
        """The `Read` of ``code``."""
        dynamic = not _DYNAMIC.isdisjoint(code.co_names)
        groups = [self.hot, self.early, self.imports, self.hooks]
        offsets = [*itertools.chain.from_iterable(groups)]
        offsets += [o for store in self.stores for o in store[:3]]
        lines = iter(_lines_at(code, offsets))  # (one pass: the groups', then the stores')
        hot, early, imports, hooks = _grouped(lines, groups)
        stored: list[str] = []
        if self.stores:
            for *_, name in self.stores:
                at, line, before = next(lines), next(lines), next(lines)
                # (a value that starts its line, as the store's statement does: ``T[k] =
                # a if c else b`` or ``a or b`` loads more than its last name)
                if line is not None and at == line != before:
                    stored.append(name)
                elif at is not None:
                    hot.add(at)
        return Read(
            hot,
            early,
            self.defines,
            self.bound,
            dynamic,
            imports,
            nested,
            self.registered,
            hooks,
            stored,
        )


def read_code(code: CodeType) -> Read:
    """Read a module's code."""
    top = read_top(code)
    return top.read(code, read_nested(code, lambda inner: False, top.bound))


def read_top(code: CodeType) -> _Top:
    """Read a module's own instructions.

    Only the instructions of the kinds looked for are visited (found in C by a pattern
    over the opcodes): a module of a few megabytes has about a million. A class whose
    bases are names and whose body only binds names and functions is no call to look
    at: it is kept once its piece has run, as a function is.
    """
    raw = code.co_code
    ops = raw[::2]
    names = code.co_names
    top = _Top([], [], [], set(), [], [], [], [])
    defined: set[str] = set()
    after = 0  # (the instructions of a class statement read whole are passed over)
    for match in _WATCHED.finditer(ops):
        index = match.start()
        if index < after:
            continue
        op = ops[index]
        if op == _LOAD_BUILD_CLASS:
            end = _read_class(top, code, raw, ops, index, defined)
            if end is not None:
                after = end
                continue
        if op in _NOT_PLAIN or op in _INPLACE:
            top.hot.append(2 * index)
            continue
        if op == _BINARY_OP:
            if _argument(raw, ops, index)[0] in _INPLACE_ARGS:
                top.hot.append(2 * index)
            continue
        if op == _STORE_SUBSCR:
            value = _stored(ops, index)
            if value is None:
                top.hot.append(2 * index)
            else:
                name = names[_argument(raw, ops, value)[0]]
                top.stores.append((2 * index, 2 * value, 2 * _start(ops, value) - 2, name))
            continue
        arg, before = _argument(raw, ops, index)
        if op in _STORES:
            name = names[arg]
            top.bound.add(name)
            if op == _STORE_NAME and name not in defined and before in _MAKING:
                top.defines.append(name)
                defined.add(name)
        elif op == _LOAD_NAME:
            if names[arg] in defined:
                top.early.append(2 * index)  # a definition above, read as it was made
            elif names[arg] == AROUND:
                top.hooks.append(2 * index)
        else:
            top.imports.append(2 * index)
    return top


def _read_class(
    top: _Top, code: CodeType, raw: bytes, ops: bytes, index: int, defined: set[str]
) -> int | None:
    """Note in ``top`` the plain class statement starting at instruction ``index``, if
    it is one, and return the index of the instruction after it (``raw``: the code's
    bytes, ``ops``: its opcodes)."""
    built = _plain_class(code, raw, ops, index, defined)
    if built is None:
        return None
    store, registered = built
    name = code.co_names[_argument(raw, ops, store)[0]]
    top.bound.add(name)
    if name not in defined:
        top.defines.append(name)
        defined.add(name)
    if registered:
        top.registered.append(name)
    return store + 1


def _plain_class(
    code: CodeType, raw: bytes, ops: bytes, index: int, defined: set[str]
) -> tuple[int, bool] | None:
    """For the class statement whose instructions start at ``index``: the index of the
    store of its name, and whether it has bases or keywords; None unless its bases are
    names (none defined in the same piece) and its body calls nothing."""
    body: CodeType | None = None
    names = code.co_names
    end = len(ops)
    index += 1
    while index < end and ops[index] not in _BUILD_CALLS:
        op = ops[index]
        if op not in _BUILDING:
            return None
        if op == _LOAD_CONST and body is None:
            const = code.co_consts[_argument(raw, ops, index)[0]]
            body = const if isinstance(const, CodeType) else None
        elif op == _LOAD_NAME and names[_argument(raw, ops, index)[0]] in defined:
            return None
        index += 1
    if index == end or body is None:
        return None
    arguments = _argument(raw, ops, index)[0]  # (the body, the name, then bases)
    index += 1
    while index < end and ops[index] in (_CACHE, _EXTENDED_ARG):
        index += 1
    if index == end or ops[index] != _STORE_NAME:
        return None
    if _NOT_PLAIN_BODY.search(body.co_code[::2]) or not defined.isdisjoint(body.co_names):
        return None
    return index, arguments > 2


def _stored(ops: bytes, index: int) -> int | None:
    """For the store at a key at ``index``: the index of the instruction loading the
    value when the statement ends ``name[key] = name``, the key a constant or a name;
    else None (its tree tells)."""
    found = index
    for wanted in (_KEYS, _LOADS, _LOADS):
        found = _start(ops, found) - 1
        if found < 0 or ops[found] not in wanted:
            return None
    return found


def _start(ops: bytes, index: int) -> int:
    """The index of the first EXTENDED_ARG prefix of instruction ``index`` (or its own)."""
    while index > 0 and ops[index - 1] == _EXTENDED_ARG:
        index -= 1
    return index


def _argument(raw: bytes, ops: bytes, index: int) -> tuple[int, int]:
    """The argument of instruction ``index``, its EXTENDED_ARG prefixes folded in; the
    opcode of the instruction before them (-1 for none)."""
    arg = raw[2 * index + 1]
    shift = 8
    index -= 1
    while index >= 0 and ops[index] == _EXTENDED_ARG:
        arg |= raw[2 * index + 1] << shift
        shift += 8
        index -= 1
    return arg, ops[index] if index >= 0 else -1


def read_nested(code: CodeType, skip: Callable[[CodeType], bool], bound: set[str]) -> set[int]:
    """The lines of import statements in the functions nested in ``code`` (but those
    ``skip`` names); the globals they bind go into ``bound``."""
    nested: set[int] = set()
    for inner in _functions(code, skip):
        if _IMPORT_NAME in inner.co_code or any(op in inner.co_code for op in _GLOBAL_STORES):
            for offset, op, arg in _instructions(inner):
                if op in _GLOBAL_STORES:
                    bound.add(inner.co_names[arg])
                elif op == _IMPORT_NAME:
                    nested.update(_lines(inner, [offset]))
    return nested


def moved_read(read: Read, lines: int) -> Read:
    """``read``, of a piece now ``lines`` further down the file."""

    def move(found: set[int]) -> set[int]:
        return {line + lines for line in found}

    return read._replace(
        hot=move(read.hot),
        early=move(read.early),
        top=move(read.top),
        nested=move(read.nested),
        hooks=move(read.hooks),
    )


def shifted(code: CodeType, lines: int) -> CodeType:
    """``code`` and every code object in it, ``lines`` further down the file."""
    consts = tuple(shifted(c, lines) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_consts=consts)


def _instructions(code: CodeType) -> Iterator[tuple[int, int, int]]:
    """(offset, opcode, argument) of each instruction, EXTENDED_ARG folded in."""
    raw = code.co_code
    extended = 0
    for offset in range(0, len(raw), 2):
        op = raw[offset]
        arg = raw[offset + 1] | extended
        if op == _EXTENDED_ARG:
            extended = arg << 8
            continue
        extended = 0
        yield offset, op, arg


def _functions(code: CodeType, skip: Callable[[CodeType], bool]) -> Iterator[CodeType]:
    """Every code object nested in ``code`` (functions, lambdas, comprehensions), those
    ``skip`` names left out with what they hold."""
    todo = [c for c in code.co_consts if isinstance(c, CodeType) and not skip(c)]
    while todo:
        inner = todo.pop()
        yield inner
        todo.extend(c for c in inner.co_consts if isinstance(c, CodeType))


def _lines(code: CodeType, offsets: list[int]) -> set[int]:
    """The source lines of the instructions at ``offsets``."""
    return _lines_of(code, [offsets])[0]


def _lines_of(code: CodeType, groups: list[list[int]]) -> list[set[int]]:
    """The source lines of the instructions at the offsets of each group."""
    lines = iter(_lines_at(code, [offset for offsets in groups for offset in offsets]))
    return _grouped(lines, groups)


def _grouped(lines: Iterator[int | None], groups: list[list[int]]) -> list[set[int]]:
    """The next lines of ``lines``, as many as each group has offsets, as sets."""
    return [
        {line for line in itertools.islice(lines, len(offsets)) if line is not None}
        for offsets in groups
    ]


def _lines_at(code: CodeType, offsets: list[int]) -> list[int | None]:
    """The source line of the instruction at each offset (None for none or a negative
    offset), in one pass over the code's ranges (a module of megabytes has hundreds of
    thousands)."""
    found: list[int | None] = [None] * len(offsets)
    ranges = code.co_lines()
    start = end = 0
    line: int | None = None
    for i in sorted(range(len(offsets)), key=offsets.__getitem__):
        offset = offsets[i]
        while offset >= end:
            following = next(ranges, None)
            if following is None:
                return found
            start, end, line = following
        if offset >= start:
            found[i] = line
    return found
