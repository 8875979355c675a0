"""The transaction: compile first, roll everything back on failure; hooks, state, output.

Every scenario runs in a fresh interpreter through the public API only.
"""

from __future__ import annotations

import gc
import importlib
import re
import time
from pathlib import Path

import pytest

from conftest import Project


def test_syntax_error_in_the_target_executes_nothing(project: Project) -> None:
    project.scenario("transaction_syntax_error_in_the_target_executes")
    out = project.run_driver()
    assert out.startswith("ReloadError:") and "kept the previous code" in out


def test_syntax_error_in_a_dependent_executes_nothing(project: Project) -> None:
    project.scenario("transaction_syntax_error_in_a_dependent_executes")
    project.run_driver()


def test_undecodable_bytes(project: Project) -> None:
    project.scenario("transaction_undecodable_bytes")
    project.run_driver()


def test_exception_in_a_dependent_after_the_target_ran_rolls_everything_back(
    project: Project,
) -> None:
    project.scenario("transaction_exception_in_a_dependent_after_the")
    project.run_driver()


def test_deleted_target_file_fails_and_keeps_the_module(project: Project) -> None:
    project.scenario("transaction_deleted_target_file_fails_and_keeps")
    project.run_driver()


def test_unload_hook_runs_after_compile_and_before_reexecution(project: Project) -> None:
    project.scenario("transaction_unload_hook_runs_after_compile_and")
    project.run_driver()


def test_failing_unload_hook_rolls_back(project: Project) -> None:
    project.scenario("transaction_failing_unload_hook_rolls_back")
    project.run_driver()


def test_keep_returns_the_previous_object(project: Project) -> None:
    project.scenario("transaction_keep_returns_the_previous_object")
    project.run_driver()


def test_keep_refuses_a_name_other_than_the_global_it_is_assigned_to(project: Project) -> None:
    # ``ITEMS = hotmod.keep("items", list)`` found no global "items" on a reload and made
    # a new list every time: the program's state was lost without a word.
    project.scenario("transaction_keep_checks_the_name_it_is_given")
    out = project.run_driver()
    assert out.splitlines() == [
        "hotmod.keep('items', ...) is assigned to 'ITEMS': keep finds the object by the"
        " name it is assigned to; write ITEMS = hotmod.keep('ITEMS', ...)",
        "hotmod.keep('other', ...) is assigned to 'OTHER': keep finds the object by the"
        " name it is assigned to; write OTHER = hotmod.keep('OTHER', ...)",
    ]


def test_module_marked_not_reloadable(project: Project) -> None:
    project.scenario("transaction_module_marked_not_reloadable")
    project.run_driver()


def test_info_line_format(project: Project) -> None:
    project.scenario("transaction_info_line_format")
    out = project.run_driver()
    line, counts = out.splitlines()
    rebound, patched = counts.split()
    match = re.fullmatch(
        r"reloaded a \(\+2 dependents, (\d+) rebound, (\d+) patched\) in \d+\.\d ms", line
    )
    assert match, line
    assert match.groups() == (rebound, patched)
    assert int(patched) >= 2 and int(rebound) >= 1, line


def test_warning_for_a_syntax_error_shows_line_and_caret(project: Project) -> None:
    project.scenario("transaction_warning_for_a_syntax_error_shows")
    out = project.run_driver()
    assert "kept the previous code" in out, out
    assert re.search(r'File ".*a\.py", line \d+', out), out
    assert "SyntaxError" in out and "^" in out, out


def test_warning_for_an_exception_names_the_users_frame(project: Project) -> None:
    project.scenario("transaction_warning_for_an_exception_names_the")
    out = project.run_driver()
    assert "kept the previous code" in out, out
    # Lines of edits/v2/b.py: the division in helper(), the call at the top level.
    assert re.search(r'File ".*b\.py", line 5, in helper', out), out
    assert re.search(r'File ".*b\.py", line 8', out), out
    assert "ZeroDivisionError" in out, out
    assert "_reloader.py" not in out and "hotmod" + "/" not in out.replace("b.py", ""), out


def test_traceback_line_numbers_match_the_new_source(project: Project) -> None:
    project.scenario("transaction_traceback_line_numbers_match_the_new")
    out = project.run_driver()
    # Lines 9 and 13 of edits/v2/m.py: where() returns its own line, fail() raises.
    assert out.split() == ["9", "13", "raise", 'ValueError("x")']


def test_same_size_edit_within_the_same_second_is_not_stale(project: Project) -> None:
    project.scenario("transaction_same_size_edit_within_the_same")
    out = project.run_driver()
    assert out.split() == ["2", "b"]


def test_rollback_of_a_package_init_keeps_submodules(project: Project) -> None:
    project.scenario("transaction_rollback_of_a_package_init_keeps")
    project.run_driver()


def test_failure_inside_a_cycle_restores_sys_modules(project: Project) -> None:
    project.scenario("transaction_failure_inside_a_cycle_restores_sys")
    project.run_driver()


def test_the_collector_pauses_for_a_reload_and_resumes_whatever_happens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Paused from the plan on, until the listeners have the report; resumed
    # after a failure too; left off when the program had turned it off.
    import hotmod
    from hotmod._runtime import get_reloader

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "gcmod.py").write_text("X = 1\n")
    importlib.import_module("gcmod")
    seen: list[bool] = []
    get_reloader().listeners.append(lambda report: seen.append(gc.isenabled()))
    for source, ok in (("X = 2\n", True), ("X = (\n", False), ("raise RuntimeError\n", False)):
        (tmp_path / "gcmod.py").write_text(source)
        assert hotmod.reload("gcmod").ok is ok
        assert gc.isenabled()
    assert seen == [False, False, False]  # (planning too: a SyntaxError is found there)
    gc.disable()
    try:
        (tmp_path / "gcmod.py").write_text("X = 3\n")
        assert hotmod.reload("gcmod").ok
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_resumes_after_reloads_that_overlap_in_two_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reload begun while another has the collector paused waits for the lock, then
    # runs; the collector must be on once both are done, not left off by the second.
    import threading

    import hotmod
    from hotmod._runtime import state

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "gcgate.py").write_text("import threading\nOPEN = threading.Event()\n")
    (tmp_path / "gcslow.py").write_text("X = 1\n")
    (tmp_path / "gcfast.py").write_text("Y = 1\n")
    gate = importlib.import_module("gcgate").OPEN
    importlib.import_module("gcslow")
    importlib.import_module("gcfast")
    (tmp_path / "gcslow.py").write_text("import gcgate\nassert gcgate.OPEN.wait(30)\nX = 2\n")
    (tmp_path / "gcfast.py").write_text("Y = 2\n")
    results: list[bool] = []
    slow = threading.Thread(target=lambda: results.append(hotmod.reload("gcslow").ok))
    fast = threading.Thread(target=lambda: results.append(hotmod.reload("gcfast").ok))
    slow.start()
    deadline = time.monotonic() + 30
    while state.reloads < 1 or gc.isenabled():  # the slow one is running module code
        assert time.monotonic() < deadline
        time.sleep(0.001)
    fast.start()
    while state.reloads < 2:  # the fast one has begun and waits for the lock
        assert time.monotonic() < deadline
        time.sleep(0.001)
    gate.set()
    slow.join(30)
    fast.join(30)
    assert results == [True, True]
    assert gc.isenabled()
