"""WSGI middleware: reload between requests, serve the newest app.

Usage:

```python
from hotmod.wsgi import HotReload

app = HotReload("myproject.app:app")   # Flask, Django, any WSGI app
```

Pending changes are applied when a request arrives, after the requests in flight have
left the app's code and before the held ones start. A request is inside the app's
code until the app returns its response iterable: the server then streams the body
without holding reloads or other requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ._live import LiveWSGI, live_enabled
from ._middleware import Middleware, error_page, last_failure
from ._runtime import safepoint
from ._watcher import Watcher

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["HotReload", "serve"]


class HotReload(Middleware["WSGIApplication"]):
    """WSGI middleware that applies pending changes between requests.

    Args:
        app: a WSGI app, or an import string ``"pkg.module:app"``: each request then
            goes to the object the module binds now, so an app rebuilt when its module
            is reloaded (``app = Flask(__name__)``) is current.
        watcher: the watcher whose changes to apply; default: the running one, else
            a new ``hotmod.watch(apply="manual")`` on the default paths.
        show_errors: while the last reload failed, answer every request with a 500
            page showing the error (file:line) instead of running the previous code.
        hold_timeout: longest this middleware's reloads wait for requests inside the
            app's code before they go ahead anyway, logging a WARNING; None: no bound.
        factory: ``app`` names (or is) a factory called without arguments to make
            the app (``"pkg:create_app"``).
        live: inject a script into HTML pages that refreshes them after each
            successful reload and shows the error of a failed one; None (default):
            on under ``hotmod run --live``.
    """

    def __init__(
        self,
        app: WSGIApplication | str,
        *,
        watcher: Watcher | None = None,
        show_errors: bool = False,
        hold_timeout: float | None = 10.0,
        factory: bool = False,
        live: bool | None = None,
    ) -> None:
        super().__init__(
            app,
            watcher=watcher,
            show_errors=show_errors,
            hold_timeout=hold_timeout,
            factory=factory,
            live=live_enabled(live),
        )
        self._live = LiveWSGI(self._dispatch) if self.live else None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        watcher = self.watcher
        if watcher.apply_mode == "manual" and watcher.has_pending:
            with safepoint.writing(self.hold_timeout):
                watcher.apply()
        if self._live is not None:
            result = self._live(environ, start_response)
        else:
            result = self._dispatch(environ, start_response)
        # A body the caller may close, as a middleware's should be: a list has no close.
        return result if hasattr(result, "close") else _Body(result)

    def _dispatch(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not self.show_errors:  # the common case, kept short: it runs on every request
            safepoint.acquire_read()
            try:
                return self.app.get()(environ, start_response)
            finally:
                safepoint.release_read()
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
        finally:
            # The body is the server's to stream now: it holds no reload.
            safepoint.release_read()
        return result


class _Body:
    """A response body without ``close()`` (a list), given one that does nothing."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def __len__(self) -> int:  # (wsgiref sets Content-Length for a body of one block)
        return len(self._chunks)  # type: ignore[arg-type]

    def close(self) -> None:
        """Nothing to release."""


def serve(
    app: WSGIApplication | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    watcher: Watcher | None = None,
    show_errors: bool = False,
    hold_timeout: float | None = 10.0,
    factory: bool = False,
    live: bool | None = None,
    **kwargs: Any,
) -> None:
    """Serve ``app`` with werkzeug's development server, reloading in place.

    Runs ``werkzeug.serving.run_simple`` threaded and without its own reloader;
    ``kwargs`` go to it; the other options are `HotReload`'s. Needs werkzeug: the
    ``servers`` extra, ``pip install -e ".[servers]"`` in a clone of hotmod, or
    ``pip install "hotmod[servers] @ git+<your clone's URL>"``.
    """
    from werkzeug.serving import run_simple

    if kwargs.pop("use_reloader", False):
        raise ValueError("use_reloader restarts the process: hotmod reloads in place instead")
    kwargs.setdefault("threaded", True)
    middleware = HotReload(
        app,
        watcher=watcher,
        show_errors=show_errors,
        hold_timeout=hold_timeout,
        factory=factory,
        live=live,
    )
    run_simple(host, port, middleware, use_reloader=False, **kwargs)
