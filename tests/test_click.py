"""Click and Typer: a long-running shell holding its group and app runs edited and new commands.

The shell (``tests/projects/click_shell``) runs under ``hotmod run`` and reads one
command line per stdin line; the test saves edits as editors do, waits for the log to
report the reload, then sends the next command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from conftest import SRC

pytest.importorskip("click")
pytest.importorskip("typer")

PROJECT = Path(__file__).parent / "projects" / "click_shell"
DEADLINE = 30.0


def save(path: Path, text: str, *, atomic: bool) -> None:
    if atomic:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        with open(path, "w") as f:
            f.write(text)


def edit(path: Path, old: str, new: str, *, atomic: bool = False) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    save(path, text.replace(old, new, 1), atomic=atomic)


class Shell:
    """The shell in a child process; its stdout and stderr collected by two threads."""

    def __init__(self, root: Path) -> None:
        env = dict(os.environ, PYTHONPATH=SRC, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hotmod", "run", "shell.py"],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.changed = threading.Condition()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.threads = [
            threading.Thread(target=self._collect, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._collect, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for thread in self.threads:
            thread.start()
        self.wait(lambda: "ready\n" in self.out, "the shell to start")

    def _collect(self, stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            with self.changed:
                lines.append(line)
                self.changed.notify_all()

    def wait(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        with self.changed:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(
                        f"no {what}\n--- stdout ---\n{''.join(self.out)}"
                        f"\n--- stderr ---\n{''.join(self.err)}"
                    )
                self.changed.wait(left)

    def run(self, line: str) -> str:
        """Send one command line; its output."""
        start = len(self.out)
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        self.wait(lambda: "<<done>>\n" in self.out[start:], f"answer to {line!r}")
        end = self.out.index("<<done>>\n", start)
        return "".join(self.out[start:end]).strip()

    def reloaded(self, action: Callable[[], None]) -> None:
        """Run ``action`` (a save) and wait until the log reports one more successful reload."""
        before = sum("hotmod: reloaded" in line for line in self.err)
        action()
        self.wait(lambda: sum("hotmod: reloaded" in line for line in self.err) > before, "reload")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for thread in self.threads:
            thread.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    root = tmp_path / "click_shell"
    shutil.copytree(PROJECT, root)
    running = Shell(root)
    running.root = root  # type: ignore[attr-defined]
    try:
        yield running
    finally:
        running.stop()


def test_click_group_held_by_a_shell_runs_edited_new_and_removed_commands(shell: Shell) -> None:
    tool: Path = shell.root / "tool"  # type: ignore[attr-defined]
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


def test_typer_app_held_by_a_shell_runs_edited_and_new_commands(shell: Shell) -> None:
    tapp: Path = shell.root / "tool" / "tapp.py"  # type: ignore[attr-defined]
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
    assert shell.run("typer farewell") == "bye"
    shell.reloaded(lambda: edit(tapp, "def farewell() -> None:", "def goodbye() -> None:"))
    assert shell.run("typer goodbye") == "bye"
    assert "No such command 'farewell'" in shell.run("typer farewell")
    assert "Traceback" not in "".join(shell.err)
