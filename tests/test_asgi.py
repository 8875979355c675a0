"""hotmod.asgi: the loop-aware gate, in-process and under uvicorn with Starlette and FastAPI."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast

import pytest

import hotmod
from conftest import Project
from hotmod._runtime import safepoint
from hotmod._watcher import Watcher
from hotmod.asgi import HotReload
from test_wsgi import (
    FakeWatcher,
    check_concurrent,
    check_edits,
    check_syntax_error,
    running_server,
)

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@pytest.fixture(autouse=True)
def _gate_settings() -> Iterator[None]:
    hold = safepoint.hold_timeout
    yield
    safepoint.hold_timeout = hold
    assert safepoint.in_flight == 0, "a request was left inside the gate"


def fake() -> tuple[FakeWatcher, Watcher]:
    w = FakeWatcher()
    return w, cast(Watcher, w)


async def hello(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def request(app: Any, path: str = "/") -> tuple[int, bytes]:
    """Drive one HTTP request through an ASGI app by hand."""
    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def test_a_request_through_httpx() -> None:
    httpx = pytest.importorskip("httpx")
    _, watcher = fake()

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=HotReload(hello, watcher=watcher))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/")

    response = asyncio.run(main())
    assert (response.status_code, response.text) == (200, "hello")


def test_lifespan_passes_through_without_the_gate() -> None:
    seen: list[tuple[str, int]] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        seen.append((scope["type"], safepoint.in_flight))
        message = await receive()
        await send({"type": message["type"] + ".complete"})

    w, watcher = fake()
    w.queued = True
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(HotReload(app, watcher=watcher)({"type": "lifespan"}, receive, send))
    assert seen == [("lifespan", 0)]
    assert sent == [{"type": "lifespan.startup.complete"}]
    assert w.applied == [] and w.queued  # lifespan is no safe point


def test_a_reload_waits_on_the_loop_for_requests_in_flight() -> None:
    order: list[str] = []
    w, watcher = fake()
    w.on_apply = lambda: order.append("reload")

    async def main() -> None:
        release = asyncio.Event()

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope["path"] == "/slow":
                await release.wait()
                order.append("slow done")
            else:
                order.append("new request")
            await hello(scope, receive, send)

        middleware = HotReload(app, watcher=watcher)
        slow = asyncio.create_task(request(middleware, "/slow"))
        await asyncio.sleep(0)
        assert safepoint.in_flight == 1
        w.queued = True
        new = [asyncio.create_task(request(middleware, "/new")) for _ in range(3)]
        for _ in range(5):
            await asyncio.sleep(0)  # the loop runs: nothing blocks it
        assert order == []
        release.set()  # set by a coroutine, so the loop was free all along
        assert await slow == (200, b"hello")
        assert [await t for t in new] == [(200, b"hello")] * 3

    asyncio.run(main())
    assert order == ["slow done", "reload", "new request", "new request", "new request"]
    assert w.applied == [0]


def test_a_streaming_body_holds_neither_the_reload_nor_other_requests() -> None:
    order: list[str] = []
    w, watcher = fake()
    w.on_apply = lambda: order.append("reload")

    async def main() -> None:
        next_chunk = asyncio.Event()

        async def stream(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope["path"] != "/stream":
                await hello(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
            await next_chunk.wait()
            order.append("last chunk")
            await send({"type": "http.response.body", "body": b"b", "more_body": False})

        middleware = HotReload(stream, watcher=watcher)
        streaming = asyncio.create_task(request(middleware, "/stream"))
        await asyncio.sleep(0.01)
        assert safepoint.in_flight == 0  # the body streams outside the gate
        w.queued = True
        assert await request(middleware) == (200, b"hello")
        assert order == ["reload"]
        next_chunk.set()
        assert await streaming == (200, b"ab")

    asyncio.run(main())
    assert order == ["reload", "last chunk"]


def test_past_its_hold_timeout_a_reload_goes_ahead_of_a_slow_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w, watcher = fake()

    async def main() -> None:
        done = asyncio.Event()

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope["path"] == "/slow":
                await done.wait()  # inside the app's code, nothing sent yet
            await hello(scope, receive, send)

        middleware = HotReload(app, watcher=watcher, hold_timeout=0.05)
        # Another middleware's option is its own: this one's reloads still wait 0.05 s.
        HotReload(hello, watcher=watcher, hold_timeout=None)
        slow = asyncio.create_task(request(middleware, "/slow"))
        await asyncio.sleep(0)
        w.queued = True
        assert await request(middleware) == (200, b"hello")
        assert not slow.done()
        done.set()
        assert await slow == (200, b"hello")

    with caplog.at_level(logging.WARNING, logger="hotmod"):
        asyncio.run(main())
    assert w.applied == [1]
    assert "reloading anyway" in caplog.text


def test_an_open_websocket_does_not_hold_the_reload() -> None:
    w, watcher = fake()

    async def main() -> None:
        closed = asyncio.Event()

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.accept"})
                await closed.wait()
                await send({"type": "websocket.close", "code": 1000})
            else:
                await hello(scope, receive, send)

        middleware = HotReload(app, watcher=watcher, hold_timeout=None)

        async def ws_receive() -> Message:
            return {"type": "websocket.connect"}

        async def ws_send(message: Message) -> None:
            pass

        socket = asyncio.create_task(middleware({"type": "websocket"}, ws_receive, ws_send))
        await asyncio.sleep(0)
        w.queued = True
        assert await request(middleware) == (200, b"hello")
        assert w.applied == [0]
        assert not socket.done()
        closed.set()
        await socket

    asyncio.run(main())


def test_a_reload_on_another_thread_interleaves_without_blocking_the_loop() -> None:
    order: list[str] = []
    _, watcher = fake()

    def reload_on_thread(started: threading.Event) -> None:
        started.set()
        with safepoint.writing():
            order.append("reload")

    async def main() -> None:
        release = asyncio.Event()

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope["path"] == "/slow":
                await release.wait()
            order.append(scope["path"])
            await hello(scope, receive, send)

        middleware = HotReload(app, watcher=watcher)
        slow = asyncio.create_task(request(middleware, "/slow"))
        await asyncio.sleep(0)
        started = threading.Event()
        writer = threading.Thread(target=reload_on_thread, args=(started,))
        writer.start()
        await asyncio.to_thread(started.wait, 10)
        while not safepoint._writers_waiting:
            await asyncio.sleep(0.001)
        new = asyncio.create_task(request(middleware, "/new"))
        await asyncio.sleep(0.01)
        assert order == []  # the thread's reload waits for /slow, /new waits for it
        release.set()
        assert await slow == (200, b"hello")
        assert await new == (200, b"hello")
        await asyncio.to_thread(writer.join, 10)

    asyncio.run(main())
    assert order == ["/slow", "reload", "/new"]


def test_reach_on_the_loop_never_blocks_it() -> None:
    applied: list[str] = []
    saved = safepoint.pending
    safepoint.pending = lambda: applied.append("applied")

    async def main() -> None:
        inside, done = asyncio.Event(), asyncio.Event()

        async def request_in_flight() -> None:
            assert safepoint.try_acquire_read()
            inside.set()
            await done.wait()
            safepoint.release_read()

        holder = asyncio.create_task(request_in_flight())
        await inside.wait()
        assert not safepoint.held_here()  # the other task is inside, not this one
        assert safepoint.reach() is None  # applying would wait for it: skipped
        done.set()
        await holder
        safepoint.reach()

    try:
        asyncio.run(main())
    finally:
        safepoint.pending = saved
    assert applied == ["applied"]


def test_show_errors_page_and_websocket_close(project: Project) -> None:
    project.write({"shown_a.py": "VALUE = 1\n"})
    sys.path.insert(0, str(project.root))
    import shown_a  # type: ignore[import-not-found]

    hotmod.dependents(shown_a)
    _, watcher = fake()
    middleware = HotReload(hello, watcher=watcher, show_errors=True)
    (project.root / "shown_a.py").write_text("VALUE = 1 +\n")
    assert not hotmod.reload(shown_a).ok
    status, body = asyncio.run(request(middleware))
    assert status == 500 and b"SyntaxError" in body and b"shown_a.py" in body
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware({"type": "websocket"}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1011}]
    (project.root / "shown_a.py").write_text("VALUE = 3\n")
    assert hotmod.reload(shown_a).ok
    assert asyncio.run(request(middleware)) == (200, b"hello")


def test_import_string_dispatches_to_the_object_bound_now(project: Project) -> None:
    project.write(
        {
            "asgipkg/__init__.py": "",
            "asgipkg/main.py": """
                async def app(scope, receive, send):
                    await send({"type": "http.response.start", "status": 200, "headers": []})
                    await send({"type": "http.response.body", "body": b"first"})
            """,
        }
    )
    sys.path.insert(0, str(project.root))
    _, watcher = fake()
    middleware = HotReload("asgipkg.main:app", watcher=watcher)
    assert asyncio.run(request(middleware)) == (200, b"first")
    sys.modules["asgipkg.main"].app = hello
    assert asyncio.run(request(middleware)) == (200, b"hello")


# -- end to end: uvicorn in a fresh interpreter -------------------------------------------

FRAMEWORKS = ["fastapi", "starlette"]


@pytest.fixture(params=FRAMEWORKS)
def asgi_project(request: pytest.FixtureRequest, project: Project) -> Project:
    pytest.importorskip("uvicorn")
    pytest.importorskip(request.param)
    project.scenario("web_common", f"web_{request.param}")
    return project


@pytest.mark.timeout(180)
def test_uvicorn_edits(asgi_project: Project) -> None:
    with running_server(asgi_project, "serve_uvicorn.py") as server:
        check_edits(asgi_project, server)


@pytest.mark.timeout(180)
def test_uvicorn_syntax_error_keeps_old_body(asgi_project: Project) -> None:
    with running_server(asgi_project, "uvicorn_cli.py") as server:
        check_syntax_error(asgi_project, server)


@pytest.mark.timeout(180)
def test_uvicorn_concurrent_requests_across_a_reload(asgi_project: Project) -> None:
    with running_server(asgi_project, "uvicorn_cli.py") as server:
        check_concurrent(asgi_project, server)


@pytest.mark.timeout(180)
def test_hotmod_run_uvicorn_reloads_on_the_watcher_thread(asgi_project: Project) -> None:
    # `hotmod run` starts a watcher with apply="thread": its reloads take the same gate.
    with running_server(asgi_project, "hotmod_run_uvicorn.py") as server:
        check_edits(asgi_project, server)
        check_concurrent(asgi_project, server)
