"""``%load_ext hotmod`` in a real IPython ``InteractiveShell``, edits saved between cells."""

from __future__ import annotations

import pytest

from conftest import Project

pytest.importorskip("IPython")


def reload_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("hotmod: reloaded")]


def test_function_edit_is_seen_by_the_next_cell(project: Project) -> None:
    project.scenario("ipython_function_edit_is_seen_by_the_next")
    out = project.run_driver()
    assert "result: new" in out
    assert len(reload_lines(out)) == 1, out


def test_class_edit_updates_a_live_instance(project: Project) -> None:
    project.scenario("ipython_class_edit_updates_a_live_instance")
    out = project.run_driver()
    assert "result: HI ann" in out


def test_from_import_constant_rebound_own_equal_int_left_alone(project: Project) -> None:
    project.scenario("ipython_from_import_constant_rebound_own")
    out = project.run_driver()
    assert "result: (4, 4, 4, 3, 4)" in out
    assert "2 rebound" in reload_lines(out)[0], out


def test_dependent_value_imported_in_a_cell_is_rebound(project: Project) -> None:
    project.scenario("ipython_dependent_value_imported_in_a_cell")
    out = project.run_driver()
    assert "m: 1 dependents, in reload order:\n  app" in out
    assert "result: 20" in out
    assert "reloaded m (+1 dependents" in reload_lines(out)[0], out


def test_syntax_error_prints_a_short_error_then_the_fix_applies(project: Project) -> None:
    project.scenario("ipython_syntax_error_prints_a_short_error")
    out = project.run_driver()
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
    project.scenario("ipython_failing_import_is_rolled_back")
    out = project.run_driver()
    assert "result: ('old', 3, 3, 'old')" in out
    error = out[out.index("hotmod: reload failed") : out.index("result:")]
    assert 'm.py", line 4, in <module>' in error
    assert "RuntimeError: boom" in error
    assert reload_lines(out) == []


def test_magics_status_pause_resume(project: Project) -> None:
    project.scenario("ipython_magics_status_pause_resume")
    out = project.run_driver()
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
    project.scenario("ipython_no_scan_of_loaded_modules_per_cell")
    out = project.run_driver()
    assert "calls: []" in out
    assert "result: (4, 4) ['sync']" in out


def test_imports_run_before_loading_are_learned_from_history(project: Project) -> None:
    project.scenario("ipython_imports_run_before_loading_are")
    out = project.run_driver()
    assert "result: 4" in out


def test_unload_unregisters_events_and_stops_its_watcher(project: Project) -> None:
    project.scenario("ipython_unload_unregisters_events_and_stops")
    out = project.run_driver()
    assert "callbacks: 1" in out
    assert "watcher: None" in out
    assert "magic: False" in out
    assert "reloaded: 4" in out


def test_namespace_that_is_no_module_is_rebound_after_commit_only(project: Project) -> None:
    # An embedding-like shell: user_ns is not the namespace of a module in sys.modules.
    project.scenario("ipython_namespace_that_is_no_module_is")
    out = project.run_driver()
    assert "failed: (3, 3, 'old', 3)" in out
    assert "fixed: (4, 3, 'new', 4)" in out


def test_module_imported_from_another_folder_is_watched(project: Project) -> None:
    project.scenario("ipython_module_imported_from_another_folder")
    out = project.run_driver()
    assert "result: new" in out
