"""What the WSGI and ASGI middleware share: the app lookup, the watcher, the error page."""

from __future__ import annotations

import html
import importlib
import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._modmap import source_hash
from ._reloader import get_reloader
from ._report import ReloadReport, format_error
from ._safepoint import safepoint
from ._watcher import Watcher, current_watcher, watch

__all__ = ["AppRef", "Middleware", "ensure_watcher", "error_page", "last_failure"]

A = TypeVar("A", bound=Callable[..., Any])


class AppRef(Generic[A]):
    """An app object, or the newest object an import string names (``"pkg.main:app"``)."""

    def __init__(self, app: A | str) -> None:
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

    def get(self) -> A:
        """The app to dispatch to now."""
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
    """The most recent failed reload, until a reload succeeds or the files are reverted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._installed = False
        self.report: ReloadReport | None = None

    def install(self) -> None:
        with self._lock:
            if not self._installed:
                get_reloader().listeners.append(self._on_report)
                self._installed = True

    def _on_report(self, report: ReloadReport) -> None:
        self.report = report if report.error is not None else None

    def current(self) -> ReloadReport | None:
        report = self.report
        if report is not None and _reverted(report):
            self.report = report = None
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
    ) -> None:
        if hold_timeout is not None and hold_timeout < 0:
            raise ValueError("hold_timeout must be >= 0 or None")
        self.app: AppRef[A] = AppRef(app)
        self.watcher = ensure_watcher(watcher)
        self.show_errors = show_errors
        self.hold_timeout = hold_timeout
        safepoint.hold_timeout = hold_timeout
        if show_errors:
            last_failure.install()
