"""WSGI middleware: reload between requests, serve the newest app.

Usage::

    from hotmod.wsgi import HotReload

    app = HotReload("myproject.app:app")   # Flask, Django, any WSGI app

Pending changes are applied when a request arrives, after the requests in flight have
finished (including the iteration of streaming bodies) and before the held ones start.
"""

from __future__ import annotations

import html
import importlib
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._modmap import source_hash
from ._reloader import get_reloader
from ._report import ReloadReport, format_error
from ._safepoint import safepoint
from ._watch import Watcher, watch

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["HotReload", "serve"]

A = TypeVar("A", bound=Callable[..., Any])


class AppRef(Generic[A]):
    """An app object, or the newest object an import string names (``"pkg.main:app"``).

    Shared by the WSGI and ASGI middleware.
    """

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


class _HeldBody:
    """A response body that keeps its request inside the gate until it is closed."""

    __slots__ = ("_body", "_release")

    def __init__(self, body: Iterable[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        release, self._release = self._release, None
        if release is None:
            return
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            release()


class HotReload:
    """WSGI middleware that applies pending changes between requests.

    Args:
        app: a WSGI app, or an import string ``"pkg.module:app"``: each request then
            goes to the object the module binds now, so an app rebuilt when its module
            is reloaded (``app = Flask(__name__)``) is current.
        watcher: the watcher whose changes to apply; default: the running one, else
            a new ``hotmod.watch(apply="manual")`` on the default paths.
        show_errors: while the last reload failed, answer every request with a 500
            page showing the error (file:line) instead of running the previous code.
        hold_timeout: longest a reload waits for requests in flight (streaming
            responses) before it goes ahead anyway, logging a WARNING; None: no bound.
    """

    def __init__(
        self,
        app: WSGIApplication | str,
        *,
        watcher: Watcher | None = None,
        show_errors: bool = False,
        hold_timeout: float | None = 10.0,
    ) -> None:
        if hold_timeout is not None and hold_timeout < 0:
            raise ValueError("hold_timeout must be >= 0 or None")
        self.app: AppRef[WSGIApplication] = AppRef(app)
        self.watcher = ensure_watcher(watcher)
        self.show_errors = show_errors
        safepoint.hold_timeout = hold_timeout
        if show_errors:
            last_failure.install()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        watcher = self.watcher
        if watcher.apply_mode == "manual" and watcher.pending:
            watcher.apply()
        safepoint.acquire_read()
        try:
            failure = last_failure.current() if self.show_errors else None
            if failure is not None:
                body = error_page(failure)
                start_response(
                    "500 Internal Server Error",
                    [
                        ("Content-Type", "text/html; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                    ],
                )
                result: Iterable[bytes] = [body]
            else:
                result = self.app.get()(environ, start_response)
        except BaseException:
            safepoint.release_read()
            raise
        return _HeldBody(result, safepoint.release_read)


def serve(
    app: WSGIApplication | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    watcher: Watcher | None = None,
    show_errors: bool = False,
    hold_timeout: float | None = 10.0,
    **kwargs: Any,
) -> None:
    """Serve ``app`` with werkzeug's development server, reloading in place.

    Runs ``werkzeug.serving.run_simple`` threaded and without its own reloader;
    ``kwargs`` go to it. Needs werkzeug (``pip install 'hotmod[servers]'``).
    """
    from werkzeug.serving import run_simple

    if kwargs.pop("use_reloader", False):
        raise ValueError("use_reloader restarts the process: hotmod reloads in place instead")
    kwargs.setdefault("threaded", True)
    middleware = HotReload(app, watcher=watcher, show_errors=show_errors, hold_timeout=hold_timeout)
    run_simple(host, port, middleware, use_reloader=False, **kwargs)
