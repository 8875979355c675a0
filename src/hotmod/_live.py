"""Browser refresh: HTML pages reload themselves after each successful reload.

A small script is injected into every ``text/html`` response. It listens to the
server-sent events of `EVENTS_PATH`, which tell the page the reload generation and
the error of the last reload if it failed: a page made by an older generation reloads
itself, a failed reload shows its error (file:line) over the page until it is fixed.

`LiveWSGI` and `LiveASGI` wrap an app; ``HotReload(..., live=True)`` and
``hotmod run --live`` (which sets ``HOTMOD_LIVE=1`` for the integrations) use them.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from ._report import ReloadReport, format_error
from ._runtime import get_reloader

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["EVENTS_PATH", "LIVE_MARK", "LiveASGI", "LiveWSGI", "live_enabled", "state"]

EVENTS_PATH = "/__hotmod__/events"
# An event stream ends after this long; the browser reconnects at once (``retry``), so
# no connection keeps a server thread, or a server's shutdown, waiting for long.
STREAM_SECONDS = 15.0
LIVE_MARK = "hotmod.live"  # set in the environ/scope by the outermost wrapper


def live_enabled(live: bool | None) -> bool:
    """``live``, or when None, whether ``hotmod run --live`` asked for it (``HOTMOD_LIVE=1``)."""
    if live is None:
        return os.environ.get("HOTMOD_LIVE") == "1"
    return live


class _State:
    """The reload generation and the last error, shared by every event stream."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.version = 0
        self.error: str | None = None
        self.seq = 0
        self._installed = False

    def install(self) -> None:
        with self.cond:
            if self._installed:
                return
            self._installed = True
        get_reloader().listeners.append(self._on_report)

    def _on_report(self, report: ReloadReport) -> None:
        with self.cond:
            if report.error is not None:
                self.error = format_error(report.error)
            elif report.reloaded:
                self.version += 1
                self.error = None
            else:
                return
            self.seq += 1
            self.cond.notify_all()

    def event(self) -> bytes:
        data = json.dumps({"version": self.version, "error": self.error})
        return f"event: state\ndata: {data}\n\n".encode()


state = _State()

_SCRIPT = """<script data-hotmod-live>(function () {
  var version = %d;
  function show(text) {
    var box = document.getElementById("__hotmod_error__");
    if (!box) {
      box = document.createElement("div");
      box.id = "__hotmod_error__";
      box.setAttribute("style", "position:fixed;inset:0;z-index:2147483647;overflow:auto;" +
        "background:#fff;color:#900;padding:2em;font:14px/1.4 monospace;white-space:pre-wrap");
      (document.body || document.documentElement).appendChild(box);
    }
    box.textContent = "hotmod: reload failed; the server runs the previous code.\\n\\n" + text;
  }
  var source = new EventSource("%s");
  source.addEventListener("state", function (e) {
    var d = JSON.parse(e.data);
    if (d.error) { show(d.error); }
    else if (d.version !== version) { source.close(); location.reload(); }
    else {
      var box = document.getElementById("__hotmod_error__");
      if (box) { box.remove(); }
    }
  });
})();</script>"""


def inject(body: bytes) -> bytes:
    """``body`` with the refresh script before ``</body>`` (or at its end)."""
    script = (_SCRIPT % (state.version, EVENTS_PATH)).encode()
    lower = body.lower()
    at = lower.rfind(b"</body>")
    if at < 0:
        return body + script
    return body[:at] + script + body[at:]


def _is_html(headers: Iterable[tuple[str, str]]) -> bool:
    html = False
    for name, value in headers:
        name = name.lower()
        if name == "content-encoding" and value.lower() != "identity":
            return False  # compressed: leave it alone
        if name == "content-type" and value.split(";")[0].strip().lower() == "text/html":
            html = True
    return html


# -- WSGI -------------------------------------------------------------------------------


class LiveWSGI:
    """WSGI wrapper: the refresh script in HTML responses, and the event stream."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        state.install()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get(LIVE_MARK):
            return self.app(environ, start_response)
        environ[LIVE_MARK] = True
        if environ.get("PATH_INFO") == EVENTS_PATH:
            return events_wsgi(start_response)
        held: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if _is_html(headers):
                held[:] = [status, headers, exc_info]
                return lambda data: held.append(data)
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        if not held:
            return result
        try:
            parts = [*held[3:], *result]
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers, exc_info = held[:3]
        body = inject(b"".join(parts))
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers, exc_info)
        return [body]


def events_wsgi(start_response: StartResponse) -> Iterator[bytes]:
    """The event stream for WSGI servers (a thread per open page)."""
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
            ("X-Accel-Buffering", "no"),
        ],
    )
    return _stream()


def _stream() -> Iterator[bytes]:
    yield b"retry: 300\n\n"
    end = time.monotonic() + STREAM_SECONDS
    seen = -1
    while True:
        with state.cond:
            if state.seq == seen:
                left = end - time.monotonic()
                if left <= 0:
                    return
                state.cond.wait(min(left, 5.0))
            if state.seq == seen:
                chunk = b": ping\n\n"
            else:
                seen = state.seq
                chunk = state.event()
        yield chunk


# -- ASGI -------------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class LiveASGI:
    """ASGI wrapper (also a Starlette middleware class): the script and the event stream."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        state.install()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(LIVE_MARK):
            await self.app(scope, receive, send)
            return
        scope[LIVE_MARK] = True
        if scope.get("path") == EVENTS_PATH:
            await events_asgi(receive, send)
            return
        start: Message | None = None
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            kind = message["type"]
            if kind == "http.response.start":
                headers = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", ())
                ]
                if _is_html(headers):
                    start = message
                    return
            elif kind == "http.response.body" and start is not None:
                parts.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = inject(b"".join(parts))
                headers = [
                    (k, v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"
                ]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, capture)


async def events_asgi(receive: Receive, send: Send) -> None:
    """The event stream for ASGI servers; ends when the page goes away."""
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"retry: 300\n\n", "more_body": True})

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    gone = asyncio.ensure_future(disconnected())
    end = time.monotonic() + STREAM_SECONDS
    seen = -1
    try:
        while not gone.done() and time.monotonic() < end:
            if state.seq != seen:
                seen = state.seq
                await send({"type": "http.response.body", "body": state.event(), "more_body": True})
            await asyncio.wait({gone}, timeout=0.1)
        if not gone.done():
            await send({"type": "http.response.body", "body": b""})
    except OSError:
        pass  # the page went away while we wrote
    finally:
        gone.cancel()
