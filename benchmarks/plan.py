"""Planning a reload on large synthetic import graphs (SPEC §3: under 10 ms at 10,000 modules).

Run: ``python benchmarks/plan.py`` (``--sizes 1000,10000`` to choose the graphs;
``--write-docs`` to redraw ``docs/img/plan.svg``, ``--chart PATH`` for another file).
Each graph is layered: packages of modules per layer,
every module importing 5-10 modules of lower layers (a mix of ``import a.b``,
``from a import name``, ``from pkg import submodule`` and relative imports), package
``__init__`` modules re-exporting their submodules, a few import cycles, and some
imports inside functions. Planning a reload of one low-layer module with many
transitive dependents is timed: ``order(dependents({leaf}) | {leaf}, finish_order=...)``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

try:
    from hotmod._graph import ImportGraph, ImportRef, parse_imports
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from hotmod._graph import ImportGraph, ImportRef, parse_imports

import _chart

TARGET_MS = 10.0
RUNS = 100
LAYERS = 12
PACKAGE_SIZE = 20
CYCLES = 8


def generate(size: int, seed: int = 1) -> dict[str, list[ImportRef]]:
    """Modules of a layered project mapped to their import refs; ~``size`` modules."""
    rng = random.Random(seed)
    per_layer = size // LAYERS
    layers: list[list[str]] = []
    packages: dict[str, list[str]] = {}
    for layer in range(LAYERS):
        names = []
        for i in range(per_layer - per_layer // PACKAGE_SIZE):
            pkg = f"app.l{layer}.p{i // PACKAGE_SIZE}"
            names.append(f"{pkg}.m{i % PACKAGE_SIZE}")
            packages.setdefault(pkg, []).append(names[-1])
        layers.append(names)
    graph: dict[str, list[ImportRef]] = {}
    for layer, names in enumerate(layers):
        for module in names:
            refs: list[ImportRef] = []
            for line, _ in enumerate(range(rng.randint(5, 10)), start=1):
                # Mostly the layer just below, some of the bottom layers.
                low = max(0, layer - 1) if rng.random() < 0.6 else 0
                if layer == 0:
                    break
                target = rng.choice(layers[rng.randint(low, layer - 1)])
                parent, _, leaf = target.rpartition(".")
                style = rng.random()
                if style < 0.3:
                    refs.append(ImportRef(target, (), None, line, "top"))
                elif style < 0.6:
                    refs.append(
                        ImportRef(target, (("func", "func"), ("K", "K")), None, line, "top")
                    )
                elif style < 0.85:
                    refs.append(ImportRef(parent, ((leaf, leaf),), None, line, "top"))
                else:
                    refs.append(ImportRef(target, (("helper", "helper"),), None, line, "function"))
            graph[module] = refs
    for pkg, members in packages.items():
        refs = [
            ImportRef(m, (("func", f"func{i}"),), None, i + 1, "top") for i, m in enumerate(members)
        ]
        graph[pkg] = refs
        top, _, _ = pkg.rpartition(".")
        graph.setdefault(top, [])
    graph.setdefault("app", [])
    # Cycles: two siblings of a mid layer importing each other at top level.
    for _ in range(CYCLES):
        layer = rng.randint(1, LAYERS // 2)
        a, b = rng.sample(layers[layer], 2)
        graph[a].append(ImportRef(b, (("func", "func"),), None, 100, "top"))
        graph[b].append(ImportRef(a, (("K", "K"),), None, 100, "top"))
    return graph


def fresh_import_order(graph: ImportGraph, roots: list[str]) -> list[str]:
    """The order modules finish importing when ``roots`` are imported one after another."""
    done: set[str] = set()
    finished: list[str] = []
    for root in roots:
        if root in done:
            continue
        done.add(root)
        stack = [(root, iter(sorted(graph.imports(root))))]
        while stack:
            module, it = stack[-1]
            for dep in it:
                if dep not in done:
                    done.add(dep)
                    stack.append((dep, iter(sorted(graph.imports(dep)))))
                    break
            else:
                stack.pop()
                finished.append(module)
    return finished


def sample_source(refs: list[ImportRef], module: str) -> str:
    """A realistic module source with the given imports and some code around them."""
    lines = ['"""A generated module."""', "from __future__ import annotations", ""]
    lines += ["import os", "import sys", "from typing import TYPE_CHECKING", ""]
    for ref in refs:
        if ref.kind == "function":
            continue
        if ref.names:
            names = ", ".join(n if n == a else f"{n} as {a}" for n, a in ref.names)
            lines.append(f"from {ref.module} import {names}")
        else:
            lines.append(f"import {ref.module}")
    lines += ["", "if TYPE_CHECKING:", "    from collections.abc import Iterator", ""]
    for i in range(30):
        lines += [
            f"class Thing{i}:",
            f'    """Thing number {i}."""',
            "",
            "    def __init__(self, value: int) -> None:",
            "        self.value = value",
            "",
            "    def compute(self, other: int) -> int:",
            "        import json",
            f"        return json.loads(str(self.value + other * {i}))",
            "",
            "",
            f"def helper{i}(x: int) -> int:",
            "    try:",
            f"        return x + {i}",
            "    except ValueError:",
            "        return 0",
            "",
        ]
    return "\n".join(lines) + "\n"


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench(size: int) -> tuple[int, int, float, float, float, float]:
    """Modules, dependents, median ms, p90 ms, registration ms, first plan ms for ``size``."""
    refs = generate(size)
    start = time.perf_counter()
    graph = ImportGraph()
    for module, module_refs in refs.items():
        graph.set_imports(module, module_refs)
    graph.imports("app")  # edges are resolved on first query
    register_ms = (time.perf_counter() - start) * 1e3
    top = [m for m in refs if m.startswith(f"app.l{LAYERS - 1}.")]
    finish_order = ["sys", "os", *fresh_import_order(graph, top + list(refs))]
    layer0 = [m for m in refs if m.startswith("app.l0.p") and m.count(".") == 3]
    leaf = max(layer0, key=lambda m: len(graph.importers(m)))
    t0 = time.perf_counter()
    graph.order(graph.dependents({leaf}) | {leaf}, finish_order=finish_order)
    first_ms = (time.perf_counter() - t0) * 1e3
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        plan = graph.dependents({leaf})
        groups = graph.order(plan | {leaf}, finish_order=finish_order)
        times.append((time.perf_counter() - t0) * 1e3)
    assert groups[0] == [leaf]
    median, p90 = statistics.median(times), percentile(times, 0.9)
    return len(graph), len(plan), median, p90, register_ms, first_ms


def bench_parse() -> tuple[int, float]:
    """Source length and median ms of parse_imports on a realistic generated module."""
    refs = generate(1000)
    module = next(m for m in refs if m.startswith(f"app.l{LAYERS - 1}.") and m.count(".") == 3)
    source = sample_source(refs[module], module)
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        parse_imports(source, module=module, is_package=False)
        times.append((time.perf_counter() - t0) * 1e3)
    return len(source.splitlines()), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1000,2500,5000,10000,20000",
        help="comma-separated graph sizes, in modules (default: %(default)s)",
    )
    _chart.add_options(parser, "plan")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"Planning a leaf reload: dependents + order, {RUNS} runs each")
    header = f"{'modules':>8}  {'dependents':>10}  {'median ms':>9}  {'p90 ms':>7}  {'target':>7}"
    print(header)
    print("-" * len(header))
    rows = []
    for size in sizes:
        modules, dependents, median, p90, register_ms, first_ms = bench(size)
        rows.append((modules, median, p90, register_ms, first_ms))
        target = f"<{TARGET_MS:g}"
        print(f"{modules:>8}  {dependents:>10}  {median:>9.2f}  {p90:>7.2f}  {target:>7}")
    print()
    for modules, _, _, register_ms, first_ms in rows:
        print(
            f"{modules} modules, one-time: registration (set_imports + edges) {register_ms:.1f} ms,"
            f" first plan (orders the whole graph once) {first_ms:.1f} ms"
        )
    lines, parse_ms = bench_parse()
    print(f"parse_imports on a {lines}-line module: median {parse_ms:.3f} ms")
    _chart.line_chart(
        _chart.chart_paths(args),
        [
            _chart.Series("plan a reload, median", [(r[0], r[1]) for r in rows]),
            _chart.Series("plan a reload, p90", [(r[0], r[2]) for r in rows], style="--o"),
            _chart.Series("first plan (once)", [(r[0], r[4]) for r in rows], style=":s"),
            _chart.Series("register the graph (once)", [(r[0], r[3]) for r in rows], style=":^"),
        ],
        title="Planning a leaf reload against project size",
        x_label="modules in the project",
        y_label="ms (log scale)",
        references=[_chart.Reference(f"target: plan < {TARGET_MS:g} ms at 10,000 modules", 10)],
        log_y=True,
        note=f"python benchmarks/plan.py, Python {sys.version.split()[0]}",
    )


if __name__ == "__main__":
    main()
