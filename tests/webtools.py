"""Real servers for the framework tests: launch a command in a project copy, save files
the way editors do, and read answers only after the log reports a reload."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from conftest import SRC

PROJECTS = Path(__file__).resolve().parent / "projects"
RELOADED = re.compile(r"hotmod: reloaded ")
FAILED = re.compile(r"reload failed")


def copy_project(name: str, dest: Path) -> Path:
    """A fresh copy of ``tests/projects/<name>`` under ``dest``."""
    root = dest / name
    shutil.copytree(PROJECTS / name, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def save(path: Path, text: str, *, atomic: bool) -> None:
    """Write ``text`` as an editor does: in place, or to a temporary file renamed over it."""
    if atomic:
        tmp = path.with_name(f".{path.name}.swp")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        with open(path, "w") as f:
            f.write(text)


class Server:
    """A server process, its merged output, and HTTP requests to it."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.saves = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def count(self, pattern: re.Pattern[str]) -> int:
        return len(pattern.findall(self.output()))

    def request(self, path: str, data: bytes | None = None) -> tuple[int, str]:
        """GET (or POST ``data`` as JSON) ``path``: the status and the body."""
        status, _, body = self.exchange(path, data)
        return status, body

    def exchange(self, path: str, data: bytes | None = None) -> tuple[int, dict[str, str], str]:
        """Like `request`, with the response headers (lower-case names)."""
        headers = {"Content-Type": "application/json"} if data is not None else {}
        req = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                got = {k.lower(): v for k, v in response.headers.items()}
                return response.status, got, response.read().decode()
        except urllib.error.HTTPError as exc:
            got = {k.lower(): v for k, v in exc.headers.items()}
            return exc.code, got, exc.read().decode()

    def wait_ready(self, path: str = "/", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.request(path)
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        raise AssertionError(f"the server never answered:\n{self.output()}")

    def edit(self, path: Path, old: str, new: str, *, probe: str = "/") -> None:
        """Save ``path`` with ``old`` replaced, then wait until the log reports the reload.

        Saves alternate between in place and atomic. ``probe`` is requested meanwhile
        (a middleware applies changes when a request arrives).
        """
        text = path.read_text()
        assert old in text, f"{old!r} not in {path}"
        self.save(path, text.replace(old, new), probe=probe)

    def save(self, path: Path, text: str, *, probe: str = "/", fails: bool = False) -> None:
        reloaded, failed = self.count(RELOADED), self.count(FAILED)
        save(path, text, atomic=self.saves % 2 == 1)
        self.saves += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.count(FAILED) > failed:
                if fails:
                    return
                raise AssertionError(f"the reload failed:\n{self.output()}")
            if self.count(RELOADED) > reloaded:
                if fails:
                    raise AssertionError(f"the reload did not fail:\n{self.output()}")
                return
            with suppress(urllib.error.URLError, OSError):
                self.request(probe)
            time.sleep(0.02)
        raise AssertionError(f"no reload reported after saving {path}:\n{self.output()}")


@contextmanager
def launch(
    root: Path,
    argv: Sequence[str],
    port: int,
    *,
    env: dict[str, str] | None = None,
    ready: str = "/",
) -> Iterator[Server]:
    """Run ``python argv...`` in ``root``; yields once it answers HTTP; always stops it."""
    environ = dict(os.environ)
    environ.update(env or {})
    environ["PYTHONPATH"] = os.pathsep.join([SRC, str(root)])
    environ["PYTHONUNBUFFERED"] = "1"
    environ["PYTHONDONTWRITEBYTECODE"] = "1"
    environ.pop("FLASK_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, *argv],
        cwd=root,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(proc, port)
    try:
        server.wait_ready(ready)
        yield server
    except BaseException:
        print(server.output())  # shown by pytest for a failing test only
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        server.reader.join(10)
        assert proc.stdout is not None
        proc.stdout.close()
