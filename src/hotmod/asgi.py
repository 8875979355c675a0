"""ASGI middleware: reload between requests, serve the newest app, never block the loop.

Usage:

```python
from hotmod.asgi import HotReload

app = HotReload("myproject.main:app")   # FastAPI, Starlette, any ASGI 3 app
```

Each HTTP request and websocket is a unit of work of `hotmod._runtime.safepoint`
while it is inside the app's code: until its response starts streaming (a body sent
with ``more_body``) or its websocket is accepted. When
changes are pending, the next request waits (on the loop, without blocking it) until
the requests in flight have finished, applies them on the loop thread and goes on;
requests arriving meanwhile are held until the reload is done. Lifespan events pass
through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._live import LIVE_MARK, LiveASGI, live_enabled
from ._middleware import Middleware, error_page, last_failure
from ._runtime import safepoint
from ._watcher import Watcher

__all__ = ["HotReload", "serve"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class HotReload(Middleware["ASGIApp"]):
    """ASGI middleware that applies pending changes between requests.

    Args:
        app: an ASGI 3 app, or an import string ``"pkg.module:app"``: each request then
            goes to the object the module binds now, so an app rebuilt when its module
            is reloaded (``app = FastAPI()``) and its routes are current.
        watcher: the watcher whose changes to apply; default: the running one, else
            a new ``hotmod.watch(apply="manual")`` on the default paths.
        show_errors: while the last reload failed, answer every HTTP request with a
            500 page showing the error (file:line) instead of running the previous code.
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
        app: ASGIApp | str,
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
        self._applying = False
        # The live wrapper calls this middleware back with the scope marked as seen.
        self._live = LiveASGI(self) if self.live else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app.get()(scope, receive, send)
            return
        watcher = self.watcher
        if not self._applying and watcher.apply_mode == "manual" and watcher.has_pending:
            await self._apply(watcher)
        if self._live is not None and LIVE_MARK not in scope:
            await self._live(scope, receive, send)
            return
        if not safepoint.try_acquire_read():
            await safepoint.acquire_read_async()
        released = False

        def send_and_release(message: Message) -> Awaitable[None]:
            # Once the body streams (or the websocket is open) the request leaves the
            # gate. A plain function returning send's awaitable: no extra coroutine.
            nonlocal released
            if not released and (message.get("more_body") or message["type"] == "websocket.accept"):
                released = True
                safepoint.release_read()
            return send(message)

        try:
            failure = last_failure.current() if self.show_errors else None
            if failure is None:
                app = self.app.fixed
                await (app if app is not None else self.app.get())(scope, receive, send_and_release)
            elif scope["type"] == "http":
                await _send_page(send, error_page(failure))
            else:
                await send({"type": "websocket.close", "code": 1011})
        finally:
            if not released:
                released = True
                safepoint.release_read()

    async def _apply(self, watcher: Watcher) -> None:
        # One request applies; the others meanwhile wait in acquire_read_async.
        self._applying = True
        try:
            await safepoint.acquire_write_async(self.hold_timeout, force=True)
            try:
                watcher.apply()
            finally:
                safepoint.release_write()
        finally:
            self._applying = False


async def _send_page(send: Send, body: bytes) -> None:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(
    app: ASGIApp | str,
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
    """Serve ``app`` with uvicorn, reloading in place.

    ``kwargs`` go to ``uvicorn.run`` (``log_level``, ``ws``, ...); the other options
    are `HotReload`'s. Needs uvicorn: the ``servers`` extra, ``pip install -e ".[servers]"``
    in a clone of hotmod, or ``pip install "hotmod[servers] @ git+<your clone's URL>"``.
    """
    import uvicorn

    if kwargs.pop("reload", False) or kwargs.get("workers", 1) not in (None, 1):
        raise ValueError("reload and workers start processes: hotmod reloads in place instead")
    kwargs.pop("factory", None)
    middleware = HotReload(
        app,
        watcher=watcher,
        show_errors=show_errors,
        hold_timeout=hold_timeout,
        factory=factory,
        live=live,
    )
    uvicorn.run(middleware, host=host, port=port, **kwargs)
