"""Reload cost against project size: a leaf imported by N modules, beside a fresh import.

Run: ``python benchmarks/scale.py`` (``--sizes 100,1000,5000``; ``--write-docs`` redraws
``docs/img/scale.svg``, ``--chart PATH`` draws another file).

Each dependent has ten functions and a class and imports the leaf (a chain of imports
fans out from it). The hot column is ``hotmod.reload("leaf")`` in a process that
imported everything (median of three edits, after one warm-up edit; that first reload
is a column of its own: it compiles every dependent); the fresh column
is a new interpreter importing the same modules, bytecode caches warm, timed inside
the child, i.e. what a restart pays for those modules alone.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import _chart

import hotmod

DEFAULT_SIZES = (100, 1000, 3000, 5000, 10000)


def make_project(root: Path, n: int, prefix: str) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{prefix}_leaf.py").write_text("VALUE = 0\n")
    names = []
    for i in range(n):
        parent = f"{prefix}_leaf" if i < 10 else f"{prefix}_d{i // 10}"
        funcs = "".join(f"def f{j}(x):\n    return x + VALUE + {j}\n\n" for j in range(10))
        (root / f"{prefix}_d{i}.py").write_text(
            f"from {parent} import VALUE\n\n{funcs}"
            f"class K{i}:\n    def get(self):\n        return VALUE\n"
        )
        names.append(f"{prefix}_d{i}")
    return names


def fresh_import(root: Path, names: list[str]) -> float:
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "start = time.perf_counter()\n"
        f"for name in {names!r}:\n"
        "    __import__(name)\n"
        "print(time.perf_counter() - start)\n"
    )
    script = root / "_fresh_import.py"  # a file: 10,000 names do not fit in argv
    script.write_text(code)
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True)  # warm pycs
    out = subprocess.run([sys.executable, str(script)], check=True, capture_output=True, text=True)
    return float(out.stdout)


def hot_reload(root: Path, names: list[str], prefix: str) -> tuple[float, float]:
    """(first reload, median of the next three), in seconds."""
    sys.path.insert(0, str(root))
    for name in names:
        importlib.import_module(name)
    hotmod.dependents(f"{prefix}_leaf")  # hotmod looks at the program once, as watch() does
    samples = []
    for value in range(1, 5):
        (root / f"{prefix}_leaf.py").write_text(f"VALUE = {value}\n")
        start = time.perf_counter()
        report = hotmod.reload(f"{prefix}_leaf")
        samples.append(time.perf_counter() - start)
        assert report.ok and len(report.reloaded) == len(names) + 1, report
    for name in [*names, f"{prefix}_leaf"]:
        del sys.modules[name]
    return samples[0], statistics.median(samples[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    _chart.add_options(parser, "scale")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    print(
        f"{'dependents':>10} {'hotmod reload':>14} {'fresh import':>13} {'ratio':>6}"
        f" {'first reload':>13} {'ratio':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            prefix = f"s{n}"
            names = make_project(Path(tmp) / prefix, n, prefix)
            fresh = fresh_import(Path(tmp) / prefix, [*names])
            first, hot = hot_reload(Path(tmp) / prefix, names, prefix)
            rows.append((n, hot, fresh, first))
            print(
                f"{n:>10} {hot * 1000:>11.1f} ms {fresh * 1000:>10.1f} ms {hot / fresh:>6.2f}"
                f" {first * 1000:>10.1f} ms {first / fresh:>6.2f}"
            )
    _chart.line_chart(
        _chart.chart_paths(args),
        [
            _chart.Series("hotmod reload", [(n, hot * 1000) for n, hot, _, _ in rows]),
            _chart.Series(
                "fresh import of the same modules", [(n, f * 1000) for n, _, f, _ in rows]
            ),
            _chart.Series(
                "target: half the fresh import", [(n, f * 500) for n, _, f, _ in rows], ":"
            ),
            _chart.Series(
                "hotmod's first reload (compiles every dependent)",
                [(n, first * 1000) for n, _, _, first in rows],
                "--",
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
