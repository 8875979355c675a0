"""First reload of a module with a registrant, against the size of the program's heap.

Run: ``python benchmarks/registries.py`` (``--sizes 10000,2000000`` for other heaps,
``--registrants 1,1000`` for other counts of decorated functions in the second table).

The first time a module that registers its functions (``@register``) is reloaded, hotmod
finds the registries holding them. It looks near the module first (its namespace, its
imports' globals, their containers, attributes and closures) and walks the whole heap
only when some reference comes from elsewhere. Each row runs a fresh interpreter that
builds a heap of N objects, imports a plugin registering into a module-global list, and
times the first and second reloads of the plugin; the "heap walk" column forces the walk
(what every first reload did before the near look), in the same interpreter setup.

The second table reloads a module with N functions behind ``functools.lru_cache`` beside
a heap of 500,000 objects. The near look reads the function inside each wrapper; the
heap walk (forced, as above) looks for all of them at once, with ``gc.get_referrers``
(which compares each reference it meets with every object) up to 400 of them, else in
one pass over the heap with a set of them; the next column uses ``gc.get_referrers``
however many.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")

CHILD = textwrap.dedent(
    """
    import json, sys, time
    heap = [{"k": i, "v": [i]} for i in range(int(sys.argv[1]) // 2)]  # a dict, a list each
    import hotmod
    from hotmod import _registry
    if sys.argv[2] in ("walk", "referrers"):
        _registry._near_containers = lambda objects, namespaces, *rest: None
    if sys.argv[2] == "referrers":
        from hotmod import _reach
        _reach._MANY = sys.maxsize  # gc.get_referrers, however many objects
    import importlib, reg, other
    plug = importlib.import_module(sys.argv[3])
    hotmod.reload("other")  # the engine loaded, the program indexed
    times = []
    for _ in range(2):
        start = time.perf_counter()
        hotmod.reload(plug)
        times.append(1000 * (time.perf_counter() - start))
    assert reg.HANDLERS == [plug.a], reg.HANDLERS
    print(json.dumps(times))
    """
)


def run(root: Path, size: int, mode: str, module: str = "plug") -> list[float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, str(root)]))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(size), mode, module],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    times: list[float] = json.loads(out.stdout)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,500000,2000000", help="heap sizes, in objects")
    parser.add_argument("--registrants", default="1,100,1000,10000", help="decorated functions")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(s) for s in args.registrants.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "reg.py").write_text(
            "HANDLERS = []\n\ndef register(f):\n    HANDLERS.append(f)\n    return f\n"
        )
        (root / "plug.py").write_text(
            "from reg import register\n\n@register\ndef a():\n    return 1\n"
        )
        (root / "other.py").write_text("X = 1\n")
        print(f"First reload of a module with a registrant (Python {sys.version.split()[0]})\n")
        print(
            "| heap objects | first reload, near look | first reload, heap walk | second reload |"
        )
        print("|---|---|---|---|")
        for size in sizes:
            near, walk = run(root, size, "near"), run(root, size, "walk")
            print(f"| {size:,} | {near[0]:.1f} ms | {walk[0]:.1f} ms | {near[1]:.1f} ms |")
        print("\nFirst reload of a module with N cached functions, beside 500,000 objects\n")
        print(
            "| N | first reload, near look | heap walk | heap walk, gc.get_referrers only"
            " | second reload |"
        )
        print("|---|---|---|---|---|")
        for count in counts:
            cached = "".join(
                f"@functools.lru_cache\ndef c{i}(x):\n    return x + {i}\n\n" for i in range(count)
            )
            (root / f"cached_{count}.py").write_text(
                f"import functools\n\nfrom reg import register\n\n{cached}"
                "@register\ndef a():\n    return 1\n"
            )
            near = run(root, 500_000, "near", f"cached_{count}")
            one = run(root, 500_000, "walk", f"cached_{count}")
            each = run(root, 500_000, "referrers", f"cached_{count}")
            print(
                f"| {count:,} | {near[0]:.1f} ms | {one[0]:.1f} ms | {each[0]:.1f} ms"
                f" | {near[1]:.1f} ms |"
            )


if __name__ == "__main__":
    main()
