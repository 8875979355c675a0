"""Edit-to-report of ``hotmod test`` beside a cold ``pytest`` run, pytest-testmon and pytest-watch.

Run: ``python benchmarks/testloop.py`` (``--runs N``, default 10). Prints one table.

The project: a package of 20 modules and a ``target`` module, each using numpy, and one
test file per module (21 files, 42 tests), all importing numpy. Each round saves
``pkg/target.py`` (its behaviour unchanged) and stops the clock when the report of the
test it affects (``tests/test_target.py``, 2 tests) has been printed:

* cold pytest: ``python -m pytest tests/test_target.py`` in a fresh interpreter, the
  time a developer waits after the save when running it by hand;
* hotmod test: ``python -m hotmod test`` running on the whole suite; the clock stops at
  the end of the printed report;
* pytest-testmon: ``python -m pytest --testmon`` after the save (testmon selects the
  affected test, the interpreter starts cold);
* pytest-watch: ``ptw`` running ``pytest tests/test_target.py`` on each change (default
  settings); the clock stops at the end of the report.

pytest-testmon and pytest-watch are installed with pip into a scratch folder (never into
the running environment) when they are not importable; when that fails the table says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")
N_MODULES = 20
DEPS_DIR = Path(tempfile.gettempdir()) / "hotmod-bench-testloop-deps"


def make_project(root: Path) -> None:
    """A numpy project: pkg/mod_XX.py and pkg/target.py, one test file for each."""
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\npythonpath = ["."]\ntestpaths = ["tests"]\n'
    )
    (root / "pkg" / "__init__.py").write_text("")
    for i in range(N_MODULES):
        (root / "pkg" / f"mod_{i:02d}.py").write_text(
            "import numpy as np\n\n"
            f"def scaled(values):\n    return np.asarray(values, dtype=float) * {i + 1}\n"
        )
        (root / "tests" / f"test_mod_{i:02d}.py").write_text(
            "import numpy as np\n\n"
            f"from pkg.mod_{i:02d} import scaled\n\n\n"
            "def test_scaled():\n"
            f"    assert scaled([1, 2]).tolist() == [{i + 1}, {2 * (i + 1)}]\n\n\n"
            "def test_shape():\n    assert scaled(np.zeros((2, 3))).shape == (2, 3)\n"
        )
    (root / "pkg" / "target.py").write_text(target_source(0))
    (root / "tests" / "test_target.py").write_text(
        "import numpy as np\n\n"
        "from pkg.target import norm\n\n\n"
        "def test_norm():\n    assert norm(np.array([3.0, 4.0])) == 5.0\n\n\n"
        "def test_zero():\n    assert norm(np.zeros(3)) == 0.0\n"
    )


def target_source(version: int) -> str:
    return (
        "import numpy as np\n\n"
        f"EDITS = {version}\n\n\n"
        "def norm(vector):\n    return float(np.linalg.norm(vector))\n"
    )


def save_target(root: Path, version: int) -> float:
    """Save pkg/target.py (a new version, same behaviour); returns the time of the save."""
    started = time.perf_counter()
    (root / "pkg" / "target.py").write_text(target_source(version))
    return started


def env_with(*paths: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([*paths, SRC])
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Child:
    """A long-running command whose output lines are timestamped as they arrive."""

    def __init__(self, argv: list[str], root: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[tuple[float, str] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line))
        self.lines.put(None)

    def wait_for(self, done: Callable[[str], bool], timeout: float = 120) -> tuple[float, str]:
        """The time of the first line for which ``done`` holds, and the output up to it."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if item is None:
                break
            stamp, line = item
            seen.append(line)
            if done(line):
                return stamp, "".join(seen)
        raise RuntimeError("no report from " + " ".join(self.proc.args) + ":\n" + "".join(seen))

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


def summary(line: str) -> bool:
    return (" passed" in line or " failed" in line) and " in " in line


def run_once(root: Path, argv: list[str], env: dict[str, str], expect: str) -> float:
    """Wall time of one command run to its end (the report printed)."""
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert expect in proc.stdout, proc.stdout + proc.stderr
    return elapsed


def measure_side_by_side(
    root: Path, runs: int, extra: list[str] | None
) -> tuple[list[float], list[float], list[float]]:
    """hotmod test, a cold run and pytest --testmon after each same save, interleaved
    so that all three see the same machine load."""
    cold_argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    cold_argv.append("tests/test_target.py")
    testmon_argv = [sys.executable, "-m", "pytest", "-q", "--testmon"]
    run_once(root, cold_argv, env_with(), "2 passed")  # bytecode cached
    if extra is not None:
        run_once(root, testmon_argv, env_with(*extra), "42 passed")  # testmon's database
    child = Child([sys.executable, "-m", "hotmod", "test", *HOTMOD_ARGS], root, env_with())
    hot, cold, testmon = [], [], []
    try:
        child.wait_for(watching)
        for i in range(runs):
            started = save_target(root, i + 1)
            stamp, report = child.wait_for(summary)
            assert "2 passed" in report and "42" not in report, report
            hot.append(stamp - started)
            child.wait_for(watching)
            # The same save, as the other tools see it: a fresh interpreter after it.
            cold.append(run_once(root, cold_argv, env_with(), "2 passed"))
            if extra is not None:
                testmon.append(run_once(root, testmon_argv, env_with(*extra), "2 passed"))
    finally:
        child.stop()
    return hot, cold, testmon


HOTMOD_ARGS = ["-q", "-p", "no:cacheprovider"]


def watching(line: str) -> bool:
    return line.startswith("hotmod test: watching")


def extra_packages() -> tuple[list[str], str]:
    """A PYTHONPATH entry holding pytest-testmon and pytest-watch, or why there is none."""
    wanted = ("testmon", "pytest_watch", "docopt")
    if all(importlib.util.find_spec(name) for name in wanted):
        return [], ""
    if not all((DEPS_DIR / name).exists() or (DEPS_DIR / f"{name}.py").exists() for name in wanted):
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
        proc = subprocess.run(
            [*pip, str(DEPS_DIR), "pytest-testmon", "pytest-watch", "docopt"],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
            return [], f"not installable with pip: {last}"
    return [str(DEPS_DIR)], ""


def measure_ptw(root: Path, runs: int, path: list[str]) -> list[float]:
    argv = [sys.executable, "-m", "pytest_watch", "--nobeep", "--"]
    argv += ["-q", "-p", "no:cacheprovider", "tests/test_target.py"]
    child = Child(argv, root, env_with(*path))
    try:
        child.wait_for(summary)
        times = []
        for i in range(runs):
            time.sleep(0.5)  # let ptw settle back into watching before the next save
            started = save_target(root, 4000 + i)
            stamp, report = child.wait_for(summary)
            assert "2 passed" in report, report
            times.append(stamp - started)
        return times
    finally:
        child.stop()


def row(name: str, times: list[float] | str, cold: float) -> str:
    if isinstance(times, str):
        return f"| {name:<44} | {'-':>4} | {'-':>9} | {'-':>9} | {times}"
    median = statistics.median(times)
    return (
        f"| {name:<44} | {len(times):>4} | {median * 1000:>9.1f} | {min(times) * 1000:>9.1f} "
        f"| {cold / median:>7.1f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="saves per tool (default 10)")
    args = parser.parse_args()
    import numpy
    import pytest

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        make_project(root)
        path, why = extra_packages()
        hot, cold, measured = measure_side_by_side(root, args.runs, None if why else path)
        testmon: list[float] | str = why or measured
        ptw: list[float] | str = why or measure_ptw(root, args.runs, path)
    base = statistics.median(cold)
    print(
        f"Python {sys.version.split()[0]}, pytest {pytest.__version__}, numpy {numpy.__version__}, "
        f"{os.cpu_count()} cores; project: 21 modules and 21 test files (42 tests) using numpy; "
        "each save changes pkg/target.py, whose test file has 2 tests."
    )
    print()
    print(
        f"| {'edit-to-report of the affected test':<44} | runs | median ms |    min ms | speed-up |"
    )
    print(f"|{'-' * 46}|------|-----------|-----------|----------|")
    print(row("cold `pytest tests/test_target.py`", cold, base))
    print(row("`hotmod test` (warm, affected only)", hot, base))
    print(row("pytest-testmon (`pytest --testmon`)", testmon, base))
    print(row("pytest-watch (`ptw -- tests/test_target.py`)", ptw, base))


if __name__ == "__main__":
    main()
