"""Which paths count: include/exclude patterns, the watched roots, and tree walks."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from .._paths import is_under, with_sep

if TYPE_CHECKING:
    from typing import TypeAlias

    StrPath: TypeAlias = "str | os.PathLike[str]"

__all__ = [
    "DEFAULT_EXCLUDES",
    "Filter",
    "Roots",
    "check_patterns",
    "path_matches",
    "real_root",
    "scan",
]

DEFAULT_EXCLUDES: tuple[str, ...] = (
    # editor swap, backup and temporary files
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    ".#*",
    "#*#",
    "4913",
    "*.tmp",
    ".*.kate-swp",
    "*___jb_tmp___",
    "*___jb_old___",
    ".goutputstream-*",
    # tool, VCS and environment folders
    "__pycache__",
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".idea",
    ".vscode",
    "node_modules",
    "site-packages",
    "dist-packages",
    "build",
    "dist",
    "*.egg-info",
)


def _compile(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex matching any of the fnmatch ``patterns`` (None: matches nothing)."""
    if not patterns:
        return None
    alternatives = (f"(?:{fnmatch.translate(os.path.normcase(p))})" for p in patterns)
    return re.compile("|".join(alternatives))


class Filter:
    """Compiled include (basename) and exclude (basename and folder names) patterns."""

    __slots__ = ("_exclude", "_include")

    def __init__(self, include: Sequence[str], exclude: Sequence[str]) -> None:
        self._include = _compile(include)
        self._exclude = _compile(exclude)

    def excluded(self, name: str) -> bool:
        """Whether a single path component is excluded."""
        return self._exclude is not None and self._exclude.match(os.path.normcase(name)) is not None

    def matches_rel(self, rel: str) -> bool:
        """Whether a path relative to its root passes the filter."""
        *folders, base = rel.split(os.sep)
        if self._include is None or self._include.match(os.path.normcase(base)) is None:
            return False
        return not self.excluded(base) and not any(self.excluded(d) for d in folders)


@functools.lru_cache(maxsize=32)
def _filter_for(include: tuple[str, ...], exclude: tuple[str, ...]) -> Filter:
    """Cached compiled filter for ``path_matches``."""
    return Filter(include, exclude)


def path_matches(
    path: StrPath,
    include: Sequence[str],
    exclude: Sequence[str],
    *,
    root: StrPath | None = None,
) -> bool:
    """Whether ``path`` passes the watcher's filter.

    Include patterns (fnmatch) are matched against the basename; exclude patterns
    against the basename and every folder component of the path relative to
    ``root``. Without ``root``, every folder component of ``path`` counts, so pass a
    relative path or give ``root``. A path outside ``root`` never matches.
    """
    flt = _filter_for(tuple(include), tuple(exclude))
    text = os.fspath(path)
    if root is None:
        rel = text.lstrip(os.sep)
    else:
        prefix = with_sep(os.fspath(root))
        if not text.startswith(prefix):
            return False
        rel = text[len(prefix) :]
    return bool(rel) and flt.matches_rel(rel)


def check_patterns(name: str, patterns: object) -> tuple[str, ...]:
    """Validate include/exclude: a sequence of non-empty strings, not a bare string."""
    if isinstance(patterns, (str, bytes)):
        raise ValueError(
            f"{name} must be a sequence of patterns, not a single string: ({patterns!r},)"
        )
    if not isinstance(patterns, Iterable):
        raise ValueError(f"{name} must be a sequence of patterns, got {patterns!r}")
    result = tuple(patterns)
    for pattern in result:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"{name} patterns must be non-empty strings, got {pattern!r}")
    return result


class Roots(NamedTuple):
    """The requested roots (real paths); an immutable snapshot swapped as a whole."""

    folders: tuple[str, ...] = ()
    files: frozenset[str] = frozenset()

    def add(self, real: str) -> Roots:
        """This snapshot plus one root (a folder or a file)."""
        if os.path.isdir(real):
            if real in self.folders:
                return self
            return Roots((*self.folders, real), self.files)
        return Roots(self.folders, self.files | {real})

    def matches(self, path: str, flt: Filter) -> bool:
        """Whether an event path belongs in a batch."""
        if path in self.files:
            return True
        for folder in self.folders:
            prefix = with_sep(folder)
            if path.startswith(prefix) and flt.matches_rel(path[len(prefix) :]):
                return True
        return False

    def watches(self, flt: Filter) -> dict[str, bool]:
        """The folders to watch, mapped to "recursive": one watch per outermost root."""
        recursive: list[str] = []
        for folder in sorted(set(self.folders), key=len):
            if not any(_covers(r, folder, flt) for r in recursive):
                recursive.append(folder)
        result = dict.fromkeys(recursive, True)
        for file in sorted(self.files):
            parent = os.path.dirname(file)
            if not any(_covers(r, parent, flt) for r in recursive):
                result[parent] = False
        return result


def _covers(root: str, folder: str, flt: Filter) -> bool:
    """Whether a recursive watch of ``root`` sees ``folder`` (no excluded folder between)."""
    if not is_under(folder, root):
        return False
    rel = folder[len(with_sep(root)) :] if folder != root else ""
    return not any(flt.excluded(part) for part in rel.split(os.sep) if part)


def real_root(path: StrPath) -> str:
    """The resolved real path of an existing file or folder, else ValueError."""
    real = os.path.realpath(os.fspath(path))
    if not os.path.exists(real):
        raise ValueError(f"cannot watch {os.fspath(path)!r}: no such file or folder")
    return real


def scan(
    top: bytes | str, flt: Filter, *, recursive: bool, on_folder: Callable[[str], bool]
) -> list[str]:
    """Files under ``top`` (not following symlinked folders, skipping excluded ones).

    ``on_folder(path)`` is called for every sub-folder kept; it returns whether to descend.
    """
    files: list[str] = []
    stack = [os.fsdecode(top)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_dir:
                files.append(entry.path)
            elif recursive and not flt.excluded(entry.name) and on_folder(entry.path):
                stack.append(entry.path)
    return files


def symlinked_folders(top: str, flt: Filter) -> list[str]:
    """Real paths of symlinked folders found under ``top`` (excluded folders skipped)."""
    found: list[str] = []
    stack = [top]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            if flt.excluded(entry.name):
                continue
            try:
                if entry.is_symlink():
                    if entry.is_dir():
                        found.append(os.path.realpath(entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
            except OSError:
                continue
    return found
