"""Compare hotmod with other reloaders on the classic hot-reload failures, by running them.

Run: ``python benchmarks/compare.py`` (``--help`` for options). Prints a Markdown table:
tools as columns, scenarios as rows, every cell measured in this run.

How it works
------------
For every (tool, scenario) pair the script writes a small project into a fresh temp dir
and starts a fresh subprocess that runs it under the tool, driven the way the tool's docs
say it is used:

* ``hotmod (watch)``: ``hotmod.watch(project)`` in the program, before the imports.
* ``hotmod (reload)``: ``hotmod.reload("m")`` called by the program after each save.
* ``IPython %autoreload 2`` and ``3``: an ``InteractiveShell`` with ``%load_ext autoreload``
  and ``%autoreload 2`` (or ``3``, which also tracks ``from X import Y`` names); the
  program's names live in the shell's user namespace and one ``run_cell`` follows each
  save (autoreload applies changes before a cell runs).
* ``jurigged``: ``jurigged.watch("<project>/*.py")`` in the program, before the imports.
* ``hmr``: the ``hmr`` command runs the entry file (``hmr entry.py``, its documented use).
  hmr re-runs the entry file when something it used changes, so the entry file starts the
  long-running part of the program once, in a thread, as a server would.
* ``reloadium``: ``reloadium run driver.py``.
* ``restart``: the ``watchfiles`` command (``watchfiles "python driver.py" project``), a
  process-restart reloader: every save kills the program and starts it anew.

The program (``driver.py``, the script the tool runs) does ``from m import CONST, Cls, f``,
``import m, dep, state``, ``obj = Cls()`` and ``live = state.Live()`` at top level, then
takes hold of ``f``, ``obj`` and ``live`` (the references that exist before the edit).
Each scenario then saves a new ``m.py`` (or a broken one), lets the tool apply it and looks
at the program from inside: the captured ``f()``, the ``CONST`` bound in the program's
namespace, ``dep.TOTAL``, the captured ``obj``, and so on.

Waiting: with a watcher the program polls what it observes every 0.2 ms until the expected
value appears (deadline 4 s); where the right outcome is that nothing changes (a syntax
error, a failing dependent) it waits 1 s and then looks; (h) also waits 1 s after the
change shows, for whatever else the tool re-runs after ``m``. With an explicit call
(hotmod's ``reload``, an IPython cell) it makes the call and then looks. For the restart
reloader the program writes what it observes to a status file every few milliseconds and
the harness reads it; a status older than 0.5 s means no program is running.

Latency: a 50-module project (``leaf.py`` imported by 20 modules, 29 unrelated ones), the
program polls ``leaf.get()`` every 0.2 ms (a ``time.sleep`` that releases the GIL) while
the harness, in the same process, rewrites ``leaf.py`` with a new return value; the time
from just before the write to the first poll that sees the new value is one sample. The
same end point for every tool (no tool's own callback is used), 2 warm-up rounds then
``--rounds`` samples, median reported. For explicit-call tools (hotmod.reload, IPython)
the sample is write + the call. For the restart reloader the clock stops when the new
process's status file shows the new value.

All children run with ``PYTHONDONTWRITEBYTECODE=1``: the edits here come within the same
second as the import, and importlib's bytecode cache (validated by whole-second mtime and
size) would otherwise hand tools that go through ``importlib`` a stale ``.pyc``.

Every subprocess has a timeout and is killed with its process group.
"""

from __future__ import annotations

import argparse
import builtins
import concurrent.futures
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _chart  # noqa: E402

POLL = 0.0002  # seconds between polls of an observed value
DEADLINE = 4.0  # seconds to wait for an expected change
SETTLE = 1.0  # seconds to wait where the right outcome is "nothing changes"
STALE = 0.5  # a restart-program status older than this means no program runs
CHILD_TIMEOUT = 60.0
LATENCY_TIMEOUT = 120.0

TOOLS: dict[str, str] = {  # column title -> distribution checked for availability
    "hotmod-watch": "hotmod",
    "hotmod-reload": "hotmod",
    "ipython": "ipython",
    "ipython-3": "ipython",
    "jurigged": "jurigged",
    "hmr": "hmr",
    "reloadium": "reloadium",
    "restart": "watchfiles",
}
TITLES = {
    "hotmod-watch": "hotmod (watch)",
    "hotmod-reload": "hotmod (reload)",
    "ipython": "IPython %autoreload 2",
    "ipython-3": "IPython %autoreload 3",
    "jurigged": "jurigged",
    "hmr": "hmr",
    "reloadium": "reloadium",
    "restart": "restart (watchfiles)",
}
SCENARIOS: dict[str, str] = {
    "a": "(a) function body edit seen by a reference taken before (`from m import f`)",
    "b": "(b) `from m import CONST` binding in the program updated",
    "c": "(c) dependent's import-time value (`TOTAL = len(m.items)`) recomputed",
    "d": "(d) existing instance runs the edited method; `isinstance(obj, m.Cls)` holds",
    "e": "(e) syntax error: old code keeps running; the later fix applies",
    "f": "(f) dependent raises at import: edited module rolled back too",
    "g": "(g) deleted name is gone after reload",
    "h": "(h) process state survives (same process, counter and live object kept)",
    "i": "(i) save-to-applied latency, leaf edit, 50-module project (median)",
}
WATCHERS = {"hotmod-watch", "jurigged", "hmr", "reloadium"}
EXPLICIT = {"hotmod-reload", "ipython", "ipython-3"}


# --------------------------------------------------------------------------- project


def m_source(
    *,
    const: int = 1,
    items: tuple[int, ...] = (1, 2, 3),
    gone: bool = True,
    brk: bool = False,
    f: str = "old",
    method: str = "old",
    syntax_error: bool = False,
) -> str:
    """The edited module ``m``; keyword arguments describe one version of it."""
    lines = [f"CONST = {const}", f"items = {list(items)!r}"]
    if gone:
        lines.append('GONE = "present"')
    if brk:
        lines.append("BREAK_DEPENDENT = True")
    lines += ["", "", "def f():", f"    return {f!r}", ""]
    if syntax_error:
        lines += ["", "def broken(:", "    pass", ""]
    lines += ["", "class Cls:", "    def method(self):", f"        return {method!r}", ""]
    return "\n".join(lines)


DEP_SOURCE = """\
import m
import state

state.DEP_RUNS[0] += 1
TOTAL = len(m.items)
if getattr(m, "BREAK_DEPENDENT", False):
    raise RuntimeError("dependent fails at import")
"""

STATE_SOURCE = """\
COUNTER = [0]
DEP_RUNS = [0]


class Live:
    pass
"""

DRIVER = """\
import sys

sys.path.insert(0, {harness!r})
import compare as _compare

_compare.before_imports({tool!r}, {root!r})
from m import CONST, Cls, f
import dep
import m
import state

obj = Cls()
live = state.Live()
_compare.start({tool!r}, {scenario!r}, {root!r})
"""

LATENCY_DEPENDENTS = 20
LATENCY_OTHERS = 29


def leaf_source(value: int) -> str:
    return f"VALUE = {value}\n\n\ndef get():\n    return {value}\n"


LATENCY_DRIVER = """\
import sys

sys.path.insert(0, {harness!r})
import compare as _compare

_compare.before_imports({tool!r}, {root!r})
{imports}
_compare.start({tool!r}, "i", {root!r})
"""


def make_project(root: Path, tool: str, scenario: str) -> None:
    """Write the project for one run into ``root``."""
    root.mkdir(parents=True)
    if scenario == "i":
        (root / "leaf.py").write_text(leaf_source(0))
        names = ["leaf"]
        for i in range(LATENCY_DEPENDENTS):
            parent = "leaf" if i < 5 else f"dep_{i // 4:02d}"
            (root / f"dep_{i:02d}.py").write_text(
                f"import {parent}\nfrom leaf import VALUE\n\nDERIVED = VALUE + {i}\n\n\n"
                "def get():\n    return VALUE\n"
            )
            names.append(f"dep_{i:02d}")
        for i in range(LATENCY_OTHERS):
            prev = f"import other_{i - 1:02d}\n" if i else ""
            (root / f"other_{i:02d}.py").write_text(
                f"{prev}CONST = {i}\n\n\ndef work(x):\n    return x * CONST\n"
            )
            names.append(f"other_{i:02d}")
        imports = "\n".join(f"import {n}" for n in names)
        driver = LATENCY_DRIVER.format(
            harness=str(HERE), tool=tool, root=str(root), imports=imports
        )
    else:
        (root / "m.py").write_text(m_source())
        (root / "dep.py").write_text(DEP_SOURCE)
        (root / "state.py").write_text(STATE_SOURCE)
        driver = DRIVER.format(harness=str(HERE), tool=tool, scenario=scenario, root=str(root))
    (root / "driver.py").write_text(driver)


def save(path: Path, text: str) -> None:
    """Save a file the way an editor writing in place does."""
    with open(path, "w") as fh:
        fh.write(text)


# --------------------------------------------------------------------------- child side


class Context:
    """What the running program holds: its namespace and the references taken at start."""

    def __init__(self, ns_get: Callable[[str], Any], *, set_counter: bool = True) -> None:
        self.ns_get = ns_get
        self.f0: Any = ns_get("f")
        self.obj0: Any = ns_get("obj")
        self.live0: Any = ns_get("live")
        if set_counter:  # runtime state, in no source; the restart harness can't set it
            sys.modules["state"].COUNTER[0] = 777


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except BaseException as exc:
        return f"error: {type(exc).__name__}: {exc}"


def observe(ctx: Context) -> dict[str, Any]:
    """The program's view of things, from inside."""

    def mod(name: str) -> Any:
        return sys.modules[name]

    return {
        "pid": os.getpid(),
        "t": time.time(),
        "f_ref": _safe(lambda: ctx.f0()),
        "m_f": _safe(lambda: mod("m").f()),
        "CONST": _safe(lambda: ctx.ns_get("CONST")),
        "m_CONST": _safe(lambda: mod("m").CONST),
        "TOTAL": _safe(lambda: mod("dep").TOTAL),
        "method": _safe(lambda: ctx.obj0.method()),
        "isinstance": _safe(lambda: isinstance(ctx.obj0, mod("m").Cls)),
        "GONE": _safe(lambda: hasattr(mod("m"), "GONE")),
        "counter": _safe(lambda: mod("state").COUNTER[0]),
        "dep_runs": _safe(lambda: mod("state").DEP_RUNS[0]),
        "live_same": _safe(lambda: ctx.ns_get("live") is ctx.live0),
    }


Obs = dict[str, Any]
Pred = Callable[[Obs], bool]


class Driver:
    """How the program gets to the new code after a save, for one tool."""

    def __init__(self, tool: str, root: Path, ctx: Context | None, apply: Callable[[], None]):
        self.tool = tool
        self.root = root
        self.ctx = ctx
        self.apply = apply  # explicit tools: the call that applies pending changes

    def look(self) -> Obs:
        assert self.ctx is not None
        return observe(self.ctx)

    def wait(self, pred: Pred, *, expect_change: bool) -> Obs:
        if self.tool in EXPLICIT:
            self.apply()
            return self.look()
        if not expect_change:
            time.sleep(SETTLE)
            return self.look()
        end = time.monotonic() + DEADLINE
        obs = self.look()
        while not pred(obs) and time.monotonic() < end:
            time.sleep(POLL)
            obs = self.look()
        return obs


class RestartDriver(Driver):
    """The program is a separate process restarted by watchfiles; read its status file."""

    def __init__(self, root: Path, status: Path) -> None:
        super().__init__("restart", root, None, lambda: None)
        self.status = status

    def look(self) -> Obs:
        try:
            obs: Obs = json.loads(self.status.read_text())
        except (OSError, ValueError):
            return {"stale": True}
        obs["stale"] = time.time() - float(obs["t"]) > STALE
        return obs

    def wait(self, pred: Pred, *, expect_change: bool) -> Obs:
        if not expect_change:
            time.sleep(SETTLE)
            return self.look()
        end = time.monotonic() + DEADLINE
        obs = self.look()
        while not (not obs.get("stale") and pred(obs)) and time.monotonic() < end:
            time.sleep(POLL)
            obs = self.look()
        return obs


Result = tuple[str, str]  # ("pass" | "fail" | "na", note)


def _fmt(obs: Obs, *keys: str) -> str:
    if obs.get("stale"):
        return "no running program (status stale)"
    return ", ".join(f"{k}={obs.get(k)!r}" for k in keys)


def _alive(obs: Obs) -> bool:
    return not obs.get("stale")


def _same_process(obs: Obs, base: Obs) -> bool:
    """(a) and (d) are about objects from before the save: they exist in that process only."""
    return obs.get("pid") == base.get("pid")


def _pid_note(obs: Obs, base: Obs) -> str:
    if _same_process(obs, base):
        return ""
    return "; a new process: the reference/instance from before the save is gone"


def run_scenario(scenario: str, drv: Driver) -> Result:
    """Edit ``m.py`` as the scenario says and judge what the program observes."""
    m = drv.root / "m.py"
    base = drv.look()
    if scenario == "a":
        save(m, m_source(f="new"))
        obs = drv.wait(lambda o: o.get("f_ref") == "new", expect_change=True)
        ok = _alive(obs) and obs.get("f_ref") == "new" and _same_process(obs, base)
        return ("pass" if ok else "fail", _fmt(obs, "f_ref", "m_f") + _pid_note(obs, base))
    if scenario == "b":
        save(m, m_source(const=2))
        obs = drv.wait(lambda o: o.get("CONST") == 2, expect_change=True)
        ok = _alive(obs) and obs.get("CONST") == 2
        return ("pass" if ok else "fail", _fmt(obs, "CONST", "m_CONST"))
    if scenario == "c":
        save(m, m_source(items=(1, 2, 3, 4)))
        obs = drv.wait(lambda o: o.get("TOTAL") == 4, expect_change=True)
        ok = _alive(obs) and obs.get("TOTAL") == 4
        return ("pass" if ok else "fail", _fmt(obs, "TOTAL"))
    if scenario == "d":
        save(m, m_source(method="new"))
        obs = drv.wait(
            lambda o: o.get("method") == "new" and o.get("isinstance") is True, expect_change=True
        )
        ok = _alive(obs) and obs.get("method") == "new" and obs.get("isinstance") is True
        ok = ok and _same_process(obs, base)
        return ("pass" if ok else "fail", _fmt(obs, "method", "isinstance") + _pid_note(obs, base))
    if scenario == "e":
        save(m, m_source(f="new", syntax_error=True))
        first = drv.wait(lambda o: False, expect_change=False)
        kept = _alive(first) and first.get("m_f") == "old" and first.get("pid") == base.get("pid")
        save(m, m_source(f="new"))
        second = drv.wait(lambda o: o.get("m_f") == "new", expect_change=True)
        fixed = _alive(second) and second.get("m_f") == "new"
        note = f"after the bad save: {_fmt(first, 'm_f', 'pid')}; after the fix: "
        note += _fmt(second, "m_f", "pid")
        return ("pass" if kept and fixed else "fail", note)
    if scenario == "f":
        save(m, m_source(const=2, f="new", brk=True))
        obs = drv.wait(lambda o: False, expect_change=False)
        note = _fmt(obs, "m_CONST", "m_f", "f_ref", "dep_runs")
        note += f" (dep_runs before: {base.get('dep_runs')})"
        if not _alive(obs):
            return ("fail", note)
        if obs.get("m_CONST") == 1 and obs.get("m_f") == "old" and obs.get("f_ref") == "old":
            return ("pass", note)
        if obs.get("dep_runs") == base.get("dep_runs"):
            return ("na", note + "; the dependent was never re-executed, so it never raised")
        return ("fail", note + "; half-applied: m has new values although its dependent failed")
    if scenario == "g":
        save(m, m_source(gone=False))
        obs = drv.wait(lambda o: o.get("GONE") is False, expect_change=True)
        ok = _alive(obs) and obs.get("GONE") is False
        return ("pass" if ok else "fail", _fmt(obs, "GONE"))
    if scenario == "h":
        save(m, m_source(f="new"))
        obs = drv.wait(lambda o: o.get("m_f") == "new", expect_change=True)
        time.sleep(SETTLE)  # let the tool finish whatever else it re-runs after m
        obs = drv.look()
        ok = (
            _alive(obs)
            and obs.get("m_f") == "new"
            and obs.get("pid") == base.get("pid")
            and obs.get("counter") == 777
            and obs.get("live_same") is True
        )
        note = _fmt(obs, "m_f", "counter", "live_same") + _pid_note(obs, base)
        return ("pass" if ok else "fail", note)
    raise ValueError(scenario)


def run_latency(drv: Driver, rounds: int, read: Callable[[], Any]) -> Result:
    """Median time from a save of ``leaf.py`` to ``leaf.get()`` returning the new value."""
    leaf = drv.root / "leaf.py"
    samples: list[float] = []
    for value in range(1, rounds + 3):
        start = time.perf_counter()
        save(leaf, leaf_source(value))
        if drv.tool in EXPLICIT:
            drv.apply()
        end = time.monotonic() + DEADLINE
        seen = read()
        while seen != value and time.monotonic() < end:
            time.sleep(POLL)
            seen = read()
        if seen != value:
            return ("fail", f"edit {value} not observed within {DEADLINE} s (saw {seen!r})")
        samples.append(time.perf_counter() - start)
        time.sleep(0.15)
    kept = samples[2:]
    ms = sorted(x * 1000 for x in kept)
    return (
        "pass",
        f"{statistics.median(ms):.1f} ms (min {ms[0]:.1f}, max {ms[-1]:.1f}, n={len(ms)})",
    )


def emit(result: Result) -> None:
    # a tool may have left a partial line on stdout: start a fresh one
    print("\nRESULT " + json.dumps({"status": result[0], "note": result[1]}), flush=True)


def before_imports(tool: str, root: str) -> None:
    """Called by driver.py before it imports the project: start in-process watchers."""
    if tool == "hotmod-watch":
        import hotmod

        hotmod.watch(root)
    elif tool == "jurigged":
        import jurigged

        jurigged.watch(pattern=os.path.join(root, "*.py"))


def start(tool: str, scenario: str, root: str) -> None:
    """Called by driver.py after its imports: run the scenario (or, for restart, report)."""
    main = sys.modules["__main__"]

    def ns_get(name: str) -> Any:
        return getattr(main, name)

    if tool == "restart":
        _report_forever(scenario, ns_get)
        return
    if tool == "hmr":  # hmr re-runs the entry file on changes: start the program once
        if getattr(builtins, "_compare_started", False):
            return
        builtins._compare_started = True  # type: ignore[attr-defined]
        thread = threading.Thread(target=_run_and_exit, args=(tool, scenario, root, ns_get))
        thread.daemon = True
        thread.start()
        return
    _run_and_exit(tool, scenario, root, ns_get)


def _run_and_exit(tool: str, scenario: str, root: str, ns_get: Callable[[str], Any]) -> None:
    try:
        if tool in WATCHERS:
            time.sleep(0.5)  # let the watcher settle, as a person would before a first save
        result = _run_in_process(tool, scenario, Path(root), ns_get)
    except BaseException as exc:
        result = ("fail", f"harness error: {type(exc).__name__}: {exc}")
    emit(result)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _run_in_process(
    tool: str, scenario: str, root: Path, ns_get: Callable[[str], Any], *, rounds: int = 0
) -> Result:
    apply: Callable[[], None] = lambda: None  # noqa: E731
    if tool == "hotmod-reload":
        import hotmod

        target = "leaf" if scenario == "i" else "m"

        def apply() -> None:
            hotmod.reload(target)

    if scenario == "i":
        drv = Driver(tool, root, None, apply)
        return run_latency(drv, rounds or int(os.environ["COMPARE_ROUNDS"]), _leaf_reader())
    drv = Driver(tool, root, Context(ns_get), apply)
    return run_scenario(scenario, drv)


def _leaf_reader() -> Callable[[], Any]:
    def read() -> Any:
        return _safe(lambda: sys.modules["leaf"].get())

    return read


def _report_forever(scenario: str, ns_get: Callable[[str], Any]) -> None:
    """The restart reloader's program: write what it observes to the status file."""
    status = Path(os.environ["COMPARE_STATUS"])
    tmp = status.with_suffix(".tmp")
    ctx = None if scenario == "i" else Context(ns_get, set_counter=False)
    read = _leaf_reader()
    end = time.monotonic() + CHILD_TIMEOUT
    with contextlib.suppress(KeyboardInterrupt):
        while time.monotonic() < end:
            if ctx is None:
                obs: Obs = {"pid": os.getpid(), "t": time.time(), "value": read()}
            else:
                obs = observe(ctx)
            tmp.write_text(json.dumps(obs))
            os.replace(tmp, status)
            time.sleep(0.002)


def child_ipython(tool: str, scenario: str, root: Path) -> None:
    """IPython: the program is an InteractiveShell; autoreload runs before each cell."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    sys.path.insert(0, str(root))
    os.chdir(root)
    mode = "3" if tool == "ipython-3" else "2"
    for cell in ("%load_ext autoreload", f"%autoreload {mode}"):
        shell.run_cell(cell)
    if scenario == "i":
        names = sorted(p.stem for p in root.glob("*.py") if p.stem != "driver")
        shell.run_cell("\n".join(f"import {n}" for n in names))
    else:
        shell.run_cell(
            "from m import CONST, Cls, f\nimport dep\nimport m\nimport state\n"
            "obj = Cls()\nlive = state.Live()"
        )
    shell.run_cell("pass")  # autoreload notes the modules' mtimes at the first check

    def apply() -> None:
        shell.run_cell("pass")

    try:
        if scenario == "i":
            drv = Driver(tool, root, None, apply)

            def read() -> Any:
                shell.run_cell("_compare_value = leaf.get()")
                return shell.user_ns.get("_compare_value")

            result = run_latency(drv, int(os.environ["COMPARE_ROUNDS"]), read)
        else:
            ctx = Context(lambda name: shell.user_ns[name])
            result = run_scenario(scenario, Driver(tool, root, ctx, apply))
    except BaseException as exc:
        result = ("fail", f"harness error: {type(exc).__name__}: {exc}")
    emit(result)
    os._exit(0)


def child_restart(scenario: str, root: Path) -> None:
    """Restart reloader: run the program under the watchfiles CLI and read its status."""
    status = root.parent / "status.json"
    env = dict(os.environ, COMPARE_STATUS=str(status))
    cmd = f"{shlex.quote(sys.executable)} driver.py"
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfiles", "--filter", "python", cmd, str(root)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    drv = RestartDriver(root, status)
    try:
        end = time.monotonic() + 20
        while drv.look().get("stale", True) and time.monotonic() < end:
            time.sleep(0.01)
        time.sleep(0.5)
        if drv.look().get("stale", True):
            result: Result = ("fail", "the program did not start under watchfiles")
        elif scenario == "i":

            def read() -> Any:
                obs = drv.look()
                return None if obs.get("stale") else obs.get("value")

            result = run_latency(drv, int(os.environ["COMPARE_ROUNDS"]), read)
        else:
            result = run_scenario(scenario, drv)
    except BaseException as exc:
        result = ("fail", f"harness error: {type(exc).__name__}: {exc}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    emit(result)


# --------------------------------------------------------------------------- parent side


def tool_command(tool: str, python: str, root: Path, scenario: str) -> list[str]:
    """The command line that runs one scenario under one tool."""
    here = str(Path(__file__).resolve())
    if tool in ("ipython", "ipython-3", "restart"):
        return [python, here, "--child", tool, scenario, str(root)]
    if tool == "hmr":
        return [str(Path(python).parent / "hmr"), str(root / "driver.py")]
    if tool == "reloadium":
        return [python, "-m", "reloadium", "run", str(root / "driver.py")]
    return [python, str(root / "driver.py")]


def run_one(tool: str, python: str, scenario: str, rounds: int) -> Result:
    """One fresh project, one fresh subprocess; returns the child's verdict."""
    with tempfile.TemporaryDirectory(prefix=f"compare-{tool}-{scenario}-") as tmp:
        root = Path(tmp) / "proj"
        make_project(root, tool, scenario)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", COMPARE_ROUNDS=str(rounds))
        env.pop("PYTHONPATH", None)
        timeout = LATENCY_TIMEOUT if scenario == "i" else CHILD_TIMEOUT
        proc = subprocess.Popen(
            tool_command(tool, python, root, scenario),
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _killpg(proc.pid)
            out, _ = proc.communicate()
            return ("fail", f"timed out after {timeout:.0f} s; output tail: {out[-300:]!r}")
        finally:
            _killpg(proc.pid)
        for line in reversed(out.splitlines()):
            if line.startswith("RESULT {"):  # a tool's thread may print right after it
                with contextlib.suppress(ValueError):
                    data, _ = json.JSONDecoder().raw_decode(line, len("RESULT "))
                    return (data["status"], data["note"])
        return ("fail", f"no result (exit {proc.returncode}); output tail: {out[-400:]!r}")


def _killpg(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def tool_version(tool: str, python: str) -> str | None:
    """The installed version of the tool's distribution for that interpreter, or None."""
    dist = TOOLS[tool]
    if python == sys.executable:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    try:
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def python_version(python: str) -> str:
    if python == sys.executable:
        return platform.python_version()
    code = "import platform; print(platform.python_version())"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def cell(status: str, note: str, scenario: str, tool: str) -> str:
    if scenario == "i":
        if status != "pass":
            return "✗"
        value = note.split(" ms")[0] + " ms"
        return value + ("²" if tool in EXPLICIT else "")
    return {"pass": "✓", "fail": "✗", "na": "n/a¹"}[status]


def main() -> int:
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Run in the background (``&``, nohup): the programs would inherit an ignored
        # SIGINT, and watchfiles stops the program it restarts with SIGINT.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tools")
    parser.add_argument("--scenarios", default="abcdefghi", help="letters, e.g. abc")
    parser.add_argument("--rounds", type=int, default=10, help="latency samples per tool")
    parser.add_argument("--jobs", type=int, default=3, help="parallel scenario runs (not i)")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="TOOL=PATH",
        help="interpreter for a tool (hmr needs Python >= 3.12), e.g. hmr=/venv312/bin/python",
    )
    parser.add_argument("--notes", action="store_true", help="print every cell's observation")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    _chart.add_options(parser, "compare")
    args = parser.parse_args()

    if args.child:
        tool, scenario, root = args.child
        if tool in ("ipython", "ipython-3"):
            child_ipython(tool, scenario, Path(root))
        elif tool == "restart":
            child_restart(scenario, Path(root))
        return 0

    pythons = {tool: sys.executable for tool in TOOLS}
    for item in args.python:
        name, _, path = item.partition("=")
        pythons[name] = path
    tools: list[str] = []
    versions: dict[str, str] = {}
    for tool in args.tools.split(","):
        version = tool_version(tool, pythons[tool])
        if version is None:
            hint = " (hmr needs Python >= 3.12: --python hmr=PATH)" if tool == "hmr" else ""
            print(f"skipping {tool}: {TOOLS[tool]} not installed for {pythons[tool]}{hint}")
            continue
        tools.append(tool)
        versions[tool] = f"{TOOLS[tool]} {version} (Python {python_version(pythons[tool])})"
    scenarios = [s for s in args.scenarios if s in SCENARIOS]

    results: dict[tuple[str, str], Result] = {}
    started = time.monotonic()
    jobs = [(t, s) for s in scenarios if s != "i" for t in tools]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_one, t, pythons[t], s, args.rounds): (t, s) for t, s in jobs}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
    if "i" in scenarios:  # one at a time, nothing else running
        for tool in tools:
            results[(tool, "i")] = run_one(tool, pythons[tool], "i", args.rounds)
    elapsed = time.monotonic() - started

    today = datetime.date.today().isoformat()
    print(f"\n`python benchmarks/compare.py` on {today}, {platform.system()}, {elapsed:.0f} s\n")
    for tool in tools:
        print(f"- {TITLES[tool]}: {versions[tool]}")
    print()
    print("| scenario | " + " | ".join(TITLES[t] for t in tools) + " |")
    print("|---|" + "---|" * len(tools))
    for s in scenarios:
        cells = [cell(*results[(t, s)], s, t) for t in tools]
        print(f"| {SCENARIOS[s]} | " + " | ".join(cells) + " |")
    print()
    print("✓ verified, ✗ failed (see notes), ¹ n/a: the tool does not re-execute dependents,")
    print("so the dependent never raised; ² applied at the next explicit call (hotmod.reload,")
    print("an IPython cell): the time is the save plus that call, not a watcher's reaction.")
    print("A restart gives a new process that sees the new code by construction; (a), (d) and")
    print("(h) ask for objects or state from before the save, which a restart discards.")
    if args.notes:
        print()
        for s in scenarios:
            for t in tools:
                status, note = results[(t, s)]
                print(f"- {TITLES[t]} / ({s}) {status}: {note}")
    if args.json:
        raw = [
            {"tool": t, "scenario": s, "status": results[(t, s)][0], "note": results[(t, s)][1]}
            for s in scenarios
            for t in tools
        ]
        args.json.write_text(json.dumps({"versions": versions, "results": raw}, indent=2))
    latency_chart(_chart.chart_paths(args), tools, results)
    return 0


def latency_chart(
    paths: list[Path], tools: list[str], results: dict[tuple[str, str], Result]
) -> None:
    """Scenario (i) as bars: every tool's median save-to-applied latency."""
    bars = []
    for tool in tools:
        status, note = results.get((tool, "i"), ("fail", ""))
        if status != "pass":
            continue
        kind = "hotmod" if tool.startswith("hotmod") else "other reloaders"
        if tool == "restart":
            kind = "process restart"
        title = TITLES[tool] + (" ²" if tool in EXPLICIT else "")
        bars.append(_chart.Bar(title, float(note.split(" ms")[0]), kind))
    _chart.bar_chart(
        paths,
        bars,
        title="Save to applied, leaf edit, 50-module project (median)",
        unit="ms",
        note="python benchmarks/compare.py; ² applied at the next explicit call: the save "
        "plus that call, not a watcher's reaction",
    )


if __name__ == "__main__":
    sys.exit(main())
