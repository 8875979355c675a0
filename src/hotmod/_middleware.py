"""What the WSGI and ASGI middleware share: the app lookup, the watcher, the error page."""

from __future__ import annotations

import html
import importlib
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._modmap import source_hash
from ._report import ReloadReport, format_error
from ._runtime import get_reloader
from ._watcher import Watcher, current_watcher, watch

__all__ = [
    "AppRef",
    "Middleware",
    "ensure_dev_logging",
    "ensure_watcher",
    "error_page",
    "last_failure",
]

A = TypeVar("A", bound=Callable[..., Any])


class AppRef(Generic[A]):
    """An app object, or the newest object an import string names (``"pkg.main:app"``).

    With ``factory=True`` the object is a factory called with no arguments to make the
    app. An app of a framework that hotmod's integrations rebuild in place (Flask,
    Starlette, FastAPI) is made once; any other is made again by the newest factory
    after each successful reload.
    """

    def __init__(self, app: A | str, *, factory: bool = False) -> None:
        self.factory = factory
        self._made: Any = None
        self._made_at = -1
        self.fixed: A | None = None  # the app itself when it is neither named nor made
        if isinstance(app, str):
            module, _, attrs = app.partition(":")
            if not module or not attrs:
                raise ValueError(f"the import string must look like 'pkg.module:app', not {app!r}")
            self.module: str | None = module
            self.attrs = attrs.split(".")
            self.target = app
            self.get()  # import now: errors show at start-up, and watching sees the app
        else:
            if not callable(app):
                raise TypeError(f"expected an app or an import string, not {app!r}")
            self.module = None
            self._app = app
            if not factory:
                self.fixed = app

    def get(self) -> A:
        """The app to dispatch to now."""
        if self.module is None and not self.factory:
            return self._app
        if self.factory:
            return self._make()
        return self._named()

    def _make(self) -> A:
        made = self._made
        generation = _commits.count
        if made is None or (self._made_at != generation and not _rebuilt_in_place(made)):
            factory = self._named()
            made = factory()
            if not callable(made):
                raise TypeError(f"the factory {factory!r} returned {made!r}, not an app")
            self._made, self._made_at = made, generation
        app: A = made
        return app

    def _named(self) -> A:
        if self.module is None:
            return self._app
        obj: Any = sys.modules.get(self.module) or importlib.import_module(self.module)
        for attr in self.attrs:
            try:
                obj = getattr(obj, attr)
            except AttributeError:
                raise AttributeError(f"{self.target!r}: no attribute {attr!r}") from None
        app: A = obj
        return app


class _Commits:
    """Counts successful reloads (so a factory-made app knows when to be made again)."""

    def __init__(self) -> None:
        self.count = 0
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            self._installed = True
            get_reloader().listeners.append(self._on_report)

    def _on_report(self, report: ReloadReport) -> None:
        if report.error is None and report.reloaded:
            self.count += 1


_commits = _Commits()


def _rebuilt_in_place(app: object) -> bool:
    # An integration keeps this app's identity and state current by itself.
    from . import integrations

    active = {adapter.framework for adapter in integrations.active()}
    return any(cls.__module__.split(".")[0] in active for cls in type(app).__mro__)


def ensure_dev_logging() -> None:
    """Show hotmod's INFO lines (one per reload) on stderr, unless logging is configured.

    For dev servers only: nothing is done when the ``hotmod`` logger or the root logger
    already has a handler, or a level is set on the ``hotmod`` logger.
    """
    import logging

    logger = logging.getLogger("hotmod")
    if logger.handlers or logging.getLogger().handlers or logger.level != logging.NOTSET:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def ensure_watcher(watcher: Watcher | None) -> Watcher:
    """The watcher to use: the one given, else the running one, else a new manual one.

    Without ``watcher``, the default paths (which now hold the app's folders) are added
    to the running watcher, or watched by a new ``hotmod.watch(apply="manual")``.
    """
    if watcher is not None:
        return watcher.start()
    running = current_watcher()
    if running is not None and running.running:  # say under `hotmod run`: keep its mode
        return watch()
    return watch(apply="manual")


class _LastFailure:
    """The most recent failed reload (the reloader's), until one succeeds or the files
    are reverted."""

    def install(self) -> None:
        """Nothing to install: the reloader keeps its last failure."""

    def current(self) -> ReloadReport | None:
        reloader = get_reloader()
        report = reloader.last_failure
        if report is not None and _reverted(report):
            reloader.last_failure = report = None
        return report


def _reverted(report: ReloadReport) -> bool:
    # Saving back the code that runs is no change, so no reload reports success.
    modmap = get_reloader().modmap
    for name in report.changed:
        path = modmap.path_of(name)
        try:
            with open(path or "", "rb") as f:
                data = f.read()
        except OSError:
            return False
        if source_hash(data) != modmap.known_hash(name):
            return False
    return bool(report.changed)


last_failure = _LastFailure()


def error_page(report: ReloadReport) -> bytes:
    """The HTML body shown for a failed reload (``show_errors=True``)."""
    where = f" in {html.escape(report.module)}" if report.module else ""
    detail = html.escape(format_error(report.error)) if report.error else ""
    return (
        "<!doctype html><title>hotmod: reload failed</title>"
        f"<h1>Reload failed{where}</h1>"
        "<p>The server keeps running the previous code. Fix the error and save.</p>"
        f"<pre>{detail}</pre>\n"
    ).encode()


class Middleware(Generic[A]):
    """The options both middlewares take; see ``hotmod.wsgi.HotReload`` for their meaning."""

    def __init__(
        self,
        app: A | str,
        *,
        watcher: Watcher | None,
        show_errors: bool,
        hold_timeout: float | None,
        factory: bool = False,
        live: bool = False,
    ) -> None:
        if hold_timeout is not None and hold_timeout < 0:
            raise ValueError("hold_timeout must be >= 0 or None")
        ensure_dev_logging()
        _commits.install()
        self.app: AppRef[A] = AppRef(app, factory=factory)
        self.watcher = ensure_watcher(watcher)
        self.show_errors = show_errors
        self.hold_timeout = hold_timeout
        self.live = live
        if show_errors:
            last_failure.install()
        if factory:
            self.app.get()  # make the app now: its errors show at start-up
