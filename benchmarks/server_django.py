"""Django: edit-to-new-response under ``manage.py runserver``, hotmod's app against restarts.

Run on its own (needs django)::

    python benchmarks/server_django.py [--edits 20] [--restarts 8]

Starts the polls project of the test suite (``tests/projects/django_polls``: Django's
tutorial app with admin, forms, template tags, signals, sqlite) in a temporary folder,
then for each launch command saves an edited view (a write in place, as editors do)
and polls the view every millisecond until the new body comes back:

* ``python manage.py runserver`` with ``"hotmod.contrib.django"`` in INSTALLED_APPS
  (the view module and its importers reloaded in the serving process);
* ``hotmod run manage.py runserver --noreload`` (no app installed);
* ``python manage.py runserver`` as Django ships it (its StatReloader restarts the
  serving process).

All three run in the same invocation, one after the other. Prints one table.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = str(ROOT / "src")
PROJECT = ROOT / "tests" / "projects" / "django_polls"

BENCH_VIEW = """

def bench(request):
    return HttpResponse("{body}")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> str | None:
    """The body of GET ``path``, or None while nothing answers (a restart)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode()
        return body if response.status == 200 else None
    except OSError:
        return None
    finally:
        conn.close()


def wait_for(port: int, path: str, body: str, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while get(port, path) != body:
        if time.monotonic() > end:
            raise RuntimeError(f"GET {path} never answered {body!r}")
        time.sleep(0.001)


@contextmanager
def server(root: Path, argv: list[str], *, app: bool, port: int) -> Iterator[None]:
    env = dict(os.environ, PYTHONPATH=SRC, PYTHONDONTWRITEBYTECODE="1")
    env["POLLS_HOTMOD_APP"] = "1" if app else "0"
    env.pop("RUN_MAIN", None)
    with open(root / "server.log", "w") as log:
        proc = subprocess.Popen(
            [*argv, f"127.0.0.1:{port}"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def edit_latency(root: Path, argv: list[str], *, app: bool, edits: int) -> list[float]:
    """Seconds from each save of the view to the first response with the new body."""
    views = root / "polls" / "views.py"
    source = views.read_text().split(BENCH_VIEW.format(body="v0"))[0]
    views.write_text(source + BENCH_VIEW.format(body="v0"))
    port = free_port()
    times = []
    with server(root, argv, app=app, port=port):
        wait_for(port, "/polls/bench/", "v0")
        get(port, "/polls/")  # the index, templates and tags loaded once, as in use
        time.sleep(1.2)  # past the coarse mtime tick of the first save
        for i in range(1, edits + 1):
            body = f"v{i}"
            start = time.perf_counter()
            with open(views, "w") as f:
                f.write(source + BENCH_VIEW.format(body=body))
            wait_for(port, "/polls/bench/", body)
            times.append(time.perf_counter() - start)
            time.sleep(0.05)
    views.write_text(source)
    return times


def prepare(tmp: Path) -> Path:
    root = tmp / "django_polls"
    shutil.copytree(PROJECT, root)
    urls = root / "polls" / "urls.py"
    urls.write_text(
        urls.read_text().replace(
            '    path("form/",', '    path("bench/", views.bench, name="bench"),\n    path("form/",'
        )
    )
    (root / "polls" / "views.py").write_text(
        (root / "polls" / "views.py").read_text() + BENCH_VIEW.format(body="v0")
    )
    env = dict(os.environ, PYTHONPATH=SRC, POLLS_HOTMOD_APP="0")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20, help="saves per in-place scenario")
    parser.add_argument("--restarts", type=int, default=8, help="saves for the restart scenario")
    args = parser.parse_args(argv)
    python = sys.executable
    scenarios = [
        ("runserver + hotmod.contrib.django", [python, "manage.py", "runserver"], True, args.edits),
        (
            "hotmod run manage.py runserver --noreload",
            [python, "-m", "hotmod", "run", "manage.py", "runserver", "--noreload"],
            False,
            args.edits,
        ),
        (
            "runserver, Django's autoreloader (restart)",
            [python, "manage.py", "runserver"],
            False,
            args.restarts,
        ),
    ]
    results: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = prepare(Path(tmp))
        for label, command, app, edits in scenarios:
            results.append((label, edit_latency(root, command, app=app, edits=edits)))
    restart = statistics.median(results[-1][1])
    print(f"Django {_django_version()}, Python {sys.version.split()[0]}, polls project")
    print()
    print(
        "| launch                                     | saves | median ms |   p90 ms | speed-up |"
    )
    print(
        "|--------------------------------------------|-------|-----------|----------|----------|"
    )
    for label, times in results:
        median = statistics.median(times)
        p90 = sorted(times)[max(0, int(len(times) * 0.9) - 1)]
        print(
            f"| {label:<42} | {len(times):>5} | {median * 1000:>9.1f} | {p90 * 1000:>8.1f} "
            f"| {restart / median:>7.1f}x |"
        )


def _django_version() -> str:
    from importlib.metadata import version

    return version("django")


if __name__ == "__main__":
    main()
