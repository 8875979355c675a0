"""A program that reads one command per stdin line, run in a child process for scenario tests.

``Shell`` starts it (``hotmod run shell.py`` in a project copied to tmp_path), sends
command lines, and waits, with deadlines, for answers and for the reloads the log reports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from conftest import SRC

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

    def __init__(self, root: Path, *options: str) -> None:
        self.root = root
        env = dict(os.environ, PYTHONPATH=SRC, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hotmod", "run", *options, "shell.py"],
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
                if left <= 0 or (self.proc.poll() is not None and not ready()):
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
        self.wait(lambda: "<<done>>\n" in self.out[start:], f"an answer to {line!r}")
        end = self.out.index("<<done>>\n", start)
        return "".join(self.out[start:end]).strip()

    def reloaded(self, action: Callable[[], None]) -> None:
        """Run ``action`` (a save) and wait until the log reports one more successful reload."""
        before = sum("hotmod: reloaded" in line for line in self.err)
        action()
        self.wait(lambda: sum("hotmod: reloaded" in line for line in self.err) > before, "reload")

    def failed(self, action: Callable[[], None]) -> None:
        """Run ``action`` (a save) and wait until the log reports one more failed reload."""
        before = sum("kept the previous code" in line for line in self.err)
        action()
        self.wait(
            lambda: sum("kept the previous code" in line for line in self.err) > before,
            "failed reload",
        )

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


@contextlib.contextmanager
def shell_in(project: Path, tmp_path: Path, *options: str) -> Iterator[Shell]:
    """The shell of a copy of ``project`` under ``tmp_path``, stopped on exit."""
    root = tmp_path / project.name
    shutil.copytree(project, root)
    running = Shell(root, *options)
    try:
        yield running
    finally:
        running.stop()
