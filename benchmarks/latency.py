"""Save-to-applied latency of hotmod beside a process-restart reloader, idle CPU, import time.

Run: ``python benchmarks/latency.py`` (``--quick`` for fewer rounds). Prints one table.

* hotmod rows: this process is the running program. It imports a generated project of
  200 modules where a leaf has 50 dependents, then watches it with default settings. Each
  round writes and closes the leaf (in place, or as an atomic save: temporary file then
  rename) and stops the clock when ``on_reload`` reports the reload applied and a
  dependent returns the new value.
* hotmod run row: the same program run by ``hotmod run`` in a child process, printing
  the new value from its ``on_reload``; the save comes from this process (an editor)
  and the clock stops when the line arrives, as for the restart rows.
* floor row: the floor of this design in the same run: the same native monitor, and on
  each batch a plain re-run (``exec``) of the leaf and its 50 importers in their module
  namespaces, compiling only the edited source, nothing else (no plan, no patching, no
  rebinding, no transaction).
* busy rows: the same, while a thread of the program runs pure Python all along (a
  simulation, a game loop), holding the GIL whenever the watcher's thread lets go of it.
* restart row: the same program under a process-restart reloader (a native file watcher
  that kills and re-spawns a fresh interpreter, as uvicorn --reload and watchfiles do);
  the clock stops when the new process prints the new value. As after a first run, every
  module but the edited one has its bytecode cached (``__pycache__``); the edited one is
  compiled from its source each time (its cache could not be trusted within one second).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import _chart

import hotmod
from hotmod._monitor import make_monitor

N_MODULES = 200
N_DEPENDENTS = 50


def make_project(root: Path, stack: tuple[str, ...] = ()) -> None:
    """A leaf with 50 dependents (a tree of imports) and 149 unrelated modules.

    ``stack``: installed packages the program imports first, as a real app would.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "leaf.py").write_text(leaf_source(0))
    for i in range(N_DEPENDENTS):
        parent = "leaf" if i < 10 else f"dep_{i // 5:02d}"
        (root / f"dep_{i:02d}.py").write_text(
            f"from {parent} import VALUE\n"
            f"import {parent}\n\n"
            f"DERIVED = VALUE + {i}\n\n"
            "def get():\n"
            "    return VALUE\n\n"
            f"class Thing{i}:\n"
            "    def value(self):\n"
            "        return VALUE\n"
        )
    for i in range(N_MODULES - N_DEPENDENTS - 1):
        imports = "".join(f"import other_{j:03d}\n" for j in range(max(0, i - 3), i))
        (root / f"other_{i:03d}.py").write_text(
            f"{imports}\nCONST = {i}\n\n"
            "def work(x):\n"
            "    return x * CONST\n\n"
            f"class Other{i}:\n"
            "    def method(self):\n"
            "        return CONST\n"
        )
    names = ["leaf"] + [f"dep_{i:02d}" for i in range(N_DEPENDENTS)]
    names += [f"other_{i:03d}" for i in range(N_MODULES - N_DEPENDENTS - 1)]
    (root / "program.py").write_text(
        "import time\n"
        + "".join(f"import {n}\n" for n in (*stack, *names))
        + "print(dep_49.get(), flush=True)\n"
        + "time.sleep(3600)  # a long-running program\n"
    )
    (root / "hot_program.py").write_text(  # the same, run by `hotmod run`, printing on reload
        "import time\n\nimport hotmod\n\n"
        + "".join(f"import {n}\n" for n in (*stack, *names))
        + "hotmod.watch(on_reload=lambda report: print(dep_49.get(), flush=True))\n"
        + "print(dep_49.get(), flush=True)\n"
        + "time.sleep(3600)\n"
    )


def module_names(root: Path) -> list[str]:
    """The project's modules (its programs left out: they run forever)."""
    programs = ("program", "hot_program")
    return [p.stem for p in sorted(root.glob("*.py")) if p.stem not in programs]


def cache_bytecode(root: Path) -> None:
    """Write the bytecode cache of every module of the project but the edited leaf."""
    import compileall

    compileall.compile_dir(str(root), quiet=1)
    for cached in (root / "__pycache__").glob("leaf.*.pyc"):
        cached.unlink()


def leaf_source(value: int) -> str:
    return f"VALUE = {value}\n\ndef helper():\n    return VALUE\n"


def save(path: Path, text: str, *, atomic: bool) -> None:
    if atomic:
        tmp = path.with_name(path.name + ".tmp~")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        with open(path, "w") as f:
            f.write(text)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextlib.contextmanager
def busy_thread(busy: bool) -> Iterator[None]:
    """A thread running pure Python meanwhile, if ``busy``: a program's simulation loop."""
    stop = threading.Event()

    def spin() -> None:
        n = 0
        while not stop.is_set():
            for _ in range(1000):
                n += 1

    thread = threading.Thread(target=spin, daemon=True)
    if busy:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if busy:
            thread.join()


def bench_hotmod(
    root: Path,
    *,
    backend: str,
    atomic: bool,
    rounds: int,
    stack: tuple[str, ...] = (),
    busy: bool = False,
) -> list[float]:
    """Save-to-applied latency in this process, in seconds."""
    sys.path.insert(0, str(root))
    for name in [n for n in sys.modules if n.startswith(("leaf", "dep_", "other_"))]:
        del sys.modules[name]
    for name in stack:
        importlib.import_module(name)
    for name in module_names(root):
        importlib.import_module(name)
    dep = sys.modules["dep_49"]
    applied: queue.Queue[float] = queue.Queue()
    watcher = hotmod.watch(
        root,
        backend=backend,  # type: ignore[arg-type]
        on_reload=lambda report: applied.put(time.perf_counter()),
    )
    try:
        value = int(dep.get())
        with busy_thread(busy):
            samples = _rounds(root, dep, applied, value, rounds=rounds, atomic=atomic)
    finally:
        watcher.stop()
        sys.path.remove(str(root))
    return samples[2:]


def _rounds(
    root: Path, dep: Any, applied: queue.Queue[float], value: int, *, rounds: int, atomic: bool
) -> list[float]:
    samples = []
    for _ in range(rounds + 2):  # two warm-up rounds
        value += 1
        start = time.perf_counter()
        save(root / "leaf.py", leaf_source(value), atomic=atomic)
        end = applied.get(timeout=10)
        assert dep.get() == value, (dep.get(), value)
        samples.append(end - start)
        threading.Event().wait(0.05)  # let the editor's save settle, as a person would
    return samples


def bench_floor(root: Path, *, rounds: int, busy: bool = False) -> list[float]:
    """Save-to-re-run latency of the bare design: watch, then exec the leaf and importers."""
    sys.path.insert(0, str(root))
    names = ["leaf"] + [f"dep_{i:02d}" for i in range(N_DEPENDENTS)]  # importers after
    for name in [n for n in sys.modules if n.startswith(("leaf", "dep_", "other_"))]:
        del sys.modules[name]
    modules = [importlib.import_module(name) for name in names]
    done: queue.Queue[float] = queue.Queue()
    compiled: dict[str, tuple[bytes, Any]] = {}  # path -> (source, code): compile only edits

    def rerun(paths: frozenset[Path]) -> None:
        for module in modules:
            path = module.__file__
            assert path is not None
            with open(path, "rb") as f:
                source = f.read()
            cached = compiled.get(path)
            if cached is None or cached[0] != source:
                cached = compiled[path] = (source, compile(source, path, "exec"))
            exec(cached[1], module.__dict__)
        done.put(time.perf_counter())

    monitor = make_monitor([root], on_batch=rerun)
    monitor.start()
    try:
        with busy_thread(busy):
            value = int(modules[-1].get())
            samples = _rounds(root, modules[-1], done, value, rounds=rounds, atomic=False)
    finally:
        monitor.stop()
        sys.path.remove(str(root))
    return samples[2:]


def bench_restart(root: Path, *, rounds: int) -> list[float]:
    """Save-to-new-output latency of a minimal restart reloader, in seconds.

    Our native watcher with default settings, then kill and re-spawn: the cheapest a
    process restart can be, a lower bound for real restart reloaders.
    """
    changed = threading.Event()
    monitor = make_monitor([root], on_batch=lambda paths: changed.set())
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")

    def spawn() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "program.py"], cwd=root, env=env, stdout=subprocess.PIPE, text=True
        )

    samples = []
    monitor.start()
    child = spawn()
    try:
        assert child.stdout is not None
        value = int(child.stdout.readline())
        for _ in range(rounds + 1):
            value += 1
            changed.clear()
            start = time.perf_counter()
            save(root / "leaf.py", leaf_source(value), atomic=False)
            changed.wait(10)
            child.kill()
            child.wait()
            child = spawn()
            assert child.stdout is not None
            line = child.stdout.readline()
            end = time.perf_counter()
            assert int(line) == value, line
            samples.append(end - start)
    finally:
        child.kill()
        child.wait()
        monitor.stop()
    return samples[1:]


def bench_hotmod_run(root: Path, *, rounds: int) -> list[float]:
    """Save-to-new-output latency of the program run by ``hotmod run``, in seconds.

    Measured as the restart rows are: the save comes from this process (the editor),
    the clock stops when the program prints the new value (from its ``on_reload``).
    """
    src = str(Path(__file__).resolve().parent.parent / "src")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=src)
    command = [sys.executable, "-m", "hotmod", "run", "-q", "hot_program.py"]
    # Two warm-up rounds, as in-process; a person's pause between saves.
    return _printed(command, root, env, rounds=rounds, warm_up=2, pause=0.05)


def bench_watchfiles(root: Path, *, rounds: int) -> list[float] | None:
    """Save-to-new-output latency under the ``watchfiles`` CLI (uvicorn --reload's engine)."""
    import shutil

    exe = shutil.which("watchfiles") or str(Path(sys.executable).parent / "watchfiles")
    if not os.path.exists(exe):
        return None
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    command = [exe, "--filter", "python", f"{sys.executable} program.py", str(root)]
    return _printed(command, root, env, rounds=rounds, warm_up=1, pause=0.2)


def _printed(
    command: list[str],
    root: Path,
    env: dict[str, str],
    *,
    rounds: int,
    warm_up: int,
    pause: float,
) -> list[float]:
    """Seconds from each save of the leaf to the program printing its new value."""
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    samples = []
    try:
        assert proc.stdout is not None
        value = int(proc.stdout.readline())
        for _ in range(rounds + warm_up):
            value += 1
            start = time.perf_counter()
            save(root / "leaf.py", leaf_source(value), atomic=False)
            while int(proc.stdout.readline()) != value:
                pass
            samples.append(time.perf_counter() - start)
            threading.Event().wait(pause)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return samples[warm_up:]


def idle_cpu(seconds: float) -> float:
    """Percent of one core used while watching a 10,000-file tree with nothing changing."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for d in range(100):
            folder = root / f"pkg{d:03d}"
            folder.mkdir()
            for f in range(100):
                (folder / f"mod{f:03d}.py").write_text("X = 1\n")
        watcher = hotmod.watch(root)
        try:
            before = time.process_time()
            threading.Event().wait(seconds)
            used = time.process_time() - before
        finally:
            watcher.stop()
    return 100 * used / seconds


def import_time(code: str = "import hotmod", runs: int = 15) -> float:
    """Median extra milliseconds of running ``code`` over a bare interpreter start."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "src"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached

    def timed(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        return time.perf_counter() - start

    timed(code)  # writes the bytecode cache
    bare = statistics.median(timed("pass") for _ in range(runs))
    with_hotmod = statistics.median(timed(code) for _ in range(runs))
    return 1000 * (with_hotmod - bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    _chart.add_options(parser, "latency")
    args = parser.parse_args()
    rounds = 10 if args.quick else 40
    programs: list[tuple[str, tuple[str, ...]]] = [("200 modules", ())]
    if importlib.util.find_spec("fastapi") is not None:  # a web app's usual start-up cost
        programs.append(("200 modules + FastAPI", ("fastapi",)))
    else:
        print("(fastapi is not installed: the second program is skipped)")
    table: list[tuple[str, str, list[float], float]] = []
    for label, stack in programs:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "project"
            make_project(root, stack)
            cache_bytecode(root)
            restarts = [
                ("restart: minimal (kill + spawn)", bench_restart(root, rounds=rounds // 2))
            ]
            watchfiles = bench_watchfiles(root, rounds=rounds // 2)
            if watchfiles is not None:
                restarts.insert(0, ("restart: watchfiles CLI", watchfiles))
            basis = statistics.median(restarts[0][1])
            kinds = [("watchdog", False), ("watchdog", True)]
            if not stack:
                kinds += [("polling", False), ("polling", True)]
            for backend, atomic in kinds:
                samples = bench_hotmod(
                    root, backend=backend, atomic=atomic, rounds=rounds, stack=stack
                )
                save_kind = "atomic save" if atomic else "write + close"
                table.append((label, f"hotmod, {backend}, {save_kind}", samples, basis))
            run = bench_hotmod_run(root, rounds=rounds)
            table.append((label, "hotmod run, editor elsewhere", run, basis))
            if not stack:
                busy = bench_hotmod(
                    root, backend="watchdog", atomic=False, rounds=rounds, busy=True
                )
                table.append((label, "hotmod, watchdog, busy program", busy, basis))
                floor = bench_floor(root, rounds=rounds)
                table.append((label, "floor: watch + re-run (exec)", floor, basis))
                floor = bench_floor(root, rounds=rounds, busy=True)
                table.append((label, "floor, busy program", floor, basis))
            table += [(label, name, samples, basis) for name, samples in restarts]
    print(
        f"\nSave-to-applied latency: leaf edit, {N_MODULES} modules, {N_DEPENDENTS} dependents,"
        " default settings (Python " + sys.version.split()[0] + ")\n"
    )
    print(
        f"| {'program':<21} | {'scenario':<32} | {'runs':>4} | {'median ms':>9} | "
        f"{'p90 ms':>8} | {'speed-up':>8} |"
    )
    print(f"|{'-' * 23}|{'-' * 34}|{'-' * 6}|{'-' * 11}|{'-' * 10}|{'-' * 10}|")
    for label, name, samples, basis in table:
        median = statistics.median(samples)
        print(
            f"| {label:<21} | {name:<32} | {len(samples):>4} | {1000 * median:>9.1f} | "
            f"{1000 * percentile(samples, 0.9):>8.1f} | {basis / median:>7.1f}x |"
        )
    print("\nspeed-up: the median of the same program's first restart row divided by the row's")
    native = next(r for r in table if r[1] == "hotmod, watchdog, write + close")
    median = statistics.median(native[2])
    print(
        f"hotmod, native, in place: median {1000 * median:.1f} ms (target <= 4 ms), "
        f"{native[3] / median:.0f}x faster than a restart (target >= 70x)"
    )
    run_row = next(r for r in table if r[1] == "hotmod run, editor elsewhere")
    median = statistics.median(run_row[2])
    print(
        f"hotmod run, saved by another process: median {1000 * median:.1f} ms, "
        f"{run_row[3] / median:.0f}x faster than a restart"
    )
    cpu = idle_cpu(10.0 if not args.quick else 3.0)
    print(f"\nIdle CPU watching 10,000 files: {cpu:.2f}% of one core (target < 1%)")
    print(f"import hotmod: +{import_time():.1f} ms over a bare interpreter (target < 30 ms)")
    engine = import_time("import hotmod; hotmod.Watcher")
    print(f"import hotmod, then the engine and watcher it loads on first use: +{engine:.1f} ms")
    _chart.bar_chart(
        _chart.chart_paths(args),
        [
            _chart.Bar(name, 1000 * statistics.median(samples), kind, label)
            for label, name, samples, _ in table
            for kind in ["restart" if name.startswith("restart") else "hotmod"]
        ],
        title="Save to applied: hotmod beside restart reloaders (median)",
        unit="ms",
        note=f"python benchmarks/latency.py, Python {sys.version.split()[0]}",
    )


if __name__ == "__main__":
    main()
