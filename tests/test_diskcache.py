"""Entries on disk (`_diskcache`): what a reload compiled, read again by the next process.

In process: a fresh reloader stands for the program's next run.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hotmod
from conftest import Project, explain
from hotmod import _runtime

LEAF = "VALUE = {v}\n"
DEP = (
    "from cleaf import VALUE\n\n"
    "def total(x):\n    return x + VALUE\n\n"
    "class Box:\n    def get(self):\n        return VALUE * 10\n"
)


def entry_file(path: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(path))[: -len(".pyc")] + "-hotmod.pyc")


@pytest.fixture
def program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A leaf and a dependent, imported, with bytecode writing allowed."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    (tmp_path / "cleaf.py").write_text(LEAF.format(v=1))
    (tmp_path / "cdep.py").write_text(DEP)
    sys.path.insert(0, str(tmp_path))
    importlib.import_module("cdep")
    yield tmp_path


def settle() -> None:
    assert _runtime.get_reloader().cache_worker.idle.wait(10), "cache worker still busy"


def parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files parsed from now on."""
    seen: list[str] = []
    real = ast.parse

    def parse(source: Any, filename: Any = "<unknown>", *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(str(filename)).name)
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse)
    return seen


def save_leaf(program: Path, value: int) -> None:
    """Save the leaf, reload it, and let the cache worker write what it compiled."""
    (program / "cleaf.py").write_text(LEAF.format(v=value))
    assert hotmod.reload("cleaf").ok
    settle()


@contextlib.contextmanager
def watching(program: Path) -> Iterator[None]:
    """A started watcher, with its warm-up done; stopped on leaving."""
    watcher = hotmod.watch(program)
    try:
        settle()
        yield
    finally:
        watcher.stop()


def restart() -> None:
    """A new reloader: what the program's next run starts with."""
    _runtime.reset()


def test_the_next_run_reloads_a_dependent_without_parsing_it(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_leaf(program, 2)
    assert entry_file(program / "cdep.py").exists()
    restart()
    parsed = parsed_files(monkeypatch)
    (program / "cleaf.py").write_text(LEAF.format(v=3))
    report = hotmod.reload("cleaf")
    assert report.ok and report.reloaded == ["cleaf", "cdep"]
    dep = sys.modules["cdep"]
    assert dep.total(1) == 4 and dep.Box().get() == 30
    assert "cdep.py" not in parsed  # neither to index it nor to compile it
    assert "cleaf.py" in parsed  # (its text changed: read afresh)


def test_a_started_watcher_writes_the_entries_before_any_save(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with watching(program):
        pass
    assert entry_file(program / "cdep.py").exists()
    assert entry_file(program / "cleaf.py").exists()
    restart()
    parsed = parsed_files(monkeypatch)
    assert hotmod.dependents("cleaf") == ["cdep"]  # the graph, from the entries alone
    assert "cdep.py" not in parsed and "cleaf.py" not in parsed


def test_an_entry_is_used_only_for_the_text_it_was_made_from(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_leaf(program, 2)
    restart()
    (program / "cdep.py").write_text(DEP.replace("x + VALUE", "x - VALUE"))
    importlib.reload(sys.modules["cdep"])  # the program runs the new text
    parsed = parsed_files(monkeypatch)
    (program / "cleaf.py").write_text(LEAF.format(v=5))
    assert hotmod.reload("cleaf").ok
    assert sys.modules["cdep"].total(10) == 5
    assert "cdep.py" in parsed


def test_a_broken_entry_is_no_entry(program: Path) -> None:
    save_leaf(program, 2)
    entry = entry_file(program / "cdep.py")
    entry.write_bytes(entry.read_bytes()[:40])
    restart()
    (program / "cleaf.py").write_text(LEAF.format(v=7))
    assert hotmod.reload("cleaf").ok
    assert sys.modules["cdep"].total(1) == 8


def test_nothing_is_written_when_the_program_asks_for_no_bytecode(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    save_leaf(program, 2)
    with watching(program):
        pass
    assert not entry_file(program / "cdep.py").exists()
    assert not entry_file(program / "cleaf.py").exists()


def test_without_bytecode_a_started_watcher_compiles_ahead_in_memory(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    with watching(program):
        parsed = parsed_files(monkeypatch)
        (program / "cleaf.py").write_text(LEAF.format(v=6))
        assert hotmod.reload("cleaf").ok
    assert sys.modules["cdep"].total(1) == 7
    assert "cdep.py" not in parsed  # compiled by the warm-up, not by the reload
    assert not entry_file(program / "cdep.py").exists()


def test_compiling_ahead_never_evicts_what_reloads_compiled() -> None:
    from hotmod._steps import CompileCache, Step

    def step(name: str) -> Step:
        return Step(name, f"/{name}.py", b"", None, frozenset(), False, False, frozenset(),
                     None, None, None, (), 100)  # fmt: skip

    cache = CompileCache(limit=250)
    cache.put("a", "/a.py", 1, step("a"), 0.0)
    cache.put("b", "/b.py", 2, step("b"), 0.0)
    cache.put("c", "/c.py", 3, step("c"), 0.0, evict=False)  # no room: not cached
    assert cache.get("c", "/c.py", 3) is None and cache.get("a", "/a.py", 1) is not None
    cache.put("c", "/c.py", 3, step("c"), 0.0)  # a reload's: the oldest goes
    assert cache.get("c", "/c.py", 3) is not None and cache.get("b", "/b.py", 2) is None


def test_a_file_whose_stat_is_unchanged_gives_its_cached_step() -> None:
    # A dependent's step comes straight from its stat: not hashed, not looked up again.
    from hotmod._steps import CompileCache, Step

    def step(name: str, stat: tuple[int, int, int]) -> Step:
        return Step(name, f"/{name}.py", b"", None, frozenset(), False, False, frozenset(),
                     None, None, stat, (), 100)  # fmt: skip

    cache = CompileCache(limit=250)
    a, b = step("a", (1, 10, 7)), step("b", (1, 10, 8))
    cache.put("a", "/a.py", 1, a, 0.0)
    cache.put("b", "/b.py", 2, b, 0.0)
    assert cache.unchanged("a", "/a.py", (1, 10, 7), 5.0) is a
    assert cache.checked_since("a", "/a.py", 5.0) is a  # (found holding its text at 5.0)
    assert cache.unchanged("a", "/a.py", (2, 10, 7), 6.0) is None  # touched since
    assert cache.unchanged("a", "/elsewhere/a.py", (1, 10, 7), 6.0) is None
    cache.put("c", "/c.py", 3, step("c", (1, 1, 1)), 0.0)  # full: the least recently used goes
    assert cache.latest("b", "/b.py") is None and cache.latest("a", "/a.py") is a


def test_a_burst_of_reloads_leaves_one_write_per_file() -> None:
    from hotmod._diskcache import Worker

    worker = Worker()
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def first() -> None:
        started.set()
        release.wait(5)

    worker.write({"a.py": first})
    assert started.wait(5)
    for text in ("1", "2", "3"):  # saves of a.py while the worker is busy
        worker.write({"a.py": functools.partial(done.append, "a" + text)})
    worker.write({"b.py": functools.partial(done.append, "b")})
    release.set()
    assert worker.idle.wait(5)
    assert done == ["a3", "b"]  # older texts of a.py were never written


def test_a_forked_child_gets_a_worker_of_its_own(tmp_path: Path) -> None:
    # Forked while the worker thread holds its lock and has work: the child's own work
    # still gets done, by a thread of its own.
    script = tmp_path / "fork.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, threading
            from hotmod._diskcache import Worker

            worker = Worker()
            busy, release = threading.Event(), threading.Event()

            def hold():
                with worker._guard:  # (as if forked in the middle of taking a job)
                    busy.set()
                    release.wait(5)

            worker.write({"a.py": lambda: None})
            holder = threading.Thread(target=hold)
            holder.start()
            busy.wait(5)
            pid = os.fork()
            if pid == 0:
                done = []
                worker.write({"b.py": lambda: done.append(1)})
                os._exit(0 if worker.idle.wait(5) and done == [1] else 3)
            release.set()
            holder.join()
            _, status = os.waitpid(pid, 0)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=str(Path(hotmod.__file__).parent.parent))
    proc = subprocess.run([sys.executable, str(script)], env=env, timeout=30)
    assert proc.returncode == 0


def test_every_module_that_makes_an_entry_is_in_its_key() -> None:
    # An entry is valid only for the hotmod that made it: editing any of these files
    # must retire the entries on disk.
    from hotmod import _bigsource, _diskcache, _steps
    from hotmod._define import bound_names, instrument, plain_definitions
    from hotmod._graph import imports_of
    from hotmod._registrants import registrants

    makers = {
        f.__module__
        for f in (
            _steps.make_entry,
            _steps.build_step,
            _steps.entry_step,
            _bigsource.scan,
            bound_names,
            instrument,
            plain_definitions,
            imports_of,
            registrants,
            _diskcache.store,
        )
    }
    assert {m.rpartition(".")[2] for m in makers} <= set(_diskcache._MAKERS)


def test_entries_a_reload_compiled_are_written_before_the_program_ends(
    project: Project,
) -> None:
    # The program ends right after the reload, while the worker thread (a daemon) still
    # has most of its 300 entries to write.
    project.scenario("diskcache_exit")
    env = project.env()
    del env["PYTHONDONTWRITEBYTECODE"]
    proc = project.python("main.py", "300", env=env)
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.split() == ["301"]
    missing = [
        path.name for path in sorted(project.root.glob("x*.py")) if not entry_file(path).exists()
    ]
    assert missing == []
