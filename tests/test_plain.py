"""Plain definitions (`_define.plain_definitions`): an unchanged dependent leaves them be.

In process: the syntax-tree rule on its own, then reloads of a leaf and its dependent.
"""

from __future__ import annotations

import ast
import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hotmod
from hotmod._define import Definer, plain_definitions


def plain(source: str, dynamic: bool = False) -> list[str]:
    groups = plain_definitions(ast.parse(textwrap.dedent(source)), dynamic)
    return sorted(name for group in groups for name in group)


def test_plain_definitions_are_those_a_run_of_the_same_text_defines_the_same() -> None:
    source = """
        from __future__ import annotations
        from leaf import VALUE, Base

        def simple(x, y=1, *, z=None):
            return x + y + VALUE

        def annotated(x: Base) -> int:  # (strings, with the __future__ import)
            return 0

        class Box:
            '''A box.'''
            size = 3

            def get(self):
                return VALUE

        @decorated
        def decorated_one(): ...

        def computed_default(x=VALUE): ...

        class Derived(Base): ...

        class Computed:
            size = VALUE

        def listed(): ...
        HANDLERS = [listed]

        def rebound(): ...
        rebound = 3

        def made_global(): ...
        def setter():
            global made_global
    """
    assert plain(source) == ["Box", "annotated", "setter", "simple"]


def test_consecutive_plain_definitions_make_one_run() -> None:
    source = "def a(): ...\ndef b(): ...\nX = 1\nclass C: ...\n@dec\ndef d(): ...\ndef e(): ...\n"
    assert plain_definitions(ast.parse(source), False) == (("a", "b"), ("C",), ("e",))


def test_names_inside_data_literals_count_though_tables_of_constants_are_skipped() -> None:
    # (Literals of constants only are not walked: a generated table holds no name.)
    source = """
        def listed(): ...
        TABLE = [1, 2, (3, listed)]
        def mapped(): ...
        REGISTRY = {"k": mapped, "n": 1}
        def kept(): ...
        DATA = [1, 2.5, "x", (None, b"y"), {"a": 1}]
        def spread(): ...
        MERGED = {**{"a": spread}}
    """
    assert plain(source) == ["kept"]


def test_annotations_evaluated_at_definition_time_are_not_plain() -> None:
    assert plain("def f(x: Leaf) -> int: ...\ndef g(x): ...\n") == ["g"]


def test_no_plain_definitions_beside_a_star_import_or_dynamic_binding() -> None:
    assert plain("from leaf import *\ndef f(): ...\n") == []
    assert plain("def f(): ...\n", dynamic=True) == []


LEAF = "VALUE = {v}\n"
DEP = """\
from pleaf import VALUE

def total(x):
    return x + VALUE

class Box:
    def get(self):
        return VALUE * 10

def helper():
    return 1

def wrap(f):
    return f

@wrap
def decorated():
    return VALUE
"""


@pytest.fixture
def program(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "pleaf.py").write_text(LEAF.format(v=1))
    (tmp_path / "pdep.py").write_text(DEP)
    sys.path.insert(0, str(tmp_path))
    importlib.import_module("pdep")
    yield tmp_path


def save_leaf(root: Path, value: int) -> hotmod.ReloadReport:
    (root / "pleaf.py").write_text(LEAF.format(v=value))
    report = hotmod.reload("pleaf")
    assert report.ok, report
    return report


@pytest.fixture
def defined(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Qualified names passed to the definition hook from now on."""
    seen: list[str] = []
    real = Definer.define

    def define(self: Definer, new: Any) -> Any:
        seen.append(new.__qualname__)
        return real(self, new)

    monkeypatch.setattr(Definer, "define", define)
    return seen


def test_an_unchanged_dependent_leaves_its_plain_definitions_be(
    program: Path, defined: list[str]
) -> None:
    dep = sys.modules["pdep"]
    total, box = dep.total, dep.Box
    dep.helper = lambda: 99  # replaced by the program: not what the source defines
    first = save_leaf(program, 2)
    # What the import defined is what the code would: left be from the first reload on,
    # but for the run that holds the replaced name (defined again, as a run would).
    assert {"total", "Box", "helper"} <= set(defined) and "decorated" in defined
    assert dep.helper() == 1 and dep.total is total and dep.Box is box
    helper = dep.helper
    defined.clear()
    second = save_leaf(program, 3)
    assert sorted(n for n in defined if n.split(".")[0] != "wrap") == ["decorated"]
    assert dep.total is total and dep.Box is box and dep.helper is helper
    assert dep.total(1) == 4 and dep.Box().get() == 30 and dep.decorated() == 3
    assert second.patched == first.patched + 1  # left as they are: kept (helper too now)


def test_the_first_reload_leaves_what_the_import_defined_be(
    program: Path, defined: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = sys.modules["pdep"]
    total, box = dep.total, dep.Box
    first = save_leaf(program, 2)
    assert sorted(n for n in defined if n.split(".")[0] != "wrap") == ["decorated"]
    assert dep.total is total and dep.Box is box and dep.total(1) == 3
    from hotmod import _reloader

    monkeypatch.setattr(_reloader, "unchanged", lambda *args: frozenset())
    defined.clear()
    every = save_leaf(program, 3)  # (every definition runs: the report to match)
    assert {"total", "Box", "Box.get", "helper"} <= set(defined)
    assert first.patched == every.patched


def test_a_definition_the_program_replaced_is_defined_again(
    program: Path, defined: list[str]
) -> None:
    dep = sys.modules["pdep"]
    save_leaf(program, 2)
    dep.helper = lambda: 99  # the program rebinds one name and patches a method
    dep.Box.get = lambda self: -1
    defined.clear()
    save_leaf(program, 3)
    assert dep.helper() == 1 and dep.Box().get() == 30  # as a fresh import defines them
    # (total, Box and helper are one run of plain definitions: it runs as a whole)
    assert {"helper", "Box", "total"} <= set(defined)
    defined.clear()
    save_leaf(program, 4)
    assert not {"helper", "Box", "total"} & set(defined)  # left be again
    dep.total.__code__ = (lambda x: -x).__code__  # another tool patched its code
    save_leaf(program, 5)
    assert dep.total(1) == 6


@pytest.mark.parametrize("change", ["attribute", "defaults"])
def test_a_function_the_program_changed_runs_as_before(
    program: Path, defined: list[str], change: str
) -> None:
    # What a run does to such a function (a patch from the new definition) it still does.
    dep = sys.modules["pdep"]
    save_leaf(program, 2)
    if change == "attribute":
        dep.helper.calls = 3
    else:
        dep.helper.__defaults__ = (1,)
    defined.clear()
    save_leaf(program, 3)
    assert "helper" in defined and "total" in defined  # (its run of definitions runs)


def test_a_rolled_back_reload_leaves_the_next_one_correct(program: Path) -> None:
    dep = sys.modules["pdep"]
    save_leaf(program, 2)
    (program / "pleaf.py").write_text("VALUE = 1 / 0\n")
    assert not hotmod.reload("pleaf").ok
    save_leaf(program, 4)
    assert dep.total(1) == 5 and dep.Box().get() == 40


@pytest.mark.parametrize("patched", ["function", "method"])
def test_code_patched_before_the_first_reload_is_defined_again(program: Path, patched: str) -> None:
    dep = sys.modules["pdep"]
    if patched == "function":  # another tool patched it in place
        dep.total.__code__ = (lambda x: -x).__code__
    else:
        dep.Box.get.__code__ = (lambda self: -1).__code__
    save_leaf(program, 2)
    assert dep.total(1) == 3 and dep.Box().get() == 20  # as the source says


EDITED = """\
def scale(x, {params}):
    return x * by

class Unit:
    def scale(self, x, {params}):
        return x * by
"""


@pytest.mark.parametrize(
    "params",
    ["by=3", "by=2, *, to=3", "by=2.0"],  # what a function's code object does not hold
)
def test_an_edited_module_defines_what_its_code_alone_does_not_tell(
    program: Path, params: str
) -> None:
    (program / "pedit.py").write_text(EDITED.format(params="by=2"))
    module = importlib.import_module("pedit")
    (program / "pedit.py").write_text(EDITED.format(params=params))
    assert hotmod.reload("pedit").ok
    fresh: dict[str, Any] = {}
    exec(EDITED.format(params=params), fresh)
    for mine, theirs in [(module.scale, fresh["scale"]), (module.Unit.scale, fresh["Unit"].scale)]:
        assert (mine.__defaults__, mine.__kwdefaults__) == (
            theirs.__defaults__,
            theirs.__kwdefaults__,
        )
        assert type(mine.__defaults__[0]) is type(theirs.__defaults__[0])
