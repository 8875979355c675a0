"""Big sources of plain data and functions, read from their bytecode instead of a tree.

Parsing a generated module of a few megabytes (tables, constants, thousands of small
functions) into a syntax tree takes about twice as long as compiling it from its text,
and the tree is only needed for what the reloader reads off it. When such a source
makes no call at module level, it registers nothing and binds exactly the names its
statements store, so everything is in the compiled code: the names it binds, whether
it binds names dynamically, and the lines of its import statements, which are then
parsed on their own. Any other source (decorators, classes, calls, ``TYPE_CHECKING``,
a coding cookie) gets the full syntax tree as before.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from opcode import opmap
from types import CodeType
from typing import NamedTuple

from . import _tracker
from ._graph import ImportRef, imports_of

__all__ = ["BIG", "Scan", "forget", "parse", "scan"]

BIG = _tracker.BIG  # bytes: below this, a syntax tree costs little

_EXTENDED_ARG = opmap["EXTENDED_ARG"]
_IMPORT_NAME = opmap["IMPORT_NAME"]
_STORES = frozenset(opmap[n] for n in ("STORE_NAME", "DELETE_NAME"))
_GLOBAL_STORES = frozenset(opmap[n] for n in ("STORE_GLOBAL", "DELETE_GLOBAL"))
# Module-level code with any of these is not plain: it calls something (which may
# register an object), defines a class, enters a context or imports ``*``.
_NOT_PLAIN = frozenset(
    op
    for name, op in opmap.items()
    if name.startswith(("CALL", "PRECALL", "BEFORE_WITH", "SETUP_WITH", "IMPORT_STAR"))
    or name in ("LOAD_BUILD_CLASS", "STORE_ATTR", "DELETE_ATTR")
)
# A decorator or a class statement starts a line: a source with neither is compiled to
# be read, one with either (or with such a line inside a string) gets its tree without
# a compile first. Only a shortcut: the bytecode decides what is plain.
_DECORATOR_OR_CLASS = re.compile(rb"^[ \t\f]*(?:@|class\b)", re.MULTILINE)
# Names whose mere mention at module level may bind names behind the compiler's back.
_DYNAMIC = frozenset(
    {"globals", "vars", "setattr", "exec", "__import__", "modules", "__dict__", "import_module"}
)


class Scan(NamedTuple):
    """What the reloader needs from a big plain source, read off its bytecode."""

    code: CodeType  # compiled from the text
    bound: set[str]  # names its top-level code binds
    dynamic: bool  # whether it may bind names dynamically
    top: list[ast.stmt]  # its top-level import statements, at their lines
    nested: list[ast.stmt]  # import statements inside its functions

    def imports(self, *, module: str, is_package: bool) -> list[ImportRef]:
        """The module's imports, as `imports_of` reads them from a full tree."""
        top = ast.Module(body=self.top, type_ignores=[])
        nested = ast.Module(body=self.nested, type_ignores=[])
        refs = imports_of(top, module=module, is_package=is_package)
        refs += [
            ref._replace(kind="function")
            for ref in imports_of(nested, module=module, is_package=is_package)
        ]
        refs.sort(key=lambda ref: ref.lineno)
        return refs


def parse(
    source: bytes,
    filename: str,
    *,
    module: str,
    is_package: bool,
    compiled: CodeType | None = None,
) -> tuple[list[ImportRef], Scan | ast.Module]:
    """A source's imports, and what they were read from: its `Scan` if it is big and
    plain, else its syntax tree. ``compiled``: the source's code, if already compiled.

    Raises:
        SyntaxError, ValueError: the source does not compile.
    """
    scanned = scan(source, filename, compiled)
    if scanned is not None:
        return scanned.imports(module=module, is_package=is_package), scanned
    tree = ast.parse(source, filename)
    return imports_of(tree, module=module, is_package=is_package), tree


# The last big source read and its scan, until `forget`: the first reload of a module
# imported from its bytecode and edited since reads the same new text twice, to index
# the module and to plan the reload, and each compile of a few megabytes costs seconds.
_last: tuple[bytes, str, Scan] | None = None


def forget() -> None:
    """Drop the last scan kept (the reloader calls this once a reload is over)."""
    global _last
    _last = None


def scan(source: bytes, filename: str, compiled: CodeType | None = None) -> Scan | None:
    """Compile a big plain source (unless ``compiled`` is its code) and read it; None
    for any other source.

    Raises:
        SyntaxError, ValueError: the source does not compile.
    """
    global _last
    if len(source) <= BIG or _DECORATOR_OR_CLASS.search(source):
        return None
    last = _last
    if last is not None and last[1] == filename and last[0] == source:
        return last[2]
    scanned = _scan(source, filename, compiled)
    _last = (source, filename, scanned) if scanned is not None else None
    return scanned


def _scan(source: bytes, filename: str, compiled: CodeType | None) -> Scan | None:
    if b"coding" in b"\n".join(source.split(b"\n", 2)[:2]):
        return None  # a declared encoding: its statements are not UTF-8 on their own
    code = compile(source, filename, "exec", dont_inherit=True) if compiled is None else compiled
    if "TYPE_CHECKING" in code.co_names:
        return None  # guarded imports: the tree tells them apart
    bound: set[str] = set()
    imports: list[int] = []  # offsets of IMPORT_NAME in the module's code
    for offset, op, arg in _instructions(code):
        if op in _NOT_PLAIN:
            return None
        if op in _STORES:
            bound.add(code.co_names[arg])
        elif op == _IMPORT_NAME:
            imports.append(offset)
    dynamic = not _DYNAMIC.isdisjoint(code.co_names)
    nested_lines: set[int] = set()
    for inner in _functions(code):
        if _IMPORT_NAME in inner.co_code or any(op in inner.co_code for op in _GLOBAL_STORES):
            for offset, op, arg in _instructions(inner):
                if op in _GLOBAL_STORES:
                    bound.add(inner.co_names[arg])
                elif op == _IMPORT_NAME:
                    nested_lines.update(_lines(inner, [offset]))
    top_lines = _lines(code, imports)
    statements = _statements(source, top_lines | nested_lines)
    if statements is None:
        return None
    top = [s for line in sorted(top_lines) for s in statements[line]]
    nested = [s for line in sorted(nested_lines) for s in statements[line]]
    return Scan(code, bound, dynamic, top, nested)


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


def _functions(code: CodeType) -> Iterator[CodeType]:
    """Every code object nested in ``code`` (functions, lambdas, comprehensions)."""
    todo = [c for c in code.co_consts if isinstance(c, CodeType)]
    while todo:
        inner = todo.pop()
        yield inner
        todo.extend(c for c in inner.co_consts if isinstance(c, CodeType))


def _lines(code: CodeType, offsets: list[int]) -> set[int]:
    """The source lines of the instructions at ``offsets``."""
    found: set[int] = set()
    if not offsets:
        return found
    wanted = sorted(offsets)
    i = 0
    for start, end, line in code.co_lines():
        while i < len(wanted) and wanted[i] < end:
            if wanted[i] >= start and line is not None:
                found.add(line)
            i += 1
        if i == len(wanted):
            break
    return found


def _statements(source: bytes, lines: set[int]) -> dict[int, list[ast.stmt]] | None:
    """The import statements starting on each of ``lines``, parsed on their own."""
    out: dict[int, list[ast.stmt]] = {}
    if not lines:
        return out
    text = source.split(b"\n", max(lines) + 200)
    for line in lines:
        nodes = _parse_at(text, line)
        if nodes is None:
            return None
        out[line] = nodes
    return out


def _parse_at(text: list[bytes], line: int) -> list[ast.stmt] | None:
    # The statement starts on `line` (indented if it is in a block): take as many lines
    # as it needs to parse, at most 200 (a long parenthesised import).
    first = text[line - 1].lstrip()
    for extra in range(min(200, len(text) - line + 1)):
        chunk = b"\n".join([first, *text[line : line + extra]])
        try:
            tree = ast.parse(chunk)
        except (SyntaxError, ValueError):
            continue
        nodes = [
            node
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno == 1
        ]
        for node in nodes:
            ast.increment_lineno(node, line - 1)
        return nodes  # type: ignore[return-value]
    return None
