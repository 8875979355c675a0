"""Big plain sources read off their bytecode: the same imports and names as their tree."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hotmod
from conftest import Project
from hotmod import _bigsource
from hotmod._bigsource import scan
from hotmod._graph import imports_of
from hotmod._steps import bound_names

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
]

# Module-level code of these is not plain: the syntax tree is needed.
NOT_PLAIN = [
    "@decorate\ndef f():\n    pass",
    "class C:\n    pass",
    "register(f0)",
    "X = len('abc')",
    "with ctx:\n    pass",
    "from os import *",
    "obj.attr = 1",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import os",
    "def f(x=make()):\n    return x",
]


def tree_view(source: str) -> tuple[list[object], set[str], bool]:
    tree = ast.parse(source)
    refs = imports_of(tree, module="pkg.mod", is_package=False)
    bound, dynamic = bound_names(tree, source.encode())
    return refs, bound, dynamic


def scan_view(source: str) -> tuple[list[object], set[str], bool]:
    scanned = scan(source.encode(), "mod.py")
    assert scanned is not None, source
    refs = scanned.imports(module="pkg.mod", is_package=False)
    return list(refs), scanned.bound, scanned.dynamic


@pytest.fixture
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scan sources of any size (they are small here)."""
    monkeypatch.setattr(_bigsource, "BIG", 0)


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
    refs, _, _ = scan_view(source)
    assert [(r.module, r.names, r.lineno, r.kind) for r in refs] == [  # type: ignore[attr-defined]
        ("json", (), 3, "top"),
        ("pkg.sub", (("a", "a"), ("b", "c")), 8, "function"),
    ]


@pytest.mark.usefixtures("any_size")
@pytest.mark.parametrize("snippet", NOT_PLAIN)
def test_any_other_source_gets_its_syntax_tree(snippet: str) -> None:
    assert scan(f"X = 1\n{snippet}\n".encode(), "mod.py") is None


def test_a_source_under_a_megabyte_gets_its_syntax_tree() -> None:
    assert scan(b"X = 1\n", "mod.py") is None
    big = b"X = [" + b"1, " * 400_000 + b"]\n"
    assert scan(big, "mod.py") is not None


@pytest.mark.usefixtures("any_size")
def test_a_declared_encoding_gets_its_syntax_tree() -> None:
    assert scan(b"# -*- coding: latin-1 -*-\nX = 'caf\xe9'\n", "mod.py") is None


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
    # Over a megabyte: read off its bytecode. Identity kept, a removed name gone, a
    # from-import rebound, its imports in the graph, a syntax error named by line.
    project.scenario("bigsource_reload")
    assert project.run_driver().strip() == "ok"


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Sources over 2 kB count as big; the names of the ``big_*`` files `_bigsource`
    compiles (the first reload in a process also indexes the modules imported before)."""
    from hotmod import _tracker

    monkeypatch.setattr(_tracker, "BIG", 2000)
    monkeypatch.setattr(_bigsource, "BIG", 2000)
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
