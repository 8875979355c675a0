"""`Watcher` driven by a scripted fake monitor: batches in, reloads out, in this process."""

from __future__ import annotations

import errno
import logging
import os
import sys
import textwrap
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import hotmod
from hotmod import _runtime
from hotmod._monitor import Backend, FileMonitor
from hotmod._report import ReloadReport
from hotmod._runtime import get_reloader
from hotmod._watcher import Watcher

WAIT = 5.0  # seconds: generous, only ever reached when a test fails


class FakeMonitor:
    """A FileMonitor whose batches the test hands in with `deliver`."""

    def __init__(self, on_batch: Callable[[frozenset[Path]], None]) -> None:
        self.on_batch = on_batch
        self.paths: list[Path] = []
        self.running = False

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    def add_path(self, path: Path) -> None:
        self.paths.append(path)

    def deliver(self, *paths: Path) -> None:
        self.on_batch(frozenset(Path(os.path.realpath(p)) for p in paths))


class Fakes:
    """A monitor factory remembering the monitors it made."""

    def __init__(self) -> None:
        self.made: list[FakeMonitor] = []

    def __call__(
        self,
        roots: Iterable[str | os.PathLike[str]],
        *,
        on_batch: Callable[[frozenset[Path]], None],
        include: Sequence[str],
        exclude: Sequence[str],
        debounce: float,
        backend: Backend,
        poll_interval: float,
    ) -> FileMonitor:
        monitor = FakeMonitor(on_batch)
        self.made.append(monitor)
        return monitor

    @property
    def last(self) -> FakeMonitor:
        return self.made[-1]


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def proj(tmp_path: Path) -> Iterator[Path]:
    """A project folder on sys.path; watchers started in the test are stopped after it."""
    root = Path(os.path.realpath(tmp_path / "proj"))
    root.mkdir()
    sys.path.insert(0, str(root))
    yield root
    for watcher in list(_runtime.state.watchers):
        watcher.stop()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def started(fakes: Fakes, root: Path, **options: Any) -> Watcher:
    """A Watcher of ``root`` on a fake monitor, started."""
    watcher = Watcher(monitor=fakes, **options)
    watcher.add_paths([root])
    watcher.start()
    return watcher


def test_a_failed_batch_is_retried_with_the_next_save_of_any_file(proj: Path, fakes: Fakes) -> None:
    # A rename in auth.py breaks blog.py; fixing blog.py applies both, auth.py untouched.
    auth = write(proj / "auth.py", "def login():\n    return 'v1'\n")
    blog = write(proj / "blog.py", "from auth import login\n\ndef page():\n    return login()\n")
    import blog as blog_module

    reports: list[ReloadReport] = []
    started(fakes, proj, on_reload=reports.append)
    write(auth, "def sign_in():\n    return 'v2'\n")
    fakes.last.deliver(auth)
    assert not reports[-1].ok  # blog.py still imports login
    assert blog_module.page() == "v1"  # the previous code runs on
    write(blog, "from auth import sign_in\n\ndef page():\n    return sign_in()\n")
    fakes.last.deliver(blog)
    assert reports[-1].ok, reports[-1].error
    assert sys.modules["blog"].page() == "v2"


def test_manual_mode_retries_a_failed_batch_too(proj: Path, fakes: Fakes) -> None:
    auth = write(proj / "auth2.py", "def login():\n    return 'v1'\n")
    blog = write(proj / "blog2.py", "from auth2 import login\n\nPAGE = login()\n")
    import blog2

    watcher = started(fakes, proj, apply="manual")
    write(auth, "def sign_in():\n    return 'v2'\n")
    fakes.last.deliver(auth)
    report = hotmod.apply()
    assert report is not None and not report.ok
    assert not watcher.has_pending  # not retried at every safe point ...
    write(blog, "from auth2 import sign_in\n\nPAGE = sign_in()\n")
    fakes.last.deliver(blog)  # ... but with the next save
    report = hotmod.apply()
    assert report is not None and report.ok, report
    assert blog2.PAGE == "v2"


def test_hotmod_apply_applies_a_directly_built_manual_watcher(proj: Path, fakes: Fakes) -> None:
    mod = write(proj / "direct.py", "X = 1\n")
    import direct

    watcher = started(fakes, proj, apply="manual")
    write(mod, "X = 2\n")
    fakes.last.deliver(mod)
    assert direct.X == 1
    report = hotmod.apply()
    assert report is not None and report.changed == ["direct"]
    assert direct.X == 2
    watcher.stop()
    assert hotmod.apply() is None


def test_applying_the_saves_looked_at_leaves_a_later_save_pending(proj: Path, fakes: Fakes) -> None:
    # hotmod test reads the pending saves, then applies them: one arriving in between
    # must wait for its own round, not be applied unseen.
    one = write(proj / "seen_one.py", "X = 1\n")
    two = write(proj / "seen_two.py", "X = 1\n")
    import seen_one
    import seen_two

    watcher = started(fakes, proj, apply="manual")
    write(one, "X = 2\n")
    fakes.last.deliver(one)
    taken = list(watcher.pending)
    write(two, "X = 2\n")
    fakes.last.deliver(two)
    report = watcher._apply(taken)
    assert report is not None and report.changed == ["seen_one"]
    assert (seen_one.X, seen_two.X) == (2, 1)
    assert watcher.pending == {two}
    report = watcher._apply(None)
    assert report is not None and report.changed == ["seen_two"] and seen_two.X == 2


def test_stop_never_narrows_what_reload_may_reload(
    tmp_path: Path, proj: Path, fakes: Fakes
) -> None:
    other = Path(os.path.realpath(tmp_path / "other"))
    write(proj / "base_a.py", "VALUE = 1\n")
    write(other / "user_b.py", "from base_a import VALUE\n")
    sys.path.insert(0, str(other))
    import base_a
    import user_b

    watcher = started(fakes, proj)
    watcher.stop()
    write(proj / "base_a.py", "VALUE = 2\n")
    report = hotmod.reload(base_a)
    assert report.ok and "user_b" in report.reloaded
    assert user_b.VALUE == 2


def test_modules_watched_before_stay_reloadable_when_other_roots_remain(
    tmp_path: Path, proj: Path, fakes: Fakes
) -> None:
    other = Path(os.path.realpath(tmp_path / "other2"))
    write(proj / "lib_c.py", "VALUE = 1\n")
    write(proj / "use_c.py", "from lib_c import VALUE\n")
    write(other / "keep_me.py", "X = 1\n")
    import lib_c
    import use_c

    first, second = Watcher(monitor=fakes), Watcher(monitor=fakes)
    first.add_paths([proj])
    second.add_paths([other])
    first.start()
    second.start()
    first.stop()
    write(proj / "lib_c.py", "VALUE = 2\n")
    report = hotmod.reload(lib_c)
    assert "use_c" in report.reloaded and use_c.VALUE == 2


def test_symlinked_folders_under_an_explicit_root_are_watched(
    tmp_path: Path, proj: Path, fakes: Fakes
) -> None:
    shared = Path(os.path.realpath(tmp_path / "shared"))
    write(shared / "linked.py", "X = 1\n")
    (proj / "lib").symlink_to(shared, target_is_directory=True)
    sys.path.insert(0, str(proj / "lib"))
    import linked

    watcher = started(fakes, proj)
    assert str(shared) in watcher.paths
    assert shared in fakes.last.paths
    write(proj / "lib" / "linked.py", "X = 2\n")
    fakes.last.deliver(shared / "linked.py")  # the real path, as the monitor reports it
    assert linked.X == 2


def test_watch_manual_switches_a_running_thread_watcher(proj: Path, fakes: Fakes) -> None:
    mod = write(proj / "switch.py", "X = 1\n")
    import switch

    running = started(fakes, proj)  # as `hotmod run` starts it
    _runtime.state.current = running
    assert hotmod.watch(proj, apply="manual") is running
    assert running.apply_mode == "manual"
    write(mod, "X = 2\n")
    fakes.last.deliver(mod)
    assert switch.X == 1  # queued for a safe point
    assert hotmod.apply() is not None and switch.X == 2
    hotmod.watch(proj)  # a later call with the default leaves the mode as it is
    assert running.apply_mode == "manual"


def test_an_excluded_package_is_logged_once_at_debug(
    proj: Path, fakes: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    write(proj / "build" / "gen" / "__init__.py", "")
    write(proj / "build" / "gen" / "one.py", "X = 1\n")
    write(proj / "build" / "gen" / "two.py", "X = 2\n")
    sys.path.insert(0, str(proj / "build"))
    watcher = Watcher(monitor=fakes)
    watcher.add_paths([proj])
    with caplog.at_level(logging.DEBUG, logger="hotmod.watch"):
        watcher.start()
        import gen.one
        import gen.two  # noqa: F401

        watcher._adopt_imports()  # what the import timer does
    lines = [r.getMessage() for r in caplog.records if "exclude" in r.getMessage()]
    assert len(lines) == 1, lines
    assert os.path.join(str(proj), "build") in lines[0] and "gen" in lines[0]


def test_a_batch_of_files_no_module_comes_from_is_ignored(proj: Path, fakes: Fakes) -> None:
    reports: list[Any] = []
    started(fakes, proj, on_reload=reports.append)
    fakes.last.deliver(write(proj / "never_imported.py", "X = 1\n"))
    assert reports == [] and get_reloader() is not None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux only")
def test_a_safe_point_never_reads_a_file_still_open_for_writing(proj: Path, fakes: Fakes) -> None:
    mod = write(proj / "halfway.py", "X = 1\nY = 1\n")
    import halfway

    watcher = started(fakes, proj, apply="manual")
    with open(mod, "w") as f:
        f.write("X = 2\n")
        f.flush()
        fakes.last.deliver(mod)  # say a batch reported it complete just before this save
        assert hotmod.apply() is None  # still open for writing: not read
        assert watcher.pending == {mod} and halfway.Y == 1
        f.write("Y = 2\n")
    report = hotmod.apply()
    assert report is not None and report.ok
    assert (halfway.X, halfway.Y) == (2, 2)


def test_one_broken_file_does_not_hold_back_the_others(proj: Path, fakes: Fakes) -> None:
    broken = write(proj / "broken_a.py", "X = 1\n")
    fine = write(proj / "fine_b.py", "Y = 1\n")
    import broken_a
    import fine_b

    reports: list[ReloadReport] = []
    started(fakes, proj, on_reload=reports.append)
    write(broken, "X = (\n")
    fakes.last.deliver(broken)
    assert isinstance(reports[-1].error, SyntaxError)
    write(fine, "Y = 2\n")
    fakes.last.deliver(fine)  # retried with broken_a first, then alone
    assert reports[-1].ok and fine_b.Y == 2
    write(broken, "X = 3\n")
    fakes.last.deliver(broken)
    assert reports[-1].ok and broken_a.X == 3


# --------------------------------------------------------------------------- what a batch reads


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux only")
def test_a_file_recreated_after_its_batch_looked_waits_for_its_own_batch(proj: Path) -> None:
    # vim's save: the file renamed away (the batch finds its path empty), then written
    # anew. The new file may be half-written when the reload reads: it is not read.
    from hotmod._monitor._lease import hold_still

    mod = write(proj / "vim_saved.py", "VALUE = 1\n")
    import vim_saved

    os.rename(mod, proj / "vim_saved.py~")
    # (hold_still as the watcher applying the batch does, then the editor's new file)
    with hold_still([str(mod)]), open(mod, "w") as half:
        half.write("VALUE = ")
        half.flush()
        assert get_reloader().reload_changed([str(mod)]) is None
    assert vim_saved.VALUE == 1
    write(mod, "VALUE = 2\n")  # complete: its own batch
    report = get_reloader().reload_changed([str(mod)])
    assert report is not None and report.ok and vim_saved.VALUE == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux only")
def test_a_save_beginning_while_a_changed_dependent_is_read_waits_for_the_read(
    proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dependent's own save truncates it: had it begun between "no writer now" and
    # the read, the reload would run an empty or half file.
    from hotmod._monitor import _lease

    leaf = write(proj / "leased_leaf.py", "VALUE = 1\n")
    dep = write(proj / "leased_dep.py", "from leased_leaf import VALUE\n\nX = VALUE\n")
    import leased_dep

    write(dep, "from leased_leaf import VALUE\n\nX = VALUE * 10\n")
    write(leaf, "VALUE = 2\n")
    opened = threading.Event()
    blocked: list[bool] = []

    def save() -> None:
        with open(dep, "w") as f:  # truncates, once the read lets it
            opened.set()
            f.write("X = (")

    writer = threading.Thread(target=save)
    real_read = _lease._read_fd

    def read_fd(fd: int) -> bytes:
        if os.path.samestat(os.fstat(fd), os.stat(dep)) and not blocked:
            writer.start()
            blocked.append(not opened.wait(0.2))
        return real_read(fd)

    monkeypatch.setattr(_lease, "_read_fd", read_fd)
    report = hotmod.reload("leased_leaf")
    writer.join(WAIT)
    assert report.ok, report.error
    assert blocked == [True]
    assert leased_dep.X == 20


def test_a_save_that_cannot_be_read_fails_the_reload_naming_the_file(
    proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not taken for a deleted file (left alone, silently): the old code runs on, the
    # report says which file could not be read, and the watcher tries it again.
    mod = write(proj / "unreadable.py", "VALUE = 1\n")
    import unreadable

    write(mod, "VALUE = 2\n")

    def refuse(path: str) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr("hotmod._reloader.read_held", refuse)
    report = get_reloader().reload_changed([str(mod)])
    assert report is not None and isinstance(report.error, PermissionError)
    assert report.error.filename == str(mod)
    assert unreadable.VALUE == 1
    monkeypatch.undo()
    report = get_reloader().reload_changed([str(mod)])
    assert report is not None and report.ok and unreadable.VALUE == 2
