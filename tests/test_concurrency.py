"""Never hung: reloads hold no global import lock (SPEC section 4, "Never hung").

Each scenario runs in a fresh interpreter with a timeout: a deadlock fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import signal
import time

from conftest import EDIT_PRELUDE, Project


def run(project: Project, script: str) -> str:
    return project.run_script(script, prelude=EDIT_PRELUDE, timeout=30)


def test_module_body_may_wait_on_a_thread_that_imports(project: Project) -> None:
    project.write({"job.py": "V = 1\n"})
    out = run(
        project,
        """
        import job
        w("job.py", '''
            import concurrent.futures, datetime
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                # strptime imports _strptime lazily in the worker thread
                V = pool.submit(lambda: datetime.datetime.strptime("2", "%d").day).result(10)
        ''')
        report = hotmod.reload("job")
        print(report.ok, job.V)
        """,
    )
    assert out.split() == ["True", "2"], out


def test_other_threads_import_while_a_reload_runs(project: Project) -> None:
    project.write({"slow.py": "V = 1\n", "other.py": "X = 1\n"})
    out = run(
        project,
        """
        import threading, slow
        imported = threading.Event()
        builtins.IMPORTED = imported

        def first_import():
            import other  # a first import, unrelated to the reload
            imported.set()

        w("slow.py", '''
            import builtins, threading
            t = threading.Thread(target=builtins.FIRST_IMPORT)
            t.start()
            # the reload waits for another thread's first import: no global lock held
            assert builtins.IMPORTED.wait(10), "the other thread could not import"
            t.join(10)
            V = 2
        ''')
        builtins.FIRST_IMPORT = first_import
        report = hotmod.reload("slow")
        print(report.ok, slow.V)
        """,
    )
    assert out.split() == ["True", "2"], out


def test_importing_thread_and_reload_need_each_other(project: Project) -> None:
    project.write(
        {
            "app.py": "V = 1\n",
            "helper.py": """
                import builtins
                builtins.HELPER_STARTED.set()
                assert builtins.RELOAD_RUNNING.wait(10)
                import json.decoder  # imports again while the reload runs
                H = 1
            """,
        }
    )
    out = run(
        project,
        """
        import threading, app
        builtins.HELPER_STARTED = threading.Event()
        builtins.RELOAD_RUNNING = threading.Event()
        t = threading.Thread(target=lambda: __import__("helper"))
        t.start()
        assert builtins.HELPER_STARTED.wait(10)
        w("app.py", '''
            import builtins
            builtins.RELOAD_RUNNING.set()
            import helper  # the other thread is still importing it
            V = helper.H + 1
        ''')
        report = hotmod.reload("app")
        t.join(10)
        print(report.ok, app.V, t.is_alive())
        """,
    )
    assert out.split() == ["True", "2", "False"], out


def test_threads_calling_in_during_reloads_see_names_and_kept_classes(project: Project) -> None:
    project.write(
        {
            "shapes.py": """
                import time
                class Shape:
                    def area(self):
                        return 0
                def make():
                    return Shape()
                V = 0
            """
        }
    )
    out = run(
        project,
        """
        import threading, time, shapes
        stop = threading.Event()
        made, errors = [], []

        def caller():
            while not stop.is_set():
                try:
                    made.append(shapes.make())
                    shapes.V
                except Exception as exc:
                    errors.append(repr(exc))
                del made[:-50]
                time.sleep(0.0005)

        threads = [threading.Thread(target=caller) for _ in range(16)]
        for t in threads:
            t.start()
        for version in range(1, 201):
            w("shapes.py", open("shapes.py").read().replace(
                f"V = {version - 1}", f"V = {version}"))
            assert hotmod.reload("shapes").ok
        stop.set()
        for t in threads:
            t.join(10)
        print(errors[:3], len(made) > 0, all(type(m) is shapes.Shape for m in made))
        """,
    )
    assert out.strip() == "[] True True", out


def test_ctrl_c_during_a_reload_rolls_back(project: Project) -> None:
    project.write({"busy.py": "V = 1\n"})
    out = run(
        project,
        """
        import _thread, threading, busy
        w("busy.py", '''
            import builtins, time
            V = 2
            builtins.STARTED.set()
            while True:
                time.sleep(0.01)
        ''')
        builtins.STARTED = threading.Event()
        threading.Thread(
            target=lambda: builtins.STARTED.wait(10) and _thread.interrupt_main()
        ).start()
        try:
            hotmod.reload("busy")
        except KeyboardInterrupt:
            print("interrupted", busy.V)
        """,
    )
    assert out.split() == ["interrupted", "1"], out


def test_ctrl_c_ends_hotmod_run_during_a_reload(project: Project) -> None:
    project.write(
        {
            "main.py": """
                import time
                import busy
                print("ready", flush=True)
                while True:
                    time.sleep(0.05)
            """,
            "busy.py": "V = 1\n",
        }
    )
    child = project.spawn("-m", "hotmod", "run", "main.py", merge_stderr=True)
    child.wait_for("^ready$")
    # the reload's module body never ends: Ctrl-C must still end the program
    (project.root / "busy.py").write_text(
        "import time\nopen('started', 'w').close()\nwhile True:\n    time.sleep(0.01)\n"
    )
    deadline = time.monotonic() + 20
    while not (project.root / "started").exists():
        assert time.monotonic() < deadline, "the reload never started"
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=20) != 0
