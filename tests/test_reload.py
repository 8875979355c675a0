"""reload(): the plan, its order, cascading, fresh-import equivalence and target resolution.

Every scenario runs in a fresh interpreter through the public API only.
"""

from __future__ import annotations

import os

import pytest

from conftest import EDIT_PRELUDE, Project

# Written into every child script: ``w(path, source)`` rewrites a file (source dedented)
# and ``LOG`` (in builtins) records which modules' top-level code ran, in order.
PRELUDE = EDIT_PRELUDE


def run(project: Project, script: str) -> str:
    return project.run_script(script, prelude=PRELUDE)


def logged(name: str) -> str:
    """A line for a module's source that records its execution in ``LOG``."""
    return f"LOG.append({name!r})\n"


# -- plan and order ----------------------------------------------------------------------


def test_diamond_runs_each_module_after_its_imports(project: Project) -> None:
    project.write(
        {
            "base.py": logged("base") + "N = 1\n",
            "left.py": logged("left") + "import base\nL = base.N + 10\n",
            "right.py": logged("right") + "from base import N\nR = N + 100\n",
            "top.py": logged("top") + "import left, right\nT = left.L + right.R\n",
            "bystander.py": logged("bystander") + "B = 5\n",
        }
    )
    out = run(
        project,
        """
        import top, bystander
        hotmod.dependents("base")  # hotmod records the source it saw first here
        LOG.clear()
        w("base.py", "LOG.append('base')\\nN = 2\\n")
        report = hotmod.reload("base")
        assert report.ok, report
        assert LOG == report.reloaded, (LOG, report.reloaded)
        assert report.reloaded[0] == "base" and report.reloaded[-1] == "top", report.reloaded
        assert set(report.reloaded) == {"base", "left", "right", "top"}, report.reloaded
        assert report.changed == ["base"], report.changed
        print(top.T)
        """,
    )
    assert out.split() == [str((2 + 10) + (2 + 100))]


def test_cascade_false_reexecutes_only_the_target(project: Project) -> None:
    project.write(
        {
            "a.py": "X = 1\n",
            "b.py": logged("b") + "from a import X\nimport a\nDOUBLE = a.X * 2\n",
        }
    )
    out = run(
        project,
        """
        import a, b
        LOG.clear()
        w("a.py", "X = 7\\n")
        report = hotmod.reload("a", cascade=False)
        assert report.ok and report.reloaded == ["a"], report
        assert LOG == [], LOG
        # b was not re-executed: its computed value is the old one, but the name it
        # took with `from a import X` is rebound (identity-based rebinding).
        print(b.DOUBLE, b.X, a.X)
        """,
    )
    assert out.split() == ["2", "7", "7"]


def test_unchanged_module_is_reexecuted_when_named(project: Project) -> None:
    project.write({"a.py": logged("a") + "X = 1\n", "b.py": logged("b") + "import a\n"})
    run(
        project,
        """
        import b
        LOG.clear()
        report = hotmod.reload("a")
        assert report.ok, report
        assert report.changed == [], report.changed
        assert report.reloaded == ["a", "b"], report.reloaded
        assert LOG == ["a", "b"], LOG
        """,
    )


def test_order_comes_from_the_new_sources(project: Project) -> None:
    # `late` starts importing `early` only in the edit: `early` must now run first.
    project.write(
        {
            "late.py": logged("late") + "V = 1\n",
            "early.py": logged("early") + "W = 1\n",
        }
    )
    out = run(
        project,
        """
        import late, early
        LOG.clear()
        w("late.py", "LOG.append('late')\\nfrom early import W\\nV = W + 1\\n")
        w("early.py", "LOG.append('early')\\nW = 10\\n")
        report = hotmod.reload("late", "early")
        assert report.ok, report
        assert LOG == ["early", "late"], LOG
        assert report.reloaded == ["early", "late"], report.reloaded
        print(late.V)
        """,
    )
    assert out.split() == ["11"]


def test_dependents_lists_transitive_importers_in_reload_order(project: Project) -> None:
    project.write(
        {
            "a.py": "A = 1\n",
            "b.py": "import a\n",
            "c.py": "import b\n",
            "d.py": "from c import *\nimport a\n",
            "e.py": "def f():\n    import a\n",  # a function-level import is no edge
            "other.py": "X = 1\n",
        }
    )
    out = run(
        project,
        """
        import d, e, other
        deps = hotmod.dependents("a")
        print(deps)
        assert deps == ["b", "c", "d"], deps
        assert hotmod.dependents(sys.modules["c"]) == ["d"]
        assert hotmod.dependents("d") == []
        assert hotmod.dependents("other") == []
        report = hotmod.reload("a")
        assert report.reloaded == ["a", *deps], report.reloaded
        """,
    )
    assert "['b', 'c', 'd']" in out


# -- fresh-import equivalence -------------------------------------------------------------


def test_namespace_matches_a_fresh_import(project: Project) -> None:
    project.write(
        {
            "m.py": '''
                """Old docstring."""
                import json
                GONE = 1
                x: int = 1
                def gone_func():
                    return 1
                class Gone:
                    pass
                KEEP = [1]
            ''',
        }
    )
    run(
        project,
        """
        import m
        w("m.py", '''
            KEEP = [1, 2]
            NEW = "new"
            def added():
                return 2
        ''')
        report = hotmod.reload(m)
        assert report.ok, report
        for name in ("GONE", "gone_func", "Gone", "json", "x"):
            assert not hasattr(m, name), name
        assert m.__doc__ is None
        assert "__annotations__" not in vars(m) or vars(m)["__annotations__"] == {}
        assert m.KEEP == [1, 2] and m.NEW == "new" and m.added() == 2
        public = sorted(k for k in vars(m) if not k.startswith("__"))
        assert public == ["KEEP", "NEW", "added"], public
        """,
    )


def test_names_set_by_other_code_are_dropped_only_when_the_source_bound_them(
    project: Project,
) -> None:
    # A name the source binds (and no longer does) is gone; an attribute another module
    # set on it from outside is not the module's own and a fresh import would not have
    # it either: we accept either behaviour for it, but the removed own name must go.
    project.write({"m.py": "A = 1\nB = 2\n"})
    run(
        project,
        """
        import m
        w("m.py", "A = 1\\n")
        assert hotmod.reload("m").ok
        assert not hasattr(m, "B")
        assert m.A == 1
        """,
    )


def test_package_reexports_follow_a_submodule_edit(project: Project) -> None:
    project.write(
        {
            "pkg/__init__.py": logged("pkg")
            + "from .models import Model, NAME\nfrom . import util\n",
            "pkg/models.py": logged("pkg.models")
            + "from pkg.util import helper\nNAME = helper('old')\nclass Model:\n    kind = NAME\n",
            "pkg/util.py": logged("pkg.util") + "def helper(s):\n    return s.upper()\n",
            "pkg/extra.py": "E = 1\n",
            "app.py": "import pkg\nfrom pkg import NAME\n",
        }
    )
    out = run(
        project,
        """
        import app, pkg, pkg.extra
        LOG.clear()
        w("pkg/util.py", "LOG.append('pkg.util')\\ndef helper(s):\\n    return s + '!'\\n")
        report = hotmod.reload("pkg.util")
        assert report.ok, report
        assert LOG == ["pkg.util", "pkg.models", "pkg"], LOG
        assert report.reloaded[-1] == "app", report.reloaded
        assert pkg.extra.E == 1 and pkg.util is sys.modules["pkg.util"]
        print(pkg.NAME, pkg.Model.kind, app.NAME)
        """,
    )
    assert out.split() == ["old!", "old!", "old!"]


def test_reexecuted_init_keeps_submodule_attributes(project: Project) -> None:
    project.write(
        {
            "pkg/__init__.py": "VERSION = 1\n",
            "pkg/sub.py": "S = 1\n",
            "pkg/deep/__init__.py": "",
            "pkg/deep/leaf.py": "L = 1\n",
        }
    )
    run(
        project,
        """
        import pkg.sub, pkg.deep.leaf
        w("pkg/__init__.py", "VERSION = 2\\n")
        report = hotmod.reload("pkg")
        assert report.ok, report
        assert pkg.VERSION == 2
        assert pkg.sub is sys.modules["pkg.sub"]
        assert pkg.deep is sys.modules["pkg.deep"]
        assert pkg.deep.leaf.L == 1
        """,
    )


def test_relative_imports(project: Project) -> None:
    project.write(
        {
            "pkg/__init__.py": "",
            "pkg/core.py": "BASE = 1\n",
            "pkg/sub/__init__.py": "from .. import core\nfrom ..core import BASE\n",
            "pkg/sub/mod.py": """
                from . import helpers
                from .helpers import H
                from ..core import BASE
                TOTAL = BASE + H
            """,
            "pkg/sub/helpers.py": "from ..core import BASE\nH = BASE * 10\n",
        }
    )
    out = run(
        project,
        """
        import pkg.sub.mod as mod
        import pkg.sub
        w("pkg/core.py", "BASE = 2\\n")
        report = hotmod.reload("pkg.core")
        assert report.ok, report
        expected = {"pkg.core", "pkg.sub", "pkg.sub.helpers", "pkg.sub.mod"}
        assert set(report.reloaded) == expected, report.reloaded
        r = report.reloaded
        assert r.index("pkg.sub.helpers") < r.index("pkg.sub.mod"), r
        print(mod.TOTAL, pkg.sub.BASE, pkg.sub.core.BASE)
        """,
    )
    assert out.split() == ["22", "2", "2"]


def test_init_reexporting_submodules_that_import_through_the_package(project: Project) -> None:
    project.write(
        {
            "pkg/__init__.py": logged("pkg") + "from .x import X\nfrom .y import Y\n",
            "pkg/x.py": logged("pkg.x") + "X = 1\n",
            "pkg/y.py": logged("pkg.y") + "from pkg import x\nfrom pkg.x import X\nY = X + x.X\n",
        }
    )
    out = run(
        project,
        """
        import pkg
        LOG.clear()
        w("pkg/x.py", "LOG.append('pkg.x')\\nX = 5\\n")
        report = hotmod.reload("pkg.x")
        assert report.ok, report
        assert LOG == ["pkg.x", "pkg.y", "pkg"], LOG
        print(pkg.X, pkg.Y)
        """,
    )
    assert out.split() == ["5", "10"]


def test_cycle_reexecuted_in_start_order(project: Project) -> None:
    # Fresh import: `first` starts, imports `second`, which imports `first` (partial).
    # Start order first, second; finish order (sys.modules) second, first.
    project.write(
        {
            "first.py": logged("first")
            + "import second\nA = 1\ndef total():\n    return A + second.B\n",
            "second.py": logged("second")
            + "import first\nB = 10\ndef get_a():\n    return first.A\n",
            "user.py": logged("user") + "from first import total\nT = total()\n",
        }
    )
    out = run(
        project,
        """
        import user
        start = list(LOG)
        assert start == ["user", "first", "second"], start
        LOG.clear()
        w("second.py", '''
            LOG.append('second')
            import first
            B = 20
            def get_a():
                return first.A * 2
        ''')
        report = hotmod.reload("second")
        assert report.ok, report
        assert LOG == ["first", "second", "user"], LOG
        import first, second
        print(user.T, second.get_a(), first.total())
        """,
    )
    assert out.split() == ["21", "2", "21"]


def test_cycle_through_from_imports_of_functions(project: Project) -> None:
    project.write(
        {
            "ping.py": """
                def ping(n):
                    from pong import pong
                    return 'ping' if n <= 0 else pong(n - 1)
                import pong
            """,
            "pong.py": """
                from ping import ping
                def pong(n):
                    return 'pong' if n <= 0 else ping(n - 1)
            """,
        }
    )
    out = run(
        project,
        """
        import ping, pong
        f = ping.ping
        w("pong.py", open("pong.py").read().replace("'pong'", "'PONG'"))
        report = hotmod.reload("pong")
        assert report.ok, report
        assert set(report.reloaded) == {"ping", "pong"}, report.reloaded
        print(f(1), pong.ping is ping.ping)
        """,
    )
    assert out.split() == ["PONG", "True"]


def test_new_module_created_and_imported_by_an_edit(project: Project) -> None:
    project.write({"a.py": "X = 1\n", "b.py": "from a import X\n"})
    out = run(
        project,
        """
        import a, b
        w("fresh.py", "F = 40\\n")
        w("a.py", "from fresh import F\\nX = F + 2\\n")
        report = hotmod.reload("a")
        assert report.ok, report
        assert "fresh" in sys.modules
        print(a.X, b.X)
        # the new module is now known to the graph: editing it cascades to a and b
        w("fresh.py", "F = 100\\n")
        report = hotmod.reload("fresh")
        assert report.ok, report
        assert report.reloaded == ["fresh", "a", "b"], report.reloaded
        print(a.X, b.X)
        """,
    )
    assert out.split() == ["42", "42", "102", "102"]


def test_main_is_not_reexecuted_as_a_dependent(project: Project) -> None:
    project.write(
        {
            "lib.py": "def greet():\n    return 'hello'\nVALUE = 1\n",
            "main.py": """
                import builtins, os, hotmod
                builtins.MAIN_RUNS = getattr(builtins, "MAIN_RUNS", 0) + 1
                from lib import greet, VALUE
                with open("lib.py", "w") as f:
                    f.write("def greet():\\n    return 'bonjour'\\nVALUE = 2\\n")
                report = hotmod.reload("lib")
                assert report.ok, report
                assert "__main__" not in report.reloaded, report.reloaded
                assert hotmod.dependents("lib") == [], hotmod.dependents("lib")
                print(builtins.MAIN_RUNS, greet(), VALUE)
            """,
        }
    )
    out = project.run_script("import runpy\nrunpy.run_path('main.py', run_name='__main__')\n")
    assert out.split() == ["1", "bonjour", "2"]


# -- targets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("json", "standard library"),
        ("watchdog", "site-packages"),
        ("no_such_module_anywhere", "no module"),
    ],
)
def test_reload_refuses_unreloadable_targets(project: Project, target: str, why: str) -> None:
    out = run(
        project,
        f"""
        import json, watchdog
        try:
            hotmod.reload({target!r})
        except ValueError as exc:
            print("ValueError:", exc)
        else:
            raise SystemExit("no ValueError")
        """,
    )
    assert out.startswith("ValueError:") and target in out and why in out, out


def test_reload_refuses_an_unknown_file(project: Project) -> None:
    project.write({"stray.py": "X = 1\n"})
    out = run(
        project,
        """
        try:
            hotmod.reload("stray.py")
        except ValueError as exc:
            print("ValueError:", exc)
        """,
    )
    assert out.startswith("ValueError:") and "stray.py" in out


def test_file_path_targets(project: Project) -> None:
    project.write(
        {
            "pkg/__init__.py": "",
            "pkg/mod.py": "V = 1\n",
            "pkg/user.py": "from pkg.mod import V\n",
        }
    )
    out = run(
        project,
        """
        import pathlib
        import pkg.user
        mod = sys.modules["pkg.mod"]
        for i, target in enumerate(
            ["pkg/mod.py", pathlib.Path("pkg/mod.py"), os.path.abspath("pkg/mod.py"),
             os.path.join("pkg", "..", "pkg", "mod.py")], start=2):
            w("pkg/mod.py", f"V = {i}\\n")
            report = hotmod.reload(target)
            assert report.ok, report
            assert report.reloaded == ["pkg.mod", "pkg.user"], report.reloaded
            print(mod.V, pkg.user.V)
        """,
    )
    assert out.split() == ["2", "2", "3", "3", "4", "4", "5", "5"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_folder(project: Project) -> None:
    project.write(
        {
            "real/lib.py": "X = 1\n",
            "real/user.py": "from lib import X\n",
        }
    )
    os.symlink(project.root / "real", project.root / "link", target_is_directory=True)
    out = run(
        project,
        """
        sys.path.insert(0, os.path.abspath("link"))
        import user, lib
        assert "link" in lib.__file__
        # edit through the symlink, reload by the symlinked path
        w("link/lib.py", "X = 2\\n")
        report = hotmod.reload("link/lib.py")
        assert report.ok and report.reloaded == ["lib", "user"], report
        print(lib.X, user.X)
        # edit the real file, reload by the real path
        w("real/lib.py", "X = 3\\n")
        report = hotmod.reload(os.path.abspath("real/lib.py"))
        assert report.ok and report.reloaded == ["lib", "user"], report
        print(lib.X, user.X)
        """,
    )
    assert out.split() == ["2", "2", "3", "3"]


def test_module_object_and_several_targets(project: Project) -> None:
    project.write({"a.py": "A = 1\n", "b.py": "B = 1\n", "c.py": "import a, b\nC = a.A + b.B\n"})
    out = run(
        project,
        """
        import a, b, c
        hotmod.dependents(a)  # hotmod records the sources it saw first here
        w("a.py", "A = 10\\n")
        w("b.py", "B = 20\\n")
        report = hotmod.reload(a, "b")
        assert report.ok, report
        assert sorted(report.changed) == ["a", "b"], report.changed
        assert report.reloaded[-1] == "c" and report.reloaded.count("c") == 1, report.reloaded
        print(c.C)
        """,
    )
    assert out.split() == ["30"]


def test_edit_before_the_first_hotmod_call_is_reported_as_changed(project: Project) -> None:
    project.write({"a.py": "A = 1\n"})
    run(
        project,
        """
        import a
        w("a.py", "A = 2\\n")
        report = hotmod.reload("a")
        assert report.ok and a.A == 2, report
        assert report.changed == ["a"], report.changed
        """,
    )


def test_report_summary_line(project: Project) -> None:
    project.write({"a.py": "def f():\n    return 1\n", "b.py": "from a import f\nX = 1\n"})
    out = run(
        project,
        """
        import b
        w("a.py", "def f():\\n    return 2\\n")
        report = hotmod.reload("a")
        print(str(report))
        assert report.patched >= 1 and report.duration > 0, report
        """,
    )
    assert out.startswith("reloaded a (+1 dependents,"), out
    assert "patched" in out and out.rstrip().endswith("ms"), out


def test_cycle_created_by_an_edit_starts_where_a_fresh_import_starts(project: Project) -> None:
    project.write({"pkg/__init__.py": "X = 1\n", "pkg/m0.py": "V = 1\n", "lib.py": "L = 1\n"})
    out = run(
        project,
        """
        import pkg.m0, lib
        hotmod.dependents("lib")
        # now pkg imports lib, which imports pkg.m0: a fresh import starts pkg, then lib
        w("pkg/__init__.py", "import lib\\nX = lib.L\\n")
        w("lib.py", "import pkg.m0\\nL = 2\\n")
        report = hotmod.reload("pkg", "lib")
        assert report.ok, report
        print(pkg.X, lib.L)
        """,
    )
    assert out.split() == ["2", "2"]


def test_cycle_through_a_package_starts_with_the_package(project: Project) -> None:
    project.write(
        {
            "pkg/__init__.py": "X = 1\n",
            "pkg/a.py": "import lib\nA = lib.L\n",
            "pkg/b.py": "B = 1\n",
            "lib.py": "import pkg.b\nL = pkg.b.B + 1\n",
        }
    )
    out = run(
        project,
        """
        import pkg.a
        hotmod.dependents("lib")
        w("pkg/__init__.py", "from .a import A\\nX = A\\n")
        w("pkg/b.py", "B = 10\\n")
        report = hotmod.reload("pkg", "pkg.b")
        assert report.ok, report
        print(pkg.X, pkg.a.A)
        """,
    )
    assert out.split() == ["11", "11"]


def test_cycle_member_imported_by_another_runs_to_completion_first(project: Project) -> None:
    # Found by the differential test: re-executing a cycle member by member read stale
    # values. In a fresh import, `a`'s `import b` runs all of `b` before `A = b.B + 1`.
    project.write(
        {
            "a.py": logged("a") + "import b\nA = b.B + 1\n",
            "b.py": logged("b") + "import a\nB = 10\ndef get_a():\n    return a.A\n",
        }
    )
    out = run(
        project,
        """
        import a, b
        mod_a, mod_b = a, b
        hotmod.dependents("b")
        LOG.clear()
        w("b.py", "LOG.append('b')\\nimport a\\nB = 20\\ndef get_a():\\n    return a.A\\n")
        report = hotmod.reload("b")
        assert report.ok, report
        assert LOG == ["a", "b"], LOG  # a started first, as in a fresh import
        assert sys.modules["a"] is mod_a and sys.modules["b"] is mod_b
        assert list(sys.modules).index("a") > list(sys.modules).index("b")
        print(a.A, b.get_a())
        """,
    )
    assert out.split() == ["21", "21"]


def test_cycle_member_from_imports_the_kept_objects(project: Project) -> None:
    # Found by the differential test: `b`, run while `a` is mid-way, took the new twin of
    # a function that `a` then kept (old object patched): b.f was not a.f any more.
    project.write(
        {
            "a.py": "def f():\n    return 'old'\nclass K:\n    pass\nimport b\n",
            "b.py": "from a import f, K\nimport a\n",
        }
    )
    run(
        project,
        """
        import a, b
        f, K = a.f, a.K
        w("a.py", "def f():\\n    return 'new'\\nclass K:\\n    x = 1\\nimport b\\n")
        report = hotmod.reload("a")
        assert report.ok and set(report.reloaded) == {"a", "b"}, report
        assert a.f is f and b.f is f and b.K is K and f() == "new" and K.x == 1
        """,
    )


def test_module_imported_again_under_the_same_name_is_tracked_anew(project: Project) -> None:
    project.write({"one/mod.py": "X = 'one'\n", "two/mod.py": "X = 'two'\n"})
    out = run(
        project,
        """
        sys.path.insert(0, "one")
        import mod
        hotmod.dependents("mod")  # hotmod has now seen one/mod.py as "mod"
        del sys.modules["mod"]
        sys.path[0] = "two"
        import mod
        w("two/mod.py", "X = 'two, edited'\\n")
        report = hotmod.reload("two/mod.py")
        print(report.ok, report.changed, mod.X)
        """,
    )
    assert out.strip() == "True ['mod'] two, edited"


def test_namespace_package_modules_reload(project: Project) -> None:
    project.write(
        {
            "ns/models.py": "SIZE = 1\n",
            "ns/views.py": "from . import models\nfrom .models import SIZE\nDOUBLE = SIZE * 2\n",
        }
    )
    out = run(
        project,
        """
        import ns.views
        assert not hasattr(ns, "__file__") or ns.__file__ is None  # a namespace package
        w("ns/models.py", "SIZE = 5\\n")
        report = hotmod.reload("ns.models")
        print(report.ok, report.reloaded, ns.views.DOUBLE, ns.views.SIZE)
        """,
    )
    assert out.strip() == "True ['ns.models', 'ns.views'] 10 5"
