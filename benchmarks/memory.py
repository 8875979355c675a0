"""Memory and big state: what repeated reloads cost in memory, and what big sources and
big kept containers cost in time.

Run: ``python benchmarks/memory.py`` (``--reloads N``). Prints five tables.

* memory: a module of 200 functions and a class with 1,000 live instances, reloaded
  ``--reloads`` times (each an edit of one function); the growth of the process's
  resident memory after the first reload (nothing is cached per version of a source).
  Then the same module with 20 attrs classes besides (attrs copies the namespace into
  the methods it writes: before 2026-12-01 each copy was kept, about 0.6 MB a reload).
* big module: a 5 MB module (functions and data) reloaded after a one-line edit,
  beside its first import in a fresh interpreter (bytecode cache warm and cold): plain;
  with a module-level call, a class and a function in a thousand cached; with a call on
  one line after each function (``CALLS.append(i)``); and with a third of its functions
  registered by a decorator, a third cached, a class in ten.
* long module: the same, of a long hand-written module (about 140 and 560 kB): plain
  functions, registered ones, classes with methods, functions stored at a key after
  their definition, cached ones and small tables, in turn.
* kept containers: a one-line edit of a module holding a container kept across reloads
  (``hotmod.keep``), a dict or a list of objects, of 1,000 and of millions of entries,
  beside a decorated function (whose registries the first reload looks for): the
  reload time must not grow with the container, the first reload included. Then a
  program's dict and list of 1,000 and five million entries in another module, holding
  the edited plugin's handler (registered there through an import): read once, then
  at the keys or places that held it. Each row also times a failed edit (the last one
  with a ``raise`` at its end), rolled back: the long containers are not copied.
* class replaced: a class whose bases change on each edit (a new class each time),
  beside 1,000 and 1,000,000 live instances of its first version; a class renamed on
  each edit (the previous one deleted), beside 1,000 and 2,000,000 kept objects.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import hotmod


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import resource

    return pages * resource.getpagesize() / 1e6


def plain_source(version: int) -> str:
    """200 functions and a class (an edit of one function per version)."""
    funcs = "".join(
        f"def f{i}(x):\n    return x + {i} + {version if i == 0 else 0}\n\n" for i in range(200)
    )
    return funcs + "class Thing:\n    def get(self):\n        return f0(1)\n"


def attrs_source(version: int) -> str:
    """The same with 20 attrs classes: attrs copies the module's namespace into the
    globals of each method it writes, while the module runs."""
    classes = "".join(
        f"@define\nclass C{i}:\n    x: int = 0\n    def m(self):\n        return {i}\n\n"
        for i in range(20)
    )
    return "from attrs import define\n\n" + classes + plain_source(version)


def memory(root: Path, reloads: int, name: str, source: Any) -> tuple[float, float]:
    (root / f"{name}.py").write_text(source(0))
    module = importlib.import_module(name)
    things = [module.Thing() for _ in range(1000)]
    (root / f"{name}.py").write_text(source(1))
    hotmod.reload(name)
    gc.collect()
    before = rss_mb()
    for version in range(2, reloads + 2):
        (root / f"{name}.py").write_text(source(version))
        report = hotmod.reload(name)
        assert report.ok, report
    gc.collect()
    assert things[0].get() == 1 + reloads + 1
    return before, rss_mb()


BIG_HEADS = {  # what starts the module, besides 40,000 functions and 200 tables
    "plain": "VERSION = 0\n",
    "not plain": (  # a module-level call, a class, a decorated function every 1,000
        "VERSION = 0\nimport functools\nimport logging\n\nlog = logging.getLogger(__name__)\n\n"
        "class Thing:\n    def get(self):\n        return VERSION\n\n"
    ),
    "calls": "VERSION = 0\nCALLS = []\n",  # a one-line call after each function
    "decorated": (  # a third of the functions registered, a third cached, a class in ten
        "VERSION = 0\nimport functools\n\nREGISTRY = []\n\n"
        "def register(f):\n    REGISTRY.append(f)\n    return f\n\n"
    ),
}


def big_module(root: Path, kind: str) -> tuple[float, float, float, float]:
    lines = []
    for i in range(40000):
        decorated = "@functools.lru_cache\n" if kind == "not plain" and i % 1000 == 0 else ""
        if kind == "decorated":
            decorated = ("@register\n", "@functools.lru_cache(maxsize=None)\n", "")[i % 3]
            if i % 10 == 9:
                body = "    X = {i}\n\n    def get(self):\n        return self.X\n"
                lines.append(f"class C{i}:\n" + body.format(i=i))
                continue
        lines.append(f"{decorated}def g{i}(x):\n    return x * {i} + len(DATA{i % 200})\n")
        if kind == "calls":
            lines.append(f"CALLS.append({i})\n")
    for i in range(200):
        lines.append(f"DATA{i} = {[j * i for j in range(2000)]!r}\n")
    name = "big_" + kind.replace(" ", "_")
    text = BIG_HEADS[kind] + "\n".join(lines)
    first, hot, cold, warm = edited_module(root, name, text)
    size = len(text.encode())
    print(f"({kind}: {size / 1e6:.1f} MB, imported from the bytecode the children wrote)")
    return first, hot, cold, warm


MID_SHAPES = [  # a long hand-written module's definitions, in turn
    "def plain{i}(x, y=2):\n    total = 0\n    for j in range(x):\n"
    "        total += j * y + {i}\n    return total\n",
    "@register\ndef handler{i}(event):\n    return event.get('k{i}', VERSION)\n",
    'class Model{i}:\n    """A model."""\n\n    size = {i}\n\n    def __init__(self, a):\n'
    "        self.a = a\n\n    def area(self):\n        return self.a * self.size\n",
    "def on_{i}(x):\n    return x + {i}\n\nHANDLERS['k{i}'] = on_{i}\n",
    "@functools.lru_cache(maxsize=None)\ndef cached{i}(n):\n    return n * {i}\n",
    "TABLE{i} = {{'name': 'row{i}', 'values': {values}}}\n",
]


def mid_module(root: Path, count: int) -> tuple[int, float, float, float, float]:
    """A long hand-written module of ``count`` definitions (`MID_SHAPES`): its size in
    bytes, then as `big_module`."""
    parts = [
        "import functools\nVERSION = 0\nREGISTRY = []\nHANDLERS = {}\n\n"
        "def register(f):\n    REGISTRY.append(f)\n    return f\n\n"
    ]
    for i in range(count):
        shape = MID_SHAPES[i % len(MID_SHAPES)]
        parts.append(shape.format(i=i, values=list(range(i % 20))) + "\n")
    text = "".join(parts)
    return (len(text.encode()), *edited_module(root, f"mid_{count}", text))


def edited_module(root: Path, name: str, text: str) -> tuple[float, float, float, float]:
    """Module ``name`` of ``text`` (holding ``VERSION = 0``), reloaded after three edits
    of that line: (the first reload's seconds, the median of the next two, its import
    in a fresh interpreter without bytecode, then with it)."""
    (root / f"{name}.py").write_text(text)
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        f"t = time.perf_counter()\nimport {name}\nprint(time.perf_counter() - t)\n"
    )
    cold = float(
        subprocess.run(
            [sys.executable, "-B", "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    # (PYTHONDONTWRITEBYTECODE out of the children's environment: the pyc is written)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, env=env)
    warm = float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        ).stdout
    )
    importlib.import_module(name)
    samples = []
    for version in range(1, 4):
        text = text.replace(f"VERSION = {version - 1}", f"VERSION = {version}", 1)
        (root / f"{name}.py").write_text(text)
        start = time.perf_counter()
        report = hotmod.reload(name)
        samples.append(time.perf_counter() - start)
        assert report.ok, report
    return samples[0], statistics.median(samples[1:]), cold, warm


def first_and_next(root: Path, name: str, edits: list[str]) -> tuple[float, float, float]:
    """Save each of ``edits`` as module ``name`` and reload it: (the first reload's
    seconds, the median of the others, the median of three reloads of the last edit
    failing at its end, each rolled back)."""
    samples = []
    for text in edits:
        (root / f"{name}.py").write_text(text)
        start = time.perf_counter()
        assert hotmod.reload(name).ok
        samples.append(time.perf_counter() - start)
    failed = []
    for _ in range(3):
        (root / f"{name}.py").write_text(edits[-1] + "\nraise RuntimeError('a failed edit')\n")
        start = time.perf_counter()
        assert not hotmod.reload(name).ok
        failed.append(time.perf_counter() - start)
    (root / f"{name}.py").write_text(edits[-1])
    return samples[0], statistics.median(samples[1:]), statistics.median(failed)


def timed_edits(
    root: Path, name: str, text: str, edits: list[str], *, holder: str = "", kept: str = "ITEMS"
) -> tuple[float, float, float]:
    """Write module ``name`` as ``text``, import ``holder`` (default: that module), time
    the ``edits`` (`first_and_next`), then let go of the holder's kept container."""
    (root / f"{name}.py").write_text(text)
    module = importlib.import_module(holder or name)
    times = first_and_next(root, name, edits)
    setattr(module, kept, None)  # (the next row's memory)
    return times


KEPT = {  # what the kept container holds: code making it, sizes
    "dict": ("dict.fromkeys(range({size}))", [1000, 5_000_000]),
    "list of objects": ("[Cell(i) for i in range({size})]", [1000, 2_000_000]),
}


def kept_containers(root: Path) -> list[tuple[str, int, float, float, float]]:
    """(shape, size, first reload, median of the next four, failed) of a one-line edit."""
    (root / "warm_up.py").write_text("X = 1\n")  # the engine's first use is not timed
    importlib.import_module("warm_up")
    hotmod.reload("warm_up")
    rows = []
    for shape, (make, sizes) in KEPT.items():
        for size in sizes:
            name = f"kept_{shape.replace(' ', '_')}_{size}"
            text = (
                "import functools\nimport hotmod\n\n"
                "class Cell:\n    def __init__(self, i):\n        self.i = i\n\n"
                "@functools.lru_cache  # (a decorated function: its registries are looked for)\n"
                "def cached(x):\n    return x\n\n"
                f"TABLE = hotmod.keep('TABLE', lambda: {make.format(size=size)})\n"
                "VERSION = 0\n\ndef get():\n    return VERSION\n"
            )
            edits = [text.replace("VERSION = 0", f"VERSION = {v}") for v in range(1, 6)]
            rows.append((shape, size, *timed_edits(root, name, text, edits, kept="TABLE")))
    return rows


HOLDING = {  # a program's container in another module, the plugin's handler put in it
    "dict, a handler": ("dict.fromkeys(range({size}))", "TABLE[f.__name__] = f"),
    "list, a handler": ("list(range({size}))", "TABLE.append(f)"),
}


def registries_holding(root: Path) -> list[tuple[str, int, float, float, float]]:
    """(shape, size, first reload, median of the next four, failed) of a one-line edit of a
    plugin whose handler a program's container, of 1,000 and of five million entries,
    holds (registered there through an import)."""
    rows = []
    for shape, (make, register) in HOLDING.items():
        for size in (1000, 5_000_000):
            data, name = f"data_{shape[:4]}_{size}", f"plugin_{shape[:4]}_{size}"
            (root / f"{data}.py").write_text(
                f"TABLE = {make.format(size=size)}\n\n"
                f"def register(f):\n    {register}\n    return f\n"
            )
            text = f"from {data} import register\n\nVERSION = 0\n\n@register\ndef handler():\n"
            text += "    return VERSION\n"
            edits = [text.replace("VERSION = 0", f"VERSION = {v}") for v in range(1, 6)]
            (root / f"{name}.py").write_text(text)
            importlib.import_module(name)
            rows.append((shape, size, *first_and_next(root, name, edits)))
            sys.modules[data].TABLE = None  # (the next row's memory)
    return rows


def replaced_class(root: Path, sizes: list[int]) -> list[tuple[int, float, float, float]]:
    """(instances, first reload, median of the next four, failed) of a class whose bases change
    on each edit, beside that many live instances of its first version (kept)."""
    rows = []
    for size in sizes:
        lib, holder = f"shapes_{size}", f"held_{size}"
        text = "class Base:\n    pass\n\nclass Shape(Base):\n    pass\n\nVERSION = 0\n"
        (root / f"{holder}.py").write_text(
            f"import hotmod\nfrom {lib} import Shape\n\n"
            f"ITEMS = hotmod.keep('ITEMS', lambda: [Shape() for _ in range({size})])\n"
        )
        edits = [
            text.replace("VERSION = 0", f"VERSION = {v}").replace(
                "(Base)", "(Base)" if v % 2 == 0 else "(Base, Exception)"
            )
            for v in range(1, 6)
        ]
        rows.append((size, *timed_edits(root, lib, text, edits, holder=holder)))
    return rows


def renamed_class(root: Path, sizes: list[int]) -> list[tuple[int, float, float, float]]:
    """(objects, first reload, median of the next four, failed) of a class renamed on each edit
    (the previous one deleted), beside that many live instances of another class (kept)."""
    rows = []
    for size in sizes:
        name = f"renamed_{size}"
        text = (
            "import hotmod\n\nclass Cell:\n    pass\n\n"
            f"ITEMS = hotmod.keep('ITEMS', lambda: [Cell() for _ in range({size})])\n\n"
            "class Shape0:\n    def area(self):\n        return 0\n"
        )
        edits = [text.replace("Shape0", f"Shape{v}") for v in range(1, 6)]
        rows.append((size, *timed_edits(root, name, text, edits)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sys.path.insert(0, str(root))
        print(
            f"{'module':<24} {'reloads':>8} {'RSS after 1st':>14} {'RSS after all':>14}"
            f" {'growth':>8}"
        )
        for label, name, source in (
            ("200 functions", "mem_mod", plain_source),
            ("the same, attrs classes", "mem_attrs", attrs_source),
        ):
            before, after = memory(root, args.reloads, name, source)
            print(
                f"{label:<24} {args.reloads:>8} {before:>11.1f} MB {after:>11.1f} MB"
                f" {after - before:>+6.1f} MB"
            )
        print()
        # (the decorator-heavy module last: its objects would make the heap walks of the
        # rows below longer than beside the first two)
        mids = [mid_module(root, count) for count in (1500, 6000)]
        kinds = [kind for kind in BIG_HEADS if kind != "decorated"]
        rows = [(kind, *big_module(root, kind)) for kind in kinds]
        kept = kept_containers(root)
        replaced = replaced_class(root, [1000, 1_000_000])
        renamed = renamed_class(root, [1000, 2_000_000])
        kept += registries_holding(root)  # (after the class rows: its heaps are big)
        rows.append(("decorated", *big_module(root, "decorated")))
        print(
            f"{'big module':<12} {'first reload':>13} {'next reloads':>13}"
            f" {'import (no pyc)':>16} {'import (pyc)':>13}"
        )
        for kind, first, hot, cold, warm in rows:
            print(
                f"{kind:<12} {first * 1000:>10.0f} ms {hot * 1000:>10.0f} ms"
                f" {cold * 1000:>13.0f} ms {warm * 1000:>10.0f} ms"
                f"   reload / import without pyc: {first / cold:.2f} (first), {hot / cold:.2f}"
            )
        print()
        print(
            f"{'long module':<12} {'first reload':>13} {'next reloads':>13}"
            f" {'import (no pyc)':>16} {'import (pyc)':>13}"
        )
        for size, first, hot, cold, warm in mids:
            print(
                f"{f'{size / 1000:.0f} kB':<12} {first * 1000:>10.0f} ms {hot * 1000:>10.0f} ms"
                f" {cold * 1000:>13.0f} ms {warm * 1000:>10.0f} ms"
                f"   reload / import without pyc: {first / cold:.2f} (first), {hot / cold:.2f}"
            )
        print()
        print(
            f"{'kept':<16} {'entries':>10} {'first reload':>13} {'next reloads':>13}"
            f" {'failed reload':>14}"
        )
        for shape, size, first, later, failed in kept:
            print(
                f"{shape:<16} {size:>10,} {first * 1000:>10.2f} ms {later * 1000:>10.2f} ms"
                f" {failed * 1000:>11.2f} ms"
            )
        print()
        print(
            f"{'class replaced':<16} {'instances':>10} {'first reload':>13} {'next reloads':>13}"
            f" {'failed reload':>14}"
        )
        classes = [("(bases change)", *row) for row in replaced]
        classes += [("(renamed)", *row) for row in renamed]
        for label, size, first, later, failed in classes:
            print(
                f"{label:<16} {size:>10,} {first * 1000:>10.2f} ms {later * 1000:>10.2f} ms"
                f" {failed * 1000:>11.2f} ms"
            )


if __name__ == "__main__":
    main()
