"""WSGI middleware: reload between requests, serve the newest app.

Usage:

```python
from hotmod.wsgi import HotReload

app = HotReload("myproject.app:app")   # Flask, Django, any WSGI app
```

Pending changes are applied when a request arrives, after the requests in flight have
finished (including the iteration of streaming bodies) and before the held ones start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ._middleware import Middleware, error_page, last_failure
from ._safepoint import safepoint
from ._watcher import Watcher

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["HotReload", "serve"]


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
        super().__init__(app, watcher=watcher, show_errors=show_errors, hold_timeout=hold_timeout)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        watcher = self.watcher
        if watcher.apply_mode == "manual" and watcher.has_pending:
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
    ``kwargs`` go to it. Needs werkzeug: the ``servers`` extra,
    ``pip install -e ".[servers]"`` in a clone of hotmod, or
    ``pip install "hotmod[servers] @ git+<your clone's URL>"``.
    """
    from werkzeug.serving import run_simple

    if kwargs.pop("use_reloader", False):
        raise ValueError("use_reloader restarts the process: hotmod reloads in place instead")
    kwargs.setdefault("threaded", True)
    middleware = HotReload(app, watcher=watcher, show_errors=show_errors, hold_timeout=hold_timeout)
    run_simple(host, port, middleware, use_reloader=False, **kwargs)
