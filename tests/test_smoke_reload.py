"""The classic failure hotmod removes, end to end through the public API."""

from __future__ import annotations

from conftest import Project


def test_from_import_and_dependents_see_the_edit(project: Project) -> None:
    project.scenario("smoke_dogs")  # SPEC's dogs.py: `from dogs import famous` goes stale
    out = project.run_driver()
    assert out.split() == ["['Rex',", "'Lassie']", "['Rex',", "'Lassie']", "2", "WOOF"]
