"""One answer to "is this path under that root?", for real (resolved) paths, and one
digest of a file's bytes."""

from __future__ import annotations

import os

__all__ = ["file_digest", "is_under", "with_sep"]


def with_sep(folder: str) -> str:
    """``folder`` with exactly one trailing separator, for prefix tests."""
    return folder if folder.endswith(os.sep) else folder + os.sep


def is_under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` itself or lies anywhere below it (no resolving)."""
    return path == root or path.startswith(with_sep(root))


def file_digest(path: str) -> bytes | None:
    """A digest of the file's bytes; None when it cannot be read (removed)."""
    import hashlib  # (only the poller and ``hotmod test`` read files this way)

    try:
        with open(path, "rb") as f:
            return hashlib.blake2b(f.read(), digest_size=16).digest()
    except OSError:
        return None
