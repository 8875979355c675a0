"""make_plan() in-process: the order comes from the new sources, and the graph stays as it was."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hotmod._graph import ImportGraph, parse_imports
from hotmod._modmap import ModuleMap, source_hash
from hotmod._plan import Plan, PlanError, make_plan


class Program:
    """Modules loaded from files (never executed), with their graph and module map."""

    def __init__(self, root: Path, files: dict[str, str]) -> None:
        self.root = root
        self.names = list(files)  # the order they finished importing
        self.graph = ImportGraph()
        self.modmap = ModuleMap()
        self.reads: list[str] = []
        for name, text in files.items():
            path = root / f"{name}.py"
            path.write_text(textwrap.dedent(text))
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None
            sys.modules[name] = importlib.util.module_from_spec(spec)  # restored by conftest
        self.modmap.sync()
        for name in self.names:
            source = (root / f"{name}.py").read_bytes()
            self.graph.set_imports(name, parse_imports(source, module=name, is_package=False))
            self.modmap.set_hash(name, source_hash(source))

    def save(self, name: str, text: str) -> None:
        (self.root / f"{name}.py").write_text(textwrap.dedent(text))

    def read(self, name: str, path: str) -> bytes:
        self.reads.append(name)
        return Path(path).read_bytes()

    def plan(
        self,
        *names: str,
        cascade: bool = True,
        frozen: set[str] | None = None,
        cascades: Callable[[str], bool] = lambda name: True,
        no_reload: Callable[[str], bool] = lambda name: False,
        read: Callable[[str, str], bytes] | None = None,
    ) -> Plan:
        """Plan the reload of ``names`` from their current files."""
        sources = {n: (self.root / f"{n}.py").read_bytes() for n in names}
        return make_plan(
            self.graph,
            self.modmap,
            list(names),
            sources,
            frozen=frozen or set(),
            cascade=cascade,
            cascades=cascades,
            no_reload=no_reload,
            read=read or self.read,
            parse_args=self.parse_args,
            finish_order=self.names,
        )

    def parse_args(self, name: str) -> dict[str, Any]:
        return {"module": name, "is_package": False, "filename": str(self.root / f"{name}.py")}

    def state(self) -> dict[str, object]:
        """Everything the graph tells: refs, imports and importers of every module."""
        graph = self.graph
        return {n: (tuple(graph.refs(n)), graph.imports(n), graph.importers(n)) for n in graph}


def test_the_order_comes_from_the_new_sources(tmp_path: Path) -> None:
    prog = Program(tmp_path, {"pl_extra": "X = 1\n", "pl_base": "Y = 1\n"})
    # As imported, nothing links them: the finish order decides.
    assert prog.plan("pl_base", "pl_extra").groups == [["pl_extra"], ["pl_base"]]
    # The edit makes pl_extra import pl_base: pl_base must now run first.
    prog.save("pl_extra", "import pl_base\nX = pl_base.Y\n")
    plan = prog.plan("pl_base", "pl_extra")
    assert plan.groups == [["pl_base"], ["pl_extra"]]
    assert [ref.module for ref in plan.refs["pl_extra"]] == ["pl_base"]
    assert "pl_extra" in plan.trees and "pl_base" not in plan.trees, "unchanged: not re-parsed"


def test_the_graph_is_unchanged_after_planning(tmp_path: Path) -> None:
    prog = Program(
        tmp_path,
        {"pl_leaf": "A = 1\n", "pl_mid": "import pl_leaf\n", "pl_top": "import pl_mid\n"},
    )
    before = prog.state()
    prog.save("pl_leaf", "import pl_other_thing\nA = 2\n")
    prog.save("pl_mid", "import pl_leaf\nfrom pl_top import nothing\n")
    during: list[dict[str, object]] = []

    def read(name: str, path: str) -> bytes:  # a dependent read mid-plan: the graph as it was
        during.append(prog.state())
        return prog.read(name, path)

    plan = prog.plan("pl_leaf", read=read)
    assert during and all(state == before for state in during)
    assert prog.state() == before
    assert [r.module for r in plan.refs["pl_leaf"]] == ["pl_other_thing"]
    assert prog.graph.imports("pl_mid") == {"pl_leaf"}


def test_dependents_are_read_and_ordered_after_what_they_import(tmp_path: Path) -> None:
    prog = Program(
        tmp_path,
        {
            "pl_core": "V = 1\n",
            "pl_util": "import pl_core\n",
            "pl_app": "import pl_util\nimport pl_core\n",
            "pl_alone": "Z = 1\n",
        },
    )
    prog.save("pl_core", "V = 2\n")
    plan = prog.plan("pl_core")
    assert plan.groups == [["pl_core"], ["pl_util"], ["pl_app"]]
    assert sorted(prog.reads) == ["pl_app", "pl_util"]
    assert set(plan.sources) == {"pl_core", "pl_util", "pl_app"}
    # Unchanged dependents are not parsed again: the graph already holds their imports.
    assert set(plan.trees) == {"pl_core"}


def test_cascade_and_its_filters(tmp_path: Path) -> None:
    prog = Program(
        tmp_path,
        {"pl_c": "V = 1\n", "pl_d1": "import pl_c\n", "pl_d2": "import pl_d1\n"},
    )
    assert prog.plan("pl_c", cascade=False).groups == [["pl_c"]]
    assert prog.reads == []
    # A module that does not cascade is neither planned nor traversed.
    assert prog.plan("pl_c", cascades=lambda n: n != "pl_d1").groups == [["pl_c"]]
    # A module that cannot be reloaded is skipped, its own dependents still run.
    assert prog.plan("pl_c", no_reload=lambda n: n == "pl_d1").groups == [["pl_c"], ["pl_d2"]]
    # A frozen target does not run again; its dependents do.
    assert prog.plan("pl_c", frozen={"pl_c"}).groups == [["pl_d1"], ["pl_d2"]]


def test_a_deleted_dependent_stays_as_it_is(tmp_path: Path) -> None:
    prog = Program(tmp_path, {"pl_src": "V = 1\n", "pl_gone": "import pl_src\n"})

    def read(name: str, path: str) -> bytes:
        if name == "pl_gone":
            raise FileNotFoundError(path)
        return Path(path).read_bytes()

    assert prog.plan("pl_src", read=read).groups == [["pl_src"]]


def test_an_import_cycle_is_one_group(tmp_path: Path) -> None:
    prog = Program(
        tmp_path,
        {
            "pl_ring_b": "import pl_ring_a\n",
            "pl_ring_a": "import pl_ring_b\n",
            "pl_user": "import pl_ring_a\n",
        },
    )
    prog.save("pl_ring_a", "import pl_ring_b\nA = 2\n")
    groups = prog.plan("pl_ring_a").groups
    assert len(groups) == 2
    assert sorted(groups[0]) == ["pl_ring_a", "pl_ring_b"]
    assert groups[1] == ["pl_user"]


def test_an_edit_that_closes_a_cycle_makes_one_group(tmp_path: Path) -> None:
    prog = Program(tmp_path, {"pl_x": "V = 1\n", "pl_y": "import pl_x\n"})
    prog.save("pl_x", "import pl_y\nV = 2\n")
    groups = prog.plan("pl_x").groups
    assert len(groups) == 1 and sorted(groups[0]) == ["pl_x", "pl_y"]


def test_a_cycle_runs_in_the_start_order_of_the_new_imports(tmp_path: Path) -> None:
    ring = {"pl_c2": "import pl_c1\n", "pl_c3": "import pl_c1\n"}
    prog = Program(tmp_path, {**ring, "pl_c1": "import pl_c2\nimport pl_c3\n"})
    assert prog.plan("pl_c1").groups == [["pl_c1", "pl_c2", "pl_c3"]]
    # The same edges, imported the other way round: a fresh import starts pl_c3 first.
    prog.save("pl_c1", "import pl_c3\nimport pl_c2\n")
    before = prog.state()
    assert prog.plan("pl_c1").groups == [["pl_c1", "pl_c3", "pl_c2"]]
    assert prog.state() == before


def test_an_unparsable_dependent_is_a_plan_error(tmp_path: Path) -> None:
    prog = Program(tmp_path, {"pl_ok": "V = 1\n", "pl_broken": "import pl_ok\n"})
    before = prog.state()
    prog.save("pl_ok", "import pl_new_dep\nV = 2\n")
    prog.save("pl_broken", "import pl_ok\ndef oops(:\n")
    with pytest.raises(PlanError) as caught:
        prog.plan("pl_ok")
    assert caught.value.module == "pl_broken"
    assert isinstance(caught.value.error, SyntaxError)
    assert caught.value.error.filename == str(tmp_path / "pl_broken.py")
    assert caught.value.error.lineno == 2
    assert prog.state() == before, "a failed plan leaves the graph as it was"


def test_an_unparsable_target_is_a_plan_error(tmp_path: Path) -> None:
    prog = Program(tmp_path, {"pl_t": "import os\n", "pl_u": "V = 1\n"})
    before = prog.state()
    prog.save("pl_u", "import pl_t\n")
    prog.save("pl_t", "V = = 2\n")
    with pytest.raises(PlanError) as caught:
        prog.plan("pl_u", "pl_t")
    assert caught.value.module == "pl_t"
    assert isinstance(caught.value.error, SyntaxError)
    assert prog.state() == before
