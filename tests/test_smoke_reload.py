"""The classic failure hotmod removes, end to end through the public API."""

from __future__ import annotations

from conftest import Project


def test_from_import_and_dependents_see_the_edit(project: Project) -> None:
    project.write(
        {
            "dogs.py": """
                famous = ["Rex"]
                def bark():
                    return "woof"
            """,
            "kennel.py": """
                import dogs
                from dogs import famous
                count = len(dogs.famous)
            """,
        }
    )
    out = project.run_script(
        """
        import hotmod, dogs, kennel
        from dogs import famous, bark
        new = 'famous = ["Rex", "Lassie"]\\ndef bark():\\n    return "WOOF"\\n'
        open("dogs.py", "w").write(new)
        report = hotmod.reload("dogs")
        assert report.ok, report
        assert report.reloaded == ["dogs", "kennel"], report.reloaded
        print(famous, kennel.famous, kennel.count, bark())
        """
    )
    assert out.split() == ["['Rex',", "'Lassie']", "['Rex',", "'Lassie']", "2", "WOOF"]
