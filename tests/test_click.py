"""Click and Typer: a long-running shell holding its group and app runs edited and new commands.

The shell (``tests/projects/click_shell``) runs under ``hotmod run`` and reads one
command line per stdin line; the test saves edits as editors do, waits for the log to
report the reload, then sends the next command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness_shell import Shell, edit, save, shell_in

pytest.importorskip("click")
pytest.importorskip("typer")

PROJECT = Path(__file__).parent / "projects" / "click_shell"


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    with shell_in(PROJECT, tmp_path) as running:
        yield running


def test_click_group_held_by_a_shell_runs_edited_new_and_removed_commands(shell: Shell) -> None:
    tool: Path = shell.root / "tool"
    assert shell.run("hello ann") == "hello ann"
    assert shell.run("admin status") == "all good"

    # The group's own module: an edited command, a new one, a removed one.
    shell.reloaded(
        lambda: save(
            tool / "cli.py",
            (tool / "cli.py")
            .read_text()
            .replace('f"hello {name}"', 'f"hi {name}!"')
            .replace(
                '@cli.command()\ndef version() -> None:\n    click.echo("1.0")\n',
                '@cli.command()\ndef about() -> None:\n    click.echo("tool 2")\n',
            ),
            atomic=True,
        )
    )
    assert shell.run("hello ann") == "hi ann!"
    assert shell.run("about") == "tool 2"
    assert "No such command 'version'" in shell.run("version")
    # Commands another module added to the group are still there, once.
    assert shell.run("stats") == "3 users"
    assert shell.run("admin status") == "all good"

    # A module adding commands to a group made elsewhere: renamed and edited commands.
    shell.reloaded(
        lambda: edit(
            tool / "extra.py",
            'def stats() -> None:\n    click.echo("3 users")',
            'def users() -> None:\n    click.echo("4 users")',
        )
    )
    assert shell.run("users") == "4 users"
    assert "No such command 'stats'" in shell.run("stats")
    # A group made by assignment (click.Group(...)) gets its new commands.
    shell.reloaded(
        lambda: edit(
            tool / "extra.py",
            '    click.echo("all good")',
            '    click.echo("all good")\n\n\n@ADMIN.command()\ndef reset() -> None:\n'
            '    click.echo("reset done")',
            atomic=True,
        )
    )
    assert shell.run("admin reset") == "reset done"
    assert shell.run("admin status") == "all good"
    assert "Traceback" not in "".join(shell.err)
    assert "previous code still reachable" not in "".join(shell.err)


def test_typer_app_held_by_a_shell_runs_edited_and_new_commands(shell: Shell) -> None:
    tapp: Path = shell.root / "tool" / "tapp.py"
    assert shell.run("typer greet bob") == "greetings bob"
    shell.reloaded(
        lambda: save(
            tapp,
            tapp.read_text().replace('f"greetings {name}"', 'f"welcome {name}"')
            + '\n\n@app.command()\ndef count(n: int) -> None:\n    print(n * "*")\n',
            atomic=True,
        )
    )
    assert shell.run("typer greet bob") == "welcome bob"
    assert shell.run("typer count 3") == "***"
    # The click group Typer built from the app at start-up follows too.
    assert shell.run("built greet bob") == "welcome bob"
    assert shell.run("built count 2") == "**"
    assert shell.run("typer farewell") == "bye"
    shell.reloaded(lambda: edit(tapp, "def farewell() -> None:", "def goodbye() -> None:"))
    assert shell.run("typer goodbye") == "bye"
    assert "No such command 'farewell'" in shell.run("typer farewell")
    assert "No such command 'farewell'" in shell.run("built farewell")
    assert "Traceback" not in "".join(shell.err)
