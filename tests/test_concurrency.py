"""Never hung: reloads hold no global import lock (SPEC section 4, "Never hung").

Each scenario runs in a fresh interpreter with a timeout: a deadlock fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import signal
import time

from conftest import Project


def test_module_body_may_wait_on_a_thread_that_imports(project: Project) -> None:
    project.scenario("concurrency_module_body_may_wait_on_a_thread")
    out = project.run_driver(timeout=30)
    assert out.split() == ["True", "2"], out


def test_other_threads_import_while_a_reload_runs(project: Project) -> None:
    project.scenario("concurrency_other_threads_import_while_a_reload")
    out = project.run_driver(timeout=30)
    assert out.split() == ["True", "2"], out


def test_importing_thread_and_reload_need_each_other(project: Project) -> None:
    project.scenario("concurrency_importing_thread_and_reload_need")
    out = project.run_driver(timeout=30)
    assert out.split() == ["True", "2", "False"], out


def test_threads_calling_in_during_reloads_see_names_and_kept_classes(project: Project) -> None:
    project.scenario("concurrency_threads_calling_in_during_reloads")
    out = project.run_driver(timeout=30)
    assert out.strip() == "[] True True", out


def test_ctrl_c_during_a_reload_rolls_back(project: Project) -> None:
    project.scenario("concurrency_ctrl_c_during_a_reload_rolls_back")
    out = project.run_driver(timeout=30)
    assert out.split() == ["interrupted", "1"], out


def test_ctrl_c_ends_hotmod_run_during_a_reload(project: Project) -> None:
    project.scenario("concurrency_ctrl_c_under_hotmod_run")
    child = project.spawn("-m", "hotmod", "run", "main.py", merge_stderr=True)
    child.wait_for("^ready$")
    # the reload's module body never ends: Ctrl-C must still end the program
    project.edit("busy.py")
    deadline = time.monotonic() + 20
    while not (project.root / "started").exists():
        assert time.monotonic() < deadline, "the reload never started"
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=20) != 0
