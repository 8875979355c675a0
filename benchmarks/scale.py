"""Reload cost against project size: a leaf imported by N modules, beside a fresh import.

Run: ``python benchmarks/scale.py`` (``--sizes 100,1000,5000``; ``--write-docs`` redraws
``docs/img/scale.svg``, ``--chart PATH`` draws another file).

Each dependent has ten functions and a class and imports the leaf (a chain of imports
fans out from it): a reload binds such a module anew, without running it. With
``--shape computed`` each also computes a value from the leaf's (``DOUBLE = VALUE * 2``),
so each runs. With ``--shape plugins`` each is also a plugin: it registers a function in
a list and in a dict keyed by its module, and subclasses a base class whose
``__init_subclass__`` appends the subclass to a list (the registries are checked after
each reload). Every column is timed inside a new interpreter allowed to write
bytecode (``PYTHONDONTWRITEBYTECODE`` is taken out of its environment):

- fresh import: the same modules imported, ``__pycache__`` warm: what a restart pays
  for those modules alone;
- hotmod reload: ``hotmod.reload("leaf")`` in a process that imported everything,
  median of three edits after a first one;
- first reload: that first edit, which compiles every dependent that runs with the
  definition hooks (one that is bound needs no code), and the same first edit in the
  program's next run, which reads what the first run compiled from ``__pycache__``
  (`_diskcache`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import _chart

SRC = Path(__file__).resolve().parent.parent / "src"

DEFAULT_SIZES = (100, 1000, 3000, 5000, 10000)


PLUGIN_REGISTRY = """\
REG = []
TABLE = {}


def register(f):
    REG.append(f)
    TABLE[f.__module__] = f
    return f


class Plugin:
    subs = []

    def __init_subclass__(cls):
        Plugin.subs.append(cls)
"""


def make_project(root: Path, n: int, prefix: str, shape: str = "plain") -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{prefix}_leaf.py").write_text("VALUE = 0\n")
    (root / f"{prefix}_reg.py").write_text(PLUGIN_REGISTRY)
    names = []
    for i in range(n):
        parent = f"{prefix}_leaf" if i < 10 else f"{prefix}_d{i // 10}"
        funcs = "".join(f"def f{j}(x):\n    return x + VALUE + {j}\n\n" for j in range(10))
        computed = "DOUBLE = VALUE * 2\n\n" if shape == "computed" else ""
        plugin = (
            f"from {prefix}_reg import Plugin, register\n\n"
            f"@register\ndef handler(x):\n    return x + VALUE\n\n"
            f"class P{i}(Plugin):\n    value = VALUE\n\n"
        )
        (root / f"{prefix}_d{i}.py").write_text(
            f"from {parent} import VALUE\n\n{computed}{plugin if shape == 'plugins' else ''}"
            f"{funcs}"
            f"class K{i}:\n    def get(self):\n        return VALUE\n"
        )
        names.append(f"{prefix}_d{i}")
    return names


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


def run_child(root: Path, code: str) -> str:
    """Run ``code`` in a new interpreter that may write bytecode; return its output."""
    script = root / "_timing.py"  # a file: 10,000 names do not fit in argv
    script.write_text(code)
    out = subprocess.run(
        [sys.executable, str(script)], check=True, capture_output=True, text=True, env=_env()
    )
    return out.stdout


def fresh_import(root: Path, names: list[str]) -> float:
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "start = time.perf_counter()\n"
        f"for name in {names!r}:\n"
        "    __import__(name)\n"
        "print(time.perf_counter() - start)\n"
    )
    run_child(root, code)  # writes the bytecode caches
    return float(run_child(root, code))


def hot_reload(root: Path, names: list[str], prefix: str) -> tuple[float, float]:
    """(first reload, median of the next three) in a new process, in seconds."""
    code = (
        "import importlib, json, statistics, sys, time\n"
        "from pathlib import Path\n"
        "import hotmod\n"
        f"root, names, leaf = Path({str(root)!r}), {names!r}, {prefix + '_leaf'!r}\n"
        "sys.path.insert(0, str(root))\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "hotmod.dependents(leaf)  # hotmod looks at the program once, as watch() does\n"
        "samples = []\n"
        "worker = hotmod._runtime.get_reloader().cache_worker\n"
        "for value in range(1, 5):\n"
        "    worker.idle.wait(600)  # what the last reload compiled is written: saves pause\n"
        "    (root / f'{leaf}.py').write_text(f'VALUE = {value}\\n')\n"
        "    start = time.perf_counter()\n"
        "    report = hotmod.reload(leaf)\n"
        "    samples.append(time.perf_counter() - start)\n"
        "    assert report.ok and len(report.reloaded) == len(names) + 1, report\n"
        f"    registry = sys.modules.get({prefix + '_reg'!r})\n"
        "    if registry is not None:  # (--shape plugins: each entry once, running the edit)\n"
        "        assert [f(0) for f in registry.REG] == [value] * len(names)\n"
        "        assert list(registry.TABLE.values()) == registry.REG\n"
        "        assert [c.value for c in registry.Plugin.subs] == [value] * len(names)\n"
        "worker.idle.wait(600)  # entries written for the next run\n"
        "print(json.dumps([samples[0], statistics.median(samples[1:])]))\n"
    )
    first, median = json.loads(run_child(root, code))
    return first, median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument(
        "--shape",
        choices=("plain", "computed", "plugins"),
        default="plain",
        help="what each dependent is",
    )
    _chart.add_options(parser, "scale")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    print(
        f"{'dependents':>10} {'hotmod reload':>14} {'fresh import':>13} {'ratio':>6}"
        f" {'first reload':>13} {'ratio':>6} {'next run':>10} {'ratio':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            prefix = f"s{n}"
            names = make_project(Path(tmp) / prefix, n, prefix, args.shape)
            fresh = fresh_import(Path(tmp) / prefix, [*names])
            first, hot = hot_reload(Path(tmp) / prefix, names, prefix)
            again, _ = hot_reload(Path(tmp) / prefix, names, prefix)
            rows.append((n, hot, fresh, first, again))
            print(
                f"{n:>10} {hot * 1000:>11.1f} ms {fresh * 1000:>10.1f} ms {hot / fresh:>6.2f}"
                f" {first * 1000:>10.1f} ms {first / fresh:>6.2f}"
                f" {again * 1000:>7.1f} ms {again / fresh:>6.2f}"
            )
    _chart.line_chart(
        _chart.chart_paths(args),
        [
            _chart.Series("hotmod reload", [(n, r[0] * 1000) for n, *r in rows]),
            _chart.Series("fresh import of the same modules", [(n, r[1] * 1000) for n, *r in rows]),
            _chart.Series(
                "target: half the fresh import", [(n, r[1] * 500) for n, *r in rows], ":"
            ),
            _chart.Series(
                "first reload in a new process",
                [(n, r[2] * 1000) for n, *r in rows],
                "--",
            ),
            _chart.Series(
                "first reload of the next run (entries from __pycache__)",
                [(n, r[3] * 1000) for n, *r in rows],
                "-.",
            ),
        ],
        title="Reloading a leaf against the number of its dependents",
        x_label="dependents of the edited module",
        y_label="ms (log scale)",
        log_x=True,
        log_y=True,
        note=f"python benchmarks/scale.py, Python {sys.version.split()[0]}",
    )


if __name__ == "__main__":
    main()
