"""hotmod.watch(): real files, a real watchdog observer, reloads on save or at safe points."""

from __future__ import annotations

import pytest

from conftest import Project

# Each child script starts with this: a watcher whose reports land in a queue.
PRELUDE = """
import os, queue, sys, threading, hotmod
reports = queue.Queue()
def next_report(timeout=10):
    return reports.get(timeout=timeout)
def save(path, text):
    with open(path, "w") as f:
        f.write(text)
"""


def run(project: Project, body: str, **files: str) -> str:
    project.write({f"{name}.py": text for name, text in files.items()})
    return project.run_script(body, prelude=PRELUDE)


def test_save_reloads_on_the_watcher_thread(project: Project) -> None:
    out = run(
        project,
        """
        import m
        w = hotmod.watch(".", on_reload=reports.put)
        save("m.py", "X = 2\\n")
        r = next_report()
        print(r.ok, r.changed, m.X, w is hotmod.watch())
        w.stop()
        """,
        m="X = 1\n",
    )
    assert out.split() == ["True", "['m']", "2", "True"]


def test_atomic_save_is_one_reload(project: Project) -> None:
    out = run(
        project,
        """
        import m
        w = hotmod.watch(".", on_reload=reports.put)
        save("m.py.tmp1234", "X = 'atomic'\\n")
        os.replace("m.py.tmp1234", "m.py")
        r = next_report()
        print(r.changed, m.X)
        w.stop()
        """,
        m="X = 1\n",
    )
    assert out.split() == ["['m']", "atomic"]


def test_burst_of_saves_applies_the_final_content(project: Project) -> None:
    out = run(
        project,
        """
        import m
        w = hotmod.watch(".", on_reload=reports.put, debounce=0.3)
        for i in range(20):
            save("m.py", f"X = {i}\\n")
        seen = [next_report()]
        while m.X != 19:
            seen.append(next_report())
        print(len(seen), m.X)
        w.stop()
        """,
        m="X = -1\n",
    )
    count, value = out.split()
    assert value == "19"
    assert int(count) <= 3  # 20 saves settle into one reload, two if the disk was slow


def test_identical_and_excluded_saves_do_not_reload(project: Project) -> None:
    out = run(
        project,
        """
        import m, marker
        w = hotmod.watch(".", on_reload=reports.put)
        save("m.py", "X = 1\\n")            # identical content
        save(".m.py.swp", "junk")           # editor swap file
        save("m.py~", "X = 'backup'\\n")    # backup file
        save("4913", "")                    # vim's probe file
        save("marker.py", "Y = 2\\n")
        r = next_report()
        print(r.changed, m.X, marker.Y)
        w.stop()
        """,
        m="X = 1\n",
        marker="Y = 1\n",
    )
    assert out.split() == ["['marker']", "1", "2"]


def test_manual_mode_waits_for_apply(project: Project) -> None:
    out = run(
        project,
        """
        import m
        w = hotmod.watch(".", apply="manual", on_reload=reports.put)
        save("m.py", "X = 2\\n")
        done = threading.Event()
        while not w.pending:
            done.wait(0.01)
        print(m.X, reports.empty())
        r = hotmod.apply()
        print(r.ok, m.X, hotmod.apply())
        w.stop()
        """,
        m="X = 1\n",
    )
    assert out.split() == ["1", "True", "True", "2", "None"]


def test_reloadable_call_is_a_safe_point(project: Project) -> None:
    out = run(
        project,
        """
        import asyncio, m
        w = hotmod.watch(".", apply="manual")
        shape = m.Shape()
        print(m.step(), asyncio.run(m.astep()), shape.area())
        save("m.py", m.SOURCE.replace("1", "2"))
        while not w.pending:
            threading.Event().wait(0.01)
        print(m.step(), asyncio.run(m.astep()), shape.area())
        w.stop()
        """,
        m="""
import hotmod
SOURCE = open(__file__).read()

@hotmod.reloadable
def step():
    return "step1"

@hotmod.reloadable
async def astep():
    return "astep1"

class Shape:
    @hotmod.reloadable
    def area(self):
        return "area1"
""",
    )
    assert out.splitlines() == ["step1 astep1 area1", "step2 astep2 area2"]


def test_worker_thread_never_sees_a_half_reloaded_module(project: Project) -> None:
    out = run(
        project,
        """
        import m
        template = open("m.py").read()
        errors = []
        stop = threading.Event()
        def worker():
            while not stop.is_set():
                try:
                    m.compute()
                except Exception as exc:
                    errors.append(repr(exc))
        t = threading.Thread(target=worker, daemon=True)
        t.start()
        w = hotmod.watch(".", on_reload=reports.put, debounce=0)
        for i in range(1, 51):
            save("m.py", template.replace("VERSION = 0", f"VERSION = {i}"))
            r = next_report()
            assert r.ok, r
        stop.set()
        t.join()
        w.stop()
        print(len(errors), m.compute())
        """,
        m="""
VERSION = 0

def helper(x):
    return x + VERSION

def compute():
    return helper(0)
""",
    )
    assert out.split() == ["0", "50"]


def test_modules_imported_after_watch_starts_are_tracked(project: Project) -> None:
    out = run(
        project,
        """
        w = hotmod.watch(".", on_reload=reports.put)
        import late
        save("late.py", "X = 'edited'\\n")
        r = next_report()
        print(r.changed, late.X)
        w.stop()
        """,
        late="X = 'original'\n",
    )
    assert out.split() == ["['late']", "edited"]


def test_failing_callback_and_deleted_file_do_not_stop_watching(project: Project) -> None:
    out = run(
        project,
        """
        import logging, m, n
        logged = []  # the watcher thread logs; only the main thread prints
        class Collect(logging.Handler):
            def emit(self, record):
                logged.append(record.getMessage() + str(record.exc_info and record.exc_info[1]))
        logging.getLogger("hotmod").addHandler(Collect(logging.ERROR))
        def callback(report):
            reports.put(report)
            raise RuntimeError("callback failed")
        w = hotmod.watch(".", on_reload=callback)
        save("m.py", "X = 2\\n")
        print(next_report().changed)
        os.remove("n.py")
        save("m.py", "X = 3\\n")
        print(next_report().changed, m.X, n.Y)
        save("n.py", "Y = 'back'\\n")
        print(next_report().changed, n.Y)
        w.stop()
        print(all("raised; watching goes on" in m and "callback failed" in m for m in logged),
              len(logged))
        """,
        m="X = 1\n",
        n="Y = 1\n",
    )
    assert out.splitlines() == ["['m']", "['m'] 3 1", "['n'] back", "True 3"]


def test_new_module_imported_by_an_edit(project: Project) -> None:
    out = run(
        project,
        """
        import m
        w = hotmod.watch(".", on_reload=reports.put)
        save("fresh.py", "VALUE = 'new module'\\n")
        save("m.py", "from fresh import VALUE\\nX = VALUE\\n")
        r = next_report()
        while m.X != "new module":
            r = next_report()
        print(r.ok, m.X, "fresh" in sys.modules)
        w.stop()
        """,
        m="X = 1\n",
    )
    assert out.split() == ["True", "new", "module", "True"]


def test_watcher_context_manager_and_second_call(project: Project) -> None:
    (project.root / "sub").mkdir()
    out = run(
        project,
        """
        with hotmod.watch(".") as w:
            again = hotmod.watch("sub")
            print(again is w, w.running, len(w.paths))
        print(w.running)
        """,
    )
    assert out.split() == ["True", "True", "1", "False"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("hotmod.watch('.', debounce=-1)", "debounce must be >= 0"),
        ("hotmod.watch('.', apply='later')", "apply must be"),
        ("hotmod.watch('.', backend='magic')", "backend"),
        ("hotmod.watch('no/such/folder')", "no such file or folder"),
    ],
)
def test_bad_options_are_rejected(project: Project, call: str, message: str) -> None:
    out = run(
        project,
        f"""
        try:
            {call}
        except ValueError as exc:
            print("ValueError:", exc)
        """,
    )
    assert out.startswith("ValueError:") and message in out


def test_default_paths_never_include_hotmods_own_folder(project: Project) -> None:
    out = run(
        project,
        """
        import json, m
        w = hotmod.watch()
        here = os.path.dirname(os.path.realpath(hotmod.__file__))
        print(os.path.realpath(".") in w.paths, any(p.startswith(here) for p in w.paths))
        w.stop()
        """,
        m="X = 1\n",
    )
    assert out.split() == ["True", "False"]


def test_two_saves_10ms_apart_never_run_a_half_written_file(project: Project) -> None:
    # Once, 2-6 of 57 reloads ran the second save's still-empty file.
    out = run(
        project,
        """
        import m
        seen = []
        def check(report):
            seen.append((report.ok, getattr(m, "X", None)))
        w = hotmod.watch(".", on_reload=check)
        w.add_callback(reports.put)
        pause = threading.Event()
        for i in range(1, 41):
            save("m.py", f"X = {2 * i - 1}\\n" + "# pad\\n" * 200)
            pause.wait(0.01)
            save("m.py", f"X = {2 * i}\\n" + "# pad\\n" * 200)
            while m.X != 2 * i:
                next_report()
        w.stop()
        print(len(seen), [s for s in seen if not s[0] or s[1] is None])
        """,
        m="X = 0\n",
    )
    count, bad = out.split(" ", 1)
    assert int(count) >= 40
    assert bad.strip() == "[]"


def test_edits_through_a_symlinked_folder_apply(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shared = tmp_path_factory.mktemp("shared")
    (shared / "helpers.py").write_text("X = 1\n")
    (project.root / "lib").symlink_to(shared, target_is_directory=True)
    out = run(
        project,
        """
        sys.path.insert(0, "lib")
        import helpers
        w = hotmod.watch(".", on_reload=reports.put)
        save("lib/helpers.py", "X = 2\\n")
        r = next_report()
        print(r.ok, helpers.X)
        w.stop()
        """,
    )
    assert out.split() == ["True", "2"]
