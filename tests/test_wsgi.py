"""hotmod.wsgi: the gate around WSGI requests, in-process and under werkzeug with Flask."""

from __future__ import annotations

import inspect
import logging
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

import hotmod
from conftest import Child, Project
from hotmod._runtime import safepoint
from hotmod._watcher import Watcher, current_watcher
from hotmod.wsgi import HotReload

# -- in-process ---------------------------------------------------------------------------


class FakeWatcher:
    """A manual watcher whose pending changes the test scripts; records when it applied."""

    apply_mode = "manual"
    running = True

    def __init__(self, on_apply: Callable[[], object] = lambda: None) -> None:
        self.queued = False
        self.applied: list[int] = []  # requests in flight at each apply
        self.on_apply = on_apply

    @property
    def has_pending(self) -> bool:
        return self.queued

    def start(self) -> FakeWatcher:
        return self

    def apply(self) -> None:
        if not self.queued:
            return
        self.queued = False
        with safepoint.writing():
            self.applied.append(safepoint.in_flight)
            self.on_apply()


def fake() -> tuple[FakeWatcher, Watcher]:
    w = FakeWatcher()
    return w, cast(Watcher, w)


@pytest.fixture(autouse=True)
def _gate_settings() -> Iterator[None]:
    hold = safepoint.hold_timeout
    yield
    safepoint.hold_timeout = hold
    assert safepoint.in_flight == 0, "a request was left inside the gate"


def hello(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def call(app: Any, path: str = "/") -> tuple[str, bytes]:
    environ: dict[str, Any] = {"PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": ""}
    setup_testing_defaults(environ)
    status: list[str] = []

    def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(s)
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return status[0], body


def test_passes_wsgiref_validate() -> None:
    _, watcher = fake()
    app = validator(HotReload(validator(hello), watcher=watcher))
    assert call(app) == ("200 OK", b"hello")


def test_a_list_body_comes_back_closable_and_sized() -> None:
    # A caller may close whatever a middleware returns: a list body gets a close() that
    # does nothing, and keeps its length (wsgiref sets Content-Length from one block).
    _, watcher = fake()
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    result = HotReload(hello, watcher=watcher)(environ, lambda s, h, e=None: lambda d: None)
    assert list(result) == [b"hello"] and len(cast(Any, result)) == 1
    cast(Any, result).close()

    def stream(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"a"

    body = HotReload(stream, watcher=watcher)(environ, lambda s, h, e=None: lambda d: None)
    assert inspect.isgenerator(body)  # (one with a close of its own is returned as it is)
    cast(Any, body).close()


def test_pending_changes_apply_before_the_request() -> None:
    seen: list[str] = []
    w, watcher = fake()
    w.on_apply = lambda: seen.append("apply")

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append("request")
        return hello(environ, start_response)

    middleware = HotReload(app, watcher=watcher)
    w.queued = True
    call(middleware)
    call(middleware)
    assert seen == ["apply", "request", "request"]
    assert w.applied == [0]


def test_a_streaming_body_holds_no_reload() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"a"
            yield b"b"

        def close(self) -> None:
            closed.append(True)

    def stream(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    _, watcher = fake()
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    result = HotReload(stream, watcher=watcher)(environ, lambda s, h, e=None: lambda d: None)
    assert safepoint.in_flight == 0  # the server streams the body outside the gate
    assert safepoint.acquire_write(timeout=0.01)
    safepoint.release_write()
    assert b"".join(result) == b"ab"
    cast(Any, result).close()
    assert closed == [True]


def test_a_reload_waits_for_requests_in_flight_and_holds_new_ones() -> None:
    order: list[str] = []
    inside, release = threading.Event(), threading.Event()
    w, watcher = fake()
    w.on_apply = lambda: order.append("reload")

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/slow":
            inside.set()
            assert release.wait(10)
            order.append("slow done")
        else:
            order.append("new request")
        return hello(environ, start_response)

    middleware = HotReload(app, watcher=watcher)
    slow = threading.Thread(target=call, args=(middleware, "/slow"))
    slow.start()
    assert inside.wait(10)
    w.queued = True
    new = threading.Thread(target=call, args=(middleware, "/new"))
    new.start()
    deadline = time.monotonic() + 10
    while not safepoint._writers_waiting and time.monotonic() < deadline:
        time.sleep(0.001)
    assert order == []  # the reload waits, and the new request is behind it
    release.set()
    slow.join(10)
    new.join(10)
    assert order == ["slow done", "reload", "new request"]
    assert w.applied == [0]


def test_past_hold_timeout_a_reload_goes_ahead_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inside, release = threading.Event(), threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/slow":
            inside.set()
            release.wait(30)  # a handler still running
        return hello(environ, start_response)

    w, watcher = fake()
    middleware = HotReload(app, watcher=watcher, hold_timeout=0.05)
    # Another middleware's option is its own: this one's reloads still wait 0.05 s.
    HotReload(hello, watcher=watcher, hold_timeout=None)
    slow = threading.Thread(target=call, args=(middleware, "/slow"))
    slow.start()
    assert inside.wait(10)
    w.queued = True
    with caplog.at_level(logging.WARNING, logger="hotmod"):
        assert call(middleware)[1] == b"hello"
    assert w.applied == [1]
    assert "reloading anyway" in caplog.text
    release.set()
    slow.join(10)


def test_import_string_dispatches_to_the_object_bound_now(project: Project) -> None:
    project.write(
        {
            "webpkg/__init__.py": "",
            "webpkg/main.py": """
                def app(environ, start_response):
                    start_response("200 OK", [])
                    return [b"first"]
            """,
        }
    )
    sys.path.insert(0, str(project.root))
    _, watcher = fake()
    middleware = HotReload("webpkg.main:app", watcher=watcher)
    assert call(middleware)[1] == b"first"
    sys.modules["webpkg.main"].app = hello  # what a reload of the module does
    assert call(middleware)[1] == b"hello"
    with pytest.raises(ValueError, match=r"pkg\.module:app"):
        HotReload("webpkg.main", watcher=watcher)
    with pytest.raises(AttributeError, match="nope"):
        HotReload("webpkg.main:nope", watcher=watcher)


def test_show_errors_serves_the_reload_error_until_fixed(project: Project) -> None:
    project.write({"shown.py": "VALUE = 1\n"})
    old = time.time() - 60  # saved long before the import: hotmod knows what runs
    os.utime(project.root / "shown.py", (old, old))
    sys.path.insert(0, str(project.root))
    import shown  # type: ignore[import-not-found]

    hotmod.dependents(shown)  # hotmod records the source that runs, as a watcher does
    _, watcher = fake()
    middleware = HotReload(hello, watcher=watcher, show_errors=True)
    (project.root / "shown.py").write_text("VALUE = (\n")
    assert not hotmod.reload(shown).ok
    status, body = call(middleware)
    assert status.startswith("500")
    assert b"SyntaxError" in body and b"shown.py" in body and b"line 1" in body
    (project.root / "shown.py").write_text("VALUE = 1\n")  # back to the code that runs
    assert call(middleware) == ("200 OK", b"hello")
    (project.root / "shown.py").write_text("VALUE = (\n")
    hotmod.reload(shown)
    assert call(middleware)[0].startswith("500")
    (project.root / "shown.py").write_text("VALUE = 2\n")
    assert hotmod.reload(shown).ok
    assert call(middleware) == ("200 OK", b"hello")


def test_starts_a_manual_watcher_when_none_runs(tmp_path: Path) -> None:
    assert current_watcher() is None
    middleware = HotReload(hello)
    try:
        assert middleware.watcher is current_watcher()
        assert middleware.watcher.apply_mode == "manual"
        assert HotReload(hello).watcher is middleware.watcher
    finally:
        middleware.watcher.stop()


def test_rejects_bad_options() -> None:
    _, watcher = fake()
    with pytest.raises(ValueError, match="hold_timeout"):
        HotReload(hello, watcher=watcher, hold_timeout=-1)
    with pytest.raises(TypeError):
        HotReload(cast(Any, 42), watcher=watcher)


# -- end to end: real servers in a fresh interpreter ------------------------------------


class Server:
    """A server running in a child process of the project, and HTTP requests to it."""

    def __init__(self, child: Child) -> None:
        self.child = child
        self.url = ""

    def output(self) -> str:
        return self.child.output()

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def wait_for_body(
        self, path: str, want: str, *, old: Iterable[str] = (), timeout: float = 60
    ) -> None:
        """Request ``path`` until it returns ``want``; every other answer must be in ``old``."""
        allowed = set(old)
        deadline = time.monotonic() + timeout
        for _ in range(5000):
            status, body = self.get(path)
            if status == 200 and body == want:
                return
            assert status == 200 and body in allowed, f"{path}: {status} {body!r}"
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        raise AssertionError(f"{path} never returned {want!r}\n{self.output()}")


@contextmanager
def running_server(project: Project, script: str) -> Iterator[Server]:
    """Run the project's ``script`` in a fresh interpreter; stopped after the block."""
    server = Server(project.spawn(script, merge_stderr=True))
    try:
        port = server.child.wait_for(r"http://127\.0\.0\.1:(\d+)", timeout=60).group(1)
        server.url = f"http://127.0.0.1:{port}"
        yield server
    finally:
        server.child.stop()


def edit(project: Project, rel: str, old: str, new: str) -> None:
    path = project.root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def check_edits(project: Project, server: Server) -> None:
    """A handler, a helper and a model module edited in turn: the next answers are new."""
    server.wait_for_body("/", "[handler-v1]")
    edit(project, "web/main.py", "handler-v1", "handler-v2")
    server.wait_for_body("/", "[handler-v2]", old=["[handler-v1]"])
    edit(project, "web/helpers.py", 'f"[{text}]"', 'f"<{text}>"')
    server.wait_for_body("/", "<handler-v2>", old=["[handler-v2]"])
    assert server.get("/model") == (200, "model-v1")
    edit(project, "web/models.py", "model-v1", "model-v2")
    server.wait_for_body("/model", "model-v2", old=["model-v1"])


def check_syntax_error(project: Project, server: Server) -> None:
    """A broken save keeps the old body; the fixed save is applied."""
    server.wait_for_body("/", "[handler-v1]")
    edit(project, "web/helpers.py", "return f", "return f(")
    deadline = time.monotonic() + 60
    while "reload failed" not in server.output():
        assert server.get("/") == (200, "[handler-v1]")
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.01)
    assert server.get("/") == (200, "[handler-v1]")
    edit(project, "web/helpers.py", 'return f("[{text}]"', 'return f"({text})"')
    server.wait_for_body("/", "(handler-v1)", old=["[handler-v1]"])


def check_concurrent(project: Project, server: Server, clients: int = 50) -> None:
    """Requests racing a reload all succeed, each entirely old or entirely new."""
    server.wait_for_body("/pair", "1:2")
    start = threading.Barrier(clients + 1)
    failures: list[str] = []
    saw_new = [False] * clients

    def client(i: int) -> None:
        try:
            start.wait(30)
            deadline = time.monotonic() + 60
            for _ in range(1000):
                status, body = server.get("/pair")
                if status != 200 or body not in ("1:2", "2:4"):
                    failures.append(f"{status} {body!r}")
                    return
                if body == "2:4":
                    saw_new[i] = True
                    return
                if time.monotonic() > deadline:
                    return
        except Exception as exc:
            failures.append(repr(exc))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait(30)
    edit(project, "web/pair_a.py", "VALUE = 1", "VALUE = 2")
    for t in threads:
        t.join(120)
    assert not failures, failures
    assert all(saw_new), f"{saw_new.count(False)} clients never saw the new code"
    assert server.get("/pair") == (200, "2:4")


@pytest.fixture
def flask_project(project: Project) -> Project:
    pytest.importorskip("flask")
    project.scenario("web_common", "web_flask")
    return project


@pytest.mark.timeout(180)
def test_werkzeug_flask_edits(flask_project: Project) -> None:
    with running_server(flask_project, "serve_werkzeug.py") as server:
        check_edits(flask_project, server)


@pytest.mark.timeout(180)
def test_werkzeug_flask_syntax_error_keeps_old_body(flask_project: Project) -> None:
    with running_server(flask_project, "serve_werkzeug.py") as server:
        check_syntax_error(flask_project, server)


@pytest.mark.timeout(180)
def test_werkzeug_flask_concurrent_requests_across_a_reload(flask_project: Project) -> None:
    with running_server(flask_project, "serve_werkzeug.py") as server:
        check_concurrent(flask_project, server)


def test_flask_layouts_both_reload_after_serving_a_request(project: Project) -> None:
    pytest.importorskip("flask")
    project.scenario("wsgi_flask_layouts")
    out = project.run_driver()
    assert out.splitlines() == ["True v2", "True None v2"]
