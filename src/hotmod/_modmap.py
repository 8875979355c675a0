"""Which file is which module, which modules may be reloaded, and their source hashes."""

from __future__ import annotations

import os
import site
import sys
import weakref
from types import ModuleType

from ._paths import is_under

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import hotmod stays light)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import ModuleType

__all__ = [
    "ModuleMap",
    "excluded_reason",
    "no_source_reason",
    "real",
    "source_hash",
    "source_path",
]

_HERE = os.path.dirname(os.path.realpath(__file__))


def real(path: str | os.PathLike[str]) -> str:
    """The resolved absolute path, symlinks followed."""
    return os.path.realpath(os.fspath(path))


def source_hash(data: bytes) -> int:
    """A digest of source bytes, to tell a real edit from a save of identical content.

    Python's own 64-bit bytes hash: fast, and importing hashlib would cost more than
    every other import of hotmod.
    """
    return hash(data)


def source_path(module: ModuleType) -> str | None:
    """The real path of the ``.py`` file a module was executed from, or None.

    Only a module the import system loaded from a file it names counts: never a
    ``__file__`` set by hand, nor a file inside a zip archive.
    """
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) if spec is not None else None
    if spec is None and getattr(module, "__name__", None) == "__main__":
        origin = getattr(module, "__file__", None)  # a script run by python or hotmod run
    elif not (origin and getattr(spec, "has_location", False)):
        return None
    if not isinstance(origin, str) or not origin.endswith(".py") or not os.path.isfile(origin):
        return None
    return real(origin)


def _source_missing(module: ModuleType) -> bool:
    """Whether a module was loaded from a ``.py`` file by the import system's own file
    loader, and that file is missing right now (an editor saving it: unlinked, then
    written again)."""
    from importlib.machinery import SourceFileLoader

    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None)
    return (
        type(getattr(spec, "loader", None)) is SourceFileLoader
        and isinstance(origin, str)
        and origin.endswith(".py")
        and not os.path.exists(origin)
    )


def no_source_reason(module: ModuleType) -> str:
    """Why a loaded module cannot be reloaded from source, in words."""
    if not isinstance(module, ModuleType):
        return (
            f"its sys.modules entry is a {type(module).__qualname__} object, not a module "
            "(its code replaced it), so its namespace is unknown"
        )
    spec = getattr(module, "__spec__", None)
    origin = (
        getattr(spec, "origin", None) if spec is not None else getattr(module, "__file__", None)
    )
    path = source_path(module)
    if path is not None:
        return excluded_reason(path) or "it is not under a watched folder"
    if spec is None:
        return "it was not loaded by the import system (no __spec__), so its source is unknown"
    if not isinstance(origin, str) or not getattr(spec, "has_location", False):
        return "it has no source file (built-in, frozen or created in memory)"
    if origin.endswith((".pyc", ".pyo")):
        return "it has no Python source file (loaded from bytecode only)"
    if not origin.endswith(".py"):
        return "it has no Python source file (an extension module)"
    return f"its source {origin!r} is not a file on disk (inside a zip archive?)"


_prefixes: tuple[str, ...] | None = None
_looking_up = False


def _library_prefixes() -> tuple[str, ...] | None:
    """The folders of the standard library and installed packages; None while they
    cannot be known: the import hook asks about every source file read, and the ones
    read to import ``sysconfig``, or by ``sysconfig`` itself, come before its answer
    (bytecode missing: a new ``PYTHONPYCACHEPREFIX``, a library without ``.pyc``)."""
    global _prefixes, _looking_up
    if _prefixes is not None:
        return _prefixes
    loading = sys.modules.get("sysconfig")
    if _looking_up or (
        loading is not None and getattr(getattr(loading, "__spec__", None), "_initializing", False)
    ):
        return None
    _looking_up = True
    try:
        import sysconfig

        paths: set[str] = set()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            value = sysconfig.get_paths().get(key)
            if value:
                paths.add(real(value))
        if hasattr(site, "getsitepackages"):  # virtualenv's old site.py has none
            paths.update(real(p) for p in site.getsitepackages())
        user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
        if isinstance(user_site, str):
            paths.add(real(user_site))
        paths.add(_HERE)
        _prefixes = tuple(sorted(p.rstrip(os.sep) or os.sep for p in paths))
    finally:
        _looking_up = False
    return _prefixes


def excluded_reason(path: str) -> str | None:
    """Why a file can never be reloaded (standard library, site-packages, hotmod), or None."""
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return "it is installed in site-packages"
    if is_under(path, _HERE):
        return "it is part of hotmod"
    prefixes = _library_prefixes()
    if prefixes is None:
        return "it is read while Python looks up where its library is"
    for prefix in prefixes:
        if is_under(path, prefix):
            return "it belongs to the standard library or an installed package"
    return None


class ModuleMap:
    """Maps loaded modules to their source files and decides which are reloadable.

    Without roots every module outside the standard library and site-packages is
    reloadable; with roots (set by a watcher), only modules under them and modules
    named explicitly are.
    """

    def __init__(self) -> None:
        self._roots: list[str] = []
        self._explicit: set[str] = set()
        self._path_of: dict[str, str] = {}
        self._names_of: dict[str, set[str]] = {}
        self._hash: dict[str, int | None] = {}
        # name -> the module object seen (weakly: a module deleted and imported again may
        # be made at the same address, so its id would not tell it from the old one)
        self._seen: dict[str, weakref.ref[ModuleType]] = {}
        self._mark: tuple[int, int, str] = (-1, -1, "")
        self._reloadable: dict[str, bool] = {}  # is_reloadable, until the map changes
        self._absent: dict[str, ModuleType] = {}  # loaded from a file missing when synced

    def add_roots(self, roots: Iterable[str]) -> None:
        """Restrict reloadable modules to these folders (and files) from now on."""
        self._reloadable.clear()
        for root in roots:
            path = real(root)
            if path not in self._roots:
                self._roots.append(path)

    def remove_roots(self, roots: Iterable[str]) -> None:
        """Stop restricting to these roots; what they made reloadable stays reloadable.

        Without roots left every user module is reloadable again; with other roots
        left, the tracked modules under the removed ones count as named explicitly.
        """
        self._reloadable.clear()
        removed = [real(root) for root in roots]
        self._roots = [r for r in self._roots if r not in removed]
        if self._roots:
            for name, path in self._path_of.items():
                if any(is_under(path, root) for root in removed):
                    self._explicit.add(name)

    def add_explicit(self, name: str) -> None:
        """Make a module reloadable because the user named it."""
        self._reloadable.clear()
        self._explicit.add(name)

    def sync(self) -> list[str]:
        """Record modules loaded (or replaced) since the last call; return their names."""
        new: list[str] = []
        for name, module in list(self._absent.items()):  # their file was missing: look again
            if sys.modules.get(name) is not module:
                del self._absent[name]
            elif (path := source_path(module)) is not None:
                del self._absent[name]
                self._track(name, path, new)
        # Nothing imported since the last call (the import clock counts imports): done.
        from ._runtime import import_clock

        mark = (import_clock.count, len(sys.modules), next(reversed(sys.modules), ""))
        if mark == self._mark:
            return new
        self._mark = mark
        seen = self._seen
        for name, module in list(sys.modules.items()):
            if not isinstance(module, ModuleType):
                continue
            known = seen.get(name)
            if known is not None:
                if known() is module:
                    continue
                self.forget(name)  # a new module object under a known name: re-imported
            seen[name] = weakref.ref(module)
            own = getattr(module, "__name__", name)
            if own != name and sys.modules.get(own) is module:
                continue  # an alias (``__mp_main__``, which billiard makes of ``__main__``)
            path = source_path(module)
            if path is not None:
                self._track(name, path, new)
            elif _source_missing(module):  # mid-save (unlinked, then written): look again
                self._absent[name] = module
        return new

    def _track(self, name: str, path: str, new: list[str]) -> None:
        """Map a module to its source file, unless that file is never reloaded."""
        if excluded_reason(path) is None:
            self._reloadable.clear()
            self._path_of[name] = path
            self._names_of.setdefault(path, set()).add(name)
            new.append(name)

    def forget(self, name: str) -> None:
        """Drop a module that left ``sys.modules``."""
        self._reloadable.clear()
        self._seen.pop(name, None)
        self._absent.pop(name, None)
        path = self._path_of.pop(name, None)
        self._hash.pop(name, None)
        if path is not None:
            names = self._names_of.get(path, set())
            names.discard(name)
            if not names:
                self._names_of.pop(path, None)

    def path_of(self, name: str) -> str | None:
        """The real source path of a tracked module."""
        return self._path_of.get(name)

    def names_for(self, path: str) -> list[str]:
        """Tracked modules run from this file (a script can be ``__main__`` and its own name)."""
        names = self._names_of.get(path)  # already real (what the monitor reports): no lstat
        return sorted(names if names is not None else self._names_of.get(real(path), ()))

    def under_roots(self, path: str) -> bool:
        """True when a path lies under a watched root (or no roots are set)."""
        if not self._roots:
            return True
        return any(is_under(path, root) for root in self._roots)

    def is_reloadable(self, name: str) -> bool:
        """True for a tracked module under the roots or named explicitly."""
        known = self._reloadable.get(name)
        if known is None:
            path = self._path_of.get(name)
            known = path is not None and (name in self._explicit or self.under_roots(path))
            self._reloadable[name] = known
        return known

    def known_hash(self, name: str) -> int | None:
        """The hash of the source the module last ran, if known."""
        return self._hash.get(name)

    def set_hash(self, name: str, digest: int | None) -> None:
        """Record the hash of the source the module now runs."""
        self._hash[name] = digest
