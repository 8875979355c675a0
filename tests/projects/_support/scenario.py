"""Helpers for scenario drivers (``tests/projects/<name>/driver.py``), on the child's path.

``edit(rel)`` saves the scenario's edited version of a file over the project's copy, as
an editor would; ``write(rel, text)`` saves a source given in place (a deliberately broken
one); ``reload()`` reloads and raises if the reload failed; ``LOG`` (also a builtin, for
the scenario's modules) is a list the modules append to, to show what ran. For watcher
scenarios, ``reports`` collects what ``on_reload`` receives and ``save`` writes as is.
"""

from __future__ import annotations

import builtins
import logging
import os
import queue
import shutil
import textwrap
from typing import Any

import hotmod

LOG: list[Any] = []
builtins.LOG = LOG  # type: ignore[attr-defined]


def edit(rel: str, version: int = 2) -> None:
    """Overwrite ``rel`` in the project with ``edits/v<version>/<rel>`` of the scenario."""
    source = os.path.join(os.environ["SCENARIO_DIR"], "edits", f"v{version}", rel)
    _folder(rel)
    with open(source, "rb") as new, open(rel, "wb") as old:
        shutil.copyfileobj(new, old)


def write(rel: str, text: str) -> None:
    """Save ``text`` (dedented, leading newlines dropped) as ``rel``."""
    _folder(rel)
    with open(rel, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\n"))


def _folder(rel: str) -> None:
    folder = os.path.dirname(rel)
    if folder:
        os.makedirs(folder, exist_ok=True)


def reload(*targets: Any, **options: Any) -> hotmod.ReloadReport:
    """`hotmod.reload`, failing loudly: a scenario expects its reloads to succeed."""
    report = hotmod.reload(*targets, **options)
    report.raise_for_error()
    return report


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_RECORDS = _Records()


def capture_log() -> None:
    """Record every message of the ``hotmod`` logger, DEBUG and up, for `messages`."""
    logger = logging.getLogger("hotmod")
    logger.addHandler(_RECORDS)
    logger.setLevel(logging.DEBUG)


def messages(level: int) -> list[str]:
    """The messages recorded at ``level`` since `capture_log`."""
    return [r.getMessage() for r in _RECORDS.records if r.levelno == level]


def read(rel: str) -> str:
    """The current text of ``rel`` in the project."""
    with open(rel) as f:
        return f.read()


def replace(rel: str, old: str, new: str) -> None:
    """Save ``rel`` with ``old`` replaced by ``new``; ``old`` must be in it."""
    text = read(rel)
    assert old in text, f"{old!r} is not in {rel}"
    write(rel, text.replace(old, new))


# -- watcher scenarios ------------------------------------------------------------------

reports: queue.Queue[hotmod.ReloadReport] = queue.Queue()


def next_report(timeout: float = 10) -> hotmod.ReloadReport:
    """The next report put in `reports` (``on_reload=reports.put``), with a deadline."""
    return reports.get(timeout=timeout)


def save(path: str, text: str) -> None:
    """Write ``text`` to ``path`` exactly, in place."""
    with open(path, "w") as f:
        f.write(text)
