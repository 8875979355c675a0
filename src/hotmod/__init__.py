"""hotmod: instant, transactional hot reloading for Python."""

from . import _modmap as _modmap  # the clock's source hook asks it which files are user code
from . import _sideeffects as _sideeffects
from ._api import dependents, keep, reload
from ._errors import HotmodWarning as HotmodWarning
from ._errors import ReloadError
from ._runtime import install_clock as _install_clock

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from ._ipython import load_ipython_extension as load_ipython_extension
    from ._ipython import unload_ipython_extension as unload_ipython_extension
    from ._monitor import DEFAULT_EXCLUDES as DEFAULT_EXCLUDES
    from ._report import ReloadReport
    from ._safepoint import reloadable
    from ._watcher import Watcher, apply, watch
del TYPE_CHECKING

# The names of the product contract; HotmodWarning and DEFAULT_EXCLUDES are public too
# (importable, documented) but stay out of ``import *``.
__all__ = [
    "ReloadError",
    "ReloadReport",
    "Watcher",
    "apply",
    "dependents",
    "keep",
    "reload",
    "reloadable",
    "watch",
]

__version__ = "0.1.0"

# Imported on first use, so that ``import hotmod`` costs a program next to nothing: the
# engine, the watcher and the request gate load when the program first asks for them.
_LAZY = {
    "ReloadReport": "_report",
    "Watcher": "_watcher",
    "apply": "_watcher",
    "watch": "_watcher",
    "reloadable": "_safepoint",
    "DEFAULT_EXCLUDES": "_monitor",
    "load_ipython_extension": "_ipython",
    "unload_ipython_extension": "_ipython",
}


def __getattr__(name: str) -> object:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module 'hotmod' has no attribute {name!r}")
    value = getattr(__import__(f"hotmod.{home}", fromlist=[name]), name)
    if name in __all__:
        value.__module__ = "hotmod"
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


for _name in [*__all__, "HotmodWarning"]:
    if _name not in _LAZY:
        globals()[_name].__module__ = "hotmod"
del _name

# From now on, note when each module starts importing (a finder that finds nothing),
# and start a framework's adapter when the program imports it, even before the first
# watch or reload: an app made before then is seen as it is made.
_install_clock()
# What module code registers with atexit, logging, warnings and signal goes to the ledger
# from the first import on (logging and signal once the program imports them).
_sideeffects.install()
