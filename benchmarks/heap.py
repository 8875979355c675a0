"""Reload time of everyday edits against the size of the program's heap.

Run: ``python benchmarks/heap.py`` (``--sizes 10000,2000000`` for other heaps; needs the
``servers`` and ``test`` extras for the framework rows). Prints one table.

Each row is an edit a developer makes many times a day, in a module another module
imports: a function body, a registered function, a FastAPI route, a Flask view, a click
command, a singledispatch function, a pydantic or SQLAlchemy model, a dataclass, a Django
view, a typer command. Each heap size runs in a fresh interpreter that first builds N
live objects (a list of small instances, the program's data), imports the modules, then
edits and reloads each edited module eight times: the first reload (which looks once for
the registries near the module) and the median of the next seven, after one reload of
an unrelated module has loaded the engine. Work that walks the whole heap shows up as a
column that grows with N; an edit whose cost does not depend on N keeps the same figure
in both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

SRC = str(Path(__file__).resolve().parent.parent / "src")

# (label, the module that imports the edited one, its source, the edited module's name,
# its source with {v} for the version of each edit)
CASES: list[tuple[str, str, str, str, str]] = [
    ("function body", "fb_use", "from fb_mod import f\n", "fb_mod", "def f():\n    return {v}\n"),
    (
        "registered function",
        "rg_use",
        "from rg_mod import handler\n",
        "rg_mod",
        """
        from rg_registry import register

        @register("h")
        def handler():
            return {v}
        """,
    ),
    (
        "FastAPI route",
        "fa_app",
        """
        from fastapi import FastAPI

        from fa_routes import router

        app = FastAPI()
        app.include_router(router)
        """,
        "fa_routes",
        """
        from fastapi import APIRouter
        from pydantic import BaseModel

        router = APIRouter()

        class Out(BaseModel):
            value: int

        @router.get("/items/{{item_id}}", response_model=Out)
        def read_item(item_id: int) -> Out:
            return Out(value=item_id + {v})
        """,
    ),
    (
        "Flask view",
        "fl_app",
        """
        from flask import Flask

        from fl_views import bp

        app = Flask(__name__)
        app.register_blueprint(bp)
        """,
        "fl_views",
        """
        from flask import Blueprint

        bp = Blueprint("pages", __name__)

        @bp.route("/")
        def index():
            return "v{v}"
        """,
    ),
    (
        "click command",
        "cl_cli",
        """
        import click

        from cl_cmds import hello

        @click.group()
        def cli():
            pass

        cli.add_command(hello)
        """,
        "cl_cmds",
        """
        import click

        @click.command()
        def hello():
            click.echo("v{v}")
        """,
    ),
    (
        "singledispatch",
        "sd_use",
        "from sd_funcs import show\n",
        "sd_funcs",
        """
        import functools

        @functools.singledispatch
        def show(x):
            return "object {v}"

        @show.register
        def _(x: int):
            return "int {v}"
        """,
    ),
    (
        "pydantic model",
        "pd_use",
        'from pd_models import User\n\nDEFAULT = User(name="x")\n',
        "pd_models",
        """
        from pydantic import BaseModel

        class User(BaseModel):
            name: str
            age: int = {v}
        """,
    ),
    (
        "SQLAlchemy model",
        "sa_use",
        """
        from sqlalchemy import create_engine

        from sa_models import Base

        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine)
        """,
        "sa_models",
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)

            def label(self):
                return "v{v}"
        """,
    ),
    (
        "dataclass",
        "dc_use",
        "from dc_types import Point\n\nORIGIN = Point(0, 0)\n",
        "dc_types",
        """
        from dataclasses import dataclass

        @dataclass
        class Point:
            x: int
            y: int

            def norm(self):
                return self.x + self.y + {v}
        """,
    ),
    (
        "Django view",
        "dj_urls",
        """
        import dj_settings  # noqa: F401 (configures Django)
        from django.urls import path

        from dj_views import index

        urlpatterns = [path("", index)]
        """,
        "dj_views",
        """
        from django.http import HttpResponse

        def index(request):
            return HttpResponse("v{v}")
        """,
    ),
    (
        "typer command",
        "ty_app",
        "from ty_cmds import app\n",
        "ty_cmds",
        """
        import typer

        app = typer.Typer()

        @app.command()
        def hello():
            print("v{v}")
        """,
    ),
]

REGISTRY = """
HANDLERS = {}

def register(name):
    def add(f):
        HANDLERS[name] = f
        return f
    return add
"""

CHILD = textwrap.dedent(
    """
    import json, logging, statistics, sys, time
    from pathlib import Path

    class Item:
        __slots__ = ("a",)
        def __init__(self, a):
            self.a = a

    DATA = [Item(i) for i in range(int(sys.argv[1]))]  # the program's data
    import hotmod
    logging.getLogger("hotmod").setLevel(logging.ERROR)
    root, cases = Path(sys.argv[2]), json.loads(sys.argv[3])
    import warmup
    hotmod.reload(warmup)  # the engine loaded, the program indexed
    rows = []
    for label, user, edited, source in cases:
        __import__(user)
        times = []
        for v in range(1, 9):
            (root / f"{edited}.py").write_text(source.format(v=v))
            start = time.perf_counter()
            report = hotmod.reload(edited)
            times.append(1000 * (time.perf_counter() - start))
            assert report.ok, report
        rows.append([label, times[0], statistics.median(times[1:])])
    print(json.dumps(rows))
    """
)


def run(root: Path, size: int) -> list[tuple[str, float, float]]:
    """(label, first reload, median of the next seven) of every case, beside ``size``
    live objects, in a fresh interpreter."""
    cases = [
        (label, user, edited, textwrap.dedent(source)) for label, user, _, edited, source in CASES
    ]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(size), str(root), json.dumps(cases)],
        cwd=root,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, str(root)])),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode:
        raise SystemExit(f"the child interpreter failed:\n{out.stderr}")
    rows: list[list[Any]] = json.loads(out.stdout)
    return [(str(label), float(first), float(then)) for label, first, then in rows]


# Modules the cases import besides their own two.
OTHERS = {
    "rg_registry": REGISTRY,
    "dj_settings": "import django\nfrom django.conf import settings\n\n"
    'settings.configure(ROOT_URLCONF="dj_urls", ALLOWED_HOSTS=["*"])\ndjango.setup()\n',
}


def write_project(root: Path) -> None:
    for name, source in OTHERS.items():
        (root / f"{name}.py").write_text(source.lstrip())
    (root / "warmup.py").write_text("X = 1\n")
    for _, user, user_source, edited, source in CASES:
        (root / f"{user}.py").write_text(textwrap.dedent(user_source).lstrip())
        (root / f"{edited}.py").write_text(textwrap.dedent(source).lstrip().format(v=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,2000000", help="live objects, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            write_project(Path(tmp))
            results[size] = run(Path(tmp), size)
    header = f"{'edit':<20}" + "".join(
        f" {f'first, {s:,}':>18} {f'next, {s:,}':>17}" for s in sizes
    )
    print(header)
    for i, (label, *_) in enumerate(CASES):
        cells = "".join(
            f" {results[s][i][1]:>15.1f} ms {results[s][i][2]:>14.2f} ms" for s in sizes
        )
        print(f"{label:<20}{cells}")


if __name__ == "__main__":
    main()
