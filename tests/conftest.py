"""Shared fixtures: project trees under tmp_path and fresh interpreters to run them in."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parent.parent / "src")

# Scenario projects under tests/projects/ have test suites of their own: never collect them.
collect_ignore_glob = ["projects/*"]


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write ``{relative path: source}`` under ``root``, dedenting each source."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


# Child-script helpers for edit-and-reload scenarios: hotmod imported, a log list shared
# by the modules under test (builtins.LOG), and w(path, text) to write a dedented source.
EDIT_PRELUDE = """\
import builtins, os, sys, textwrap
import hotmod
builtins.LOG = []
def w(path, text):
    path = str(path)
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\\n"))
"""


class Project:
    """A project folder and a way to run Python scripts in a fresh interpreter inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, files: dict[str, str]) -> None:
        write_tree(self.root, files)

    def run(
        self, script: str, *, prelude: str = "", check: bool = True, timeout: float = 60
    ) -> str:
        """Run ``prelude`` + ``script`` (dedented) with ``python -c`` in the project.

        Returns the child's stdout; raises with its output if it fails.
        """
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([SRC, str(self.root)])
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        proc = subprocess.run(
            [sys.executable, "-X", "faulthandler", "-c", prelude + textwrap.dedent(script)],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"script failed with exit code {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
            )
        return proc.stdout


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """An empty project folder with a runner for fresh interpreters."""
    return Project(tmp_path)


@pytest.fixture(autouse=True)
def _restore_process_state() -> Iterator[None]:
    """Restore sys.modules, sys.path, logging handlers and the environment; no leaked threads."""
    modules = dict(sys.modules)
    path = list(sys.path)
    environ = dict(os.environ)
    logger = logging.getLogger("hotmod")
    handlers, level = list(logger.handlers), logger.level
    threads = set(threading.enumerate())
    yield
    from hotmod import _runtime

    _runtime.reset()  # stops watchers a test left running; a fresh reloader next time
    for name in [n for n in sys.modules if n not in modules]:
        del sys.modules[name]
    sys.modules.update(modules)
    sys.path[:] = path
    os.environ.clear()
    os.environ.update(environ)
    logger.handlers[:] = handlers
    logger.setLevel(level)
    leaked = [
        t for t in threading.enumerate() if t not in threads and t.is_alive() and not t.daemon
    ]
    assert not leaked, f"test leaked threads: {leaked}"
