"""The Patcher in-process: old objects take the new definitions, and undo puts them back.

Each test runs a module's first version (``tests/projects/patch/<case>/v1.py``) in a
namespace, re-runs the second (``v2.py``) in the same namespace as a reload does, hands
both to a ``Patcher`` and checks the objects.
"""

from __future__ import annotations

import enum
import functools
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotmod._patch import Patcher

OWNER = "patched_mod"
PATCH_CASES = Path(__file__).parent / "projects" / "patch"  # v1.py and v2.py of each case


def run_version(case: str, version: int, ns: dict[str, Any]) -> None:
    """Execute ``tests/projects/patch/<case>/v<version>.py`` in ``ns``."""
    path = PATCH_CASES / case / f"v{version}.py"
    exec(compile(path.read_text(), str(path), "exec"), ns)


class Reexec:
    """A module namespace run with a case's ``v1.py``, then re-run with ``v2.py`` and patched."""

    def __init__(self, case: str) -> None:
        self.case = case
        self.ns: dict[str, Any] = {"__name__": OWNER}
        run_version(case, 1, self.ns)
        self.patcher = Patcher()

    def rerun(self) -> dict[str, Any]:
        """Re-execute the module with ``v2.py``, then patch kept objects back in."""
        old = dict(self.ns)
        self.ns.clear()
        self.ns["__name__"] = OWNER
        run_version(self.case, 2, self.ns)
        self.patcher.patch_namespace(OWNER, old, self.ns)
        return old

    def commit(self) -> None:
        for action in self.patcher.on_commit:
            action()

    def undo(self) -> None:
        for action in reversed(self.patcher.undo):
            action()


def snapshot_function(func: Any) -> dict[str, Any]:
    return {
        "code": func.__code__,
        "defaults": func.__defaults__,
        "kwdefaults": func.__kwdefaults__,
        "doc": func.__doc__,
        "annotations": func.__annotations__,
        "dict": dict(func.__dict__),
    }


# -- functions ----------------------------------------------------------------------


def test_a_function_keeps_its_identity_and_runs_the_new_code() -> None:
    mod = Reexec("a_function_keeps_its_identity_and_runs")
    greet = mod.ns["greet"]
    held: Callable[..., str] = greet  # a `from m import greet` taken before the reload
    mod.rerun()
    assert mod.ns["greet"] is greet
    assert held("a") == "new a?"
    assert held("a", loud=True) == "NEW a?"
    assert greet.__doc__ == "new doc"
    assert greet.tag == "v2"
    assert mod.patcher.patched == 1
    assert mod.patcher.undo, "a patched function must be undoable"


def test_undo_restores_a_function_exactly() -> None:
    mod = Reexec("undo_restores_a_function_exactly")
    f = mod.ns["f"]
    before = snapshot_function(f)
    mod.rerun()
    assert f("z") == "zzb"
    mod.undo()
    after = snapshot_function(f)
    assert after["code"] is before["code"]
    assert after["defaults"] is before["defaults"]
    assert after["kwdefaults"] is before["kwdefaults"]
    assert after == before
    assert f() == 3
    assert not hasattr(f, "other")


def test_a_closure_cell_follows_the_new_value_and_undo_restores_it() -> None:
    mod = Reexec("a_closure_cell_follows_the_new_value_and")
    scale = mod.ns["scale"]
    mod.rerun()
    assert mod.ns["scale"] is scale
    assert scale(2) == 6
    mod.undo()
    assert scale(2) == 4


def test_a_function_whose_closure_changed_is_replaced_with_a_note() -> None:
    mod = Reexec("a_function_whose_closure_changed_is")
    old = mod.ns["inner"]
    mod.rerun()
    assert mod.ns["inner"] is not old
    assert mod.ns["inner"]() == 3
    assert old() == 1
    assert any("closure changed" in note for note in mod.patcher.notes), mod.patcher.notes


def test_a_function_of_another_module_is_not_taken_over() -> None:
    # `from textwrap import dedent` now bound to another function: textwrap's stays intact.
    code = textwrap.dedent.__code__
    patcher = Patcher()

    def replacement(text: str) -> str:
        return text

    assert patcher.keep(textwrap.dedent, replacement, OWNER) is replacement
    assert textwrap.dedent.__code__ is code
    assert patcher.patched == 0 and not patcher.undo


# -- classes ------------------------------------------------------------------------


def test_a_class_is_updated_in_place_for_existing_instances() -> None:
    mod = Reexec("a_class_is_updated_in_place_for_existing")
    shape_cls, base_cls = mod.ns["Shape"], mod.ns["Base"]
    instance = shape_cls()
    bound = instance.describe
    mod.rerun()
    assert mod.ns["Shape"] is shape_cls and mod.ns["Base"] is base_cls
    assert isinstance(instance, mod.ns["Shape"]) and isinstance(instance, mod.ns["Base"])
    assert bound() == "new 4 extra"
    assert instance.who() == "base-new"
    assert shape_cls.kind() == "new-static"
    assert shape_cls.make() == ("made", shape_cls)
    assert instance.label == "new-label"
    assert not hasattr(shape_cls, "gone"), "a method deleted from the source is gone"


def test_undo_restores_a_class_exactly() -> None:
    mod = Reexec("undo_restores_a_class_exactly")
    cls = mod.ns["C"]
    before = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__")}
    f_code = cls.__dict__["f"].__code__
    mod.rerun()
    assert cls().f() == "f2" and cls.x == 2 and hasattr(cls, "only_new")
    mod.undo()
    after = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__")}
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    assert cls.__dict__["f"].__code__ is f_code
    assert cls().f() == "f1" and cls().only_old() == "old"
    assert not hasattr(cls, "only_new")


def test_a_class_whose_layout_changed_is_replaced_with_a_note() -> None:
    mod = Reexec("a_class_whose_layout_changed_is_replaced")
    old = mod.ns["P"]
    instance = old()
    mod.rerun()
    assert mod.ns["P"] is not old
    assert mod.ns["P"]().get() == "new"
    assert instance.get() == "old", "existing instances keep the old class and its methods"
    assert any("__slots__ changed" in note for note in mod.patcher.notes), mod.patcher.notes


def test_a_subclass_added_by_the_new_source_derives_from_the_kept_class() -> None:
    mod = Reexec("a_subclass_added_by_the_new_source")
    base = mod.ns["Base"]
    mod.rerun()
    assert mod.ns["Base"] is base
    assert mod.ns["Child"].__bases__ == (base,)


# -- wrappers -----------------------------------------------------------------------


def test_a_cache_wrapper_is_kept_and_emptied_on_commit() -> None:
    mod = Reexec("a_cache_wrapper_is_kept_and_emptied_on")
    square = mod.ns["square"]
    assert square(3) == 9
    inner = square.__wrapped__
    mod.rerun()
    assert mod.ns["square"] is square and square.__wrapped__ is inner
    assert square.cache_info().currsize == 1, "the cache empties only once committed"
    mod.commit()
    assert square.cache_info().currsize == 0
    assert square(3) == 90


def test_a_functools_wraps_wrapper_patches_wrapper_and_wrapped() -> None:
    mod = Reexec("a_functools_wraps_wrapper_patches")
    hello = mod.ns["hello"]
    inner = hello.__wrapped__
    mod.rerun()
    assert mod.ns["hello"] is hello
    assert hello.__wrapped__ is inner
    assert hello("x") == "BYE X!"
    assert inner("y") == "bye y"
    mod.undo()
    assert hello("x") == "HELLO X"


def test_a_callable_object_made_by_a_decorator_takes_the_new_state() -> None:
    class Command:
        def __init__(self, func: Callable[[], str], help: str) -> None:
            self.func, self.help = func, help

        def __call__(self) -> str:
            return self.func()

    old = Command(lambda: "old", "old help")
    new = Command(lambda: "new", "new help")
    patcher = Patcher()
    assert patcher.keep_callable(old, new) is old
    assert old() == "new" and old.help == "new help"
    assert patcher.canonical(new) is old
    for action in reversed(patcher.undo):
        action()
    assert old() == "old" and old.help == "old help"
    assert patcher.keep_callable(old, "not the same class") == "not the same class"


# -- enums --------------------------------------------------------------------------


def test_an_enum_keeps_its_members_and_takes_new_methods() -> None:
    mod = Reexec("an_enum_keeps_its_members_and_takes_new")
    color = mod.ns["Color"]
    red = color.RED
    mod.rerun()
    assert mod.ns["Color"] is color
    assert color.RED is red and color(1) is red
    assert red.describe() == "new red"
    mod.undo()
    assert red.describe() == "old RED"


def test_an_enum_takes_added_removed_and_changed_members_in_place() -> None:
    mod = Reexec("an_enum_takes_added_removed_and_changed")
    color = mod.ns["Color"]
    red, green, yellow = color.RED, color.GREEN, color.YELLOW
    mod.rerun()
    assert mod.ns["Color"] is color and not mod.patcher.notes
    assert list(color) == [red, green, color.BLUE]
    assert type(color.BLUE) is color and color(3) is color.BLUE
    assert color.CRIMSON is red and color["CRIMSON"] is red
    assert green.value == 20 and color(20) is green and green.describe() == "new GREEN 20"
    assert "YELLOW" not in color.__members__ and not hasattr(color, "YELLOW")
    mod.undo()
    assert list(color) == [red, green, yellow] and color(2) is green
    assert green.value == 2 and green.describe() == "old GREEN"
    assert not hasattr(color, "BLUE") and "CRIMSON" not in color.__members__


def test_a_flag_takes_a_new_member_in_place() -> None:
    mod = Reexec("a_flag_takes_a_new_member_in_place")
    perm = mod.ns["Perm"]
    read, held = perm.R, perm.R | perm.W
    mod.rerun()
    assert mod.ns["Perm"] is perm and perm.R is read
    every = perm(7)
    assert type(every) is perm and perm.X in every and read in every
    assert type(perm.R | perm.X) is perm and (perm.R | perm.X).value == 5
    assert read in held and perm.X not in held


def test_an_int_enum_whose_member_value_changed_is_replaced() -> None:
    # A member of an IntEnum is an int: it cannot take another value in place.
    mod = Reexec("an_int_enum_whose_member_value_changed")
    old = mod.ns["Level"]
    mod.rerun()
    new = mod.ns["Level"]
    assert new is not old and isinstance(new, enum.EnumMeta) and new.HIGH == 3
    assert any("member HIGH changed" in note for note in mod.patcher.notes), mod.patcher.notes


def test_enum_members_keep_identity_and_take_new_attributes() -> None:
    mod = Reexec("planets_keep_identity_and_take_new_attributes")
    planet = mod.ns["Planet"]
    earth = planet.EARTH
    earth.visits = 3  # the program's own state on a member
    mod.rerun()
    assert mod.ns["Planet"] is planet and planet.EARTH is earth
    assert earth.radius == 6.371 and earth.density == 5.97 / 6.371**3
    assert planet((5.97, 6.371)) is earth and planet.MARS.mass == 0.642
    assert earth.visits == 3
    mod.undo()
    assert earth.radius == 6.37 and not hasattr(earth, "density") and earth.visits == 3


def test_values_are_not_patched() -> None:
    mod = Reexec("values_are_not_patched")
    names = mod.ns["NAMES"]
    mod.rerun()
    assert mod.ns["LIMIT"] == 2
    assert mod.ns["NAMES"] == ["a", "b"] and mod.ns["NAMES"] is not names
    assert names == ["a"]
    assert mod.patcher.patched == 0 and not mod.patcher.undo


def test_partial_objects_and_wrappers_of_other_types_are_replaced() -> None:
    old = functools.partial(print, "a")
    new = functools.partial(print, "b")
    assert Patcher().keep(old, new, OWNER) is new
