"""Re-running an import cycle, in process: the order of ``sys.modules`` afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

import pytest

from hotmod._cycles import Cycles


@dataclass(frozen=True)
class Member:
    name: str
    definitions_only: bool = False


NAMES = ["cyc_first", "cyc_a", "cyc_b", "cyc_later"]


@pytest.fixture
def modules() -> Iterator[dict[str, ModuleType]]:
    """Four modules imported in this order; ``cyc_a`` and ``cyc_b`` form a cycle."""
    made = {name: ModuleType(name) for name in NAMES}
    for name in NAMES:
        sys.modules.pop(name, None)
        sys.modules[name] = made[name]
    yield made
    for name in [*NAMES, "cyc_new"]:
        sys.modules.pop(name, None)


def ours(order: list[str] | None) -> list[str]:
    assert order is not None
    return [name for name in order if name.startswith("cyc_")]


def test_the_members_of_a_cycle_run_again_keep_the_places_a_fresh_import_gives_them(
    modules: dict[str, ModuleType],
) -> None:
    before = list(sys.modules)
    cycles = Cycles(modules, {})
    ran: list[str] = []

    def run(member: Member) -> None:
        ran.append(member.name)
        if member.name == "cyc_b":
            sys.modules["cyc_new"] = ModuleType("cyc_new")  # (imported by the new code)

    cycles.run([Member("cyc_b"), Member("cyc_a")], run)
    assert ran == ["cyc_b", "cyc_a"]
    # As an import records it: the members finished last, after ``cyc_later``.
    assert ours(list(sys.modules)) == ["cyc_first", "cyc_later", "cyc_new", "cyc_b", "cyc_a"]
    # A fresh import finishes them where they were, in the order they finished now, and
    # the module new since last.
    assert ours(cycles.finish_order(before)) == [
        "cyc_first", "cyc_b", "cyc_a", "cyc_later", "cyc_new",
    ]  # fmt: skip
    cycles.rollback()  # (the order back as it was)
    assert [name for name in sys.modules if name in NAMES] == NAMES


def test_without_a_member_run_again_or_its_place_the_order_is_left_to_sys_modules(
    modules: dict[str, ModuleType],
) -> None:
    before = list(sys.modules)
    nothing_ran = Cycles(modules, {})
    nothing_ran.run([Member("cyc_a", definitions_only=True)], lambda member: None)
    assert nothing_ran.finish_order(before) is None
    # A member that was not imported before the transaction has no place to go back to.
    cycles = Cycles(modules, {})
    cycles.run([Member("cyc_a"), Member("cyc_b")], lambda member: None)
    assert cycles.finish_order([n for n in before if n != "cyc_b"]) is None
    assert ours(cycles.finish_order(before)) == NAMES
