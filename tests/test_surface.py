"""The public surface: the names of the product contract, and nothing heavy at import."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

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


# Public too (importable, documented) but outside ``import *``.
DOCUMENTED_EXTRAS = {
    "HotmodWarning",
    "DEFAULT_EXCLUDES",
    "load_ipython_extension",
    "unload_ipython_extension",
}
PUBLIC_SUBMODULES = {"wsgi", "asgi", "integrations", "cli"}

# Every public module's exported names.
MODULE_SURFACES = {
    "hotmod.wsgi": ["HotReload", "serve"],
    "hotmod.asgi": ["HotReload", "serve"],
    "hotmod.cli": ["main"],
    "hotmod.integrations": [
        "NOT_HANDLED",
        "Integration",
        "RestartRequired",
        "Transaction",
        "current_module",
        "record",
        "register",
    ],
}


def star_names(module: str) -> set[str]:
    namespace: dict[str, Any] = {}
    exec(f"from {module} import *", namespace)
    return {name for name in namespace if name != "__builtins__"}


def test_exported_members() -> None:
    """httpx-style: ``__all__`` is the contract, and ``import *`` gives just that."""
    assert sorted(hotmod.__all__) == sorted(SPEC_NAMES)  # no duplicates, nothing missing
    assert star_names("hotmod") == SPEC_NAMES
    for name in hotmod.__all__:
        assert getattr(hotmod, name).__module__ == "hotmod", name


def test_dir_leaks_nothing() -> None:
    """Every name without an underscore is public: no helper, no ``from __future__`` name."""
    public = {name for name in dir(hotmod) if not name.startswith("_")}
    assert "annotations" not in public, "`from __future__ import annotations` leaks a name"
    # Submodules appear once imported (by the test run or by hotmod itself).
    assert public - PUBLIC_SUBMODULES == SPEC_NAMES | DOCUMENTED_EXTRAS


@pytest.mark.parametrize("module", sorted(MODULE_SURFACES))
def test_public_module_surface(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(MODULE_SURFACES[module])
    assert star_names(module) == set(MODULE_SURFACES[module])
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name


def test_public_objects_are_the_documented_kinds() -> None:
    from hotmod import asgi, cli, integrations, wsgi

    assert callable(cli.main)
    assert isinstance(wsgi.HotReload, type) and isinstance(asgi.HotReload, type)
    assert callable(wsgi.serve) and callable(asgi.serve)
    assert isinstance(integrations.Integration, type)
    assert issubclass(integrations.RestartRequired, Exception)
    assert repr(integrations.NOT_HANDLED) == "NOT_HANDLED"
    for name in ("HotReload", "serve"):
        assert getattr(wsgi, name).__module__ == "hotmod.wsgi"
        assert getattr(asgi, name).__module__ == "hotmod.asgi"
    assert cli.main.__module__ == "hotmod.cli"


def test_import_is_light(project: Project) -> None:
    project.scenario("surface_import_is_light")
    out = project.run_driver()
    assert out.strip() == "[]"


def test_py_typed_is_shipped() -> None:
    from importlib.resources import files

    assert files("hotmod").joinpath("py.typed").is_file()
