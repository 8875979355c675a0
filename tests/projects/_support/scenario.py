"""Helpers for scenario drivers (``tests/projects/<name>/main.py``), on the child's path.

``edit(rel)`` saves the scenario's edited version of a file over the project's copy, as
an editor would; ``reload()`` reloads and raises if the reload failed; ``LOG`` is a list
the scenario's modules append to, to show what ran.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import hotmod

LOG: list[Any] = []


def edit(rel: str, version: int = 2) -> None:
    """Overwrite ``rel`` in the project with ``edits/v<version>/<rel>`` of the scenario."""
    source = os.path.join(os.environ["SCENARIO_DIR"], "edits", f"v{version}", rel)
    folder = os.path.dirname(rel)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(source, "rb") as new, open(rel, "wb") as old:
        shutil.copyfileobj(new, old)


def write(rel: str, text: str) -> None:
    """Save ``text`` as ``rel`` (for a one-line change or a deliberately broken source)."""
    folder = os.path.dirname(rel)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(rel, "w") as f:
        f.write(text)


def reload(*targets: Any, **options: Any) -> hotmod.ReloadReport:
    """`hotmod.reload`, failing loudly: a scenario expects its reloads to succeed."""
    report = hotmod.reload(*targets, **options)
    report.raise_for_error()
    return report
