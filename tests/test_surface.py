"""The public surface: the names of the product contract, and nothing heavy at import."""

from __future__ import annotations

import hotmod
from conftest import Project

SPEC_NAMES = {
    "watch",
    "reload",
    "apply",
    "dependents",
    "keep",
    "reloadable",
    "ReloadReport",
    "Watcher",
    "ReloadError",
}


def test_all_is_the_contract() -> None:
    assert set(hotmod.__all__) == SPEC_NAMES
    for name in [*hotmod.__all__, "HotmodWarning"]:
        assert getattr(hotmod, name).__module__ == "hotmod", name
    assert issubclass(hotmod.HotmodWarning, UserWarning)
    assert "*.swp" in hotmod.DEFAULT_EXCLUDES and "__pycache__" in hotmod.DEFAULT_EXCLUDES


def test_import_is_light(project: Project) -> None:
    out = project.run(
        """
        import sys
        before = set(sys.modules)
        import hotmod
        heavy = {"watchdog", "IPython", "werkzeug", "uvicorn", "starlette", "flask",
                 "dataclasses", "inspect", "asyncio", "hashlib", "hotmod.wsgi", "hotmod.asgi"}
        print(sorted(heavy & (set(sys.modules) - before)))
        """
    )
    assert out.strip() == "[]"


def test_py_typed_is_shipped() -> None:
    from importlib.resources import files

    assert files("hotmod").joinpath("py.typed").is_file()
