"""hotmod.watch(): real files, a real watchdog observer, reloads on save or at safe points."""

from __future__ import annotations

import pytest

from conftest import Project


def test_save_reloads_on_the_watcher_thread(project: Project) -> None:
    project.scenario("watcher_save_reloads_on_the_watcher_thread")
    out = project.run_driver()
    assert out.split() == ["True", "['m']", "2", "True"]


def test_atomic_save_is_one_reload(project: Project) -> None:
    project.scenario("watcher_atomic_save_is_one_reload")
    out = project.run_driver()
    assert out.split() == ["['m']", "atomic"]


def test_burst_of_saves_applies_the_final_content(project: Project) -> None:
    project.scenario("watcher_burst_of_saves_applies_the_final")
    out = project.run_driver()
    count, value = out.split()
    assert value == "19"
    assert int(count) <= 3  # 20 saves settle into one reload, two if the disk was slow


def test_identical_and_excluded_saves_do_not_reload(project: Project) -> None:
    project.scenario("watcher_identical_and_excluded_saves_do_not")
    out = project.run_driver()
    assert out.split() == ["['marker']", "1", "2"]


def test_manual_mode_waits_for_apply(project: Project) -> None:
    project.scenario("watcher_manual_mode_waits_for_apply")
    out = project.run_driver()
    assert out.split() == ["1", "True", "True", "2", "None"]


def test_reloadable_call_is_a_safe_point(project: Project) -> None:
    project.scenario("watcher_reloadable_call_is_a_safe_point")
    out = project.run_driver()
    assert out.splitlines() == ["step1 astep1 area1", "step2 astep2 area2"]


def test_worker_thread_never_sees_a_half_reloaded_module(project: Project) -> None:
    project.scenario("watcher_worker_thread_never_sees_a_half")
    out = project.run_driver()
    assert out.split() == ["0", "50"]


def test_modules_imported_after_watch_starts_are_tracked(project: Project) -> None:
    project.scenario("watcher_modules_imported_after_watch_starts")
    out = project.run_driver()
    assert out.split() == ["['late']", "edited"]


def test_failing_callback_and_deleted_file_do_not_stop_watching(project: Project) -> None:
    project.scenario("watcher_failing_callback_and_deleted_file_do")
    out = project.run_driver()
    assert out.splitlines() == ["['m']", "['m'] 3 1", "['n'] back", "True 3"]


def test_new_module_imported_by_an_edit(project: Project) -> None:
    project.scenario("watcher_new_module_imported_by_an_edit")
    out = project.run_driver()
    assert out.split() == ["True", "new", "module", "True"]


def test_watcher_context_manager_and_second_call(project: Project) -> None:
    (project.root / "sub").mkdir()
    project.scenario("watcher_watcher_context_manager_and_second")
    out = project.run_driver()
    assert out.split() == ["True", "True", "1", "False"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("debounce", "debounce must be >= 0"),
        ("apply", "apply must be"),
        ("backend", "backend"),
        ("folder", "no such file or folder"),
    ],
)
def test_bad_options_are_rejected(project: Project, call: str, message: str) -> None:
    project.scenario("watcher_bad_options_are_rejected")
    out = project.run_driver(env=project.env(CALL=call))
    assert out.startswith("ValueError:") and message in out


def test_default_paths_never_include_hotmods_own_folder(project: Project) -> None:
    project.scenario("watcher_default_paths_never_include_hotmods")
    out = project.run_driver()
    assert out.split() == ["True", "False"]


def test_two_saves_10ms_apart_never_run_a_half_written_file(project: Project) -> None:
    # Once, 2-6 of 57 reloads ran the second save's still-empty file.
    project.scenario("watcher_two_saves_10ms_apart_never_run_a")
    out = project.run_driver()
    count, bad = out.split(" ", 1)
    assert int(count) >= 40
    assert bad.strip() == "[]"


# A save of leaf.py re-runs dep.py while an editor has written only half of it.
DEPENDENT_BEING_WRITTEN = {
    # dep.py was re-run before: the reload runs its last complete text, and its own
    # save applies once it is closed.
    "driver.py": ["True ['dep', 'leaf'] 4", "True ['dep', 'leaf'] 6 3", "True ['dep'] 103 60"],
    # No complete text of dep.py is known yet: it keeps running as it is (its
    # from-import rebound) until its own save re-runs it.
    "driver_first.py": ["True ['leaf'] 4 2", "True ['dep'] 102 40"],
    # A tool merely holds dep.py open for writing, writing nothing: re-run as usual.
    "driver_held.py": ["True ['dep', 'leaf'] 4"],
}


@pytest.mark.parametrize("backend", ["watchdog", "polling"])
@pytest.mark.parametrize("driver", list(DEPENDENT_BEING_WRITTEN))
def test_a_dependent_being_written_is_never_read_half(
    project: Project, backend: str, driver: str
) -> None:
    project.scenario("watcher_a_dependent_being_written_is_not_read")
    out = project.run_driver(driver, args=[backend])
    assert out.splitlines() == DEPENDENT_BEING_WRITTEN[driver]


def test_edits_through_a_symlinked_folder_apply(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shared = tmp_path_factory.mktemp("shared")
    (shared / "helpers.py").write_text("X = 1\n")
    (project.root / "lib").symlink_to(shared, target_is_directory=True)
    project.scenario("watcher_edits_through_a_symlinked_folder")
    out = project.run_driver()
    assert out.split() == ["True", "2"]


def test_edits_through_a_symlinked_module_file_apply(project: Project) -> None:
    project.scenario("watcher_edits_through_a_symlinked_module_file")
    out = project.run_driver()
    assert out.split() == ["True", "['m']", "2"]


def test_a_broken_file_restored_to_its_running_text_is_never_run(project: Project) -> None:
    project.scenario("watcher_a_broken_file_restored_is_not_run")
    out = project.run_driver()
    assert out.splitlines()[-5:] == [
        "(False, [])",
        "None",
        "(True, ['a', 'b']) a1 b2",
        "(False, []) a1 b2",
        "(True, ['a', 'b']) a1 b3",
    ]
