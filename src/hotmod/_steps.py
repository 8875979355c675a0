"""Compiled steps: what each module of a reload runs, read off its source, and the
cache that keeps the current step of each module.

A step is built once per source text (`build_step`), or read from the entry an earlier
reload or process left on disk (`from_disk`, see `_diskcache`), and is cached in memory
(`CompileCache`) until its file changes.
"""

from __future__ import annotations

import ast
import marshal
import os
from collections.abc import Iterable
from types import CodeType, ModuleType
from typing import Any, NamedTuple

from . import _diskcache, _tracker
from ._bigsource import Piece, Scan, scan
from ._define import Groups, Lines, Prints, bound_names, instrument, plain_definitions, plain_lines
from ._graph import imports_of
from ._quiet import Constants, maybe_quiet, quiet
from ._registrants import registrants

__all__ = [
    "IMPORT_DUNDERS",
    "CompileCache",
    "Light",
    "Step",
    "build_step",
    "cacheable",
    "custom_loader",
    "entry_light",
    "entry_step",
    "from_disk",
    "is_main",
    "light_record",
    "light_step",
    "make_entry",
    "parse_args",
    "read_file",
    "script_body",
    "stat_key",
    "store_entry",
]


class Step(NamedTuple):
    """One module of a plan, compiled and ready to run (cached per source)."""

    name: str
    path: str
    source: bytes
    code: CodeType | None  # None: run by the module's own loader, or a light step
    keeps: frozenset[str]  # names a re-run leaves in place: its own, the import system's
    dynamic: bool
    definitions_only: bool
    registrants: frozenset[str]
    loader: Any
    unload: CodeType | None  # the new source's __hotmod_unload__
    stat: tuple[int, int, int] | None  # the file's (mtime, size, inode) when it was read
    plain: Groups = ()  # definitions a run may skip (`plain_definitions`)
    size: int = 0  # bytes it holds in the compile cache (`step_size`)
    pieces: tuple[Piece, ...] = ()  # a big source runs as these, in order (``code``: the first)
    quiet: Constants | None = None  # a quiet top level's literals (`_quiet.quiet`)
    light: bool = False  # no code: to bind only (`light_step`), compiled if it has to run
    prints: Prints | None = None  # a light step's plain definitions as found when indexed


def entry_step(
    name: str,
    path: str,
    source: bytes,
    entry: _diskcache.Entry,
    stat: tuple[int, int, int] | None,
) -> Step:
    """The step of a module whose source made ``entry``."""
    size = len(source) + 3 * entry.size + 512 if entry.size else None
    return _step(
        name, path, source, stat, entry.code, entry.bound, entry.dynamic,
        registrants=entry.registrants, plain=entry.plain, size=size, quiet=entry.quiet,
    )  # fmt: skip


def step_size(source: bytes, *codes: CodeType | None) -> int:
    """Bytes a step holds in memory, as the compile cache counts them."""
    # Code objects take about three times their marshalled size in memory (measured:
    # 7.3 KB for a 450-byte module of ten functions and a class, 2.2 KB marshalled).
    if None in codes:
        return 2 * len(source)
    return len(source) + 3 * sum(len(marshal.dumps(code)) for code in codes) + 512


def is_main(module: ModuleType) -> bool:
    """Whether ``module`` is the running script."""
    return module.__name__ == "__main__"


class CompileCache:
    """Compiled steps, the current version of each module only, bounded by bytes.

    Each entry also remembers when (``time.monotonic()``) its file was last found to
    hold its text: just before the stat that said so.
    """

    def __init__(self, limit: int = 128 * 1024 * 1024) -> None:
        self.limit = limit
        self._steps: dict[str, tuple[str, int, Step, float]] = {}
        self._bytes = 0

    def unchanged(
        self, name: str, path: str, stat: tuple[int, int, int], checked: float
    ) -> Step | None:
        """The cached step of a file untouched (by its stat) since it was read, or None."""
        entry = self._steps.get(name)
        if entry is None or entry[0] != path or entry[2].stat != stat:
            return None
        return self._used(name, (*entry[:3], checked))

    def checked_since(self, name: str, path: str, since: float) -> Step | None:
        """The cached step of a file last found holding its text at or after ``since``."""
        entry = self._steps.get(name)
        if entry is not None and entry[0] == path and entry[3] >= since:
            return self._used(name, entry)
        return None

    def latest(self, name: str, path: str) -> Step | None:
        """The cached step of a file, whatever its file holds now."""
        entry = self._steps.get(name)
        return entry[2] if entry is not None and entry[0] == path else None

    def get(self, name: str, path: str, digest: int) -> Step | None:
        """The cached step of this text of the file (by its hash), or None."""
        entry = self._steps.get(name)
        if entry is None or entry[0] != path or entry[1] != digest:
            return None
        return self._used(name, entry)

    def _used(self, name: str, entry: tuple[str, int, Step, float]) -> Step:
        """``entry``'s step, the entry put last: the most recently used."""
        del self._steps[name]
        self._steps[name] = entry
        return entry[2]

    def settle(self, name: str, path: str, digest: int) -> None:
        """The file holds the text of ``digest`` now: a step cached for another text of
        it (one that failed to run, the file then restored) is dropped."""
        entry = self._steps.get(name)
        if entry is not None and (entry[0] != path or entry[1] != digest):
            del self._steps[name]
            self._bytes -= entry[2].size

    def put(
        self, name: str, path: str, digest: int, step: Step, checked: float, *, evict: bool = True
    ) -> bool:
        """Cache ``step``; without ``evict``, only if it fits without evicting another
        (False if it did not)."""
        if not evict and self._bytes + step.size > self.limit:
            return False
        old = self._steps.pop(name, None)
        if old is not None:
            self._bytes -= old[2].size
        self._steps[name] = (path, digest, step, checked)
        self._bytes += step.size
        while self._bytes > self.limit and len(self._steps) > 1:
            evicted = next(iter(self._steps.values()))[2]
            del self._steps[evicted.name]
            self._bytes -= evicted.size
        return True


def stat_key(st: os.stat_result) -> tuple[int, int, int]:
    """What tells a file changed: its mtime, size and inode."""
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def custom_loader(module: ModuleType) -> Any:
    """The module's loader if it is not importlib's plain source loader, else None."""
    from importlib.machinery import SourceFileLoader

    spec = getattr(module, "__spec__", None)
    loader = getattr(spec, "loader", None) if spec is not None else None
    if loader is None or type(loader) is SourceFileLoader:
        return None
    if type(loader).__module__ in ("_frozen_importlib_external", "importlib.machinery"):
        return None
    return loader


def unload_code(*codes: CodeType | None) -> CodeType | None:
    """The code of the module's own ``__hotmod_unload__``, if it defines one."""
    # The new source's own __hotmod_unload__, so a fixed hook runs on the next save.
    for code in codes:
        for const in code.co_consts if code is not None else ():
            if isinstance(const, CodeType) and const.co_name == "__hotmod_unload__":
                return const
    return None


def read_file(path: str) -> bytes:
    """The bytes of a source file."""
    with open(path, "rb") as f:
        return f.read()


def parse_args(name: str, module: ModuleType, path: str) -> dict[str, Any]:
    """The module name, package flag and file name a source's imports resolve against."""
    spec = getattr(module, "__spec__", None)
    resolved = spec.name if spec is not None and getattr(spec, "name", None) else name
    return {"module": resolved, "is_package": hasattr(module, "__path__"), "filename": path}


def cacheable(module: ModuleType, source: bytes) -> bool:
    """Whether the module's step can be kept on disk."""
    # Sources run from instrumented code of their own (`_compile`'s usual case).
    return len(source) <= _tracker.BIG and custom_loader(module) is None and not is_main(module)


def make_entry(source: bytes, path: str, name: str, is_package: bool) -> _diskcache.Entry:
    """Everything the reloader reads off a source, as `sync` and `_compile` read it."""
    tree = ast.parse(source, path)
    refs = imports_of(tree, module=name, is_package=is_package)  # (before the hooks go in)
    return _compiled_entry(tree, source, path)._replace(refs=tuple(refs))


def _compiled_entry(tree: ast.Module, source: bytes, path: str) -> _diskcache.Entry:
    """A parsed module's entry, its imports left out: names, registrants, plain
    definitions and the code compiled with the definition hooks (which change ``tree``)."""
    bound, dynamic = bound_names(tree, source)
    names = registrants(tree)
    plain = plain_definitions(tree, dynamic, source)
    calm = None if dynamic else quiet(tree, plain)
    lines = plain_lines(tree, plain) if calm is not None else ()
    code = compile(instrument(tree, plain), path, "exec", dont_inherit=True)
    return _diskcache.Entry((), names, code, frozenset(bound), dynamic, plain, calm, lines)


def store_entry(source: bytes, args: dict[str, Any], entry: _diskcache.Entry) -> None:
    """Write ``entry`` for ``source`` (``args``: `parse_args`) beside the bytecode."""
    _diskcache.store(source, args["filename"], args["module"], args["is_package"], entry)


def script_body(tree: ast.Module, namespace: dict[str, Any]) -> None:
    """The running script's statements a reload runs: its definitions, and imports it
    did not run yet (added with the code that uses them)."""
    tree.body = [
        node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        or _new_import(node, namespace)
    ]


def _new_import(node: ast.stmt, namespace: dict[str, Any]) -> bool:
    """True for an import statement none of whose names the namespace binds yet."""
    if not isinstance(node, (ast.Import, ast.ImportFrom)):
        return False
    names = [alias.asname or alias.name.split(".")[0] for alias in node.names]
    return "*" not in names and not any(name in namespace for name in names)


# Set by the import system, not by the module's code.
IMPORT_DUNDERS = frozenset(
    {
        "__name__",
        "__file__",
        "__spec__",
        "__loader__",
        "__package__",
        "__path__",
        "__builtins__",
        "__cached__",
        "__doc__",
        "__annotations__",
    }
)


def build_step(
    name: str,
    module: ModuleType,
    path: str,
    source: bytes,
    stat: tuple[int, int, int] | None,
    *,
    tree: ast.Module | None = None,
    scanned: Scan | None = None,
) -> tuple[Step, _diskcache.Entry | None]:
    """Compile ``source`` for ``module``: its step, and the entry to keep on disk (None:
    nothing to keep). ``tree`` or ``scanned``: what the plan already read off it.

    Raises:
        SyntaxError, ValueError: the source does not compile.
    """
    loader = custom_loader(module)
    main = is_main(module)
    if loader is None and not main:  # the usual case: a module of the program
        if tree is None and (scanned is None or scanned.pieces is None):
            scanned = scan(source, path)  # planned from its cached text: not read yet
        if scanned is None or scanned.pieces is None:
            entry = _compiled_entry(tree or ast.parse(source, path), source, path)
            return entry_step(name, path, source, entry, stat), entry
        # A big module: compiled from its text in pieces, read off their bytecode, only
        # the statements hotmod instruments parsed (`_bigsource`).
        pieces = scanned.pieces
        step = _step(
            name, path, source, stat, pieces[0].code, scanned.bound, scanned.dynamic,
            registrants=scanned.registrants, pieces=pieces if len(pieces) > 1 else (),
        )  # fmt: skip
        return step, None
    # The running script (its definitions and new imports), or a module whose own
    # loader makes its code: no plain definitions skipped, nothing kept on disk.
    tree = tree or ast.parse(source, path)
    bound, dynamic = bound_names(tree, source)
    names = registrants(tree)
    if main:
        script_body(tree, module.__dict__)
    code: CodeType | None
    if loader is None:
        code = compile(instrument(tree, ()), path, "exec", dont_inherit=True)
    elif hasattr(loader, "source_to_code"):
        code = loader.source_to_code(source, path)  # a source-transforming hook
    else:
        code = None  # the loader runs the module itself (pytest's rewriting)
    step = _step(
        name, path, source, stat, code, bound, dynamic, registrants=names, loader=loader, main=main
    )
    return step, None


def _step(
    name: str,
    path: str,
    source: bytes,
    stat: tuple[int, int, int] | None,
    code: CodeType | None,
    bound: Iterable[str],
    dynamic: bool,
    *,
    registrants: frozenset[str] = frozenset(),
    loader: Any = None,
    main: bool = False,
    plain: Groups = (),
    size: int | None = None,
    pieces: tuple[Piece, ...] = (),
    quiet: Constants | None = None,
    light: bool = False,
    prints: Prints | None = None,
) -> Step:
    """A step; ``size`` defaults to what it holds in memory (`step_size`)."""
    keeps = frozenset(bound) | IMPORT_DUNDERS
    codes = [piece.code for piece in pieces] if pieces else [code]
    size = step_size(source, *codes) if size is None else size
    return Step(
        name, path, source, code, keeps, dynamic, main, registrants, loader,
        unload_code(*codes), stat, plain, size, pieces, quiet, light, prints,
    )  # fmt: skip


def from_disk(
    name: str, module: ModuleType, path: str, source: bytes, stat: tuple[int, int, int] | None
) -> Step | None:
    """The step of an entry some earlier reload or process wrote for this text."""
    args = parse_args(name, module, path)
    entry = _diskcache.load(source, path, args["module"], args["is_package"])
    return entry_step(name, path, source, entry, stat) if entry else None


class Light(NamedTuple):
    """What binding a quiet module needs to know of its source, read as the program
    is indexed (`light_record`, `entry_light`): no code compiled."""

    bound: frozenset[str]
    plain: Groups
    quiet: Constants
    lines: Lines


def light_record(tree: ast.Module, source: bytes) -> Light | None:
    """The `Light` record of a quiet module, or None (its caller has found that it
    registers nothing)."""
    if not maybe_quiet(tree):
        return None  # (the common case, told by the top level's statement types alone)
    bound, dynamic = bound_names(tree, source)
    if dynamic:
        return None
    plain = plain_definitions(tree, dynamic, source)
    constants = quiet(tree, plain)
    if constants is None:
        return None
    return Light(frozenset(bound), plain, constants, plain_lines(tree, plain))


def entry_light(entry: _diskcache.Entry) -> Light | None:
    """The `Light` record of a quiet module read off its entry, or None."""
    if entry.quiet is None or entry.registrants or entry.dynamic:
        return None
    return Light(entry.bound, entry.plain, entry.quiet, entry.lines)


def light_step(
    name: str,
    path: str,
    source: bytes,
    stat: tuple[int, int, int] | None,
    light: Light,
    prints: Prints | None,
) -> Step:
    """A quiet module's step without code: enough to bind it (`Reloader._bind_only`),
    given ``prints``, how its import left its plain definitions (`made_here`); a run
    compiles it first."""
    return _step(
        name, path, source, stat, None, light.bound, False, plain=light.plain,
        quiet=light.quiet, light=True, prints=prints,
    )  # fmt: skip
