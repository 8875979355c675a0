"""Reload cost against a fresh import for several shapes of project.

Run: ``python benchmarks/shapes.py`` (``--size N`` dependents, default 2,000). Prints one
table. Each project has a leaf and N dependents, each with ten functions and a class (as
in ``scale.py``), imported in one of these shapes:

* tree: a chain of imports fans out from the leaf (``scale.py``'s project);
* chain: each module imports the one before;
* star: every module imports the leaf;
* package: modules of a package whose ``__init__.py`` imports every one of them;
* script: the tree, imported by the running script itself, one ``import`` line per
  module (a program started by ``hotmod run`` that imports the whole project).

Both columns are timed in new interpreters that may write bytecode, as in ``scale.py``:
the fresh import (``__pycache__`` warm, median of three), and the median of the third
to tenth ``hotmod.reload()`` of the leaf after an edit.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import fresh_import, run_child

SHAPES = ("tree", "chain", "star", "package", "script")
FUNCS = "".join(f"def f{j}(x):\n    return x + VALUE + {j}\n\n" for j in range(10))


def make_project(root: Path, shape: str, n: int) -> tuple[str, list[str]]:
    """Write the project; return the leaf's module name and the modules to import."""
    folder = root / "pkg" if shape == "package" else root
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leaf.py").write_text("VALUE = 0\n")
    for i in range(n):
        if shape == "chain":
            parent = "leaf" if i == 0 else f"d{i - 1}"
        elif shape == "star":
            parent = "leaf"
        else:
            parent = "leaf" if i < 10 else f"d{i // 10}"
        if shape == "package":
            parent = "." + parent
        (folder / f"d{i}.py").write_text(
            f"from {parent} import VALUE\n\n{FUNCS}class K{i}:\n    def get(self):\n"
            "        return VALUE\n"
        )
    names = [f"d{i}" for i in range(n)]
    if shape == "package":
        (folder / "__init__.py").write_text("".join(f"from . import {m}\n" for m in names))
        return "pkg.leaf", ["pkg"]
    return "leaf", names


def steady_reload(root: Path, shape: str, leaf: str, names: list[str]) -> float:
    """Median seconds of the third to tenth reload of the leaf, in a new interpreter."""
    if shape == "script":
        imports = "".join(f"import {name}\n" for name in names)
    else:
        imports = f"for name in {names!r}:\n    importlib.import_module(name)\n"
    leaf_file = root / (leaf.replace(".", "/") + ".py")
    code = (
        "import importlib, json, statistics, sys, time\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "import hotmod\n"
        f"{imports}"
        "worker = hotmod._runtime.get_reloader().cache_worker\n"
        "samples = []\n"
        "for value in range(1, 11):\n"
        "    worker.idle.wait(600)  # what the last reload compiled is written: saves pause\n"
        f"    with open({str(leaf_file)!r}, 'w') as f:\n"
        "        f.write(f'VALUE = {value}\\n')\n"
        "    start = time.perf_counter()\n"
        f"    report = hotmod.reload({leaf!r})\n"
        "    samples.append(time.perf_counter() - start)\n"
        "    assert report.ok, report\n"
        "print(json.dumps(statistics.median(samples[2:])))\n"
    )
    return float(json.loads(run_child(root, code)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2000, help="dependents (default 2000)")
    args = parser.parse_args()
    header = ("shape", "dependents", "fresh import", "hotmod reload", "ratio")
    print("{:<8} {:>10} {:>13} {:>14} {:>6}".format(*header))
    for shape in SHAPES:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            leaf, names = make_project(root, shape, args.size)
            fresh = statistics.median(fresh_import(root, names) for _ in range(3))
            reload = steady_reload(root, shape, leaf, names)
            print(
                f"{shape:<8} {args.size:>10} {fresh * 1000:>10.1f} ms {reload * 1000:>11.1f} ms "
                f"{reload / fresh:>6.2f}"
            )


if __name__ == "__main__":
    main()
