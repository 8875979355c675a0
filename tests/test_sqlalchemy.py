"""SQLAlchemy 2 declarative models in a long-running program on sqlite.

The program (``tests/projects/sqla_shell``) keeps a session and a loaded ``User`` for
its whole run and answers one command per stdin line; the test saves edits as editors
do and checks what the program computes after each reload the log reports.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness_shell import Shell, edit, save

pytest.importorskip("sqlalchemy")

PROJECT = Path(__file__).parent / "projects" / "sqla_shell"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "sqla_shell"
    shutil.copytree(PROJECT, root)
    return root


@pytest.fixture
def shell(project: Path) -> Iterator[Shell]:
    running = Shell(project)
    try:
        yield running
    finally:
        running.stop()


def test_model_methods_and_query_modules_reload_in_place(shell: Shell) -> None:
    models, queries = shell.root / "app" / "models.py", shell.root / "app" / "queries.py"
    assert shell.run("greet") == "hello ann"
    # A method of a mapped class: the instance loaded before the edit runs the new code.
    shell.reloaded(lambda: edit(models, 'f"hello {self.name}"', 'f"hi {self.name}!"', atomic=True))
    assert shell.run("greet") == "hi ann!"
    assert shell.run("same") == "True"
    # The relationship and the other mapped class still work; a new method is used.
    shell.reloaded(
        lambda: edit(
            models,
            '        return f"{self.user.name} <{self.email}>"',
            '        return f"{self.user.name}:{self.domain()}"\n\n'
            "    def domain(self) -> str:\n"
            '        return self.email.split("@")[1]',
        )
    )
    assert shell.run("labels") == "ann:example.com"
    # A query module: edited queries apply; the session and its data are kept.
    assert shell.run("add cid") == "added"
    shell.reloaded(
        lambda: edit(
            queries, "select(User).order_by(User.name)", "select(User).order_by(User.name.desc())"
        )
    )
    assert shell.run("names") == "cid bob ann"
    assert shell.run("greet") == "hi ann!"
    assert "already defined" not in "".join(shell.err) and "Traceback" not in "".join(shell.err)
    assert "previous code still reachable" not in "".join(shell.err)


def test_a_column_change_needs_a_restart_naming_the_model(shell: Shell) -> None:
    models = shell.root / "app" / "models.py"
    failures = len([line for line in shell.err if "restart needed" in line])
    edit(
        models,
        "    name: Mapped[str] = mapped_column(String(30))",
        "    name: Mapped[str] = mapped_column(String(30))\n"
        "    age: Mapped[int] = mapped_column(default=0)",
    )
    shell.wait(
        lambda: len([line for line in shell.err if "restart needed" in line]) > failures,
        "the restart warning",
    )
    warning = next(line for line in shell.err if "restart needed" in line)
    assert "app.models.User: columns changed (added age)" in warning
    assert "Traceback" not in "".join(shell.err)
    # Nothing was half applied: the old mapping serves on, and a method edit still
    # waits for the restart together with the column (the batch stays pending).
    assert shell.run("greet") == "hello ann"
    assert shell.run("names") == "ann bob"


def test_a_failed_reload_leaves_the_mapping_intact(shell: Shell) -> None:
    models = shell.root / "app" / "models.py"
    before = sum("reload failed" in line or "kept the previous code" in line for line in shell.err)
    save(
        models,
        models.read_text().replace('f"hello {self.name}"', 'f"hey {self.name}"')
        + '\n\nraise RuntimeError("broken at import")\n',
        atomic=True,
    )
    shell.wait(
        lambda: sum("kept the previous code" in line for line in shell.err) > before, "the failure"
    )
    assert shell.run("greet") == "hello ann"
    assert shell.run("labels") == "ann <ann@example.com>"
    shell.reloaded(lambda: edit(models, '\n\nraise RuntimeError("broken at import")\n', "\n"))
    assert shell.run("greet") == "hey ann"
    assert shell.run("add dan") == "added"
    assert shell.run("names") == "ann bob dan"


def test_a_column_change_restarts_under_hotmod_run_restart(project: Path) -> None:
    shell = Shell(project, "--restart")
    try:
        assert shell.run("greet") == "hello ann"
        starts = shell.out.count("ready\n")
        edit(
            project / "app" / "models.py",
            '        return f"hello {self.name}"',
            '        return f"hello {self.name} ({self.age})"',
        )
        edit(
            project / "app" / "models.py",
            "    name: Mapped[str] = mapped_column(String(30))",
            "    name: Mapped[str] = mapped_column(String(30))\n"
            "    age: Mapped[int] = mapped_column(default=7)",
        )
        shell.wait(lambda: shell.out.count("ready\n") > starts, "the restarted program")
        assert shell.run("greet") == "hello ann (7)"
    finally:
        shell.stop()


def test_event_listeners_follow_the_source(shell: Shell) -> None:
    hooks = shell.root / "app" / "hooks.py"
    assert shell.run("seen") == "v1 ann v1 bob"  # (the rows the program added first)
    shell.reloaded(lambda: edit(hooks, '"v1 ', '"v2 '))
    assert shell.run("add cid") == "added"
    assert shell.run("seen") == "v2 cid"
    # A listener renamed: before, the previous one was still called, and reported stale.
    shell.reloaded(
        lambda: edit(
            hooks,
            'def stamp(mapper, connection, target):\n    SEEN.append(f"v2 ',
            'def mark(mapper, connection, target):\n    SEEN.append(f"v3 ',
            atomic=True,
        )
    )
    assert shell.run("add dan") == "added"
    assert shell.run("seen") == "v3 dan"
    # A failed run leaves the listeners as they were; a listener removed goes.
    source = hooks.read_text()
    shell.failed(
        lambda: save(
            hooks, source.replace("v3", "v4") + 'raise RuntimeError("boom")\n', atomic=True
        )
    )
    assert shell.run("add eve") == "added"
    assert shell.run("seen") == "v3 eve"
    shell.reloaded(
        lambda: save(
            hooks, source.replace('@event.listens_for(User, "before_insert")\n', ""), atomic=True
        )
    )
    assert shell.run("add fay") == "added"
    assert shell.run("seen") == ""
    assert "previous code still reachable" not in "".join(shell.err)
