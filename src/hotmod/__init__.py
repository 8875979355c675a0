"""hotmod: instant, transactional hot reloading for Python."""

from ._api import dependents, keep, reload
from ._errors import HotmodWarning as HotmodWarning
from ._errors import ReloadError
from ._ipython import load_ipython_extension as load_ipython_extension
from ._ipython import unload_ipython_extension as unload_ipython_extension
from ._monitor import DEFAULT_EXCLUDES as DEFAULT_EXCLUDES
from ._report import ReloadReport
from ._runtime import import_clock as _import_clock
from ._safepoint import reloadable
from ._watcher import Watcher, apply, watch

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

for _name in [*__all__, "HotmodWarning"]:
    globals()[_name].__module__ = "hotmod"
del _name

# From now on, note when each module starts importing (a finder that finds nothing),
# and start a framework's adapter when the program imports it, even before the first
# watch or reload: an app made before then is seen as it is made.
_import_clock.install()
if _import_clock.on_import is None:
    from ._reloader import _activate_on_import

    _import_clock.on_import = _activate_on_import
    del _activate_on_import
