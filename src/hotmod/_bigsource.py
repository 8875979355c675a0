"""Big sources, compiled from their text in pieces instead of parsed whole.

Parsing a generated module of a few megabytes (tables, constants, thousands of small
functions) into a syntax tree takes about twice as long as compiling it from its text,
and compiling the instrumented tree as long again, while few statements need the tree:
statements that call something (but a call on one line with plain arguments) or read
a definition made just before (either may register a function), classes whose body
calls something, and decorators the text cannot be trusted to wrap. So a big source is
cut at its top-level statements. Runs of the other statements (data, functions,
classes whose bases are names, imports) are compiled from their text and read off their
bytecode (`_bytecode`): the names they bind, whether they may bind names dynamically
and the lines of their import statements, which are parsed on their own. A decorated
function is compiled from its text too, the definition hooks written around its first
and last decorator (`Definer.around`): the compiled code must load them on exactly
those lines, or a decorator's line was in a string. The statements that need it get
their syntax tree, instrumented, a run at a time.

The module runs its pieces in order in its own namespace, and the functions and classes
a piece compiled from its text defines get their definition hooks as soon as it has
run, before a later statement can use them: as if the whole tree had been instrumented.

The cut is read off the text (a top-level statement starts a line, unindented) and
checked by the compiler: a run that does not compile on its own is joined with the
statements after it. A source that declares an encoding is cut in UTF-8, the line that
declares it left blank; one whose pieces do not compile however joined gets its whole
syntax tree.

Where a run ends is read off its text too (`_Cut._cut_before`), so an edit moves the
ends of the runs around it only; what each run compiled to is kept, by its text, for
the next version of the source (`_Known`): a reload compiles again the runs it touched.
"""

from __future__ import annotations
import __future__

import ast
import copy
import io
import keyword
import re
import warnings
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import reduce
from itertools import accumulate
from operator import or_
from types import CodeType
from typing import NamedTuple, TypeVar

from . import _tracker
from ._bytecode import Read, moved_read, read_code, read_nested, read_top, shifted
from ._define import AROUND, bound_names, instrument
from ._graph import ImportNode, ImportRef, import_nodes, refs_of_nodes
from ._registrants import DEFINED, MADE, registrants

__all__ = ["Piece", "Scan", "forget", "parse", "scan"]

_T = TypeVar("_T")
_Span = tuple[int, int]  # a decorator's first and last line (from 0)

_RUN = 32_000  # bytes of statements compiled at once (a run found impure is compiled again)
_FUTURE = reduce(or_, (getattr(__future__, f).compiler_flag for f in __future__.all_feature_names))

# Lines that start no top-level statement: indented, blank, a comment, a closing bracket
# at the margin, or the next clause of a compound statement.
_NO_START = frozenset(b" \t\f\r#)]}")
_CLAUSE = re.compile(rb"(?:else|elif|except|finally)\b")
_DEFINITION = re.compile(rb"(?:def|async[ \t]+def|class)\b")
# A definition's name line, read off its text: (def or class, name, the class's bases).
_NAMED = re.compile(rb"(?:async[ \t]+)?(def|class)[ \t]+(\w+)[ \t]*(\([ \t]*\)|\()?")
# How a statement is compiled: from its text (a decorated function's with the definition
# hooks written around its decorators), or from its instrumented syntax tree.
_TEXT, _PARSED = 0, 1
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TOP_TEXT = 2  # (how a kept run was compiled: from its text, at the top of the source)
# Statements guessed to need their tree (guarded imports are told apart by the tree).
_TREE = re.compile(rb"@|if\b.*TYPE_CHECKING")
_STRING = re.compile(rb"[rRbBuUfF]{0,2}['\"]")
_DECORATOR = re.compile(rb"@[ \t]*(\w+)")
_ENCODING = re.compile(rb"[ \t\f]*#.*?coding[:=]")  # (PEP 263)
# A call on one line whose arguments are names, attributes, numbers, plain strings and
# keywords (``L.append(1)``, ``register(handler)``, ``h = make("hi", debug=True)``):
# what the tree would say of it is read off its text, so it needs no tree.
_CALL = re.compile(rb"(?:([A-Za-z_]\w*)[ \t]*=[ \t]*)?[A-Za-z_][\w.]*[ \t]*\((.*)\)[ \t]*\r?")
_PLAIN_STRING = re.compile(rb"""(?<!\w)[rRbBuU]{0,2}(?:'[^'\\\n]*'|"[^"\\\n]*")""")
# A line's code up to its comment, if any: anything but quotes, comments and backslashes,
# and plain strings (no f-string, no escape, none over lines: the text cannot tell
# where those end).
_CODE = re.compile(rb"""(?:(?<!\w)[rRbBuU]{0,2}(?:'[^'\\\n]*'|"[^"\\\n]*")|[^'"#\\])*""")
_PLAIN_ARGUMENTS = re.compile(rb"[\w \t.,=]*")
_ARGUMENT_NAME = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)(?![\w])(?![ \t]*=)")
_KEYWORDS = frozenset(word.encode() for word in keyword.kwlist)
_COUNTS = re.compile(rb"[ \t\f\r]*[^ \t\f\r#]").match  # a line that is not blank or a comment


def _call_registrants(line: bytes) -> set[str] | None:
    """The registrant names of a top-level statement that is a `_CALL`, as the tree
    would find them (`registrants`: the names among its arguments, the name bound to
    what it returned); None for any other statement."""
    call = _CALL.fullmatch(line)
    if call is None:
        return None
    arguments = call[2]
    if b"'" in arguments or b'"' in arguments:
        arguments = _PLAIN_STRING.sub(b"''", arguments).replace(b"''", b"0")
    if b"==" in arguments or not _PLAIN_ARGUMENTS.fullmatch(arguments):
        return None
    names = {n.decode() for n in _ARGUMENT_NAME.findall(arguments) if n not in _KEYWORDS}
    if call[1] is not None:
        names.add(MADE + call[1].decode())
    return names


class Piece(NamedTuple):
    """A run of top-level statements of a big source, compiled."""

    code: CodeType
    defines: tuple[str, ...]  # functions it defines bare: given their hooks once it ran


class Scan(NamedTuple):
    """What the reloader needs from a big source, read off its pieces."""

    pieces: tuple[Piece, ...] | None  # None: read for its imports and registrants only
    bound: set[str]  # names its top-level code binds
    dynamic: bool  # whether it may bind names dynamically
    nodes: list[ImportNode]  # its import statements, at their lines
    registrants: frozenset[str]  # as `_registrants.registrants` reads them off the tree

    def imports(self, *, module: str, is_package: bool) -> list[ImportRef]:
        """The module's imports, as `imports_of` reads them from a full tree."""
        refs = refs_of_nodes(self.nodes, module=module, is_package=is_package)
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
    """A source's imports, and what they were read from: its `Scan` if it is big, else
    its syntax tree. ``compiled``: the source's code, if already compiled.

    Raises:
        SyntaxError, ValueError: the source does not compile.
    """
    scanned = scan(source, filename, compiled)
    if scanned is not None:
        return scanned.imports(module=module, is_package=is_package), scanned
    tree = ast.parse(source, filename)
    return refs_of_nodes(import_nodes(tree), module=module, is_package=is_package), tree


# The last big source read and its scan, until `forget`: the first reload of a module
# imported from its bytecode and edited since reads the same new text twice, to index
# the module and to plan the reload, and each compile of a few megabytes costs seconds.
_last: tuple[bytes, str, Scan] | None = None


def forget() -> None:
    """Drop the last scan kept (the reloader calls this once a reload is over)."""
    global _last
    _last = None


class _Hook(NamedTuple):
    """A decorated function of a run whose text got the definition hooks."""

    start: int  # its first line (lines from 1)
    lines: tuple[int, ...]  # the lines where the hooks are loaded
    name: str
    end: int  # the line of its ``def``

    def moved(self, lines: int) -> _Hook:
        return _Hook(
            self.start + lines, tuple(n + lines for n in self.lines), self.name, self.end + lines
        )


class _Known(NamedTuple):
    """A run compiled, ``at`` lines down the source, and what it read: a `Read` of its
    code and its hooked functions (from its text), or a `_TreeRead` (from its tree)."""

    code: CodeType
    at: int
    read: Read | _TreeRead
    hooks: tuple[_Hook, ...] = ()

    def moved(self, at: int) -> _Known:
        """The same run ``at`` lines down the source."""
        lines = at - self.at
        if not lines:
            return self
        read = self.read
        moved = moved_read(read, lines) if isinstance(read, Read) else read.moved(lines)
        hooks = tuple(hook.moved(lines) for hook in self.hooks)
        return _Known(shifted(self.code, lines), at, moved, hooks)


# (how the run is compiled, the __future__ features it was compiled with, its text)
_Key = tuple[int, int, bytes]


class _Kept(NamedTuple):
    """What the last scan of a big source compiled and guessed, by text."""

    runs: dict[_Key, _Known]
    # How each statement `_TREE` matches is compiled, by the hash of its text (a wrong
    # guess is only slower: the run's bytecode tells, and the statement is cut again).
    guesses: dict[int, int]

    def size(self) -> int:
        return sum(len(key[2]) for key in self.runs)


# The last scan of each big source: a scan of the next version compiles again only the
# runs an edit touched, and gives the others their very code objects (moved if lines
# came or went above them). Bounded by the bytes of text it holds.
_known: dict[str, _Kept] = {}
_KNOWN_MAX = 64 * 1024 * 1024


def _keep_known(filename: str, kept: _Kept) -> None:
    _known.pop(filename, None)
    _known[filename] = kept  # (the most recent last)
    total = sum(kept.size() for kept in _known.values())
    while total > _KNOWN_MAX and len(_known) > 1:
        total -= _known.pop(next(iter(_known))).size()


def forget_compiled() -> None:
    """Drop every run kept for the next version of its source (`_Known`)."""
    _known.clear()


def scan(source: bytes, filename: str, compiled: CodeType | None = None) -> Scan | None:
    """Cut a big source into pieces and compile them; None for a small source or one
    that gets its whole tree. With ``compiled`` (its code, compiled whole), a source that
    is not plain is read for its imports and registrants only (no pieces).

    Raises:
        SyntaxError, ValueError: the source does not compile.
    """
    global _last
    if len(source) <= _tracker.BIG:  # (below, a syntax tree costs little)
        return None
    last = _last
    if (
        last is not None
        and last[1] == filename
        and last[0] == source
        and (compiled is not None or last[2].pieces is not None)
    ):
        return last[2]
    text = _utf8(source)  # (its pieces are compiled without the lines declaring it)
    cut = _Cut(text, filename)
    scanned = cut.read_whole(compiled) if compiled is not None else None
    if scanned is None and compiled is not None:
        cut = _Cut(text, filename)  # (not as the statements it joined while it failed)
    if scanned is None:
        scanned = cut.compile()
    if scanned is None:
        compile(source, filename, "exec", dont_inherit=True)  # its error, at its line
    _last = (source, filename, scanned) if scanned is not None else None
    return scanned


def _utf8(source: bytes) -> bytes:
    """``source`` in UTF-8, a declared encoding's line left blank (a line kept)."""
    head = source.split(b"\n", 2)
    declared = [i for i, line in enumerate(head[:2]) if _ENCODING.match(line)]
    if not declared:
        return source
    import tokenize  # (rare: not loaded with the engine)

    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    text = source.decode(encoding).split("\n", 2)
    for i in declared:
        text[i] = "#"
    return "\n".join(text).encode("utf-8")


class _TreeRead(NamedTuple):
    """What a run's syntax tree says."""

    bound: set[str]
    dynamic: bool
    nodes: list[ImportNode]  # (at the source's lines)
    registrants: frozenset[str]
    defined: frozenset[str]  # names its top-level ``def`` and ``class`` statements bind

    @classmethod
    def of(cls, tree: ast.Module, text: bytes, shift: int) -> _TreeRead:
        """Read ``tree``, made from ``text`` ``shift`` lines down the source (before the
        definition hooks go in)."""
        bound, dynamic = bound_names(tree, text)
        nodes: list[ImportNode] = []
        if b"import" in text:  # (a walk of every statement of the tree, else for nothing)
            nodes = list(import_nodes(tree))
        defined = frozenset(node.name for node in tree.body if isinstance(node, _DEFS))
        return cls(bound, dynamic, nodes, registrants(tree, sites=False), defined).moved(shift)

    def moved(self, lines: int) -> _TreeRead:
        """This read ``lines`` further down (its import nodes copied: a tree's lines
        stay its own)."""
        return self._replace(
            nodes=[
                (ast.increment_lineno(copy.deepcopy(node), lines), kind)
                for node, kind in self.nodes
            ]
        )


class _Found:
    """What the pieces of a source read so far bind, import and register."""

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.dynamic = False
        self.nodes: list[ImportNode] = []
        self.registrants: set[str] = set()

    def add_read(self, read: Read, nodes: list[ImportNode]) -> None:
        self.bound |= read.bound
        self.dynamic |= read.dynamic
        self.nodes += nodes
        self.registrants.update(DEFINED + name for name in read.registered)
        self.registrants.update(read.stored)

    def add_tree(self, read: _TreeRead) -> None:
        self.bound |= read.bound
        self.dynamic |= read.dynamic
        self.nodes += read.nodes
        self.registrants |= read.registrants

    def scan(self, pieces: tuple[Piece, ...] | None) -> Scan:
        return Scan(pieces, self.bound, self.dynamic, self.nodes, frozenset(self.registrants))


class _Cut:
    """A source cut at the lines where its top-level statements may start."""

    def __init__(self, source: bytes, filename: str) -> None:
        self.source = source
        self.filename = filename
        self.lines = source.split(b"\n")
        self.starts = _starts(self.lines)  # (line indexes from 0)
        self.kinds = [_TEXT] * len(self.starts)  # how each statement is compiled
        self._before = list(accumulate(map(len, self.lines), initial=0))
        self.flags = 0  # the source's __future__ features, once its first piece compiled
        # (`_decorators`, by line)
        self._wrappable: dict[int, tuple[str, int, list[_Span]] | None] = {}
        self._known = _known.get(filename) or _Kept({}, {})  # (the last scan's)
        self._compiled = _Kept({}, {})  # (this scan's)
        self._warned = False  # (whether the last text compiled gave warnings)
        self._statement_at: dict[int, int] | None = None  # (`_calls`: by its first line)
        self._cuts: set[int] = set()  # lines (from 0) where a run starts (`cut_before`)

    def offset(self, index: int) -> int:
        """The byte offset of statement ``index`` (the source's length past the last)."""
        if index >= len(self.starts):
            return len(self.source)
        line = self.starts[index]
        return self._before[line] + line

    def text(self, first: int, end: int) -> bytes:
        return self.source[self.offset(first) : self.offset(end)]

    def index(self, line: int) -> int:
        """The statement holding ``line`` (from 1)."""
        return max(bisect_right(self.starts, line - 1) - 1, 0)

    def mark(self, lines: Iterable[int]) -> None:
        """The statements holding ``lines`` need their tree."""
        for line in lines:
            self.kinds[self.index(line)] = _PARSED

    def cut_before(self, lines: Iterable[int], first: int) -> None:
        """The statements holding ``lines`` (from 1) start a run: each reads a definition
        made earlier in the run, which gets its hooks only once its run ran. One the run
        starts with (reading a definition it makes itself) needs its tree."""
        for line in lines:
            index = self.index(line)
            if index > first:
                self._cuts.add(self.starts[index])
            else:
                self.kinds[index] = _PARSED

    def join(self, index: int, count: int) -> bool:
        """Join statement ``index`` with the ``count`` after it; False at the end."""
        if index + 1 >= len(self.starts):
            return False
        end = index + 1 + count
        self.kinds[index] = max(self.kinds[index:end])
        del self.starts[index + 1 : end], self.kinds[index + 1 : end]
        self._statement_at = None
        return True

    def run(self, first: int) -> int:
        """The end of the run of statements of one kind from ``first``.

        A statement bigger than a run is a run of its own (compiled again with the
        statements before it, a table of megabytes would cost seconds), and a decorator
        named after a definition made earlier in the run starts the next one (that
        definition gets its hooks only once its run ran), as does a statement the
        bytecode found reading one (`cut_before`).
        """
        kind, kinds, count, offset = self.kinds[first], self.kinds, len(self.starts), self.offset
        starts, cuts = self.starts, self._cuts
        start = offset(first)
        end = first + 1
        made: set[bytes] = set()
        self._made(first, made)
        at = offset(end)
        while end < count and kinds[end] == kind and starts[end] not in cuts:
            after = offset(end + 1)
            if after - at > _RUN or self._cut_before(at - start, at, after):
                break
            if kind == _TEXT and self._made(end, made):
                break
            end, at = end + 1, after
        return end

    def _cut_before(self, size: int, at: int, after: int) -> bool:
        """Whether a run of ``size`` bytes ends before the statement at ``at:after``.

        Where runs end is read off the statements' text (a run ends before a statement
        with a chance its size in ``_RUN / 2``, once it holds that much; at twice
        ``_RUN`` anyway): an edit moves the ends of the runs around it only, and every
        other run is compiled again from the same text (`_Compiled`).
        """
        half = max(_RUN // 2, 1)
        if size > 2 * _RUN:
            return True
        return size >= half and zlib.crc32(self.source[at:after]) % half < after - at

    def _made(self, index: int, made: set[bytes]) -> bool:
        """Whether statement ``index`` is decorated by a name in ``made``; else the name
        it binds by a bare ``def`` or ``class`` goes into ``made``."""
        line = self.lines[self.starts[index]]
        first = line[:1]
        if first == b"@":
            decorator = _DECORATOR.match(line)
            return decorator is not None and decorator[1] in made
        if first in b"acd":  # (async def, class, def: else no definition)
            named = _NAMED.match(line)
            if named is not None:
                made.add(named[2])
        return False

    def compile(self) -> Scan | None:
        """Every piece compiled; None if a run does not compile however joined."""
        # The text's guess (a run compiled from its text then tells where it was wrong),
        # whatever a read of the whole code marked.
        self.kinds = [self._guess(index) for index in range(len(self.starts))]
        pieces: list[Piece] = []
        found = _Found()
        defined: set[str] = set()  # (by the pieces so far: see `_defined_again`)
        first = 0
        while first < len(self.starts):
            end = self.run(first)
            if self.kinds[first] == _PARSED:
                known = self._compiled_tree(first, end)
                if known is None:
                    return None
                assert isinstance(known.read, _TreeRead)
                if _defined_again(defined, known.read.defined):
                    return None
                found.add_tree(known.read)
                pieces.append(Piece(known.code, ()))
                first = end
                continue
            known = self._compiled_text(first, end)
            if known is None:
                return None
            code, _, read, hooks = known
            assert isinstance(read, Read)
            if read.hooks != {line for hook in hooks for line in hook.lines}:
                # A decorator's line was in a string (a cut the compiler let through):
                # those statements get their tree, which joins them as they read.
                self.mark(hook.start for hook in hooks)
                continue
            # (a decorated function's calls are its decorators, hooked in its text, and
            # its defaults on its ``def`` line; past it, a statement joined to it)
            heads = {line for hook in hooks for line in range(hook.start, hook.end + 1)}
            calls = self._calls(read.hot.difference(heads))
            hot = read.hot.difference(heads, calls)
            early = read.early.difference(hot)
            checking = "TYPE_CHECKING" in code.co_names
            if hot or early or checking:
                self.mark(hot)
                self.cut_before(early, first)
                if checking:
                    self._mark_text(first, end, b"TYPE_CHECKING")
                continue  # the same statements again, cut before those
            names = [*read.defines, *(hook.name for hook in hooks)]
            if len(set(names)) < len(names) or _defined_again(defined, names):
                return None
            nodes = self._import_nodes(read.top, read.nested)
            if nodes is None:
                return None
            found.add_read(read, nodes)
            found.registrants.update(DEFINED + hook.name for hook in hooks)
            found.registrants.update(*calls.values())
            pieces.append(Piece(code, tuple(read.defines)))
            first = end
        _keep_known(self.filename, self._compiled)
        return found.scan(tuple(pieces))

    def read_whole(self, code: CodeType) -> Scan | None:
        """The scan of the source compiled whole as ``code``: runnable if it is plain,
        else read for its imports and registrants only; None if a statement that needs
        its tree does not parse as cut."""
        top = read_top(code)
        read = top.read(code, set())
        calls = self._calls(read.hot)
        lines = read.hot.difference(calls)
        checking = "TYPE_CHECKING" in code.co_names
        # (a definition read as it was made tells nothing here: only that the code
        # compiled whole cannot run as it is, without the hooks between)
        plain = not lines and not read.early and not checking
        # The bytecode tells which statements need their tree (a line of a string may
        # look like a decorator or a class: here nothing compiles the runs between).
        self.mark(lines)
        if checking:
            self._mark_text(0, len(self.starts), b"TYPE_CHECKING")

        def in_tree(line: int) -> bool:
            return self.kinds[self.index(line)] == _PARSED

        # (the imports of the statements that need their tree are read off it)
        nested = read_nested(code, lambda inner: in_tree(inner.co_firstlineno), top.bound)
        read = read._replace(top={n for n in read.top if not in_tree(n)}, nested=nested)
        nodes = self._import_nodes(read.top, read.nested)
        if nodes is None:
            return None
        found = _Found()
        found.add_read(read, nodes)
        found.registrants.update(*calls.values())
        if plain:
            return found.scan((Piece(code, ()),))
        first = 0
        while first < len(self.starts):
            end = self.run(first)
            named = self.kinds[first] != _PARSED or self._named(first, end, found)
            if not named and self._tree(first, end, found) is None:
                return None
            first = end
        return found.scan(None)

    def _calls(self, lines: set[int]) -> dict[int, set[str]]:
        """Of ``lines`` (from 1), those of statements that are a call on one line
        (`_call_registrants`): by line, the registrant names each statement has."""
        found: dict[int, set[str]] = {}
        if not lines:
            return found
        if self._statement_at is None:
            self._statement_at = dict(zip(self.starts, range(len(self.starts)), strict=True))
        statement_at, starts, source = self._statement_at, self.starts, self.lines
        last = len(starts) - 1
        for line in lines:
            index = statement_at.get(line - 1)
            if index is None:
                continue  # (not on its statement's first line)
            end = starts[index + 1] if index < last else len(source)
            if end != line and any(map(_COUNTS, source[line:end])):
                continue  # (not its only line)
            names = _call_registrants(source[line - 1])
            if names is not None:
                found[line] = names
        return found

    def _guess(self, index: int) -> int:
        """How statement ``index`` is compiled, as its text tells."""
        line = self.lines[self.starts[index]]
        if not _TREE.match(line):
            return _TEXT
        text = hash(self.text(index, index + 1))
        kind = self._known.guesses.get(text)
        if kind is None:
            kind = _TEXT if self._decorators(index) is not None else _PARSED
        self._compiled.guesses[text] = kind
        return kind

    def _decorators(self, index: int) -> tuple[str, int, list[_Span]] | None:
        """(name, line of its ``def``, its decorators' lines) of a function statement
        whose decorators the text can wrap as they are (`_spans`); None for any other
        statement."""
        start = self.starts[index]
        if start not in self._wrappable:
            self._wrappable[start] = self._read_decorators(start)
        found = self._wrappable[start]
        if found is None or (index + 1 < len(self.starts) and self.starts[index + 1] <= found[1]):
            return None
        return found

    def _read_decorators(self, line: int) -> tuple[str, int, list[_Span]] | None:
        spans = self._one_line_each(line) or self._spans(line)
        if not spans:
            return None
        at = spans[-1][1] + 1
        named = _NAMED.match(self.lines[at]) if at < len(self.lines) else None
        if named is None or named[1] != b"def":
            return None
        return named[2].decode(), at, spans

    def _one_line_each(self, line: int) -> list[_Span] | None:
        """`_spans` of decorators that are each a line with no string, comment or
        backslash and with as many brackets closed as opened (most are); else None."""
        spans: list[_Span] = []
        lines, count = self.lines, len(self.lines)
        while line < count and lines[line].startswith(b"@"):
            text = lines[line]
            if (
                b"'" in text
                or b'"' in text
                or b"#" in text
                or b"\\" in text
                or sum(map(text.count, b"([{")) != sum(map(text.count, b")]}"))
            ):
                return None
            spans.append((line, line))
            line += 1
        return spans

    def _spans(self, line: int) -> list[_Span] | None:
        """The (first, last) lines of each decorator from ``line`` on; None unless each
        ends where its brackets close, on a line of its own, its strings plain ones on
        one line (the text then tells where it ends: `_CODE`)."""
        spans: list[_Span] = []
        lines, count = self.lines, len(self.lines)
        while line < count and lines[line].startswith(b"@"):
            first, depth = line, 0
            while True:
                code = _code(lines[line])
                if code is None:
                    return None
                depth += sum(map(code.count, b"([{")) - sum(map(code.count, b")]}"))
                if depth <= 0:
                    break
                line += 1
                if line == count or lines[line].startswith(b"@"):
                    return None
            if depth:
                return None
            spans.append((first, line))
            line += 1
        return spans

    def _header(self, line: int) -> tuple[re.Match[bytes] | None, int]:
        """The name line of the definition whose decorators start at ``line`` (read
        off its text, as `_NAMED` groups it), and its line; None if it is no ``def``
        or ``class`` line."""
        start = line
        while self.lines[line].startswith(b"@"):
            line += 1
        named = _NAMED.match(self.lines[line])
        if named is None and line > start:  # (a decorator over several lines, perhaps)
            spans = self._spans(start)
            if spans:
                line = spans[-1][1] + 1
                named = _NAMED.match(self.lines[line]) if line < len(self.lines) else None
        return named, line

    def _hooked(self, first: int, end: int) -> tuple[_Hook, ...]:
        """The decorated functions of a run whose text gets the hooks."""
        found = []
        for index in range(first, end):
            if self.lines[self.starts[index]].startswith(b"@"):
                decorators = self._decorators(index)
                if decorators is not None:
                    name, line, spans = decorators
                    lines = tuple(sorted({spans[0][0] + 1, spans[-1][0] + 1}))
                    found.append(_Hook(self.starts[index] + 1, lines, name, line + 1))
        return tuple(found)

    def _hooked_text(self, first: int, end: int) -> bytes:
        """The run's text, the definition hooks written around the first and the last
        decorator of each decorated function, in their lines (`Definer.around`: every
        line stays where it is)."""
        top = self.starts[first]
        lines: list[bytes] | None = None

        def wrap(span: _Span, path: str | None, inner: bool) -> None:
            assert lines is not None
            start, last = span[0] - top, span[1] - top
            lines[start] = b"@%s((%s" % (AROUND.encode(), lines[start][1:].lstrip())
            text = lines[last]
            end = _code_end(text) if b"#" in text else len(text)
            comment = text[end:]
            lines[last] = b"%s), %r, %r)%s" % (
                text[:end].rstrip(),
                path,
                inner,
                b"  " + comment if comment else b"",
            )

        for index in range(first, end):
            if not self.lines[self.starts[index]].startswith(b"@"):
                continue
            decorators = self._decorators(index)
            if decorators is None:
                continue
            if lines is None:
                lines = self.lines[top : self.starts[end] if end < len(self.starts) else None]
            name, _, spans = decorators
            wrap(spans[0], name, len(spans) == 1)
            if len(spans) > 1:
                wrap(spans[-1], None, True)
        if lines is None:
            return self.text(first, end)
        return b"\n".join(lines) + (b"\n" if end < len(self.starts) else b"")

    def _named(self, first: int, end: int, found: _Found) -> bool:
        """Read a run of definitions off their text, as `_tree` would find them (no
        import or global statement in them; decorated, or a class with bases:
        registrants); False if one of its statements is anything else. The running
        version's index needs no more, and a module of a few megabytes has thousands."""
        text = self.text(first, end)
        if b"import" in text or b"global" in text:
            return False
        names: list[tuple[str, bool]] = []
        for index in range(first, end):
            decorated = self.lines[self.starts[index]].startswith(b"@")
            # (a decorator over several lines is no simple run: parsed)
            named, line = self._header(self.starts[index])
            if named is None or (index + 1 < len(self.starts) and self.starts[index + 1] <= line):
                return False
            kind, name, bases = named.groups()
            names.append((name.decode(), decorated or (kind == b"class" and bases == b"(")))
        found.bound.update(name for name, _ in names)
        found.registrants.update(DEFINED + name for name, registered in names if registered)
        return True

    def _compiled_text(self, first: int, end: int) -> _Known | None:
        """The run compiled from its text, and read; None if it does not compile however
        joined."""
        at = self.starts[first]

        def compiled() -> _Known:
            # (a run's text tells its hooks: a run kept is neither hooked nor read again)
            key = (_TEXT if first else _TOP_TEXT, self.flags, self.text(first, end))
            known = self._compiled.runs.get(key) or self._known.runs.get(key)
            if known is not None:
                self._place(known.code, at)
                known = self._compiled.runs[key] = known.moved(at)
                return known
            text = self._hooked_text(first, end)
            if first and _STRING.match(text):
                text = b"0;" + text  # (a string first is the piece's docstring, else)
            code = self._compile(text, at)
            return self._keep(key, _Known(code, at, read_code(code), self._hooked(first, end)))

        return self._joined(first, end, compiled)

    def _compiled_tree(self, first: int, end: int) -> _Known | None:
        """The run compiled from its instrumented syntax tree, and read; None if it does
        not parse however joined, or does not compile."""
        at = self.starts[first]

        def parsed() -> tuple[_Key, bytes, ast.Module | _Known]:
            text = self.text(first, end)
            key = (_PARSED, self.flags, text)
            known = self._compiled.runs.get(key) or self._known.runs.get(key)
            return key, text, known if known is not None else ast.parse(text, self.filename)

        joined = self._joined(first, end, parsed)
        if joined is None:
            return None
        key, text, made = joined
        if isinstance(made, _Known):
            self._place(made.code, at)
            known = self._compiled.runs[key] = made.moved(at)
            return known
        tree = made
        if first and tree.body and _is_string(tree.body[0]):
            tree.body.insert(0, ast.Pass(lineno=1, col_offset=0))  # (no docstring)
        read = _TreeRead.of(tree, text, at)
        try:
            code = self._compile(instrument(tree), at)
        except (SyntaxError, ValueError):
            return None
        return self._keep(key, _Known(code, at, read))

    def _keep(self, key: _Key, known: _Known) -> _Known:
        """``known``, kept for the next scan of the source unless compiling it warned
        (compiled again then, its warnings told again)."""
        if not self._warned:
            self._compiled.runs[key] = known
        return known

    def _tree(self, first: int, end: int, found: _Found) -> ast.Module | None:
        """The run's syntax tree, read into ``found`` (its lines counted from the run's
        first: its code is moved down once compiled); None if it does not parse however
        joined."""

        def parsed() -> tuple[bytes, ast.Module]:
            text = self.text(first, end)
            return text, ast.parse(text, self.filename)

        joined = self._joined(first, end, parsed)
        if joined is None:
            return None
        text, tree = joined
        if first and tree.body and _is_string(tree.body[0]):
            tree.body.insert(0, ast.Pass(lineno=1, col_offset=0))  # (no docstring)
        found.add_tree(_TreeRead.of(tree, text, self.starts[first]))
        return tree

    def _joined(self, first: int, end: int, make: Callable[[], _T]) -> _T | None:
        """``make()`` of the run, its last statement joined with the next ones while it
        raises SyntaxError (cut short, as by a line of a string); None at the end of the
        source."""
        count = 1
        while True:
            try:
                return make()
            except (SyntaxError, ValueError):
                if not self.join(end - 1, count):
                    return None
                count *= 2

    def _compile(self, text: bytes | ast.Module, shift: int) -> CodeType:
        """``text`` compiled, ``shift`` lines down the source; its warnings told there."""
        with warnings.catch_warnings(record=True) as caught:
            # (not the wrapper `_sideeffects` puts there: nothing of ours is a
            # registration of the module whose frame is below)
            getattr(warnings.simplefilter, "__wrapped__", warnings.simplefilter)("always")
            code: CodeType = compile(
                text, self.filename, "exec", flags=self.flags, dont_inherit=True
            )
        for warning in caught:  # (at the source's own lines)
            warnings.warn_explicit(
                warning.message, warning.category, self.filename, warning.lineno + shift
            )
        self._warned = bool(caught)
        self._place(code, shift)
        return shifted(code, shift) if shift else code

    def _place(self, code: CodeType, at: int) -> None:
        """The __future__ features of a piece at line ``at``: the first piece's are the
        source's; a later piece's must be those (a piece starts where its text does).

        Raises:
            SyntaxError: a later piece imports a feature from __future__.
        """
        if not at:
            self.flags = code.co_flags & _FUTURE
        elif code.co_flags & _FUTURE & ~self.flags:
            raise SyntaxError("from __future__ imports must occur at the beginning of the file")

    def _mark_text(self, first: int, end: int, word: bytes) -> None:
        for index in range(first, end):
            if word in self.text(index, index + 1):
                self.kinds[index] = _PARSED

    def _import_nodes(self, top: set[int], nested: set[int]) -> list[ImportNode] | None:
        """The import statements on lines ``top`` (at module level) and ``nested``
        (in functions), parsed on their own; None if one does not parse so."""
        found: list[ImportNode] = []
        for lines, kind in ((top, "top"), (nested, "function")):
            for line in sorted(lines):
                statements = _parse_at(self.lines, line)
                if statements is None:
                    return None
                found += [(node, kind) for node in statements]  # type: ignore[misc]
        return found


def _starts(lines: list[bytes]) -> list[int]:
    """The lines (from 0) where a top-level statement may start: unindented code, a
    decorator's definition line left with its decorators."""
    starts = [0]
    decorating = lines[0].startswith(b"@")
    for index in range(1, len(lines)):
        line = lines[index]
        if not line or line[0] in _NO_START:
            continue
        if line[0] in b"ef" and _CLAUSE.match(line):
            continue
        if decorating:
            decorating = not _DEFINITION.match(line)
            continue
        starts.append(index)
        decorating = line[0] == 64  # (b"@")
    return starts


def _defined_again(defined: set[str], names: Iterable[str]) -> bool:
    """Whether a piece's definitions bind a name that an earlier piece's bind, adding
    them to ``defined`` (pieces in order).

    The earlier definition is then no longer what the name is bound to: it must be made
    anew, not given the kept object (`_define.superseded`), and only the whole syntax
    tree tells which definitions are so (rare in big sources: they get the tree).
    """
    if not defined.isdisjoint(names):
        return True
    defined.update(names)
    return False


def _is_string(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _code(line: bytes) -> bytes | None:
    """The code of ``line`` before its comment, its plain strings each replaced by ``0``;
    None if the text cannot tell where a string or the line ends."""
    if b"#" in line or b"\\" in line:
        end = _code_end(line)
        if end < len(line) and line[end : end + 1] != b"#":
            return None
        line = line[:end]
    elif b"'" not in line and b'"' not in line:
        return line  # (most decorators: a name, a call of names and numbers)
    code = _PLAIN_STRING.sub(b"0", line)
    return None if b"'" in code or b'"' in code else code


def _code_end(line: bytes) -> int:
    """Where the code of ``line`` ends: at its comment, or where the text cannot tell."""
    code = _CODE.match(line)
    assert code is not None  # (it matches the empty string)
    return code.end()


def _parse_at(text: list[bytes], line: int) -> list[ast.stmt] | None:
    """The import statements starting on ``line``, parsed on their own."""
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
