"""A dependent of nothing but imports and plain definitions is brought up to date
without running (`Reloader._bind_only`): its from-imports of the plan's modules are bound
anew, as a run would bind them; whatever a run would do otherwise makes it run."""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import marshal
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import hotmod
from conftest import write_tree
from hotmod import _runtime
from hotmod._define import plain_definitions
from hotmod._quiet import quiet, same_literal
from hotmod._reloader import Reloader
from hotmod._steps import Step

LEAF = "VALUE = 1\n\n\ndef helper():\n    return VALUE\n"

QUIET = """\
    '''Only imports and plain definitions.'''
    import os
    from os import getcwd
    from qleaf import VALUE, helper


    def get():
        return VALUE


    class Box:
        def twice(self):
            return helper() * 2
"""


def is_quiet(source: str) -> bool:
    tree = ast.parse(textwrap.dedent(source))
    return quiet(tree, plain_definitions(tree, dynamic=False)) is not None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (QUIET, True),
        ("from qleaf import VALUE\nDOUBLE = VALUE * 2\n", False),
        ("from qleaf import *\n", False),
        ("import qleaf\nprint('imported')\n", False),
        ("from qleaf import register\n\n@register\ndef f():\n    pass\n", False),
        ("from qleaf import Base\n\nclass K(Base):\n    pass\n", False),
        ("def f(x=[]):\n    return x\n", False),
        ("def __hotmod_unload__():\n    pass\n", False),
        ("import os\nif os.name:\n    import sys\n", False),
        ("__all__ = ['f']\nLIMIT = -3\nTABLE = {'a': (1, 2.5, None)}\n", True),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from qleaf import A\n", True),
        ("import typing as t\nif t.TYPE_CHECKING:\n    import qleaf\n", True),
        ("if TYPE_CHECKING:\n    import qleaf\n", False),  # (whose flag?)
        ("from typing import TYPE_CHECKING\nif not TYPE_CHECKING:\n    import qleaf\n", False),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    X = 1\n", False),
        ("LIMIT = 1\nLIMIT = 2\n", False),
        ("from os import sep\nsep = '/'\n", False),
        ("A, B = 1, 2\n", False),
        ("LIMIT: int = 3\n", False),
        ("TABLE = {'a': len}\n", False),
        ("TABLE = {[1]: 2}\n", False),
        (f"TABLE = {list(range(2000))}\n", False),  # its step would keep a copy
    ],
)
def test_only_imports_docstrings_and_plain_definitions_are_quiet(
    source: str, expected: bool
) -> None:
    assert is_quiet(source) is expected


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The modules each reload ran (the others it bound only)."""
    names: list[str] = []
    real = Reloader._exec_step

    def exec_step(self: Reloader, step: Step, txn: Any, report: Any) -> None:
        names.append(step.name)
        real(self, step, txn, report)

    monkeypatch.setattr(Reloader, "_exec_step", exec_step)
    yield names


def load(tmp_path: Path, files: dict[str, str]) -> dict[str, ModuleType]:
    write_tree(tmp_path, files)
    sys.path.insert(0, str(tmp_path))
    modules = {name.removesuffix(".py"): None for name in files}
    return {name: importlib.import_module(name) for name in modules}


def beside_leaf(tmp_path: Path, name: str, source: str) -> ModuleType:
    """The module ``name`` of ``source``, imported with the leaf it imports."""
    return load(tmp_path, {"qleaf.py": LEAF, f"{name}.py": source})[name]


def edit(tmp_path: Path, value: int) -> hotmod.ReloadReport:
    (tmp_path / "qleaf.py").write_text(f"VALUE = {value}\n\n\ndef helper():\n    return VALUE\n")
    return hotmod.reload("qleaf")


def test_a_quiet_dependent_is_bound_anew_without_running(tmp_path: Path, ran: list[str]) -> None:
    mods = load(
        tmp_path,
        {
            "qleaf.py": LEAF,
            "qdep.py": QUIET,
            # a re-export: bound from qdep once qdep is bound
            "qnext.py": "from qdep import VALUE\n\n\ndef value():\n    return VALUE\n",
            # reads qdep's binding as it runs: after qdep is bound
            "qloud.py": "from qdep import VALUE\n\nDOUBLE = VALUE * 2\n",
        },
    )
    dep = mods["qdep"]
    get, box = dep.get, dep.Box
    for value in (2, 3):
        ran.clear()
        report = edit(tmp_path, value)
        assert report.ok, report
        assert sorted(report.reloaded) == ["qdep", "qleaf", "qloud", "qnext"]
        assert sorted(ran) == ["qleaf", "qloud"]  # qdep and qnext did not run
        assert value == dep.VALUE and dep.get() == value and dep.Box().twice() == 2 * value
        assert dep.get is get and dep.Box is box  # the same objects, as a run keeps them
        assert mods["qnext"].value() == value and 2 * value == mods["qloud"].DOUBLE


def test_a_quiet_dependent_runs_when_a_run_would_change_more_than_its_imports(
    tmp_path: Path, ran: list[str]
) -> None:
    dep = beside_leaf(tmp_path, "qdep", QUIET)
    import os

    def fake() -> str:
        return "elsewhere"

    # What a run binds again: a name imported from outside the plan, a definition.
    dep.getcwd = fake
    assert edit(tmp_path, 2).ok and ran == ["qleaf", "qdep"]
    assert dep.getcwd is os.getcwd
    ran.clear()
    dep.get = fake
    assert edit(tmp_path, 3).ok and ran == ["qleaf", "qdep"]
    assert dep.get is not fake and dep.get() == 3
    ran.clear()
    assert edit(tmp_path, 4).ok and ran == ["qleaf"]  # (quiet again)


def test_a_name_the_edit_took_away_fails_the_quiet_dependent_as_a_run_would(
    tmp_path: Path,
) -> None:
    dep = beside_leaf(tmp_path, "qdep", QUIET)
    (tmp_path / "qleaf.py").write_text("VALUE = 2\n")  # helper is gone
    report = hotmod.reload("qleaf")
    assert not report.ok and report.module == "qdep"
    assert isinstance(report.error, ImportError) and "helper" in str(report.error)
    assert sys.modules["qleaf"].VALUE == 1 and dep.VALUE == 1  # rolled back


def test_a_failure_after_a_quiet_dependent_puts_its_old_bindings_back(
    tmp_path: Path, ran: list[str]
) -> None:
    mods = load(
        tmp_path,
        {
            "qleaf.py": LEAF,
            "qdep.py": QUIET,
            "qlast.py": "import qdep\n\nif qdep.VALUE == 2:\n    raise RuntimeError('two')\n",
        },
    )
    report = edit(tmp_path, 2)
    assert not report.ok and report.module == "qlast", report
    assert "qdep" not in ran and mods["qdep"].VALUE == 1 and mods["qdep"].get() == 1
    assert edit(tmp_path, 3).ok and mods["qdep"].get() == 3


LITERALS = """\
    from typing import TYPE_CHECKING

    from qleaf import VALUE

    if TYPE_CHECKING:
        from collections.abc import Sequence

    __all__ = ["get", "LIMITS"]
    LIMITS = {"low": -1, "high": (2, 3.5)}
    HITS = []


    def get():
        return VALUE
"""


def test_literals_and_type_checking_imports_leave_a_dependent_quiet(
    tmp_path: Path, ran: list[str]
) -> None:
    dep = beside_leaf(tmp_path, "qlit", LITERALS)
    limits, hits = dep.LIMITS, dep.HITS
    assert edit(tmp_path, 2).ok and ran == ["qleaf"]
    assert dep.get() == 2 and dep.LIMITS is limits and dep.HITS is hits
    assert "Sequence" not in vars(dep)
    # The program changed a literal's value: a run binds the literal again, as a fresh
    # import of the module would.
    dep.HITS.append("seen")
    dep.LIMITS = {"low": 0}
    ran.clear()
    assert edit(tmp_path, 3).ok and ran == ["qleaf", "qlit"]
    assert dep.HITS == [] and dep.LIMITS == {"low": -1, "high": (2, 3.5)} and dep.get() == 3
    ran.clear()
    assert edit(tmp_path, 4).ok and ran == ["qleaf"]  # (as the literals make them again)


@pytest.mark.parametrize(
    ("value", "literal", "expected"),
    [
        ([1, (2, "x")], [1, (2, "x")], True),
        ({"a": 1, "b": 2}, {"a": 1, "b": 2}, True),
        ({"b": 2, "a": 1}, {"a": 1, "b": 2}, False),  # a run orders the keys as written
        ([True], [1], False),
        (1.0, 1, False),
        ((1, [2]), (1, [2, 3]), False),
        (float("nan"), float("nan"), False),  # (unequal to itself: it runs)
        ({1, 2}, {2, 1}, True),
    ],
)
def test_a_literal_holds_only_what_a_run_would_bind(
    value: object, literal: object, expected: bool
) -> None:
    assert same_literal(value, literal) is expected


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The modules each reload compiled with the definition hooks."""
    names: list[str] = []
    real = hotmod._reloader.build_step

    def build_step(name: str, *args: Any, **kwargs: Any) -> Any:
        names.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(hotmod._reloader, "build_step", build_step)
    yield names


def write_bytecode(path: Path, second: int, *, written: int) -> None:
    """Python's own bytecode cache of ``path``, checked by the source's mtime (whole
    ``second``, in ns) and size, the file's mtime set to ``written`` (ns).

    (Written by hand: `py_compile` reads the source through the import system, which
    would tell hotmod the text the module runs.)
    """
    code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    header = (second // 10**9).to_bytes(4, "little") + path.stat().st_size.to_bytes(4, "little")
    cached = Path(importlib.util.cache_from_source(str(path)))
    cached.parent.mkdir(exist_ok=True)
    cached.write_bytes(importlib.util.MAGIC_NUMBER + bytes(4) + header + marshal.dumps(code))
    os.utime(cached, ns=(written, written))


def an_earlier_second(path: Path) -> int:
    """A whole second (in ns) well before ``path`` was written, set as its mtime."""
    second = (path.stat().st_mtime_ns // 10**9 - 5) * 10**9
    os.utime(path, ns=(second, second))
    return second


@pytest.mark.parametrize("imported_from", ["bytecode", "source"])
def test_a_quiet_dependent_is_compiled_only_once_it_has_to_run(
    tmp_path: Path, ran: list[str], builds: list[str], imported_from: str
) -> None:
    write_tree(tmp_path, {"qleaf.py": LEAF, "qfirst.py": QUIET})
    if imported_from == "bytecode":  # (else no .pyc: the import reads the source)
        path = tmp_path / "qfirst.py"
        second = an_earlier_second(path)
        write_bytecode(path, second, written=second + 10**9)
    sys.path.insert(0, str(tmp_path))
    dep = importlib.import_module("qfirst")
    box = dep.Box
    assert edit(tmp_path, 2).ok and ran == ["qleaf"] and dep.get() == 2
    # Its first reload bound it without compiling it: the text it runs is the file's.
    assert builds == ["qleaf"]

    def fake() -> str:
        return "elsewhere"

    dep.get = fake  # a run binds it back: compiled now, to run
    ran.clear()
    builds.clear()
    assert edit(tmp_path, 3).ok and ran == ["qleaf", "qfirst"]
    assert builds == ["qleaf", "qfirst"]
    assert dep.get is not fake and dep.get() == 3 and dep.Box is box
    assert dep.Box().twice() == 6


def test_a_definition_the_program_replaced_before_hotmod_looked_makes_it_run(
    tmp_path: Path, ran: list[str]
) -> None:
    # Found in place of a definition when hotmod first looks: a function of the same
    # name, module and first line, from another file. A run binds the definition back.
    dep = beside_leaf(tmp_path, "qdep", QUIET)
    line = dep.get.__code__.co_firstlineno
    fake = load(tmp_path, {"qother.py": "\n" * (line - 1) + "def get():\n    return 0\n"})[
        "qother"
    ].get
    fake.__module__ = dep.__name__
    dep.get = fake
    assert edit(tmp_path, 2).ok and ran == ["qleaf", "qdep"]
    assert dep.get is not fake and dep.get() == 2


def test_bytecode_older_than_a_same_size_save_in_its_second_is_not_bound_with(
    tmp_path: Path, ran: list[str]
) -> None:
    # The import checks a .pyc by the source's mtime (in whole seconds) and size: a
    # save of the same size within the second the .pyc was written passes, and the
    # import runs the old code. The reload must run the text the file holds.
    old, new = QUIET.replace("* 2", "* 3"), QUIET.replace("* 2", "* 4")
    write_tree(tmp_path, {"qleaf.py": LEAF, "qsame.py": old})
    path = tmp_path / "qsame.py"
    second = an_earlier_second(path)
    write_bytecode(path, second, written=second + 1000)
    path.write_text(textwrap.dedent(new))
    os.utime(path, ns=(second + 2000, second + 2000))  # saved after the .pyc, same second
    sys.path.insert(0, str(tmp_path))
    dep = importlib.import_module("qsame")
    assert dep.Box().twice() == 3  # (the import ran the old code)
    assert edit(tmp_path, 2).ok and "qsame" in ran
    assert dep.Box().twice() == 8


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The modules each reload read compiled code of, off the entries on disk."""
    names: list[str] = []
    real = hotmod._reloader.from_disk

    def from_disk(name: str, *args: Any) -> Any:
        step = real(name, *args)
        if step is not None:
            names.append(name)
        return step

    monkeypatch.setattr(hotmod._reloader, "from_disk", from_disk)
    yield names


def parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files parsed from now on."""
    names: list[str] = []
    real = ast.parse

    def parse(source: Any, filename: Any = "<unknown>", *args: Any, **kwargs: Any) -> Any:
        names.append(str(filename))
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse)
    return names


def settled() -> bool:
    return _runtime.get_reloader().cache_worker.idle.wait(10)


@pytest.mark.parametrize("prepared_by", ["watcher", "watcher, no bytecode", "last run"])
def test_a_prepared_quiet_dependent_is_bound_without_reading_code(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ran: list[str],
    builds: list[str],
    loaded: list[str],
    prepared_by: str,
) -> None:
    # A watcher's warm-up, or the program's last run, made the dependent's entry: the
    # record binding needs is kept from it, and the reload neither compiles the
    # dependent nor reads its code or its source, nor compares code.
    monkeypatch.setattr(sys, "dont_write_bytecode", prepared_by.endswith("no bytecode"))
    adopted: list[str] = []
    real = hotmod._reloader.adopt

    def adopt(ns: dict[str, Any], *args: Any) -> Any:
        adopted.append(ns["__name__"])
        return real(ns, *args)

    monkeypatch.setattr(hotmod._reloader, "adopt", adopt)
    dep = beside_leaf(tmp_path, "qdep", QUIET)
    with contextlib.ExitStack() as stack:
        if prepared_by.startswith("watcher"):
            watcher = hotmod.watch(tmp_path, apply="manual")  # (the test applies edits)
            stack.callback(watcher.stop)
        else:
            assert edit(tmp_path, 2).ok and ran == ["qleaf"]
            assert settled()  # (its entry written after the reload bound it)
            _runtime.reset()  # the program's next run: it finds the entry on disk
        assert settled(), "warm-up still running"
        parsed = parsed_files(monkeypatch)
        ran.clear()
        builds.clear()
        assert edit(tmp_path, 3).ok and ran == ["qleaf"] and dep.get() == 3
        assert builds == ["qleaf"] and loaded == [] and adopted == []
        assert not [name for name in parsed if name.endswith("qdep.py")]
