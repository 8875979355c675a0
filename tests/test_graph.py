"""The static import graph: parsing imports, resolving edges, dependents and order."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotmod._graph import ImportGraph, ImportRef, parse_imports


def parse(source: str, module: str = "m", *, is_package: bool = False) -> list[ImportRef]:
    return parse_imports(textwrap.dedent(source), module=module, is_package=is_package)


def kinds(source: str) -> list[tuple[str, str]]:
    return [(r.module, r.kind) for r in parse(source)]


def build(sources: dict[str, str]) -> ImportGraph:
    """A graph of the given modules; a name that prefixes another one is a package."""
    graph = ImportGraph()
    for name, source in sources.items():
        is_package = any(other.startswith(name + ".") for other in sources)
        graph.set_imports(name, parse(source, name, is_package=is_package))
    return graph


def top(module: str, *names: str, lineno: int = 1) -> ImportRef:
    return ImportRef(module, tuple((n, n) for n in names), None, lineno, "top")


# --- parse_imports -------------------------------------------------------------------


def test_module_level_statements_run_at_import() -> None:
    source = """
        import a
        if x:
            import b
        else:
            import c
        try:
            import d
        except ImportError:
            import e
        finally:
            import f
        with ctx():
            import g
        for _ in y:
            import h
        while z:
            import i
        match v:
            case 1:
                import j
        class K:
            import k
            class Inner:
                from l import x
    """
    assert kinds(source) == [(n, "top") for n in "abcdefghijkl"]


def test_imports_in_function_bodies_run_later() -> None:
    source = """
        def f():
            import a
            class C:
                import b
        async def g():
            from c import x
        class K:
            def method(self):
                if x:
                    import d
        if TYPE_CHECKING:
            def h():
                import e
    """
    assert kinds(source) == [(n, "function") for n in "abcde"]


def test_type_checking_guard_but_not_its_else_branch() -> None:
    source = """
        import typing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import a
        else:
            import b
        if typing.TYPE_CHECKING:
            from c import C
        if not TYPE_CHECKING:
            import d
        else:
            import e
        if CHECKING:
            import f
    """
    assert kinds(source) == [
        ("typing", "top"),
        ("typing", "top"),
        ("a", "type_checking"),
        ("b", "top"),
        ("c", "type_checking"),
        ("d", "top"),
        ("e", "type_checking"),
        ("f", "top"),
    ]


def test_names_aliases_and_star() -> None:
    refs = parse("""
        import a.b.c
        import a.b as ab, os
        from x import y, z as w
        from q import *
    """)
    assert refs == [
        ImportRef("a.b.c", (), None, 2, "top"),
        ImportRef("a.b", (), "ab", 3, "top"),
        ImportRef("os", (), None, 3, "top"),
        ImportRef("x", (("y", "y"), ("z", "w")), None, 4, "top"),
        ImportRef("q", (("*", "*"),), None, 5, "top"),
    ]


@pytest.mark.parametrize(
    ("module", "is_package", "statement", "expected"),
    [
        ("p", True, "from . import x", ("p", (("x", "x"),))),
        ("p", True, "from .a import x", ("p.a", (("x", "x"),))),
        ("p.m", False, "from .sub import y", ("p.sub", (("y", "y"),))),
        ("p.m", False, "from . import y", ("p", (("y", "y"),))),
        ("p.q.m", False, "from .. import z", ("p", (("z", "z"),))),
        ("p.q.m", False, "from ..r import z", ("p.r", (("z", "z"),))),
        ("p.q", True, "from .. import z", ("p", (("z", "z"),))),
        ("p.q", True, "from .m import *", ("p.q.m", (("*", "*"),))),
    ],
)
def test_relative_imports_resolve(
    module: str, is_package: bool, statement: str, expected: tuple[str, object]
) -> None:
    (ref,) = parse(statement, module, is_package=is_package)
    assert (ref.module, ref.names) == expected


@pytest.mark.parametrize(
    ("module", "is_package", "statement"),
    [
        ("m", False, "from . import x"),
        ("p.m", False, "from .. import x"),
        ("p", True, "from .. import x"),
        ("p.q.m", False, "from ...x import y"),
    ],
)
def test_relative_import_beyond_top_level_is_skipped(
    module: str, is_package: bool, statement: str
) -> None:
    assert parse(statement + "\nimport ok", module, is_package=is_package) == [
        ImportRef("ok", (), None, 2, "top")
    ]


def test_future_imports_are_dropped() -> None:
    assert parse("from __future__ import annotations\nimport a") == [
        ImportRef("a", (), None, 2, "top")
    ]


def test_bytes_source_is_accepted() -> None:
    source = b"# -*- coding: latin-1 -*-\ns = '\xe9'\nimport a\n"
    assert [r.module for r in parse_imports(source, module="m", is_package=False)] == ["a"]


def test_syntax_error_propagates_with_location() -> None:
    with pytest.raises(SyntaxError) as info:
        parse_imports("import a\n\ndef f(:\n", module="m", is_package=False, filename="m.py")
    assert (info.value.filename, info.value.lineno) == ("m.py", 3)


# --- edges ---------------------------------------------------------------------------


def test_import_depends_on_the_module_and_its_known_parents() -> None:
    graph = build({"m": "import a.b.c", "a": "", "a.b.c": ""})
    assert graph.imports("m") == {"a", "a.b.c"}  # a.b is unknown
    assert graph.importers("a") == {"m"}


def test_parents_that_enclose_the_importer_are_not_dependencies() -> None:
    graph = build({"a": "", "a.x": "import a.b.c", "a.b": "", "a.b.c": ""})
    assert graph.imports("a.x") == {"a.b", "a.b.c"}


def test_from_import_of_a_submodule_or_of_a_name() -> None:
    sources = {"a": "", "a.n": "", "m": "from a import n, other", "k": "from a import other"}
    graph = build(sources)
    assert graph.imports("m") == {"a", "a.n"}
    assert graph.imports("k") == {"a"}


def test_from_own_package_depends_on_it_only_for_a_name() -> None:
    graph = build(
        {
            "pkg": "",
            "pkg.b": "",
            "pkg.sub": "from pkg import b",
            "pkg.name": "from pkg import helper",
            "pkg.rel": "from . import b, helper",
            "pkg.star": "from pkg import *",
        }
    )
    assert graph.imports("pkg.sub") == {"pkg.b"}
    assert graph.imports("pkg.name") == {"pkg"}
    assert graph.imports("pkg.rel") == {"pkg", "pkg.b"}
    assert graph.imports("pkg.star") == {"pkg"}


def test_self_import_is_not_an_edge() -> None:
    graph = build({"pkg": "from pkg import x\nimport pkg", "pkg.x": ""})
    assert graph.imports("pkg") == {"pkg.x"}


def test_only_top_level_imports_are_edges() -> None:
    source = "def f():\n    import a\nif TYPE_CHECKING:\n    import b\n"
    graph = build({"m": source, "a": "", "b": ""})
    assert graph.imports("m") == set()
    assert graph.importers("a") == set()
    assert [r.kind for r in graph.refs("m")] == ["function", "type_checking"]


def test_module_known_later_resolves_earlier_imports() -> None:
    graph = build({"a": "", "m": "from a import n", "a.in_pkg": "from a import n"})
    assert graph.imports("m") == {"a"}
    assert graph.imports("a.in_pkg") == {"a"}
    graph.set_imports("a.n", [])
    assert graph.imports("m") == {"a", "a.n"}
    assert graph.imports("a.in_pkg") == {"a.n"}  # n is a submodule, not a name of a
    assert graph.importers("a.n") == {"m", "a.in_pkg"}
    assert graph.importers("a") == {"m"}


def test_discard_removes_edges_both_ways() -> None:
    graph = build({"a": "", "a.n": "", "m": "from a import n", "k": "import m"})
    graph.discard("a.n")
    assert "a.n" not in graph
    assert graph.imports("m") == {"a"}
    assert graph.importers("a.n") == set()
    graph.discard("m")
    assert graph.importers("a") == set()
    assert graph.imports("k") == set()
    assert graph.refs("m") == ()
    graph.discard("never-known")
    assert len(graph) == 2


def test_replacing_imports_replaces_edges() -> None:
    graph = build({"a": "", "b": "", "m": "import a"})
    graph.set_imports("m", parse("import b"))
    assert graph.imports("m") == {"b"}
    assert graph.importers("a") == set()
    assert graph.importers("b") == {"m"}


def test_container_protocol() -> None:
    graph = build({"a": "", "b": "import a"})
    assert "a" in graph
    assert "c" not in graph
    assert len(graph) == 2
    assert sorted(graph) == ["a", "b"]
    assert list(graph.refs("b")) == [ImportRef("a", (), None, 1, "top")]
    assert graph.refs("c") == ()


# --- dependents ----------------------------------------------------------------------


def test_dependents_are_transitive_importers_without_the_targets() -> None:
    graph = build({"a": "", "b": "import a", "c": "import b", "d": "import c", "x": ""})
    assert graph.dependents({"a"}) == {"b", "c", "d"}
    assert graph.dependents({"a", "c"}) == {"b", "d"}
    assert graph.dependents({"x"}) == set()
    assert graph.dependents({"unknown"}) == set()


def test_include_stops_the_traversal() -> None:
    graph = build({"a": "", "b": "import a", "c": "import b", "d": "import a\nimport c"})
    assert graph.dependents({"a"}, include=lambda m: m != "b") == {"d"}
    assert graph.dependents({"a"}, include=lambda m: m != "c") == {"b", "d"}


def test_function_level_imports_do_not_cascade() -> None:
    graph = build({"a": "", "b": "def f():\n    import a\n", "c": "import b"})
    assert graph.dependents({"a"}) == set()


# --- order ---------------------------------------------------------------------------


def flat(groups: list[list[str]]) -> list[str]:
    return [m for g in groups for m in g]


def test_order_chain() -> None:
    graph = build({"c": "import b", "b": "import a", "a": ""})
    assert graph.order(["c", "a", "b"]) == [["a"], ["b"], ["c"]]


def test_order_diamond_ties_follow_finish_order() -> None:
    graph = build({"a": "", "b": "import a", "c": "import a", "d": "import b, c"})
    assert flat(graph.order("abcd", finish_order=["a", "b", "c", "d"])) == ["a", "b", "c", "d"]
    assert flat(graph.order("abcd", finish_order=["a", "c", "b", "d"])) == ["a", "c", "b", "d"]
    unrelated = ["os", "a", "c", "json", "b", "d", "re"]
    assert flat(graph.order("abcd", finish_order=unrelated)) == ["a", "c", "b", "d"]
    assert flat(graph.order("abcd", finish_order=["a", "b", "os", "c", "d"])) == list("abcd")
    assert flat(graph.order("abcd")) == ["a", "b", "c", "d"]  # by name


def test_order_ties_put_absent_modules_last_by_name() -> None:
    graph = build({n: "" for n in "abcd"})
    assert flat(graph.order("abcd", finish_order=["d", "b"])) == ["d", "b", "a", "c"]


def test_order_ties_follow_finish_order_even_when_it_disagrees_with_edges() -> None:
    # a finished before its import x (x came from a function-level import elsewhere).
    graph = build({"a": "import x", "x": "", "b": ""})
    assert flat(graph.order("abx", finish_order=["a", "b", "x"])) == ["b", "x", "a"]
    assert flat(graph.order("ab", finish_order=["a", "b", "x"])) == ["a", "b"]


def test_the_running_script_finishes_last_though_listed_first() -> None:
    # sys.modules lists __main__ before what it imports; it is still running.
    graph = build({"__main__": "import a", "a": "", "b": ""})
    finished = ["__main__", "a", "b"]
    assert flat(graph.order(["__main__", "a", "b"], finish_order=finished)) == [
        "a",
        "b",
        "__main__",
    ]
    assert graph._layout_for(finished).groups is not None  # the cached whole-graph order


def test_order_of_a_subset_ignores_modules_outside_it() -> None:
    graph = build({"a": "", "b": "import a", "c": "import b"})
    assert graph.order(["c", "a"], finish_order=["c", "b", "a"]) == [["c"], ["a"]]


def test_order_includes_modules_unknown_to_the_graph() -> None:
    graph = build({"a": "", "b": "import a"})
    assert graph.order(["b", "new", "a"], finish_order=["a", "b"]) == [["a"], ["b"], ["new"]]


def test_cycle_group_runs_in_start_order() -> None:
    # main imports a; a starts, sets X, imports b; b reads X from the partial a.
    graph = build(
        {"a": "X = 1\nimport b\ndef f(): ...\n", "b": "from a import X", "main": "import a"}
    )
    finished = ["b", "a", "main"]
    assert graph.order(["a", "b", "main"], finish_order=finished) == [["a", "b"], ["main"]]


def test_cycle_group_start_order_is_not_reversed_finish_order() -> None:
    # a starts, then b (finishes), then c (finishes), then a finishes.
    graph = build({"a": "import b\nimport c\n", "b": "import a", "c": "import a"})
    assert graph.order("abc", finish_order=["b", "c", "a"]) == [["a", "b", "c"]]
    # Started from b (the last to finish), the same cycle runs b, a, c.
    assert graph.order("abc", finish_order=["a", "c", "b"]) == [["b", "a", "c"]]
    # Nothing finished: the first name enters.
    assert graph.order("cba") == [["a", "b", "c"]]


def test_cycle_group_ordered_among_other_modules() -> None:
    graph = build(
        {"base": "", "a": "import base\nimport b", "b": "import a", "top": "import b", "z": ""}
    )
    finished = ["base", "b", "a", "z", "top"]
    assert graph.order(["top", "a", "b", "base", "z"], finish_order=finished) == [
        ["base"],
        ["a", "b"],
        ["z"],
        ["top"],
    ]


def test_part_of_a_cycle_is_ordered_by_its_own_edges() -> None:
    graph = build({"a": "import b", "b": "import c", "c": "import a"})
    finished = ["c", "b", "a"]
    assert graph.order("abc", finish_order=finished) == [["a", "b", "c"]]
    assert graph.order("ab", finish_order=finished) == [["b"], ["a"]]


def test_part_of_a_cycle_with_unknown_modules() -> None:
    graph = build({"a": "import b", "b": "import c", "c": "import a"})
    finished = ["c", "b", "a"]
    assert graph.order(["a", "b", "new"], finish_order=finished) == [["b"], ["a"], ["new"]]


def test_cycle_start_order_starts_parent_packages_first() -> None:
    # m starts; `import pkg.sub` starts pkg (which imports the partial m), then pkg.sub.
    graph = build({"m": "import pkg.sub", "pkg": "import m", "pkg.sub": "import m"})
    finished = ["pkg", "pkg.sub", "m"]
    assert graph.order(["m", "pkg", "pkg.sub"], finish_order=finished) == [["m", "pkg", "pkg.sub"]]


@pytest.mark.parametrize(
    "import_b", ["from pkg.b import B2", "from pkg import b", "from . import b"]
)
def test_package_reexporting_its_submodules_is_not_a_cycle(import_b: str) -> None:
    graph = build(
        {
            "pkg": "from .a import A\nfrom .b import B\n",
            "pkg.a": f"{import_b}\nA = 1\n",
            "pkg.b": "B = B2 = 2\n",
        }
    )
    finished = ["pkg.b", "pkg.a", "pkg"]
    expected = [["pkg.b"], ["pkg.a"], ["pkg"]]
    assert graph.order(["pkg", "pkg.a", "pkg.b"], finish_order=finished) == expected
    assert graph.order(["pkg", "pkg.a", "pkg.b"]) == expected
    assert graph.dependents({"pkg.b"}) == {"pkg.a", "pkg"}


def test_order_follows_later_changes_to_imports() -> None:
    graph = build({"a": "", "b": "import a", "c": "import b"})
    finished = ["a", "b", "c"]
    assert graph.order("abc", finish_order=finished) == [["a"], ["b"], ["c"]]
    graph.set_imports("b", [])
    graph.set_imports("c", [top("a")])
    assert graph.order("abc", finish_order=finished) == [["a"], ["b"], ["c"]]
    graph.set_imports("a", [top("b")])  # against the finish order
    assert graph.order("abc", finish_order=finished) == [["b"], ["a"], ["c"]]
    graph.set_imports("a", [top("c")])  # a cycle, entered from c (finished last)
    assert graph.order("abc", finish_order=finished) == [["b"], ["c", "a"]]
    graph.set_imports("b", [top("c")])
    assert graph.order("abc", finish_order=finished) == [["c", "a"], ["b"]]
    graph.discard("c")
    assert graph.order("abc", finish_order=finished) == [["a"], ["b"], ["c"]]


def test_order_follows_a_changed_start_order_within_a_cycle() -> None:
    graph = build({"a": "import b\nimport c", "b": "import a", "c": "import a"})
    assert graph.order("abc", finish_order="bca") == [["a", "b", "c"]]
    graph.set_imports("a", parse("import c\nimport b"))
    assert graph.order("abc", finish_order="bca") == [["a", "c", "b"]]


# --- properties ----------------------------------------------------------------------


def naive_reach(edges: dict[str, set[str]], start: str) -> set[str]:
    """Modules reachable from start by following edges, start excluded unless cyclic."""
    out: set[str] = set()
    todo = list(edges[start])
    while todo:
        m = todo.pop()
        if m not in out:
            out.add(m)
            todo.extend(edges[m])
    return out


def naive_order(deps: dict[str, set[str]], nodes: set[str], finish: list[str]) -> list[str]:
    """Kahn's algorithm picking the ready module first in finish, then by name."""
    key = {m: (finish.index(m) if m in finish else len(finish), m) for m in nodes}
    done: list[str] = []
    while len(done) < len(nodes):
        ready = [m for m in nodes if m not in done and deps[m] & nodes <= set(done)]
        done.append(min(ready, key=key.__getitem__))
    return done


@st.composite
def dags(draw: st.DrawFn) -> tuple[dict[str, set[str]], list[str]]:
    n = draw(st.integers(1, 14))
    names = [f"m{i}" for i in range(n)]
    deps = {
        name: set(draw(st.lists(st.sampled_from(names[:i]), max_size=4))) if i else set()
        for i, name in enumerate(names)
    }
    if draw(st.booleans()):
        finish = naive_order(deps, set(names), [])  # a consistent finish order
    else:
        finish = draw(st.permutations(names))
    finish = finish[: draw(st.integers(0, n))]
    return deps, finish


@settings(max_examples=300, deadline=None)
@given(dags(), st.data())
def test_random_dags_order_and_dependents(
    dag: tuple[dict[str, set[str]], list[str]], data: st.DataObject
) -> None:
    deps, finish = dag
    graph = ImportGraph()
    for name, imported in deps.items():
        graph.set_imports(name, [top(m) for m in sorted(imported)])
    importers = {m: {k for k in deps if m in deps[k]} for m in deps}
    for name in deps:
        assert graph.imports(name) == deps[name]
        assert graph.dependents({name}) == naive_reach(importers, name)
    target = data.draw(st.sampled_from(sorted(deps)))
    closed = graph.dependents({target}) | {target}
    subset = set(data.draw(st.lists(st.sampled_from(sorted(deps)))))
    for nodes in (closed, subset, set(deps)):
        groups = graph.order(nodes, finish_order=finish)
        assert all(len(g) == 1 for g in groups)
        ordered = flat(groups)
        assert ordered == naive_order(deps, nodes, finish)
        for i, m in enumerate(ordered):
            assert deps[m] & nodes <= set(ordered[:i])


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 10).flatmap(lambda n: st.lists(st.tuples(*[st.integers(0, n - 1)] * 2))))
def test_random_graphs_group_exactly_the_cycles(pairs: list[tuple[int, int]]) -> None:
    names = sorted({f"m{i}" for pair in pairs for i in pair} | {"m0"})
    deps: dict[str, set[str]] = {m: set() for m in names}
    for a, b in pairs:
        if a != b:
            deps[f"m{a}"].add(f"m{b}")
    graph = ImportGraph()
    for name, imported in deps.items():
        graph.set_imports(name, [top(m) for m in sorted(imported)])
    reach = {m: naive_reach(deps, m) for m in names}
    groups = graph.order(names, finish_order=names)
    assert sorted(flat(groups)) == names
    seen: set[str] = set()
    for group in groups:
        for m in group:
            assert {k for k in names if k in reach[m] and m in reach[k]} | {m} == set(group)
            assert deps[m] - set(group) <= seen
        seen |= set(group)


@pytest.mark.parametrize("module", ["_bigsource", "_graph", "_reloader", "cli"])
def test_the_quick_tree_walks_see_every_node_but_expression_contexts(module: str) -> None:
    import ast
    from pathlib import Path

    import hotmod
    from hotmod._syntax import nested_statements, walk

    tree = ast.parse(Path(hotmod.__file__).with_name(f"{module}.py").read_bytes())
    every = [n for n in ast.walk(tree) if not isinstance(n, ast.expr_context)]
    assert sorted(map(id, walk(tree))) == sorted(map(id, every))
    for node in every:
        held = (ast.stmt, ast.excepthandler, ast.match_case)
        expected = [c for c in ast.iter_child_nodes(node) if isinstance(c, held)]
        if isinstance(node, (ast.stmt, ast.excepthandler, ast.match_case, ast.Module)):
            assert nested_statements(node) == expected
