"""Dev-server middleware: per-request overhead of the safe point, and edit-to-new-response.

Run on its own (needs the ``servers`` extra, and watchfiles for ``uvicorn --reload``)::

    python benchmarks/server.py [--calls 200000] [--requests 2000] [--edits 10]

Measures, in one run:

* per-request cost of a tiny WSGI and ASGI app called in-process, bare and wrapped by
  ``HotReload`` (best of 5 repeats; the difference is the middleware's overhead);
* request latency and throughput over HTTP on 127.0.0.1: werkzeug + Flask and
  uvicorn + Starlette, bare and wrapped (sequential requests, one connection each);
* edit-to-new-response latency of the same apps: hotmod's middleware under uvicorn vs
  ``uvicorn --reload``, and under werkzeug vs werkzeug's own reloader (save the handler,
  poll every millisecond until the new body comes back). werkzeug's reloader runs as
  ``reloader_type="stat"``: its watchdog reloader (what ``flask run --reload`` picks when
  watchdog is installed) watches site-packages and the standard library recursively,
  and on a busy machine loses events to inotify queue overflows, edits included.;
* the same for a Flask app and a FastAPI app of realistic size (an app factory or a
  main module, ``--modules`` blueprints/routers of ``--routes`` routes each, one
  SQLAlchemy model per blueprint/router, pydantic models or dataclasses, helpers):
  ``hotmod run -m flask ... run`` vs ``flask run --reload`` and
  ``hotmod run -m uvicorn ...`` vs ``uvicorn --reload``, measured in the same run
  (needs sqlalchemy; the edit changes one handler's body).

Prints one table; ``--write-docs`` also redraws ``docs/img/server.svg`` (edit to new
response), ``--chart PATH`` draws it elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

SRC = str(Path(__file__).resolve().parent.parent / "src")
sys.path.insert(0, SRC)

import _chart  # noqa: E402

import hotmod  # noqa: E402
from hotmod import asgi, wsgi  # noqa: E402

FLASK_APP = """
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "{body}"
"""

STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("{body}")


app = Starlette(routes=[Route("/", index)])
"""

SERVER = """
import socket, sys
kind, target, wrap = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
if kind == "werkzeug":
    from werkzeug.serving import make_server
    if wrap:
        from hotmod.wsgi import HotReload
        app = HotReload(target)
    else:
        import importlib
        module, _, attr = target.partition(":")
        app = getattr(importlib.import_module(module), attr)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print("PORT", server.port, flush=True)
    server.serve_forever()
else:
    import uvicorn
    if wrap:
        from hotmod.asgi import HotReload
        target = HotReload(target)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print("PORT", sock.getsockname()[1], flush=True)
    uvicorn.Server(uvicorn.Config(target, log_level="warning")).run(sockets=[sock])
"""


# werkzeug's reloader re-runs the script file it was started from: not ``python -c``.
WERKZEUG_RELOADER = """
import importlib, sys
from werkzeug.serving import run_simple
module, _, attr = sys.argv[1].partition(":")
app = getattr(importlib.import_module(module), attr)
run_simple("127.0.0.1", int(sys.argv[2]), app, use_reloader=True, reloader_type="stat")
"""


# -- in-process ---------------------------------------------------------------------------


def _best(repeats: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeats))


def wsgi_per_call(app: Any, calls: int) -> float:
    """Seconds per request of a WSGI callable, body iterated and closed."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return None

    def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            result = app(environ, start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return (time.perf_counter() - started) / calls

    return _best(5, run)


def asgi_per_call(app: Any, calls: int) -> float:
    """Seconds per request of an ASGI callable, driven by hand on one loop."""
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        pass

    async def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            await app(scope, receive, send)
        return (time.perf_counter() - started) / calls

    return _best(5, lambda: asyncio.run(run()))


def tiny_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


async def tiny_asgi(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


# -- over HTTP ----------------------------------------------------------------------------


class Proc:
    """A server process in the project folder; always ended by :func:`server`."""

    def __init__(self, args: list[str], root: Path, path: Sequence[str] = ()) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([*path, SRC, str(root)])
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.proc = subprocess.Popen(
            args,
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a restart reloader's child is ended with it
        )
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _signal(self, sig: int) -> None:
        _group_signal(self.proc.pid, sig)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def port(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            match = re.search(r"PORT (\d+)", "".join(self.output))
            if match:
                return int(match.group(1))
            time.sleep(0.01)
        raise RuntimeError("server did not start:\n" + "".join(self.output))

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)
        self._signal(signal.SIGKILL)  # whatever the server left in its group
        self.reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@contextmanager
def server(
    args: list[str], root: Path, port: int | None = None, path: Sequence[str] = ()
) -> Iterator[int]:
    proc = Proc(args, root, path)
    try:
        bound = proc.port() if port is None else port
        get(bound, timeout=60)  # up and answering
        yield bound
    except BaseException:
        print("".join(line for line in proc.output if "GET" not in line)[-3000:], file=sys.stderr)
        raise
    finally:
        proc.stop()


def get(port: int, timeout: float = 10, path: str = "/") -> str:
    """One GET on a fresh connection, retried while the server is (re)starting."""
    deadline = time.monotonic() + timeout
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            return conn.getresponse().read().decode()
        except (OSError, http.client.HTTPException):  # a restart cut the response short
            if time.monotonic() > deadline:
                raise
            time.sleep(0.001)
        finally:
            conn.close()


def http_latency(port: int, requests: int) -> list[float]:
    """Seconds per request, sequential, each on a fresh connection.

    (Kept-alive connections would measure Nagle's algorithm against delayed ACKs: a
    server writing headers and body apart waits 40 ms per request on Linux.)
    """
    times = []
    for i in range(requests + 50):
        started = time.perf_counter()
        get(port)
        if i >= 50:  # warm-up
            times.append(time.perf_counter() - started)
    return times


def edit_latency(
    port: int, app_file: Path, source: str, edits: int, path: str = "/"
) -> list[float]:
    """Seconds from saving a new handler body to the first response that returns it."""
    times = []
    for i in range(edits):
        body = f"edit-{i}-{time.monotonic_ns()}"
        time.sleep(0.3)  # let the previous reload or restart settle
        app_file.write_text(source.format(body=body))
        saved = time.perf_counter()
        deadline = saved + 30
        while get(port, timeout=30, path=path).strip().strip('"') != body:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"edit {i} never showed up")
            time.sleep(0.001)
        times.append(time.perf_counter() - saved)
    return times


def _group_signal(pid: int, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- the run ------------------------------------------------------------------------------

SERVERS = {"uvicorn": "uvicorn + Starlette", "werkzeug": "werkzeug + Flask"}
RESTARTS = {"uvicorn": "uvicorn --reload", "werkzeug": "werkzeug stat reloader"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="in-process calls per repeat")
    parser.add_argument("--requests", type=int, default=3000, help="HTTP requests per setup")
    parser.add_argument("--edits", type=int, default=10, help="edits per reloader")
    _chart.add_options(parser, "server")
    parser.add_argument("--modules", type=int, default=50, help="blueprints/routers per app")
    parser.add_argument("--routes", type=int, default=6, help="routes per blueprint/router")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(os.path.realpath(tmp))
        (root / "benchapp").mkdir()
        (root / "benchapp" / "__init__.py").write_text("")
        flask_file = root / "benchapp" / "flask_app.py"
        star_file = root / "benchapp" / "star_app.py"
        flask_file.write_text(FLASK_APP.format(body="ok"))
        star_file.write_text(STARLETTE_APP.format(body="ok"))

        watcher = hotmod.watch(root, apply="manual")
        try:
            bare = wsgi_per_call(tiny_wsgi, args.calls)
            wrapped = wsgi_per_call(wsgi.HotReload(tiny_wsgi, watcher=watcher), args.calls)
            rows.append(_us_row("WSGI in-process, per request", bare, wrapped))
            bare = asgi_per_call(tiny_asgi, args.calls)
            wrapped = asgi_per_call(asgi.HotReload(tiny_asgi, watcher=watcher), args.calls)
            rows.append(_us_row("ASGI in-process, per request", bare, wrapped))
        finally:
            watcher.stop()

        py = sys.executable
        for kind, target in (
            ("werkzeug", "benchapp.flask_app:app"),
            ("uvicorn", "benchapp.star_app:app"),
        ):
            results: list[list[float]] = [[], []]
            for _round in range(3):  # interleaved, so drifting machine load hits both alike
                for wrap in (0, 1):
                    with server([py, "-c", SERVER, kind, target, str(wrap)], root) as port:
                        results[wrap] += http_latency(port, args.requests // 3)
            label = "werkzeug + Flask" if kind == "werkzeug" else "uvicorn + Starlette"
            (b, w) = (statistics.median(r) for r in results)
            rows.append((f"{label}, HTTP median latency", _us(b), _us(w), _us(w - b, sign=True)))
            (b, w) = (len(r) / sum(r) for r in results)
            rows.append((f"{label}, HTTP sequential req/s", f"{b:,.0f}", f"{w:,.0f}", _pct(w, b)))

        edits: list[tuple[str, float, float]] = []  # server, restart median, hotmod median
        for kind, target, app_file, source in (
            ("uvicorn", "benchapp.star_app:app", star_file, STARLETTE_APP),
            ("werkzeug", "benchapp.flask_app:app", flask_file, FLASK_APP),
        ):
            with server([py, "-c", SERVER, kind, target, "1"], root) as port:
                ours = edit_latency(port, app_file, source, args.edits)
            port = free_port()
            if kind == "uvicorn":
                restart = [py, "-m", "uvicorn", target, "--reload", "--reload-dir", str(root)]
                restart += ["--port", str(port), "--log-level", "warning"]
            else:
                (root / "werkzeug_reloader.py").write_text(WERKZEUG_RELOADER)
                restart = [py, "werkzeug_reloader.py", target, str(port)]
            with server(restart, root, port=port):
                theirs = edit_latency(port, app_file, source, args.edits)
            o, t = statistics.median(ours), statistics.median(theirs)
            edits.append((kind, t, o))
            rows.append(
                (
                    f"edit to new response, median ({kind})",
                    f"{t * 1000:.0f} ms ({RESTARTS[kind]})",
                    f"{o * 1000:.1f} ms",
                    f"{t / o:.0f}x faster",
                )
            )
        rows += framework_rows(root, args.modules, args.routes, args.edits)

    _print_table(rows)
    bars = []
    for kind, restart_s, hotmod_s in edits:
        bars.append(_chart.Bar("hotmod middleware", hotmod_s * 1000, "hotmod", SERVERS[kind]))
        bars.append(_chart.Bar(RESTARTS[kind], restart_s * 1000, "restart", SERVERS[kind]))
    _chart.bar_chart(
        _chart.chart_paths(args),
        bars,
        title="Dev server: edit a handler to the new response (median)",
        unit="ms",
        note=f"python benchmarks/server.py, {args.edits} edits each, Python "
        + sys.version.split()[0],
    )


# -- realistic apps -----------------------------------------------------------------------

FLASK_VIEWS = """
from flask import Blueprint, request

from bigflask.db import Row{i}
from bigflask.models import Record{i}
from bigflask.services import helper_{i}

bp = Blueprint("views_{i}", __name__, url_prefix="/v{i}")
{routes}
"""

FLASK_ROUTE = """

@bp.route("/r{j}", methods=["GET", "POST"])
def route_{j}():
    record = Record{i}(id={j}, name=request.args.get("name", "x"))
    return helper_{i}.render(record, "{body}")
"""

FLASK_INIT = """
from flask import Flask

from bigflask import {imports}


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(SECRET_KEY="dev", ITEMS_PER_PAGE=20)
    if test_config:
        app.config.update(test_config)
    for module in ({imports},):
        app.register_blueprint(module.bp)

    @app.errorhandler(404)
    def not_found(error):
        return {{"error": "not found"}}, 404

    @app.get("/health")
    def health():
        return "ok"

    return app
"""

API_ROUTER = """
from fastapi import APIRouter, Depends, Query

from bigapi.db import Row{i}
from bigapi.deps import get_settings
from bigapi.models import Item{i}, ItemCreate{i}

router = APIRouter(prefix="/v{i}", tags=["v{i}"])
{routes}
"""

API_ROUTE = """

@router.get("/r{j}")
def read_{j}(limit: int = Query(10, le=100), settings: dict = Depends(get_settings)) -> str:
    return "{body}"


@router.post("/r{j}", response_model=Item{i})
def create_{j}(item: ItemCreate{i}) -> Item{i}:
    return Item{i}(id={j}, **item.model_dump())
"""

API_MAIN = """
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from bigapi.routers import {imports}

app = FastAPI(title="bigapi")
app.add_middleware(CORSMiddleware, allow_origins=["*"])
for module in ({imports},):
    app.include_router(module.router)


@app.get("/health")
def health() -> dict[str, str]:
    return {{"status": "ok"}}
"""


DB_MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
"""

DB_MODEL = """

class Row{i}(Base):
    __tablename__ = "row_{i}"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    price: Mapped[float]
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"))
    owner: Mapped[Owner] = relationship()
"""


def write_db(pkg: Path, modules: int) -> None:
    """SQLAlchemy 2 declarative models, one table per blueprint/router."""
    text = DB_MODELS + "".join(DB_MODEL.format(i=i) for i in range(modules))
    (pkg / "db.py").write_text(text + "\n\nBase.registry.configure()\n")


def make_flask_app(root: Path, modules: int, routes: int) -> tuple[Path, str, str]:
    """A Flask project: factory, blueprints, ORM models, dataclasses and helpers.

    Returns the file the benchmark edits, its source as a template, and the path of the
    route whose body it changes."""
    pkg = root / "bigflask"
    pkg.mkdir()
    write_db(pkg, modules)
    names = [f"views_{i}" for i in range(modules)]
    (pkg / "__init__.py").write_text(FLASK_INIT.format(imports=", ".join(names)))
    models = ["from dataclasses import dataclass\n"]
    for i in range(modules):
        models.append(f"\n@dataclass\nclass Record{i}:\n    id: int\n    name: str\n")
    (pkg / "models.py").write_text("".join(models))
    (pkg / "services").mkdir()
    (pkg / "services" / "__init__.py").write_text("")
    for i in range(modules):
        (pkg / "services" / f"helper_{i}.py").write_text(
            "def render(record, body):\n    return body if record.id == 0 else f'{record.name}'\n"
        )
    source = ""
    for i in range(modules):
        body = "{body}" if i == 0 else "ok"
        route_src = "".join(
            FLASK_ROUTE.format(i=i, j=j, body=body if j == 0 else "ok").replace("{{", "{")
            for j in range(routes)
        )
        text = FLASK_VIEWS.format(i=i, routes=route_src)
        if i == 0:
            source = text.replace("{", "{{").replace("}", "}}").replace("{{body}}", "{body}")
        (pkg / f"{names[i]}.py").write_text(text.replace("{body}", "ok"))
    return pkg / "views_0.py", source, "/v0/r0"


def make_fastapi_app(root: Path, modules: int, routes: int) -> tuple[Path, str, str]:
    """A FastAPI project: main module, routers, ORM and pydantic models, dependencies."""
    pkg = root / "bigapi"
    (pkg / "routers").mkdir(parents=True)
    write_db(pkg, modules)
    (pkg / "__init__.py").write_text("")
    (pkg / "routers" / "__init__.py").write_text("")
    names = [f"items_{i}" for i in range(modules)]
    (pkg / "main.py").write_text(API_MAIN.format(imports=", ".join(names)))
    (pkg / "deps.py").write_text("def get_settings() -> dict:\n    return {'debug': True}\n")
    models = ["from pydantic import BaseModel, Field\n"]
    for i in range(modules):
        models.append(
            f"\n\nclass ItemCreate{i}(BaseModel):\n    name: str\n    price: float = Field(gt=0)\n"
            f"\n\nclass Item{i}(ItemCreate{i}):\n    id: int\n"
        )
    (pkg / "models.py").write_text("".join(models))
    source = ""
    for i in range(modules):
        route_src = "".join(
            API_ROUTE.format(i=i, j=j, body="{body}" if i == 0 and j == 0 else "ok")
            for j in range(routes)
        )
        text = API_ROUTER.format(i=i, routes=route_src)
        if i == 0:
            source = text.replace("{", "{{").replace("}", "}}").replace("{{body}}", "{body}")
        (pkg / "routers" / f"{names[i]}.py").write_text(text.replace("{body}", "ok"))
    return pkg / "routers" / "items_0.py", source, "/v0/r0"


def framework_rows(
    root: Path, modules: int, routes: int, edits: int
) -> list[tuple[str, str, str, str]]:
    """Edit-to-new-response for realistic Flask and FastAPI apps: restart vs in place."""
    py = sys.executable
    rows = []
    size = f"{modules * routes} routes"
    flask_file, flask_source, flask_path = make_flask_app(root, modules, routes)
    api_file, api_source, api_path = make_fastapi_app(root, modules, routes)
    # werkzeug's watchdog reloader watches every folder of sys.path (site-packages
    # included) and loses events on a busy machine: measure its stat reloader, which
    # ``flask run --reload`` uses when watchdog is not installed.
    hide = root / "_no_watchdog" / "watchdog"
    hide.mkdir(parents=True)
    (hide / "__init__.py").write_text("raise ImportError('hidden from werkzeug')\n")
    setups = [
        (
            f"Flask app, {size}",
            ["-m", "flask", "--app", "bigflask", "run", "--reload"],
            ["-m", "hotmod", "run", "-m", "flask", "--app", "bigflask", "run"],
            flask_file,
            flask_source,
            flask_path,
            "flask run --reload",
            [str(hide.parent)],
        ),
        (
            f"FastAPI app, {2 * modules * routes} routes",
            [
                "-m",
                "uvicorn",
                "bigapi.main:app",
                "--reload",
                "--reload-dir",
                str(root),
                "--log-level",
                "warning",
            ],
            ["-m", "hotmod", "run", "-m", "uvicorn", "bigapi.main:app", "--log-level", "warning"],
            api_file,
            api_source,
            api_path,
            "uvicorn --reload",
            [],
        ),
    ]
    for label, restart, ours, file, source, path, name, hidden in setups:
        times = {}
        for kind, argv in (("restart", restart), ("hotmod", ours)):
            port = free_port()
            extra = hidden if kind == "restart" else []
            with server([py, *argv, "--port", str(port)], root, port=port, path=extra):
                times[kind] = edit_latency(port, file, source, edits, path=path)
        t, o = statistics.median(times["restart"]), statistics.median(times["hotmod"])
        rows.append(
            (
                f"edit to new response, median ({label})",
                f"{t * 1000:.0f} ms ({name})",
                f"{o * 1000:.1f} ms",
                f"{t / o:.0f}x faster",
            )
        )
    return rows


def _us(seconds: float, *, sign: bool = False) -> str:
    return f"{seconds * 1e6:+.2f} us" if sign else f"{seconds * 1e6:.2f} us"


def _us_row(label: str, bare: float, wrapped: float) -> tuple[str, str, str, str]:
    return (label, _us(bare), _us(wrapped), _us(wrapped - bare, sign=True))


def _pct(new: float, old: float) -> str:
    return f"{(new - old) / old * 100:+.1f}%"


def _print_table(rows: list[tuple[str, str, str, str]]) -> None:
    head = ("measurement", "without hotmod", "with hotmod", "difference")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    for i, row in enumerate([head, *rows]):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            print(line)
    print(line)
    print(f"python {sys.version.split()[0]}, {sys.platform}")


if __name__ == "__main__":
    main()
