"""Identity: references taken before a reload run the new code, or are rebound to it.

Every scenario runs in a fresh interpreter through the public API only.
"""

from __future__ import annotations

from conftest import Project


def test_from_binding_and_callback_registry_run_the_new_code(project: Project) -> None:
    project.scenario("identity_from_binding_and_callback_registry")
    out = project.run_driver()
    assert out.split() == ["new", "a", "new", "b", "new", "c"]


def test_bound_methods_existing_instances_and_isinstance(project: Project) -> None:
    project.scenario("identity_bound_methods_existing_instances_and")
    out = project.run_driver()
    assert out.split() == ["new", "4", "extra", "27", "new", "4", "extra"]


def test_functools_wraps_decorator_patches_the_innermost_function(project: Project) -> None:
    project.scenario("identity_functools_wraps_decorator_patches")
    out = project.run_driver()
    assert out.split() == ["BYE", "X", "bye", "y"]


def test_lru_cache_function(project: Project) -> None:
    project.scenario("identity_lru_cache_function")
    out = project.run_driver()
    assert out.split() == ["40", "250", "90", "[2,", "5,", "3]"]


def test_closures_patched_when_free_vars_match_and_rebound_with_a_note_otherwise(
    project: Project,
) -> None:
    project.scenario("identity_closures_patched_when_free_vars")
    out = project.run_driver()
    assert out.split() == ["101", "6"]


def test_async_and_generator_functions(project: Project) -> None:
    project.scenario("identity_async_and_generator_functions")
    out = project.run_driver()
    assert out.strip() == "[0, 10, 20] ('new', ['new'])"


def test_staticmethod_classmethod_property_and_nested_class(project: Project) -> None:
    project.scenario("identity_staticmethod_classmethod_property")
    out = project.run_driver()
    assert out.split() == ["s-new", "c-new", "K", "p-new", "inner-new"]


def test_added_and_removed_class_attributes(project: Project) -> None:
    project.scenario("identity_added_and_removed_class_attributes")
    project.run_driver()


def test_super_in_patched_methods_on_existing_instances(project: Project) -> None:
    project.scenario("identity_super_in_patched_methods_on_existing")
    out = project.run_driver()
    assert out.split() == ["CHILD+BASE", "other+BASE"]


def test_dataclass_gains_a_field(project: Project) -> None:
    project.scenario("identity_dataclass_gains_a_field")
    out = project.run_driver()
    assert out.strip() == "['x', 'y', 'z'] 6 Point(x=1, y=2, z=3)"


def test_a_class_rebuilt_by_its_decorator_is_kept_with_one_note_at_most(
    project: Project,
) -> None:
    project.scenario("identity_a_class_rebuilt_by_its_decorator_is")
    project.run_driver()


def test_enum_members_keep_identity_when_unchanged(project: Project) -> None:
    project.scenario("identity_enum_members_keep_identity_when")
    out = project.run_driver()
    assert out.split() == ["new", "RED"]


def test_enum_member_added_keeps_the_class_and_its_members(project: Project) -> None:
    project.scenario("identity_enum_member_added_keeps_the_class_and")
    project.run_driver()


def test_changed_bases_or_slots_make_a_new_class_with_a_note(project: Project) -> None:
    project.scenario("identity_changed_bases_or_slots_make_a_new")
    project.run_driver()


def test_constants_are_rebound_by_identity_only(project: Project) -> None:
    project.scenario("identity_constants_are_rebound_by_identity")
    out = project.run_driver()
    assert out.split() == ["6", "5", "5", "6", "new", "5"]


def test_reassigned_from_import_is_not_rebound(project: Project) -> None:
    project.scenario("identity_reassigned_from_import_is_not")
    project.run_driver()


def test_main_script_functions_updated_in_place(project: Project) -> None:
    project.scenario("identity_main_script_functions_updated_in")
    out = project.run_script("import runpy\nrunpy.run_path('main.py', run_name='__main__')\n")
    assert out.split() == ["1", "new", "hello", "new", "bot", "hello", "True"]


def test_repl_style_main_namespace_is_rebound(project: Project) -> None:
    # `python -c` has no source file for __main__: its from-bindings are found by identity.
    project.scenario("identity_repl_style_main_namespace_is_rebound")
    out = project.run_driver()
    assert out.split() == ["[2]", "new", "[1]", "True"]


def test_names_assigned_after_their_import_are_the_users(project: Project) -> None:
    # A fresh run of the driver ends with FLAG True and LIMIT 10 whatever conf.py says:
    # assigned (or bound by a loop) after the import, equal or identical values or not.
    project.scenario("identity_names_assigned_after_their_import_are_the_users")
    assert project.run_driver().split() == ["True", "10", "slow", "new"]


def test_class_used_by_a_dependent_keeps_identity(project: Project) -> None:
    project.scenario("identity_class_used_by_a_dependent_keeps")
    project.run_driver()


def test_instances_made_at_import_belong_to_the_kept_class(project: Project) -> None:
    project.scenario("identity_instances_made_at_import_belong_to")
    project.run_driver()


def test_function_attributes_defaults_and_docstring(project: Project) -> None:
    project.scenario("identity_function_attributes_defaults_and")
    project.run_driver()


def test_alias_of_a_function_is_patched_once(project: Project) -> None:
    # Two names for one function before; after the edit they are distinct functions.
    project.scenario("identity_alias_of_a_function_is_patched_once")
    project.run_driver()


def test_new_classes_derive_from_the_kept_classes(project: Project) -> None:
    # Found by this suite: a class added by the edit (or one that could not be kept)
    # derived from the discarded new twin of its kept base, so issubclass(m.C, m.B) broke.
    project.scenario("identity_new_classes_derive_from_the_kept")
    project.run_driver()


def test_containers_built_at_import_hold_the_kept_objects(project: Project) -> None:
    # Found by this suite: a module-level registry filled at import held the new
    # function objects while the module's names held the kept (patched) old ones.
    project.scenario("identity_containers_built_at_import_hold_the")
    project.run_driver()


def test_function_that_became_a_class_is_rebound(project: Project) -> None:
    project.scenario("identity_function_that_became_a_class_is")
    project.run_driver()


def test_closures_made_by_another_modules_factory_keep_identity(project: Project) -> None:
    # A decorator without functools.wraps, and a handler factory, both in a module that
    # is not reloaded: the module's names are closures whose code lives elsewhere.
    project.scenario("identity_closures_made_by_another_modules")
    out = project.run_driver()
    assert out.strip() == "True True ('wrapped', 101) bonjour, ann"
