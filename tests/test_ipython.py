"""``%load_ext hotmod`` in a real IPython ``InteractiveShell``, edits saved between cells."""

from __future__ import annotations

import textwrap

import pytest

from conftest import Project

pytest.importorskip("IPython")

# Each child script starts with this: a real shell, cells that raise on error, and an
# editor-like save that waits until the watcher holds the change (never a fixed sleep).
PRELUDE = """
import os, sys, tempfile, time
os.environ["IPYTHONDIR"] = tempfile.mkdtemp()
sys.stderr = sys.stdout
from traitlets.config import Config
from IPython.core.interactiveshell import InteractiveShell
from hotmod._watcher import current_watcher

config = Config()
config.HistoryManager.hist_file = ":memory:"
shell = InteractiveShell.instance(config=config)

def cell(source, **kwargs):
    result = shell.run_cell(textwrap.dedent(source), **kwargs)
    result.raise_error()
    return result.result

def save(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(textwrap.dedent(text))
    os.replace(path + ".tmp", path)
    deadline = time.monotonic() + 30
    while not current_watcher().pending:
        if time.monotonic() > deadline:
            raise AssertionError(f"the watcher never saw the save of {path}")
        time.sleep(0.002)
"""

M = """
LIMIT = 3
SIZE = 3
def f():
    return "old"
class Greeter:
    def __init__(self, name):
        self.name = name
    def hello(self):
        return "hello " + self.name
"""


def run(project: Project, body: str, **files: str) -> str:
    project.write({f"{name}.py": text for name, text in files.items()})
    return project.run_script("import textwrap\n" + PRELUDE + textwrap.dedent(body))


def reload_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("hotmod: reloaded")]


def test_function_edit_is_seen_by_the_next_cell(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        cell("from m import f")
        assert cell("f()") == "old"
        save("m.py", "def f():\\n    return 'new'\\n")
        print("result:", cell("f()"))
        assert cell("import m; m.f is f")
        """,
        m=M,
    )
    assert "result: new" in out
    assert len(reload_lines(out)) == 1, out


def test_class_edit_updates_a_live_instance(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        cell("from m import Greeter; import m; g = Greeter('ann')")
        save("m.py", open("m.py").read().replace('"hello "', '"HI "'))
        print("result:", cell("g.hello()"))
        assert cell("isinstance(g, Greeter) and isinstance(g, m.Greeter)")
        assert cell("Greeter('bo').hello()") == "HI bo"
        """,
        m=M,
    )
    assert "result: HI ann" in out


def test_from_import_constant_rebound_own_equal_int_left_alone(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        cell('''
            from m import LIMIT
            from m import LIMIT as cap
            import m
            SIZE = 3   # the user's own, equal to m.SIZE (the same small int object)
        ''')
        assert cell("SIZE is m.SIZE")
        save("m.py", open("m.py").read().replace("3", "4"))
        print("result:", cell("(LIMIT, cap, m.LIMIT, SIZE, m.SIZE)"))
        """,
        m=M,
    )
    assert "result: (4, 4, 4, 3, 4)" in out
    assert "2 rebound" in reload_lines(out)[0], out


def test_dependent_value_imported_in_a_cell_is_rebound(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        cell("from app import total")
        cell("%hotmod graph m")
        save("m.py", "LIMIT = 10\\n")
        print("result:", cell("total"))
        """,
        m="LIMIT = 3\n",
        app="from m import LIMIT\ntotal = LIMIT * 2\n",
    )
    assert "m: 1 dependents, in reload order:\n  app" in out
    assert "result: 20" in out
    assert "reloaded m (+1 dependents" in reload_lines(out)[0], out


def test_syntax_error_prints_a_short_error_then_the_fix_applies(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        cell("from m import f, LIMIT")
        save("m.py", "LIMIT = 4\\ndef f(:\\n    return 'new'\\n")
        print("broken:", cell("(f(), LIMIT)"))
        save("m.py", "LIMIT = 4\\ndef f():\\n    return 'new'\\n")
        print("fixed:", cell("(f(), LIMIT)"))
        """,
        m=M,
    )
    assert "broken: ('old', 3)" in out
    assert "fixed: ('new', 4)" in out
    error = out[out.index("hotmod: reload failed") : out.index("broken:")]
    assert "kept the previous code" in error
    assert 'm.py", line 2' in error
    assert "def f(:" in error
    assert "^" in error
    assert "SyntaxError" in error
    assert "Traceback" not in error
    assert len(error.splitlines()) <= 6, error


def test_failing_import_is_rolled_back(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        cell("from m import f, LIMIT; import m")
        save("m.py", "LIMIT = 4\\ndef f():\\n    return 'new'\\nraise RuntimeError('boom')\\n")
        print("result:", cell("(f(), LIMIT, m.LIMIT, m.f())"))
        """,
        m=M,
    )
    assert "result: ('old', 3, 3, 'old')" in out
    error = out[out.index("hotmod: reload failed") : out.index("result:")]
    assert 'm.py", line 4, in <module>' in error
    assert "RuntimeError: boom" in error
    assert reload_lines(out) == []


def test_magics_status_pause_resume(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        cell("from m import LIMIT")
        cell("%hotmod pause")
        save("m.py", "LIMIT = 4\\n")
        print("paused:", cell("LIMIT"))
        cell("%hotmod status")
        cell("%hotmod resume")
        print("resumed:", cell("LIMIT"))
        cell("%hotmod")
        cell("%hotmod bogus")
        """,
        m=M,
    )
    assert "paused: 3" in out
    assert "resumed: 4" in out
    first, second = out.split("resumed:")
    assert "hotmod: paused" in first
    assert f"pending changes: 1\n  {project.root.resolve() / 'm.py'}" in first
    assert str(project.root.resolve()) in first
    assert "pending changes: 0" in second
    assert "last reload: reloaded m" in second
    assert "usage: %hotmod" in second


def test_no_scan_of_loaded_modules_per_cell(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        cell("from m import LIMIT")
        from hotmod import _modmap, _watcher
        calls = []
        def counting(original):
            def wrapper(*args, **kwargs):
                calls.append(original.__name__)
                return original(*args, **kwargs)
            return wrapper
        _modmap.ModuleMap.sync = counting(_modmap.ModuleMap.sync)
        _watcher.default_paths = counting(_watcher.default_paths)
        for i in range(20):
            cell(f"x = {i}; from m import SIZE")
        print("calls:", calls)
        save("m.py", "LIMIT = 4\\nSIZE = 4\\n")
        print("result:", cell("(LIMIT, SIZE)"), calls)
        """,
        m=M,
    )
    assert "calls: []" in out
    assert "result: (4, 4) ['sync']" in out


def test_imports_run_before_loading_are_learned_from_history(project: Project) -> None:
    out = run(
        project,
        """
        cell("from m import LIMIT", store_history=True)
        cell("%load_ext hotmod", store_history=True)
        save("m.py", "LIMIT = 4\\n")
        print("result:", cell("LIMIT"))
        """,
        m=M,
    )
    assert "result: 4" in out


def test_unload_unregisters_events_and_stops_its_watcher(project: Project) -> None:
    out = run(
        project,
        """
        cell("%load_ext hotmod")
        pre = list(shell.events.callbacks["pre_run_cell"])
        cell("from m import LIMIT", store_history=True)
        cell("%unload_ext hotmod")
        print("callbacks:", len(pre) - len(shell.events.callbacks["pre_run_cell"]))
        print("watcher:", current_watcher())
        print("magic:", "hotmod" in shell.magics_manager.magics["line"])
        cell("%load_ext hotmod")
        save("m.py", "LIMIT = 4\\n")
        print("reloaded:", cell("LIMIT"))
        """,
        m=M,
    )
    assert "callbacks: 1" in out
    assert "watcher: None" in out
    assert "magic: False" in out
    assert "reloaded: 4" in out


def test_namespace_that_is_no_module_is_rebound_after_commit_only(project: Project) -> None:
    # An embedding-like shell: user_ns is not the namespace of a module in sys.modules.
    out = run(
        project,
        """
        import types
        shell.clear_instance()
        shell = InteractiveShell.instance(
            config=config, user_module=types.ModuleType("__main__"), user_ns={}
        )
        cell("%load_ext hotmod")
        cell("from m import LIMIT, f; import m; SIZE = 3")
        new = "LIMIT = 4\\nSIZE = 4\\ndef f():\\n    return 'new'\\n"
        save("m.py", new + "raise ValueError('no')\\n")
        print("failed:", cell("(LIMIT, SIZE, f(), m.LIMIT)"))
        save("m.py", new)
        print("fixed:", cell("(LIMIT, SIZE, f(), m.LIMIT)"))
        """,
        m=M,
    )
    assert "failed: (3, 3, 'old', 3)" in out
    assert "fixed: (4, 3, 'new', 4)" in out


def test_module_imported_from_another_folder_is_watched(project: Project) -> None:
    out = run(
        project,
        """
        far = tempfile.mkdtemp()
        with open(os.path.join(far, "faraway.py"), "w") as f:
            f.write("def f():\\n    return 'old'\\n")
        cell("%load_ext hotmod")
        cell(f"import sys; sys.path.append({far!r})")
        cell("import faraway")
        assert os.path.realpath(far) in current_watcher().paths
        save(os.path.join(far, "faraway.py"), "def f():\\n    return 'new'\\n")
        print("result:", cell("faraway.f()"))
        """,
    )
    assert "result: new" in out
