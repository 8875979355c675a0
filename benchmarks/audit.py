"""What the stale-code audit (``report.stale``) costs per reload, beside the reload itself.

Run: ``python benchmarks/audit.py`` (``--rounds N``). Prints one table.

The project is the one of ``latency.py``: 200 modules, a leaf with 50 dependents. Each
round edits the leaf and calls ``hotmod.reload("leaf")``; the audit's own time is
measured by wrapping the two functions the reloader calls after each commit (held
previous code, frames still running it). Two cases:

* kept: an ordinary edit (a value and a function body): every function and class keeps
  its identity, so the audit only reads reference counts;
* discarded: the leaf's class changes its bases on every edit, so the old class cannot
  be kept, and a list in another module holds it: the audit looks for its holders.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import make_project, module_names

import hotmod
import hotmod._reloader as reloader_module

KEPT = "VALUE = {n}\n\ndef helper():\n    return VALUE + {n}\n"
DISCARDED = (
    "import holder\n\nVALUE = {n}\n\nclass Shape({base}):\n    def area(self):\n"
    "        return {n}\n\nholder.HELD.append(Shape)\n"
)


def timed(function: Callable[..., list[str]], times: list[float]) -> Callable[..., list[str]]:
    """``function``, its time of each call appended to ``times``."""

    def wrapper(*args: Any) -> list[str]:
        start = time.perf_counter()
        try:
            return function(*args)
        finally:
            times.append(time.perf_counter() - start)

    return wrapper


def run(root: Path, template: str, rounds: int) -> tuple[list[float], list[float]]:
    stale_times: list[float] = []
    running_times: list[float] = []
    find_stale, find_running = reloader_module.find_stale, reloader_module.find_running
    reloader_module.find_stale = timed(find_stale, stale_times)  # type: ignore[assignment]
    reloader_module.find_running = timed(find_running, running_times)  # type: ignore[assignment]
    durations = []
    try:
        for n in range(rounds + 2):
            base = ("object", "Exception")[n % 2]
            (root / "leaf.py").write_text(template.format(n=n + 1, base=base))
            report = hotmod.reload("leaf")
            assert report.ok, report
            durations.append(report.duration)
    finally:
        reloader_module.find_stale = find_stale  # type: ignore[assignment]
        reloader_module.find_running = find_running  # type: ignore[assignment]
    audits = [a + b for a, b in zip(stale_times, running_times, strict=True)]
    return durations[2:], audits[2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    logging.getLogger("hotmod").setLevel(logging.ERROR)  # one stale WARNING per round
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root)
        (root / "holder.py").write_text("HELD = []\n")
        sys.path.insert(0, str(root))
        for name in module_names(root):
            importlib.import_module(name)
        print(f"{'case':<10} {'reload median':>14} {'audit median':>13} {'audit share':>12}")
        for case, template in (("kept", KEPT), ("discarded", DISCARDED)):
            durations, audits = run(root, template, args.rounds)
            reload_ms = statistics.median(durations) * 1000
            audit_ms = statistics.median(audits) * 1000
            share = audit_ms / reload_ms * 100
            print(f"{case:<10} {reload_ms:>11.2f} ms {audit_ms:>10.3f} ms {share:>11.1f}%")


if __name__ == "__main__":
    main()
