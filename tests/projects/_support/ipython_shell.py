"""A real IPython shell for scenario drivers: cells that raise on error, editor-like saves.

Importing this module creates the shell (IPython's folder in a temporary directory,
history in memory) and sends stderr to stdout so the test sees everything in order.
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
import time
from typing import Any

os.environ["IPYTHONDIR"] = tempfile.mkdtemp()
sys.stderr = sys.stdout

from IPython.core.interactiveshell import InteractiveShell  # after IPYTHONDIR is set
from traitlets.config import Config

from hotmod._watcher import current_watcher

config = Config()
config.HistoryManager.hist_file = ":memory:"
shell = InteractiveShell.instance(config=config)


def cell(source: str, **kwargs: Any) -> Any:
    """Run a cell (dedented); raise its error; return its result."""
    result = shell.run_cell(textwrap.dedent(source), **kwargs)
    result.raise_error()
    return result.result


def save(path: str, text: str) -> None:
    """Save atomically (dedented), then wait until the watcher holds the change."""
    with open(path + ".tmp", "w") as f:
        f.write(textwrap.dedent(text))
    os.replace(path + ".tmp", path)
    watcher = current_watcher()
    deadline = time.monotonic() + 30
    while watcher is None or not watcher.pending:
        if time.monotonic() > deadline:
            raise AssertionError(f"the watcher never saw the save of {path}")
        time.sleep(0.002)
        watcher = current_watcher()
