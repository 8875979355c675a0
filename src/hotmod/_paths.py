"""One answer to "is this path under that root?", for real (resolved) paths."""

from __future__ import annotations

import os

__all__ = ["is_under", "with_sep"]


def with_sep(folder: str) -> str:
    """``folder`` with exactly one trailing separator, for prefix tests."""
    return folder if folder.endswith(os.sep) else folder + os.sep


def is_under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` itself or lies anywhere below it (no resolving)."""
    return path == root or path.startswith(with_sep(root))
