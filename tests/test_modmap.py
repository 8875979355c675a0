"""ModuleMap and its helpers in-process: paths, roots, explicit names, exclusion reasons."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import textwrap
import types
from pathlib import Path

import pytest

import hotmod._modmap
from hotmod._modmap import (
    ModuleMap,
    excluded_reason,
    no_source_reason,
    real,
    source_hash,
    source_path,
)


def load(path: Path, name: str) -> types.ModuleType:
    """Import ``path`` as ``name`` the way the import system does, into sys.modules."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(f"NAME = {name!r}\n")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the autouse fixture takes it out again
    spec.loader.exec_module(module)
    return module


def fake_spec(name: str, origin: str) -> types.ModuleType:
    spec = importlib.machinery.ModuleSpec(name, None, origin=origin)
    spec.has_location = True
    module = types.ModuleType(name)
    module.__spec__ = spec
    return module


# -- helpers ------------------------------------------------------------------------


def test_real_follows_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "target.py"
    target.write_text("")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    assert real(link) == str(target.resolve())
    assert real(str(tmp_path / "sub" / ".." / "target.py")) == str(target.resolve())


def test_source_hash_tells_content_apart() -> None:
    assert source_hash(b"x = 1\n") == source_hash(b"x = 1\n")
    assert source_hash(b"x = 1\n") != source_hash(b"x = 2\n")


def test_source_path_is_the_file_the_import_system_ran(tmp_path: Path) -> None:
    module = load(tmp_path / "pkg" / "mod.py", "mm_mod")
    assert source_path(module) == real(tmp_path / "pkg" / "mod.py")


def test_source_path_ignores_a_hand_set_file(tmp_path: Path) -> None:
    (tmp_path / "hand.py").write_text("")
    module = types.ModuleType("hand")
    module.__file__ = str(tmp_path / "hand.py")
    assert source_path(module) is None


def test_source_path_of_a_script_run_as_main(tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text("")
    main = types.ModuleType("__main__")
    main.__file__ = str(tmp_path / "script.py")
    main.__spec__ = None
    assert source_path(main) == real(tmp_path / "script.py")


def test_source_path_needs_a_py_file_on_disk(tmp_path: Path) -> None:
    assert source_path(fake_spec("zipped", str(tmp_path / "a.zip" / "m.py"))) is None
    (tmp_path / "compiled.pyc").write_bytes(b"")
    assert source_path(fake_spec("compiled", str(tmp_path / "compiled.pyc"))) is None


def test_excluded_reasons(tmp_path: Path) -> None:
    assert excluded_reason(real(os.__file__)) == (
        "it belongs to the standard library or an installed package"
    )
    assert excluded_reason(real(pytest.__file__)) is not None
    assert excluded_reason("/somewhere/site-packages/lib.py") == "it is installed in site-packages"
    assert excluded_reason("/somewhere/dist-packages/lib.py") == "it is installed in site-packages"
    assert excluded_reason(real(hotmod._modmap.__file__)) == "it is part of hotmod"
    assert excluded_reason(real(tmp_path / "user.py")) is None


def test_no_source_reasons(tmp_path: Path) -> None:
    assert "no source file (built-in" in no_source_reason(sys)
    no_spec = types.ModuleType("made_by_hand")
    assert "not loaded by the import system (no __spec__)" in no_source_reason(no_spec)
    assert "loaded from bytecode only" in no_source_reason(fake_spec("c", "/x/c.pyc"))
    assert "an extension module" in no_source_reason(fake_spec("ext", "/x/ext.so"))
    zipped = no_source_reason(fake_spec("z", "/x/a.zip/z.py"))
    assert "is not a file on disk" in zipped and "/x/a.zip/z.py" in zipped
    assert (
        no_source_reason(textwrap) == "it belongs to the standard library or an installed package"
    )
    user = load(tmp_path / "user_mod.py", "mm_user")
    assert no_source_reason(user) == "it is not under a watched folder"


# -- ModuleMap ----------------------------------------------------------------------


def test_sync_tracks_user_modules_only(tmp_path: Path) -> None:
    modmap = ModuleMap()
    modmap.sync()
    load(tmp_path / "one.py", "mm_one")
    new = modmap.sync()
    assert new == ["mm_one"]
    assert modmap.path_of("mm_one") == real(tmp_path / "one.py")
    assert modmap.names_for(str(tmp_path / "one.py")) == ["mm_one"]
    assert modmap.path_of("os") is None and modmap.path_of("pytest") is None
    assert modmap.sync() == [], "nothing imported since: nothing new"


def test_one_file_under_two_names(tmp_path: Path) -> None:
    modmap = ModuleMap()
    load(tmp_path / "twice.py", "mm_twice")
    load(tmp_path / "twice.py", "mm_twice_alias")
    modmap.sync()
    assert modmap.names_for(str(tmp_path / "twice.py")) == ["mm_twice", "mm_twice_alias"]
    modmap.forget("mm_twice")
    assert modmap.names_for(str(tmp_path / "twice.py")) == ["mm_twice_alias"]
    modmap.forget("mm_twice_alias")
    assert modmap.names_for(str(tmp_path / "twice.py")) == []


def test_a_module_under_a_second_name_is_tracked_under_its_own(tmp_path: Path) -> None:
    # billiard (Celery's pool) puts ``__main__`` in sys.modules as ``__mp_main__`` too:
    # tracked under that name, the script would be run again as a module.
    modmap = ModuleMap()
    module = load(tmp_path / "aliased.py", "mm_aliased")
    sys.modules["mm_alias_of_it"] = module
    modmap.sync()
    assert modmap.names_for(str(tmp_path / "aliased.py")) == ["mm_aliased"]
    assert modmap.path_of("mm_alias_of_it") is None


def test_a_reimported_module_starts_afresh(tmp_path: Path) -> None:
    (tmp_path / "mm_again.py").write_text("X = 1\n")
    sys.path.insert(0, str(tmp_path))  # the autouse fixture restores sys.path
    modmap = ModuleMap()
    importlib.import_module("mm_again")
    modmap.sync()
    modmap.set_hash("mm_again", 123)
    del sys.modules["mm_again"]
    importlib.import_module("mm_again")  # a new module object under the same name
    assert modmap.sync() == ["mm_again"]
    assert modmap.known_hash("mm_again") is None


def test_without_roots_every_user_module_is_reloadable(tmp_path: Path) -> None:
    modmap = ModuleMap()
    load(tmp_path / "a" / "free.py", "mm_free")
    modmap.sync()
    assert modmap.is_reloadable("mm_free")
    assert modmap.under_roots("/anywhere/at/all.py")
    assert not modmap.is_reloadable("os"), "an untracked module never is"
    # The answers are remembered until the map changes: a new module, a root.
    assert not modmap.is_reloadable("mm_late")
    load(tmp_path / "late.py", "mm_late")
    modmap.sync()
    assert modmap.is_reloadable("mm_late")
    modmap.add_roots([str(tmp_path / "elsewhere")])
    assert not modmap.is_reloadable("mm_free") and not modmap.is_reloadable("mm_late")


def test_roots_restrict_and_explicit_names_extend(tmp_path: Path) -> None:
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    modmap = ModuleMap()
    load(inside / "in_mod.py", "mm_in")
    load(outside / "out_mod.py", "mm_out")
    modmap.sync()
    modmap.add_roots([str(inside)])
    modmap.add_roots([str(inside)])  # adding a root twice changes nothing
    assert modmap.is_reloadable("mm_in")
    assert not modmap.is_reloadable("mm_out")
    assert not modmap.under_roots(real(outside / "out_mod.py"))
    assert not modmap.under_roots(real(tmp_path / "inside_not"))  # a prefix is not a folder
    modmap.add_explicit("mm_out")
    assert modmap.is_reloadable("mm_out")


def test_a_single_file_can_be_a_root(tmp_path: Path) -> None:
    modmap = ModuleMap()
    load(tmp_path / "solo.py", "mm_solo")
    load(tmp_path / "other.py", "mm_other")
    modmap.sync()
    modmap.add_roots([str(tmp_path / "solo.py")])
    assert modmap.is_reloadable("mm_solo") and not modmap.is_reloadable("mm_other")


def test_roots_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "target")
    modmap = ModuleMap()
    load(tmp_path / "target" / "t.py", "mm_t")
    modmap.sync()
    modmap.add_roots([str(tmp_path / "alias")])
    assert modmap.is_reloadable("mm_t")


def test_removing_roots(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    modmap = ModuleMap()
    load(first / "f.py", "mm_f")
    load(second / "s.py", "mm_s")
    load(tmp_path / "loose.py", "mm_loose")
    modmap.sync()
    modmap.add_roots([str(first), str(second)])
    assert not modmap.is_reloadable("mm_loose")
    # Another root left: what the removed root made reloadable stays reloadable.
    modmap.remove_roots([str(first)])
    assert modmap.is_reloadable("mm_f") and modmap.is_reloadable("mm_s")
    assert not modmap.is_reloadable("mm_loose")
    # No roots left: every user module is reloadable again.
    modmap.remove_roots([str(second)])
    assert modmap.is_reloadable("mm_loose")


def test_hashes_are_remembered_per_module(tmp_path: Path) -> None:
    modmap = ModuleMap()
    load(tmp_path / "h.py", "mm_h")
    modmap.sync()
    assert modmap.known_hash("mm_h") is None
    modmap.set_hash("mm_h", source_hash(b"v1"))
    assert modmap.known_hash("mm_h") == source_hash(b"v1")
    modmap.forget("mm_h")
    assert modmap.known_hash("mm_h") is None and modmap.path_of("mm_h") is None
