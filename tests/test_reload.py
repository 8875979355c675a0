"""reload(): the plan, its order, cascading, fresh-import equivalence and target resolution.

Every scenario runs in a fresh interpreter through the public API only.
"""

from __future__ import annotations

import os

import pytest

from conftest import Project

# Written into every child script: ``w(path, source)`` rewrites a file (source dedented)
# and ``LOG`` (in builtins) records which modules' top-level code ran, in order.
# -- plan and order ----------------------------------------------------------------------


def test_diamond_runs_each_module_after_its_imports(project: Project) -> None:
    project.scenario("reload_diamond_runs_each_module_after_its")
    out = project.run_driver()
    assert out.split() == [str((2 + 10) + (2 + 100))]


def test_cascade_false_reexecutes_only_the_target(project: Project) -> None:
    project.scenario("reload_cascade_false_reexecutes_only_the")
    out = project.run_driver()
    assert out.split() == ["2", "7", "7"]


def test_unchanged_module_is_reexecuted_when_named(project: Project) -> None:
    project.scenario("reload_unchanged_module_is_reexecuted_when")
    project.run_driver()


def test_order_comes_from_the_new_sources(project: Project) -> None:
    # `late` starts importing `early` only in the edit: `early` must now run first.
    project.scenario("reload_order_comes_from_the_new_sources")
    out = project.run_driver()
    assert out.split() == ["11"]


def test_dependents_lists_transitive_importers_in_reload_order(project: Project) -> None:
    project.scenario("reload_dependents_lists_transitive")
    out = project.run_driver()
    assert "['b', 'c', 'd']" in out


# -- fresh-import equivalence -------------------------------------------------------------


def test_namespace_matches_a_fresh_import(project: Project) -> None:
    project.scenario("reload_namespace_matches_a_fresh_import")
    project.run_driver()


def test_names_set_by_other_code_are_dropped_only_when_the_source_bound_them(
    project: Project,
) -> None:
    # A name the source binds (and no longer does) is gone; an attribute another module
    # set on it from outside is not the module's own and a fresh import would not have
    # it either: we accept either behaviour for it, but the removed own name must go.
    project.scenario("reload_names_set_by_other_code_are_dropped")
    project.run_driver()


def test_package_reexports_follow_a_submodule_edit(project: Project) -> None:
    project.scenario("reload_package_reexports_follow_a_submodule")
    out = project.run_driver()
    assert out.split() == ["old!", "old!", "old!"]


def test_reexecuted_init_keeps_submodule_attributes(project: Project) -> None:
    project.scenario("reload_reexecuted_init_keeps_submodule")
    project.run_driver()


def test_relative_imports(project: Project) -> None:
    project.scenario("reload_relative_imports")
    out = project.run_driver()
    assert out.split() == ["22", "2", "2"]


def test_init_reexporting_submodules_that_import_through_the_package(project: Project) -> None:
    project.scenario("reload_init_reexporting_submodules_that")
    out = project.run_driver()
    assert out.split() == ["5", "10"]


def test_cycle_reexecuted_in_start_order(project: Project) -> None:
    # Fresh import: `first` starts, imports `second`, which imports `first` (partial).
    # Start order first, second; finish order (sys.modules) second, first.
    project.scenario("reload_cycle_reexecuted_in_start_order")
    out = project.run_driver()
    assert out.split() == ["21", "2", "21"]


def test_cycle_through_from_imports_of_functions(project: Project) -> None:
    project.scenario("reload_cycle_through_from_imports_of")
    out = project.run_driver()
    assert out.split() == ["PONG", "True"]


def test_new_module_created_and_imported_by_an_edit(project: Project) -> None:
    project.scenario("reload_new_module_created_and_imported_by")
    out = project.run_driver()
    assert out.split() == ["42", "42", "102", "102"]


def test_main_is_not_reexecuted_as_a_dependent(project: Project) -> None:
    project.scenario("reload_main_is_not_reexecuted_as_a")
    out = project.run_script("import runpy\nrunpy.run_path('main.py', run_name='__main__')\n")
    assert out.split() == ["1", "bonjour", "2"]


def test_main_under_a_second_name_is_not_reexecuted(project: Project) -> None:
    project.scenario("reload_main_under_a_second_name_is_not")
    assert project.run_script("main.py").split() == ["1", "bonjour", "2"]


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
    project.scenario("reload_refuses_unreloadable_targets")
    out = project.run_driver(env=project.env(TARGET=target))
    assert out.startswith("ValueError:") and target in out and why in out, out


def test_reload_refuses_an_unknown_file(project: Project) -> None:
    project.scenario("reload_reload_refuses_an_unknown_file")
    out = project.run_driver()
    assert out.startswith("ValueError:") and "stray.py" in out


def test_file_path_targets(project: Project) -> None:
    project.scenario("reload_file_path_targets")
    out = project.run_driver()
    assert out.split() == ["2", "2", "3", "3", "4", "4", "5", "5"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_folder(project: Project) -> None:
    project.scenario("reload_symlinked_folder")
    os.symlink(project.root / "real", project.root / "link", target_is_directory=True)
    out = project.run_driver()
    assert out.split() == ["2", "2", "3", "3"]


def test_module_object_and_several_targets(project: Project) -> None:
    project.scenario("reload_module_object_and_several_targets")
    out = project.run_driver()
    assert out.split() == ["30"]


def test_edit_before_the_first_hotmod_call_is_reported_as_changed(project: Project) -> None:
    project.scenario("reload_edit_before_the_first_hotmod_call_is")
    project.run_driver()


def test_a_module_unreadable_when_first_seen_keeps_its_importers(project: Project) -> None:
    project.scenario("reload_a_module_unreadable_when_first_seen")
    project.run_driver()


def test_report_summary_line(project: Project) -> None:
    project.scenario("reload_report_summary_line")
    out = project.run_driver()
    assert out.startswith("reloaded a (+1 dependents,"), out
    assert "patched" in out and out.rstrip().endswith("ms"), out


def test_cycle_created_by_an_edit_starts_where_a_fresh_import_starts(project: Project) -> None:
    project.scenario("reload_cycle_created_by_an_edit_starts")
    out = project.run_driver()
    assert out.split() == ["2", "2"]


def test_cycle_through_a_package_starts_with_the_package(project: Project) -> None:
    project.scenario("reload_cycle_through_a_package_starts_with")
    out = project.run_driver()
    assert out.split() == ["11", "11"]


def test_cycle_member_imported_by_another_runs_to_completion_first(project: Project) -> None:
    # Found by the differential test: re-executing a cycle member by member read stale
    # values. In a fresh import, `a`'s `import b` runs all of `b` before `A = b.B + 1`.
    project.scenario("reload_cycle_member_imported_by_another")
    out = project.run_driver()
    assert out.split() == ["21", "21"]


def test_cycle_member_from_imports_the_kept_objects(project: Project) -> None:
    # Found by the differential test: `b`, run while `a` is mid-way, took the new twin of
    # a function that `a` then kept (old object patched): b.f was not a.f any more.
    project.scenario("reload_cycle_member_from_imports_the_kept")
    project.run_driver()


def test_module_imported_again_under_the_same_name_is_tracked_anew(project: Project) -> None:
    project.scenario("reload_module_imported_again_under_the_same")
    out = project.run_driver()
    assert out.strip() == "True ['mod'] two, edited"


def test_namespace_package_modules_reload(project: Project) -> None:
    project.scenario("reload_namespace_package_modules_reload")
    out = project.run_driver()
    assert out.strip() == "True ['ns.models', 'ns.views'] 10 5"


def test_a_library_read_from_its_sources_imports_and_reloads(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # No bytecode for the standard library (a new PYTHONPYCACHEPREFIX): the import hook
    # asks which folders are the library while sysconfig itself is being imported.
    project.scenario("reload_with_no_library_bytecode")
    prefix = tmp_path_factory.mktemp("pycache")
    out = project.run_driver(env=project.env(PYTHONPYCACHEPREFIX=str(prefix)))
    assert out.split() == ["ok"]
