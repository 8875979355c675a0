"""Shared fixtures: project trees under tmp_path and fresh interpreters to run them in."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

TESTS = Path(__file__).resolve().parent
SRC = str(TESTS.parent / "src")
# Scenario projects: real files, linted, copied to tmp_path and run in a child; never
# collected by pytest.
PROJECTS = TESTS / "projects"
SUPPORT = str(PROJECTS / "_support")  # helpers for scenario drivers, on the child's path
collect_ignore_glob = ["projects/*"]

# The programs the tests run start as from a terminal, even when the tests themselves run
# in the background or under nohup: an ignored SIGINT or SIGHUP is inherited by children.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write ``{relative path: source}`` under ``root``, dedenting each source."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


class Child:
    """A long-running child process; reader threads collect its output line by line.

    ``out`` and ``err`` hold the lines read so far (``err`` stays empty when stderr is
    merged into stdout). The project fixture ends every child after the test and prints
    its output, which pytest shows for a failing test only.
    """

    def __init__(self, args: list[str], *, merge_stderr: bool = False, **popen: Any) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            text=True,
            **popen,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = threading.Condition()
        streams = [(self.proc.stdout, self.out), (self.proc.stderr, self.err)]
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in streams
            if stream is not None
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        """Everything read so far: stdout, then stderr."""
        with self._changed:
            return "".join(line + "\n" for line in [*self.out, *self.err])

    def explain(self) -> str:
        with self._changed:
            out, err = "\n".join(self.out), "\n".join(self.err)
        head = f"--- {' '.join(self.args)} (exit {self.proc.poll()}) ---"
        return f"{head}\n{out}\n--- stderr ---\n{err}"

    def wait_for(
        self, pattern: str, *, stream: str = "out", count: int = 1, timeout: float = 30
    ) -> re.Match[str]:
        """The ``count``-th line of ``stream`` ("out" or "err") matching the regex ``pattern``.

        Fails, with the output, at the deadline or when the child ends without it.
        """
        lines = self.err if stream == "err" else self.out
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in map(regex.search, lines) if m is not None]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or self._ended():
                    raise AssertionError(f"no {pattern!r} in time\n{self.explain()}")
                self._changed.wait(min(left, 0.1))

    def _ended(self) -> bool:
        return self.proc.poll() is not None and not any(r.is_alive() for r in self._readers)

    def send_signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        """Wait for the child to end by itself; killed (and the test failed) at the deadline."""
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def stop(self, timeout: float = 10) -> int | None:
        """End the child (SIGTERM, then SIGKILL) if it still runs; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        self.close()
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class Project:
    """A project folder and the one way to run Python in a fresh interpreter inside it.

    Every child gets the tree's ``src``, the scenario helpers (``projects/_support``) and
    the project folder on ``PYTHONPATH``, unbuffered output, no bytecode files and no
    ``HOTMOD_*`` variable from the outside environment.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.children: list[Child] = []
        self.scenario_dir: Path | None = None  # the last scenario copied in

    def write(self, files: dict[str, str]) -> None:
        write_tree(self.root, files)

    def scenario(self, *names: str) -> None:
        """Copy ``tests/projects/<name>/`` into the project, for each name in turn.

        A later scenario adds files to (or replaces files of) the earlier ones. Their
        ``edits/`` folders stay behind: the driver saves an edited version with
        ``scenario.edit()``, which reads the last scenario's ``edits/``.
        """
        for name in names:
            source = PROJECTS / name
            assert source.is_dir(), f"no scenario {name!r} in {PROJECTS}"
            shutil.copytree(
                source,
                self.root,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("edits", "__pycache__"),
            )
            self.scenario_dir = source

    def edit(self, rel: str, version: int = 2) -> None:
        """Save the last scenario's ``edits/v<version>/<rel>`` over the project's file."""
        assert self.scenario_dir is not None, "no scenario copied in"
        new = (self.scenario_dir / "edits" / f"v{version}" / rel).read_bytes()
        with open(self.root / rel, "wb") as f:  # in place, as an editor saves
            f.write(new)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a child process, with ``extra`` variables."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTMOD_")}
        env["PYTHONPATH"] = os.pathsep.join([SRC, SUPPORT, str(self.root)])
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if self.scenario_dir is not None:
            env["SCENARIO_DIR"] = str(self.scenario_dir)
        env.update(extra)
        return env

    def command(
        self, *argv: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run a program (``argv[0]``) in the project to its end; output captured."""
        return subprocess.run(
            list(argv),
            cwd=self.root,
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def python(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python ARGS`` in the project to its end; output captured."""
        return self.command(sys.executable, *args, env=env, timeout=timeout)

    def hotmod(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m hotmod ARGS`` in the project (hotmod's own module on the path)."""
        return self.python("-m", "hotmod", *args, env=env or self.env(), timeout=timeout)

    def run_script(
        self,
        script: str | Path,
        *,
        args: Sequence[str] = (),
        check: bool = True,
        timeout: float = 60,
        env: dict[str, str] | None = None,
        prelude: str = "",
    ) -> str:
        """Run a script in a fresh interpreter; return its stdout, fail with its output.

        ``script`` is a file of the project (a ``Path``, or a name ending in ``.py``
        such as a scenario's ``main.py``) or Python source (dedented); ``args`` are its
        ``sys.argv[1:]``.
        """
        if isinstance(script, Path) or (script.endswith(".py") and "\n" not in script):
            command = ["-X", "faulthandler", str(script), *args]
        else:
            code = prelude + textwrap.dedent(script)
            command = ["-X", "faulthandler", "-c", code, *args]
        proc = self.python(*command, env=env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(explain(proc))
        return proc.stdout

    def run_driver(self, name: str = "driver.py", **kwargs: Any) -> str:
        """Run a scenario's driver script as ``python -c`` code; return its stdout.

        As ``-c`` code, ``__main__`` has no source file, like a REPL: the driver is not a
        module hotmod tracks, and it stays out of every plan.
        """
        return self.run_script((self.root / name).read_text(), **kwargs)

    def spawn(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        merge_stderr: bool = False,
        **popen: Any,
    ) -> Child:
        """Start ``python ARGS`` in the project and go on; the fixture ends it after the test."""
        child = Child(
            [sys.executable, *args],
            cwd=self.root,
            env=env or self.env(),
            merge_stderr=merge_stderr,
            **popen,
        )
        self.children.append(child)
        return child

    def spawn_script(self, script: str, **kwargs: Any) -> Child:
        """`spawn` for Python source run with ``-c`` (dedented)."""
        return self.spawn("-c", textwrap.dedent(script), **kwargs)

    def end_children(self) -> None:
        for child in self.children:
            child.stop()
            print(child.explain())  # pytest shows it for a failing test only


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    """A finished child's exit code and output, for an assertion message."""
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """An empty project folder with a runner for fresh interpreters."""
    proj = Project(tmp_path)
    yield proj
    proj.end_children()


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
        if not name.startswith("hotmod."):  # loaded on first use, once per process
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
