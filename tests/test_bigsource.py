"""Big plain sources read off their bytecode: the same imports and names as their tree."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from types import CodeType, FunctionType, SimpleNamespace, TracebackType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import hotmod
from conftest import Project
from hotmod import _bigsource, _tracker
from hotmod._bigsource import Scan, scan
from hotmod._define import AROUND, BIND, DEF, SKIP, Definer, bound_names, instrument
from hotmod._graph import imports_of
from hotmod._registrants import registrants

# Statements a generated data module is made of: none calls anything at module level.
PLAIN = [
    "TABLE{i} = [{i}, {i} + 1, 'x', (1, 2), {{'k': None}}]",
    "def f{i}(x, y=2):\n    return x * y + {i}",
    "async def af{i}():\n    return {i}",
    "import os",
    "import os.path as osp{i}",
    "import collections.abc",
    "from . import sibling{i}",
    "from .sub import (\n    one as one{i},\n    two,\n)",
    "from ..up import thing",
    "try:\n    import json\nexcept ImportError:\n    json = None",
    "if True:\n    from os import sep as sep{i}\nelse:\n    sep{i} = '/'",
    "def lazy{i}():\n    import decimal\n    from .sub import three\n    return decimal, three",
    "def setter{i}():\n    global G{i}\n    G{i} = {i}",
    "V{i} = 1\ndel V{i}",
    "(W{i} := {i})",
    "for n{i} in (1, 2):\n    pass",
    "N{i}: int = {i}",
    "X{i} = Y{i} = -{i}",
    "import os; from os import path as p{i}",
    "CONTACT{i} = 'admin@example.com'  # a class of its own",
    "M{i} = (TABLE @ TABLE) if False else None",
    "obj.attr = {i}",
]

# Module-level code of these needs its statement's syntax tree (the rest of the source
# is compiled from its text).
NOT_PLAIN = [
    "@decorate\ndef d{i}():\n    pass",
    "@decorate\n# a comment between\n@decorate\nasync def ad{i}():\n    pass",
    "class C{i}:\n    '''doc'''\n    def m(self):\n        import json\n        return json",
    "class S{i}(Base, metaclass=Meta):\n    pass",
    "register(f0)",
    "X{i} = len('abc')",
    # (calls on one line read off their text, as the tree reads them)
    "CALLS.append({i})",
    "made{i} = make('x', key=f0, flag=True)  ",
    "use(a.b, c if d else e, not g, rb'q' b\"r\", 1e5)",
    "use(a == b)",
    "use(f'{{x}}', y)",
    "use(x)  # a comment",
    "with ctx:\n    pass",
    "from os import *",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import os",
    "def made{i}(x=make()):\n    return x",
    "def first{i}():\n    pass\nALIAS{i} = first{i}",
    # (a store at a key registers the value: read off the bytecode when it is a name)
    "T[{i}] = f0",
    "T['k{i}'] = a if c else b",
    "T[k] = a or b",
    "T.x['a'] = f0",
    "T['k'] = U['j'] = f0",
    "def stored{i}():\n    pass\nT['s{i}'] = stored{i}",
    # (an in-place operation adds what it names: ``HANDLERS += [on_ping]``)
    "T += [f0]",
    "T.x |= {{f0}}",
    "N{i} = 1\nN{i} += a * b",
    # (read off their text for the running version's index, as the tree reads them)
    "class K{i}():\n    pass",
    "class B{i}(\n    Base,\n):\n    pass",
    "class Meta{i}(metaclass=Meta):\n    pass",
    "@decorate\nclass DC{i}:\n    pass",
    "@decorate\n@decorate\nasync def two{i}():\n    pass",
    "@decorate(\n    'x',\n)\ndef md{i}():\n    pass",
    "@decorate(\n    'x',  # (\n)\n@decorate\ndef mc{i}():\n    pass",
    "@decorate\ndef imports{i}():\n    import json\n    return json",
    "@decorate\ndef sets{i}():\n    global G{i}\n    G{i} = {i}",
]

# Statements with lines that look like the start of another statement.
TRICKY = [
    "'''a string statement {i}'''",
    "TEXT{i} = '''\nclass NotAClass:\n@not_a_decorator\nX = 1\n'''",
    "QUOTED{i} = '''\n@not_a_decorator\ndef not_a_function():\n    pass\n'''",
    "DATA{i} = {{\n    'k': [1, 2],\n}}",
    "ROWS{i} = [\n1,\n2,\n]",
    "if True:\n    Y{i} = 1\nelse:\n    Y{i} = 2",
    "try:\n    Z{i} = 1\nexcept Exception:\n    pass\nfinally:\n    W{i} = 2",
    "LONG{i} = 1 + \\\n2",
]


View = tuple[list[object], set[str], bool, frozenset[str]]


def tree_view(source: str) -> View:
    tree = ast.parse(source)
    refs = imports_of(tree, module="pkg.mod", is_package=False)
    bound, dynamic = bound_names(tree, source.encode())
    return refs, bound - {"__doc__"}, dynamic, registrants(tree, sites=False)


def scan_view(source: str, compiled: CodeType | None = None) -> View:
    scanned = scan(source.encode(), "mod.py", compiled)
    assert scanned is not None, source
    refs = scanned.imports(module="pkg.mod", is_package=False)
    # (a docstring is stored by name from 3.12 on; every run keeps __doc__ anyway)
    return list(refs), scanned.bound - {"__doc__"}, scanned.dynamic, scanned.registrants


@pytest.fixture
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scan sources of any size (they are small here)."""
    monkeypatch.setattr(_tracker, "BIG", 0)


@pytest.mark.usefixtures("any_size")
@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.lists(st.sampled_from(range(len(PLAIN))), min_size=1, max_size=12))
def test_a_plain_source_reads_as_its_syntax_tree_says(future: bool, picks: list[int]) -> None:
    head = "from __future__ import annotations\n" if future else ""
    source = head + "\n".join(PLAIN[p].format(i=i) for i, p in enumerate(picks)) + "\n"
    assert scan_view(source) == tree_view(source)


@pytest.mark.usefixtures("any_size")
def test_imports_keep_their_lines_and_their_context() -> None:
    source = textwrap.dedent(
        """\
        X = 1
        try:
            import json
        except ImportError:
            json = None

        def later():
            from .sub import (
                a,
                b as c,
            )
            return a, c
        """
    )
    refs, _, _, _ = scan_view(source)
    assert [(r.module, r.names, r.lineno, r.kind) for r in refs] == [  # type: ignore[attr-defined]
        ("json", (), 3, "top"),
        ("pkg.sub", (("a", "a"), ("b", "c")), 8, "function"),
    ]


@pytest.mark.usefixtures("any_size")
@settings(max_examples=100, deadline=None)
@given(
    st.booleans(),
    st.lists(st.sampled_from(PLAIN + NOT_PLAIN + TRICKY), min_size=1, max_size=14),
    st.sampled_from([1, 60, 32_000]),
)
@example(  # the running version's read fails at the string; the pieces' must not
    False,
    [
        TRICKY[1],
        "@decorate\ndef d{i}():\n    pass",
        "@decorate\n@decorate\nasync def two{i}():\n    pass",
        "@decorate\nclass DC{i}:\n    pass",
    ],
    60,
)
def test_a_source_cut_into_pieces_reads_as_its_syntax_tree_says(
    future: bool, picks: list[str], run: int
) -> None:
    # Pieces of every size (a statement, a few, the whole source): the same imports,
    # names and registrants as the whole tree; read off the import's code (its first
    # reload), the same imports, names and registrants again.
    head = "from __future__ import annotations\n" if future else ""
    source = head + "\n".join(p.format(i=i) for i, p in enumerate(picks)) + "\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bigsource, "_RUN", run)
        assert scan_view(source) == tree_view(source)
        _bigsource.forget()
        whole = compile(source, "mod.py", "exec", dont_inherit=True)
        refs, bound, _, names = scan_view(source, whole)
        _bigsource.forget()
    tree = tree_view(source)
    assert (refs, bound, names) == (tree[0], tree[1], tree[3])


TWIN = "@decorate\ndef deco_twin():\n    return {i}"

RUNNABLE = [
    "@decorate\ndef deco_{i}():\n    return {i}",
    "@decorate\n@tag('x{i}')\n@decorate\nasync def deco_{i}():\n    return {i}",
    "@tag('y(', {i})\ndef deco_{i}(a=len('ab')):\n    return a",
    "@decorate\n# a comment between\n@decorate\ndef deco_{i}():\n    return {i}",
    "@(lambda f: decorate(f))\ndef deco_{i}():\n    return {i}",
    # (decorators over lines, comments and strings that hold brackets or a "#")
    "@tag(\n    'x{i}',  # a comment (\n    ')',\n)\n@decorate\ndef deco_{i}():\n    return {i}",
    "@decorate  # a comment\ndef deco_{i}():\n    return {i}",
    "@tag('#', \"(\", [\n    {i},\n])  # ]\ndef deco_{i}():\n    return {i}",
    "@tag(f'{i}(')\ndef deco_{i}():\n    return {i}",
    "class C{i}:\n    '''doc'''\n    SIDES = {i}\n    def m(self):\n        return self.SIDES",
    "decorate(lambda: {i})",
    "COUNT{i} = len(REGISTRY)",
    "def f{i}(x, y=2):\n    return x * y + {i}",
    "def first{i}():\n    return {i}\nALIAS{i} = first{i}",
    "def handler{i}():\n    return {i}\nHANDLERS['k{i}'] = handler{i}",
    "N{i}: int = {i}",
    "SQUARES{i} = [n * n for n in (1, 2, {i})]",
    "def fails{i}():\n    raise ValueError({i})",
    "import sys as sys{i}\nLINE{i} = sys{i}._getframe().f_lineno",
    # Where a module-level import failed: a piece compiled from its text, then a parsed one.
    "try:\n    from os import missing{i}\nexcept ImportError as e:\n    AT{i} = e.__traceback__",
    "try:\n    from os import missing{i}\nexcept ImportError as e:\n"
    "    AT{i} = getattr(e, '__traceback__')",
    *TRICKY,
    # (a name defined again: only the last definition keeps the object; a source where
    # an earlier one would get the hooks gets its whole tree)
    TWIN,
]


@pytest.mark.usefixtures("any_size")
@settings(max_examples=100, deadline=None)
@given(
    st.booleans(),
    st.lists(st.sampled_from(RUNNABLE), min_size=1, max_size=14),
    st.sampled_from([1, 60, 32_000]),
)
def test_pieces_run_as_the_whole_instrumented_tree_runs(
    docstring: bool, picks: list[str], run: int
) -> None:
    # The same names and values, docstring, annotations, registrations, line numbers.
    head = "'''The module.'''\n" if docstring else ""
    source = head + _REGISTERING + "\n".join(p.format(i=i) for i, p in enumerate(picks)) + "\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bigsource, "_RUN", run)
        scanned = scan(source.encode(), "mod.py")
        _bigsource.forget()
    assert_runs_as_its_tree(source, "mod.py", scanned)


_REGISTERING = (
    "REGISTRY = []\nHANDLERS = {}\n\ndef decorate(f):\n    REGISTRY.append(f)\n    return f\n"
    "def tag(*words):\n    REGISTRY.append(words)\n    return decorate\n"
)


def assert_runs_as_its_tree(source: str, filename: str, scanned: Scan | None) -> None:
    """The pieces of ``scanned`` run as the whole instrumented tree of ``source``
    (which a source defining a name again may get instead of pieces)."""
    if scanned is None and source.count("def deco_twin") > 1:
        return
    assert scanned is not None and scanned.pieces is not None
    pieces = scanned.pieces
    whole = compile(instrument(ast.parse(source)), filename, "exec", dont_inherit=True)
    assert run_view(lambda ns: exec(whole, ns)) == run_view(
        lambda ns: [exec(piece.code, ns) for piece in pieces]
    )


@pytest.mark.usefixtures("any_size")
@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(RUNNABLE), min_size=1, max_size=14),
    st.integers(0, 14),
    st.sampled_from(["insert", "delete", "replace", "lines above"]),
    st.sampled_from(RUNNABLE),
)
@example([RUNNABLE[0], RUNNABLE[8], RUNNABLE[1]], 0, "insert", RUNNABLE[8])
@example([RUNNABLE[8], RUNNABLE[0], RUNNABLE[3]], 0, "lines above", RUNNABLE[0])
def test_an_edited_source_runs_as_its_new_tree_with_the_runs_kept_from_the_last(
    picks: list[str], at: int, edit: str, pick: str
) -> None:
    # The runs the last scan kept, moved or not, run as the new text's whole tree does:
    # the same names, registrations and line numbers.
    head = _REGISTERING
    edited = list(picks)
    at = min(at, len(picks) - 1)
    if edit == "insert":
        edited.insert(at, pick)
    elif edit == "delete" and len(edited) > 1:
        del edited[at]
    elif edit == "replace":
        edited[at] = pick
    elif edit == "lines above":
        head = "# a comment\n\n" + head
    old = head + "\n".join(p.format(i=i) for i, p in enumerate(picks)) + "\n"
    source = head + "\n".join(p.format(i=i) for i, p in enumerate(edited)) + "\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bigsource, "_RUN", 60)
        _bigsource.forget_compiled()
        assert scan(old.encode(), "edited.py") is not None or old.count("def deco_twin") > 1
        _bigsource.forget()
        scanned = scan(source.encode(), "edited.py")
        _bigsource.forget()
    assert_runs_as_its_tree(source, "edited.py", scanned)


def run_view(run: Callable[[dict[str, Any]], object]) -> dict[str, object]:
    """What a module's run leaves in its namespace, objects told apart by what makes
    them. The definition hooks let everything through, noting in the registry when
    they see a decorated function (named ``deco_``), among what its decorators note."""

    def note(what: str, name: str) -> None:
        if name.startswith("deco_"):
            ns["REGISTRY"].append((what, name))

    def define(new: Any) -> Any:
        note("define", new.__qualname__)
        return new

    def bind(path: str) -> Callable[[Any], Any]:
        def keep(new: Any) -> Any:
            note("bind", path)
            return new

        return keep

    hooks = SimpleNamespace(define=define, bind=bind)
    ns: dict[str, Any] = {
        "__name__": "mod",
        DEF: define,
        BIND: bind,
        SKIP: frozenset(),
        AROUND: lambda decorator, path, inner: Definer.around(hooks, decorator, path, inner),  # type: ignore[arg-type]
    }
    run(ns)
    for name in (DEF, BIND, SKIP, AROUND, "__builtins__"):
        del ns[name]

    def view(value: object) -> object:
        if isinstance(value, FunctionType):
            return ("function", value.__qualname__, list(value.__code__.co_lines()))
        if isinstance(value, type):
            return ("class", value.__qualname__, sorted(vars(value)))
        if isinstance(value, list):
            return [view(v) for v in value]
        if isinstance(value, dict):
            return {key: view(v) for key, v in value.items()}
        if isinstance(value, TracebackType):
            return ("traceback", value.tb_lineno)
        return value

    return {name: view(value) for name, value in ns.items()}


def test_a_source_up_to_128_kb_gets_its_syntax_tree() -> None:
    assert scan(b"X = 1\n", "mod.py") is None
    assert scan(b"X = [" + b"1, " * 42_000 + b"]\n", "mod.py") is None  # (126 kB)
    assert scan(b"X = [" + b"1, " * 43_000 + b"]\n", "mod.py") is not None


@pytest.mark.usefixtures("any_size")
@pytest.mark.parametrize("first", [b"", b"#!/usr/bin/env python\n"])
def test_a_source_in_a_declared_encoding_is_cut_as_its_text_reads(
    first: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its text decoded as declared, at its own lines.
    monkeypatch.setattr(_bigsource, "_RUN", 1)
    source = first + b"# -*- coding: latin-1 -*-\nX = 'caf\xe9'\n@decorate\ndef f():\n    pass\n"
    scanned = scan(source, "mod.py")
    assert scanned is not None and scanned.pieces is not None
    pieces = scanned.pieces
    whole = compile(instrument(ast.parse(source)), "mod.py", "exec", dont_inherit=True)

    def run(code: Iterable[CodeType]) -> Callable[[dict[str, Any]], None]:
        def running(ns: dict[str, Any]) -> None:
            ns["decorate"] = lambda f: f
            for piece in code:
                exec(piece, ns)

        return running

    view = run_view(run(p.code for p in pieces))
    assert view == run_view(run([whole]))
    assert view["X"] == "caf\xe9"


@pytest.mark.usefixtures("any_size")
def test_a_syntax_error_names_the_file_and_line() -> None:
    with pytest.raises(SyntaxError) as caught:
        scan(b"X = 1\nY = (\n", "pkg/mod.py")
    assert caught.value.filename == "pkg/mod.py"
    assert caught.value.lineno == 2


@pytest.mark.usefixtures("any_size")
def test_names_that_may_bind_dynamically_are_noticed() -> None:
    scanned = scan(b"import sys\nM = sys.modules\n", "mod.py")
    assert scanned is not None and scanned.dynamic


def test_a_big_generated_module_reloads_as_a_fresh_import_would(project: Project) -> None:
    # Over 128 kB: read off its bytecode. Identity kept, a removed name gone, a
    # from-import rebound, its imports in the graph, a syntax error named by line.
    project.scenario("bigsource_reload")
    assert project.run_driver().strip() == "ok"


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Sources over 2 kB count as big; the names of the ``big_*`` files `_bigsource`
    compiles (the first reload in a process also indexes the modules imported before)."""
    monkeypatch.setattr(_tracker, "BIG", 2000)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(tmp_path))
    seen: list[str] = []

    def counting(source: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(str(filename)).name.startswith("big_"):
            seen.append(Path(str(filename)).name)
        return compile(source, filename, *args, **kwargs)

    monkeypatch.setattr(_bigsource, "compile", counting, raising=False)
    return seen


def big_source(version: int) -> str:
    return f"VERSION = {version}\n" + "".join(f"ROW{i} = {list(range(20))}\n" for i in range(60))


def test_compiling_a_big_source_registers_nothing_for_the_module_that_asked(
    tmp_path: Path, compiles: list[str]
) -> None:
    # Its compile warnings are caught with a filter of its own, set inside
    # ``catch_warnings``: not a registration of whatever module's top level called
    # the reload (a million of them, one per piece, for the running script's loop).
    from hotmod._runtime import ledger

    (tmp_path / "big_quiet.py").write_text(big_source(1))
    importlib.import_module("big_quiet")
    (tmp_path / "big_quiet.py").write_text(big_source(2))
    asked = {"__name__": "app.loop", "hotmod": hotmod}
    exec(compile("report = hotmod.reload('big_quiet')\n", "<app.loop>", "exec"), asked)
    assert asked["report"].ok  # type: ignore[attr-defined]
    assert compiles == ["big_quiet.py"]
    assert ledger.entries("app.loop") == []


def test_the_first_reload_of_a_big_module_compiles_only_its_new_text(
    tmp_path: Path, compiles: list[str]
) -> None:
    # Imported from its source: the reloader reads the import's own code to index it.
    (tmp_path / "big_src.py").write_text(big_source(1))
    big_src = importlib.import_module("big_src")
    (tmp_path / "big_src.py").write_text(big_source(2))
    report = hotmod.reload(big_src)
    assert report.ok, report.error
    assert big_src.VERSION == 2
    assert compiles == ["big_src.py"]


_TABLE = "TABLE = {\n" + "".join(f"    {i}: 'row {i}',\n" for i in range(4000)) + "}\n"


def _after_a_call(version: int) -> tuple[str, bytes]:
    # The call sends its run back to the compiler, cut before it: the table after it
    # must be a run of its own, not compiled again with what follows the call.
    head = "HANDLERS = []\nSIZE = len('abc')\n"
    return head + _TABLE + f"VERSION = {version}\n", b"'row 3999'"


def _after_its_decorator(version: int) -> tuple[str, bytes]:
    # A decorator defined just before the function it decorates would send the run back
    # to the compiler too (the hooks of ``deco`` are not on yet), and what follows it
    # would be compiled again: its use starts a run.
    head = "HANDLERS = []\n\ndef deco(f):\n    HANDLERS.append(f)\n    return f\n\n"
    decorated = f"@deco\ndef handler():\n    return {version}\n\n"
    filler = "".join(f"def filler_{i}():\n    return {i}\n\n" for i in range(100))
    return head + decorated + f"VERSION = {version}\n" + filler, b"def filler_99"


@pytest.mark.parametrize("shape", [_after_a_call, _after_its_decorator])
def test_a_statement_is_compiled_once_as_runs_are_cut(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    compiles: list[str],
    shape: Callable[[int], tuple[str, bytes]],
) -> None:
    texts: list[bytes] = []
    counting = _bigsource.compile  # type: ignore[attr-defined]

    def noting(source: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(source, bytes) and Path(str(filename)).name == "big_runs.py":
            texts.append(source)
        return counting(source, filename, *args, **kwargs)

    monkeypatch.setattr(_bigsource, "compile", noting, raising=False)
    (tmp_path / "big_runs.py").write_text(shape(1)[0])
    big_runs = importlib.import_module("big_runs")
    kept = getattr(big_runs, "handler", None)
    source, marker = shape(2)
    (tmp_path / "big_runs.py").write_text(source)
    report = hotmod.reload(big_runs)
    assert report.ok, report.error
    assert big_runs.VERSION == 2
    if kept is not None:
        assert big_runs.handler is kept and kept() == 2
        assert len(big_runs.HANDLERS) == 1 and big_runs.HANDLERS[0] is kept
    else:
        assert len(big_runs.TABLE) == 4000 and len(_TABLE) > _bigsource._RUN
    assert sum(marker in text for text in texts) == 1


def test_a_big_module_imported_from_bytecode_and_edited_compiles_its_text_once(
    tmp_path: Path, compiles: list[str]
) -> None:
    # Its bytecode written by an earlier run: what it runs is unknown once it is edited,
    # and indexing it and planning its reload read the same new text.
    path = tmp_path / "big_pyc.py"
    path.write_text(big_source(1))
    subprocess.run([sys.executable, "-m", "py_compile", str(path)], check=True)
    big_pyc = importlib.import_module("big_pyc")
    assert big_pyc.__spec__.cached and os.path.exists(big_pyc.__spec__.cached)
    path.write_text(big_source(22))
    report = hotmod.reload(big_pyc)
    assert report.ok, report.error
    assert big_pyc.VERSION == 22
    assert compiles == ["big_pyc.py"]


def test_a_big_module_that_is_not_plain_reloads_in_pieces(project: Project) -> None:
    # Calls at module level, a class, registering decorators, an alias: each reads as
    # after a fresh import, with the old objects kept and registered once.
    project.scenario("bigsource_not_plain")
    assert project.run_driver().strip() == "ok"


def test_a_big_module_of_calls_on_one_line_is_compiled_from_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiles: list[str]
) -> None:
    # 200,000 lines of ``L.append(i)`` took 5.4 times their import: each call was parsed
    # into a tree, for the registrant names its arguments hold.
    def source(version: int) -> str:
        calls = "".join(f"TABLE.append({i})\n" for i in range(400))
        return (
            "TABLE = []\nHANDLERS = []\n\n"
            + calls
            + f"made = dict(version={version}, handler=print)\nHANDLERS.append(made)\n"
        )

    (tmp_path / "big_calls.py").write_text(source(1))
    big_calls = importlib.import_module("big_calls")
    parsed: list[int] = []
    tree = _bigsource._Cut._tree  # type: ignore[attr-defined]
    monkeypatch.setattr(
        _bigsource._Cut,  # type: ignore[attr-defined]
        "_tree",
        lambda self, first, end, found: (
            (parsed.append(first) if self.filename.endswith("big_calls.py") else None)
            or tree(self, first, end, found)
        ),
    )
    (tmp_path / "big_calls.py").write_text(source(2))
    report = hotmod.reload(big_calls)
    assert report.ok, report.error
    table, handlers = big_calls.TABLE, big_calls.HANDLERS
    assert table == list(range(400)) and handlers == [{"version": 2, "handler": print}]
    assert parsed == []
    found = scan(source(3).encode(), str(tmp_path / "big_calls.py"))
    assert found is not None and found.registrants == {"print", "made:made", "made"}


def test_a_big_module_storing_each_function_at_a_key_is_compiled_from_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiles: list[str]
) -> None:
    # 5,000 functions each stored at a key after its definition took 7.8 times their
    # import on a first reload: each store was parsed into a tree, for the name it
    # stores and because it reads a definition of its run (cut before it now).
    def source(version: int) -> str:
        return "HANDLERS = {}\n\n" + "".join(
            f"def on_{i}():\n    return {i} + {version}\n\nHANDLERS['k{i}'] = on_{i}\n\n"
            for i in range(60)
        )

    (tmp_path / "big_stores.py").write_text(source(1))
    big_stores = importlib.import_module("big_stores")
    handlers = dict(big_stores.HANDLERS)
    parsed: list[int] = []
    cut = _bigsource._Cut  # type: ignore[attr-defined]
    for method in ("_tree", "_compiled_tree"):
        original = getattr(cut, method)

        def counting(self: Any, first: int, *args: Any, original: Any = original) -> Any:
            if self.filename.endswith("big_stores.py"):
                parsed.append(first)
            return original(self, first, *args)

        monkeypatch.setattr(cut, method, counting)
    (tmp_path / "big_stores.py").write_text(source(2))
    report = hotmod.reload(big_stores)
    assert report.ok, report.error
    assert parsed == []
    assert handlers == big_stores.HANDLERS  # (the same functions, hooked before stored)
    assert [f() for f in big_stores.HANDLERS.values()] == [i + 2 for i in range(60)]
    found = scan(source(3).encode(), str(tmp_path / "big_stores.py"))
    assert found is not None and found.registrants == {f"on_{i}" for i in range(60)}


def _many(version: int, *, above: str = "") -> str:
    # Plain functions, decorated ones (hooked in their text, decorators over lines too)
    # and decorated classes (parsed), in runs of a few hundred bytes; ``version`` edits
    # function 152's body.
    head = above + "from os import sep\nREGISTRY = []\n\ndef decorate(f):\n"
    head += "    REGISTRY.append(f)\n    return f\n\ndef tag(*words):\n    return decorate\n\n"
    parts = []
    for i in range(300):
        body = f"return x + {version if i == 152 else i}"
        if i % 7 == 3:
            parts.append(f"@tag(\n    'x',  # (a comment)\n)\ndef deco_{i}(x):\n    {body}\n")
        elif i % 11 == 4:
            parts.append(f"@decorate\nclass Deco{i}:\n    X = {i}\n")
        elif i % 5 == 1:
            parts.append(f"@decorate\ndef deco_{i}(x):\n    {body}\n")
        else:
            parts.append(f"def f{i}(x):\n    {body}\n")
    return head + "\n".join(parts) + "import json as late_import\n"


@pytest.mark.usefixtures("any_size")
def test_an_edit_compiles_again_only_the_runs_it_touched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The other runs keep their very code; lines added above move them (and the import
    # lines they read) down: they run as the whole instrumented tree of the new text.
    monkeypatch.setattr(_bigsource, "_RUN", 400)
    compiled: list[object] = []

    def counting(source: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(source)
        return compile(source, *args, **kwargs)

    monkeypatch.setattr(_bigsource, "compile", counting, raising=False)
    _bigsource.forget_compiled()

    def scanned(source: str) -> tuple[CodeType, ...]:
        compiled.clear()
        found = scan(source.encode(), "many.py")
        _bigsource.forget()
        assert found is not None and found.pieces is not None
        whole = compile(instrument(ast.parse(source)), "many.py", "exec", dont_inherit=True)
        pieces = found.pieces
        assert run_view(lambda ns: exec(whole, ns)) == run_view(
            lambda ns: [exec(piece.code, ns) for piece in pieces]
        )
        refs = found.imports(module="pkg.many", is_package=False)
        assert refs == imports_of(ast.parse(source), module="pkg.many", is_package=False)
        return tuple(piece.code for piece in pieces)

    first = scanned(_many(1))
    assert len(first) > 30 and len(compiled) == len(first)
    edited = scanned(_many(2))
    assert 1 <= len(compiled) <= 4
    assert sum(code in first for code in edited) >= len(edited) - 4  # the very objects
    moved = scanned(_many(2, above="# a comment\n# and another\n"))
    assert 1 <= len(compiled) <= 4
    assert not set(moved) & set(edited)  # (all moved down)


@pytest.mark.usefixtures("any_size")
def test_a_run_that_compiles_with_warnings_warns_at_every_scan() -> None:
    source = _many(1) + "CHECK = sep is ()\n"
    for _ in range(2):
        with pytest.warns(SyntaxWarning, match="is"):
            assert scan(source.encode(), "warns.py") is not None
        _bigsource.forget()


def test_a_big_module_edited_above_a_function_reports_its_new_lines(
    tmp_path: Path, compiles: list[str]
) -> None:
    # Its run compiled before, moved down: a traceback names the line the file has.
    (tmp_path / "big_moved.py").write_text(_many(1))
    big_moved = importlib.import_module("big_moved")
    (tmp_path / "big_moved.py").write_text(_many(2))
    assert hotmod.reload(big_moved).ok
    compiles.clear()
    source = _many(3, above='"""Now documented."""\n\n\n')
    (tmp_path / "big_moved.py").write_text(source)
    report = hotmod.reload(big_moved)
    assert report.ok, report.error
    assert 1 <= len(compiles) <= 4  # (the runs the edit touched, not all of them)
    assert big_moved.__doc__ == "Now documented." and big_moved.f152(1) == 4
    with pytest.raises(TypeError) as caught:
        big_moved.f299(None)
    line = source.splitlines().index("def f299(x):") + 2
    assert caught.traceback[-1].lineno + 1 == line


def test_a_big_module_defining_a_name_again_keeps_the_last_definition(
    tmp_path: Path, compiles: list[str]
) -> None:
    # In one run or in two: a reference taken before the reload runs the last
    # definition's new code, not an ``@overload`` stub's or the first registered twin's.
    twins = (
        "from typing import overload\n\nREG = []\n\ndef register(f):\n"
        "    REG.append(f)\n    return f\n\n"
        "@overload\ndef double(x: int) -> int: ...\n"
        "@overload\ndef double(x: str) -> str: ...\n"
        "def double(x):\n    return x * {v}\n\n"
        "@register\ndef h():\n    return 'first {v}'\n\n"
    )
    last = "\n@register\ndef h():\n    return 'last {v}'\n"
    for far in (False, True):  # (the last ``h`` right after the first, or runs later)
        name = f"big_twins_{int(far)}"

        def source(v: int, far: bool = far) -> str:
            filler, after = _many(v), last.format(v=v)
            return twins.format(v=v) + (filler + after if far else after + filler)

        (tmp_path / f"{name}.py").write_text(source(1))
        module = importlib.import_module(name)
        double, h = module.double, module.h
        for v in (2, 3):
            (tmp_path / f"{name}.py").write_text(source(v))
            report = hotmod.reload(module)
            assert report.ok, report.error
            assert double(2) == module.double(2) == 2 * v and double is module.double
            assert h() == f"last {v}" and h is module.h is module.REG[-1]
            assert [f() for f in module.REG] == [f"first {v}", f"last {v}"]


@pytest.mark.usefixtures("any_size")
def test_a_future_import_after_other_statements_is_the_syntax_error_it_is() -> None:
    # On its own, the piece it starts would compile.
    source = b"X = 1\n@decorate\ndef f():\n    pass\nfrom __future__ import annotations\n"
    with pytest.raises(SyntaxError) as caught:
        scan(source, "mod.py")
    assert caught.value.lineno == 5


STDLIB = [
    "argparse", "asyncio.tasks", "collections", "dataclasses", "enum", "functools",
    "gettext", "importlib.metadata", "inspect", "pickle", "typing", "_strptime",
]  # fmt: skip


@pytest.mark.usefixtures("any_size")
@pytest.mark.parametrize("name", STDLIB)
def test_standard_library_sources_cut_as_their_trees_read(name: str) -> None:
    # Real code (classes, decorators, docstrings, guarded imports, strings of code):
    # the same imports and registrants; no name bound that the tree does not list (it
    # also lists comprehension variables and names only declared ``global``).
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_bytes()
    refs, bound, dynamic, names = scan_view(source.decode())
    tree_refs, tree_bound, tree_dynamic, tree_names = tree_view(source.decode())
    assert (refs, names) == (tree_refs, tree_names)
    assert bound <= tree_bound and (dynamic or not tree_dynamic)
