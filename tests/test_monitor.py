"""hotmod._monitor on the real file system: events in, batches of complete files out.

Every wait is on a queue or an event with a generous deadline; no test sleeps and hopes,
none asserts a duration.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Project
from hotmod._errors import HotmodWarning
from hotmod._monitor import DEFAULT_EXCLUDES, FileMonitor, make_monitor, path_matches
from hotmod._monitor import _hurry as hurry
from hotmod._monitor._batch import Delivery, Kind
from hotmod._monitor._inotify import available as _has_inotify_fd
from hotmod._monitor._inotify_legacy import available as _has_legacy_inotify

WAIT = 5.0  # seconds: generous, only ever reached when a test fails
Batch = frozenset[Path]


def real(path: Path | str) -> Path:
    """The real path, as the monitor reports it."""
    return Path(os.path.realpath(path))


class Batches:
    """An ``on_batch`` callback that queues batches for the test thread to wait on."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Batch] = queue.Queue()
        self.received: list[Batch] = []

    def __call__(self, batch: Batch) -> None:
        self.queue.put(batch)

    def next(self) -> Batch:
        """The next batch (fails the test after WAIT seconds)."""
        try:
            batch = self.queue.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no batch within {WAIT} s; received so far: {self.received}")
        self.received.append(batch)
        return batch

    def wait_for(self, *paths: Path | str) -> list[Batch]:
        """Batches received until every one of ``paths`` has been reported."""
        want = {real(p) for p in paths}
        got: list[Batch] = []
        while not want <= set().union(*got):
            got.append(self.next())
        return got


Start = Callable[..., tuple[Any, Batches]]


@pytest.fixture
def start_monitor() -> Iterator[Start]:
    """Build and start monitors; stop them all afterwards and check no thread is left."""
    monitors: list[FileMonitor] = []

    def start(roots: list[Path], **options: Any) -> tuple[Any, Batches]:
        batches = Batches()
        monitor = make_monitor(roots, **{"on_batch": batches, **options})
        monitors.append(monitor)
        monitor.start()
        return monitor, batches

    yield start
    for monitor in monitors:
        monitor.stop()
    leftover = [t.name for t in threading.enumerate() if t.name.startswith("hotmod-")]
    assert leftover == []


# Our inotify backend: on watchdog's InotifyFD (watchdog >= 7), else its Inotify wrapper.
HAS_INOTIFY = _has_inotify_fd() or _has_legacy_inotify()
INOTIFY_IMPL = "inotify" if _has_inotify_fd() else "inotify-legacy"
needs_inotify = pytest.mark.skipif(not HAS_INOTIFY, reason="needs Linux")

BACKENDS: dict[str, dict[str, Any]] = {
    "inotify": {"backend": "watchdog", "_native_impl": INOTIFY_IMPL},
    "observer": {"backend": "watchdog", "_native_impl": "observer"},
    "polling": {"backend": "polling", "poll_interval": 0.02},
}


@pytest.fixture(params=["inotify", "polling"])
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Monitor options selecting each backend in turn."""
    return backend_options(request.param)


def backend_options(name: str) -> dict[str, Any]:
    """Options selecting one backend; skips the test if it is not available here."""
    if name == "inotify" and not HAS_INOTIFY:
        pytest.skip("our inotify backend needs Linux")
    return dict(BACKENDS[name])


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """An empty project folder (real path)."""
    folder = tmp_path / "proj"
    folder.mkdir()
    return real(folder)


# --------------------------------------------------------------------------- filter


def test_path_matches_basename_and_folder_components() -> None:
    inc, exc = ("*.py",), DEFAULT_EXCLUDES
    root = "/srv/app"
    assert path_matches("/srv/app/pkg/mod.py", inc, exc, root=root)
    for name in [".mod.py.swp", "mod.py~", "4913", ".#mod.py", "#mod.py#", "x.tmp", "mod.pyc"]:
        assert not path_matches(f"/srv/app/pkg/{name}", inc, exc, root=root), name
    for folder in ["__pycache__", ".git/hooks", "node_modules/x", ".venv/lib", "a.egg-info"]:
        assert not path_matches(f"/srv/app/{folder}/mod.py", inc, exc, root=root), folder
    # only components below the root count: a root inside "build" is fine
    assert path_matches("/tmp/build/app/mod.py", inc, exc, root="/tmp/build/app")
    assert not path_matches("/elsewhere/mod.py", inc, exc, root=root)
    # without a root the path is taken as relative
    assert path_matches(Path("pkg/mod.py"), inc, exc)
    assert not path_matches(Path("build/mod.py"), inc, exc)


def test_patterns_apply_to_the_basename_not_the_whole_path(
    proj: Path, start_monitor: Start
) -> None:
    # watchdog 7 matches patterns against whole paths; ours must not
    _, batches = start_monitor([proj], backend="watchdog", include=["mod*.py"])
    (proj / "other.py").write_text("x = 1\n")
    (proj / "mod_a.py").write_text("x = 1\n")
    got = batches.wait_for(proj / "mod_a.py")
    assert set().union(*got) == {proj / "mod_a.py"}


# --------------------------------------------------------------------------- events


@pytest.mark.parametrize("impl", ["inotify", "observer", "polling"])
def test_plain_write_of_an_absolute_path(impl: str, proj: Path, start_monitor: Start) -> None:
    target = proj / "mod.py"
    target.write_text("x = 1\n")
    _, batches = start_monitor([proj], **backend_options(impl))
    target.write_text("x = 2\n")
    got = batches.wait_for(target)
    assert target.is_absolute()
    assert set().union(*got) == {target}


@pytest.mark.parametrize("impl", ["inotify", "observer", "polling"])
def test_atomic_save_reports_the_target_only(impl: str, proj: Path, start_monitor: Start) -> None:
    target = proj / "mod.py"
    target.write_text("x = 1\n")
    _, batches = start_monitor([proj], **backend_options(impl))
    temp = proj / "mod.py.tmp"
    temp.write_text("x = 2\n")
    os.replace(temp, target)
    got = batches.wait_for(target)
    assert set().union(*got) == {target}


@pytest.mark.parametrize("impl", ["inotify", "observer", "polling"])
def test_swap_and_temp_files_are_ignored(impl: str, proj: Path, start_monitor: Start) -> None:
    _, batches = start_monitor([proj], **backend_options(impl))
    for name in [".mod.py.swp", "mod.py~", "4913", ".#mod.py", "mod.py.tmp", "x___jb_tmp___"]:
        (proj / name).write_text("junk\n")
    marker = proj / "marker.py"
    marker.write_text("x = 1\n")
    assert batches.next() == {marker}


def test_excluded_folders_are_ignored(
    proj: Path, options: dict[str, Any], start_monitor: Start
) -> None:
    (proj / ".git" / "hooks").mkdir(parents=True)
    _, batches = start_monitor([proj], **options)
    (proj / ".git" / "hooks" / "hook.py").write_text("x = 1\n")
    for folder in ["__pycache__", "node_modules/pkg", ".venv/lib"]:  # created while running
        (proj / folder).mkdir(parents=True)
        (proj / folder / "mod.py").write_text("x = 1\n")
    marker = proj / "marker.py"
    marker.write_text("x = 1\n")
    got = batches.wait_for(marker)
    assert set().union(*got) == {marker}


def test_burst_of_saves_is_one_batch_after_the_last(proj: Path, start_monitor: Start) -> None:
    target = proj / "mod.py"
    contents: list[str | None] = []
    seen = threading.Event()

    def on_batch(batch: Batch) -> None:
        if target in batch:
            contents.append(target.read_text())
        if proj / "marker.py" in batch:
            seen.set()

    monitor = make_monitor([proj], on_batch=on_batch, backend="watchdog", debounce=0.2)
    monitor.start()
    try:
        for i in range(20):
            target.write_text(f"x = {i}\n")
        (proj / "marker.py").write_text("x = 1\n")
        assert seen.wait(WAIT)
    finally:
        monitor.stop()
    assert 1 <= len(contents) <= 5  # far fewer batches than saves
    assert contents[-1] == "x = 19\n"  # the last batch came after the last save


def test_deleted_then_recreated(proj: Path, options: dict[str, Any], start_monitor: Start) -> None:
    target = proj / "mod.py"
    target.write_text("x = 1\n")
    _, batches = start_monitor([proj], **options)
    target.unlink()
    batches.wait_for(target)
    target.write_text("x = 2\n")
    batches.wait_for(target)


def test_new_file_in_new_subfolder(
    proj: Path, options: dict[str, Any], start_monitor: Start
) -> None:
    _, batches = start_monitor([proj], **options)
    deep = proj / "pkg" / "sub"
    deep.mkdir(parents=True)
    (deep / "mod.py").write_text("x = 1\n")  # may be written before the folder is watched
    batches.wait_for(deep / "mod.py")
    (deep / "two.py").write_text("x = 1\n")
    batches.wait_for(deep / "two.py")


def test_folder_moved_in_and_renamed(
    tmp_path: Path, proj: Path, options: dict[str, Any], start_monitor: Start
) -> None:
    outside = tmp_path / "outside" / "pkg"
    outside.mkdir(parents=True)
    (outside / "mod.py").write_text("x = 1\n")
    _, batches = start_monitor([proj], **options)
    os.rename(outside, proj / "pkg")
    batches.wait_for(proj / "pkg" / "mod.py")
    (proj / "pkg" / "new.py").write_text("x = 1\n")  # the moved-in folder is watched
    batches.wait_for(proj / "pkg" / "new.py")
    os.rename(proj / "pkg", proj / "pkg2")  # old and new paths are both reported
    batches.wait_for(proj / "pkg2" / "mod.py", proj / "pkg" / "mod.py")
    (proj / "pkg2" / "more.py").write_text("x = 1\n")
    batches.wait_for(proj / "pkg2" / "more.py")


@needs_inotify
def test_move_out_does_not_hold_later_events(tmp_path: Path, proj: Path) -> None:
    """A file moved out of the tree must not delay the next save.

    watchdog's own inotify emitter holds the unpaired IN_MOVED_FROM for 0.5 s and
    queues every later event behind it. That hold is our marker: a reference watchdog
    observer on the same folder cannot report anything about the two files until it
    ends, so our batch with the next save must arrive before the reference's first
    report. Event order, not a duration.
    """
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers.inotify import InotifyObserver

    try:  # where watchdog holds moves: its 7.x grouper, its 6.x buffer
        from watchdog.observers.inotify_move_event_grouper import (
            InotifyMoveEventGrouper as Holder,
        )
    except ImportError:
        from watchdog.observers.inotify_buffer import InotifyBuffer as Holder

    if getattr(Holder, "delay", 0) < 0.2:
        pytest.skip("this watchdog does not hold moves: no marker to order against")
    moved, saved = proj / "moved.py", proj / "saved.py"
    moved.write_text("x = 1\n")
    (tmp_path / "away").mkdir()
    order: list[str] = []
    ours, reference = threading.Event(), threading.Event()
    ours_batches: list[Batch] = []

    class Reference(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            paths = {os.fsdecode(event.src_path), os.fsdecode(event.dest_path)}
            if paths & {str(moved), str(saved)} and not reference.is_set():
                order.append("reference")
                reference.set()

    def on_batch(batch: Batch) -> None:
        ours_batches.append(batch)
        if saved in batch and not ours.is_set():
            order.append("hotmod")
            ours.set()

    observer = InotifyObserver()
    observer.schedule(Reference(), str(proj), recursive=True)
    observer.start()
    monitor = make_monitor([proj], on_batch=on_batch, backend="watchdog", debounce=0.0)
    monitor.start()
    try:
        os.rename(moved, tmp_path / "away" / "moved.py")
        saved.write_text("x = 1\n")
        assert ours.wait(WAIT), "the save after a move-out was never delivered"
        assert reference.wait(WAIT)
    finally:
        monitor.stop()
        observer.stop()
        observer.join(WAIT)
    assert order == ["hotmod", "reference"]
    assert moved in set().union(*ours_batches)  # reported as gone


# --------------------------------------------------------------------------- roots


@needs_inotify
def test_nested_roots_share_one_watch(tmp_path: Path, proj: Path, start_monitor: Start) -> None:
    (proj / "pkg").mkdir()
    (proj / "pkg" / "mod.py").write_text("x = 1\n")
    (proj / "build" / "gen").mkdir(parents=True)
    monitor, batches = start_monitor(
        [proj, proj / "pkg", proj / "pkg" / "mod.py"], backend="watchdog"
    )
    assert monitor._watches == {str(proj): True}
    assert monitor._backend.trees == [str(proj)]
    (proj / "pkg" / "mod.py").write_text("x = 2\n")
    assert batches.next() == {proj / "pkg" / "mod.py"}

    monitor.add_path(proj / "pkg")  # already covered: nothing changes
    assert monitor._watches == {str(proj): True}
    # a root below an excluded folder of another root needs its own watch
    monitor.add_path(proj / "build" / "gen")
    assert monitor._watches == {str(proj): True, str(proj / "build" / "gen"): True}
    # a root containing the others replaces them
    monitor.add_path(tmp_path)
    assert monitor._watches == {str(real(tmp_path)): True, str(proj / "build" / "gen"): True}
    assert set(monitor._backend.trees) == set(monitor._watches)
    (proj / "build" / "gen" / "out.py").write_text("x = 1\n")
    (proj / "build" / "skipped.py").write_text("x = 1\n")
    (proj / "pkg" / "mod.py").write_text("x = 3\n")
    got = batches.wait_for(proj / "build" / "gen" / "out.py", proj / "pkg" / "mod.py")
    assert proj / "build" / "skipped.py" not in set().union(*got)
    hotmod_threads = [t.name for t in threading.enumerate() if t.name.startswith("hotmod-")]
    # InotifyFD: one reader for every root; watchdog < 7's wrapper: one reader per root
    readers = 1 if INOTIFY_IMPL == "inotify" else len(monitor._watches)
    expected = ["hotmod-inotify"] * readers + ["hotmod-lease", "hotmod-watcher"]
    assert sorted(hotmod_threads) == expected


def test_add_path_while_running(
    tmp_path: Path, proj: Path, options: dict[str, Any], start_monitor: Start
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "old.py").write_text("x = 1\n")
    monitor, batches = start_monitor([proj], **options)
    monitor.add_path(other)
    (other / "mod.py").write_text("x = 1\n")
    got = batches.wait_for(other / "mod.py")
    assert set().union(*got) == {real(other / "mod.py")}  # no event for what existed


def test_file_root_reports_only_that_file(
    proj: Path, options: dict[str, Any], start_monitor: Start
) -> None:
    single, settings = proj / "single.py", proj / "settings.toml"
    for path in (single, settings, proj / "other.py"):
        path.write_text("x = 1\n")
    _, batches = start_monitor([single, settings], **options)
    (proj / "other.py").write_text("x = 2\n")
    single.write_text("x = 2\n")
    temp = proj / "settings.toml.tmp"
    temp.write_text("x = 2\n")
    os.replace(temp, settings)  # an explicit file is reported whatever its name
    got = batches.wait_for(single, settings)
    assert set().union(*got) == {single, settings}


def test_symlinked_root_reports_real_paths(
    tmp_path: Path, options: dict[str, Any], start_monitor: Start
) -> None:
    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    _, batches = start_monitor([link], **options)
    (link / "mod.py").write_text("x = 1\n")
    got = batches.wait_for(target / "mod.py")
    assert set().union(*got) == {real(target / "mod.py")}
    assert real(target) != link


# --------------------------------------------------------------------------- robustness


def test_on_batch_raising_does_not_stop_the_watcher(
    proj: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batches = Batches()
    calls = 0

    def on_batch(batch: Batch) -> None:
        nonlocal calls
        calls += 1
        batches(batch)
        if calls == 1:
            raise RuntimeError("boom")

    monitor = make_monitor([proj], on_batch=on_batch, backend="watchdog")
    with caplog.at_level(logging.ERROR, logger="hotmod.watcher"):
        monitor.start()
        try:
            (proj / "one.py").write_text("x = 1\n")
            batches.wait_for(proj / "one.py")
            (proj / "two.py").write_text("x = 1\n")
            batches.wait_for(proj / "two.py")
        finally:
            monitor.stop()
    assert any("on_batch raised" in r.message and r.exc_info for r in caplog.records)
    threads = [t.name for t in threading.enumerate() if t.name.startswith("hotmod-")]
    assert threads == []


def test_auto_falls_back_to_polling_with_one_warning(
    tmp_path: Path, proj: Path, start_monitor: Start
) -> None:
    limit = OSError(errno.ENOSPC, "inotify watch limit reached")
    with pytest.warns(HotmodWarning, match="native file watching failed") as record:
        monitor, batches = start_monitor(
            [proj], backend="auto", poll_interval=0.02, _native_error=limit
        )
    assert len(record) == 1
    assert "inotify watch limit reached" in str(record[0].message)
    assert "polling" in str(record[0].message)
    assert monitor._backend_name == "polling"
    (proj / "mod.py").write_text("x = 1\n")
    batches.wait_for(proj / "mod.py")
    other = tmp_path / "other"
    other.mkdir()
    monitor.add_path(other)  # no second warning (filterwarnings = error)
    (other / "mod.py").write_text("x = 1\n")
    batches.wait_for(other / "mod.py")


def test_watchdog_backend_does_not_fall_back(proj: Path) -> None:
    limit = OSError(errno.ENOSPC, "inotify watch limit reached")
    monitor = make_monitor([proj], on_batch=Batches(), backend="watchdog", _native_error=limit)
    with pytest.raises(OSError, match="inotify watch limit reached"):
        monitor.start()
    monitor.stop()


def test_auto_uses_native_when_it_works(proj: Path, start_monitor: Start) -> None:
    monitor, _ = start_monitor([proj])
    assert monitor._backend_name in ("inotify", "inotify-legacy", "observer")


def test_start_and_stop_are_idempotent(proj: Path) -> None:
    batches = Batches()
    monitor = make_monitor([proj], on_batch=batches, backend="watchdog")
    monitor.start()
    monitor.start()
    (proj / "mod.py").write_text("x = 1\n")
    batches.wait_for(proj / "mod.py")
    delivery = [t for t in threading.enumerate() if t.name == "hotmod-watcher"]
    assert len(delivery) == 1 and delivery[0].daemon
    monitor.stop()
    monitor.stop()
    assert [t for t in threading.enumerate() if t.name.startswith("hotmod-")] == []
    with pytest.raises(RuntimeError, match="stopped"):
        monitor.start()
    make_monitor([proj], on_batch=batches).stop()  # stopping a monitor never started


def test_stop_from_on_batch(proj: Path) -> None:
    done = threading.Event()
    holder: list[FileMonitor] = []

    def on_batch(batch: Batch) -> None:
        holder[0].stop()
        done.set()

    monitor = make_monitor([proj], on_batch=on_batch, backend="watchdog")
    holder.append(monitor)
    monitor.start()
    (proj / "mod.py").write_text("x = 1\n")
    assert done.wait(WAIT)
    for thread in threading.enumerate():
        if thread.name.startswith("hotmod-"):
            thread.join(WAIT)
    assert [t for t in threading.enumerate() if t.name.startswith("hotmod-")] == []


def _emit_and_flush(delivery: Delivery, path: str, kind: Kind) -> None:
    """What a backend's reader thread does with one read."""
    delivery.emit(path, kind)
    delivery.flush_here()


def test_a_batch_complete_at_flush_is_delivered_on_the_flushing_thread() -> None:
    # No hand-over to the delivery thread when the batch can go at once; a batch that
    # must wait (here: completeness unknown) still goes from the delivery thread.
    got: queue.Queue[tuple[Batch, str]] = queue.Queue()
    delivery = Delivery(
        lambda batch: got.put((batch, threading.current_thread().name)), debounce=0.01
    )
    delivery.start()
    try:
        cases: list[tuple[str, Kind, str]] = [
            ("/x/m.py", "done", "reader"),
            ("/x/n.py", "changed", "hotmod-watcher"),
        ]
        for path, kind, thread in cases:
            reader = threading.Thread(target=_emit_and_flush, args=(delivery, path, kind))
            reader.name = "reader"
            reader.start()
            reader.join(WAIT)
            assert got.get(timeout=WAIT) == (frozenset({Path(path)}), thread)
    finally:
        delivery.stop(WAIT)
    assert [t for t in threading.enumerate() if t.name.startswith("hotmod-")] == []


def test_batches_never_overlap_between_the_reader_and_the_delivery_thread() -> None:
    inside, release = threading.Event(), threading.Event()
    active: list[Batch] = []
    overlaps: list[Batch] = []
    got: queue.Queue[tuple[Batch, str]] = queue.Queue()

    def on_batch(batch: Batch) -> None:
        if active:
            overlaps.append(batch)
        active.append(batch)
        if not inside.is_set():
            inside.set()
            release.wait(WAIT)
        active.remove(batch)
        got.put((batch, threading.current_thread().name))

    delivery = Delivery(on_batch, debounce=0.01)
    delivery.start()
    try:
        delivery.emit("/x/a.py", "changed")  # goes from the delivery thread, once quiet
        delivery.flush()
        assert inside.wait(WAIT)
        reader = threading.Thread(target=_emit_and_flush, args=(delivery, "/x/b.py", "done"))
        reader.start()
        reader.join(WAIT)
        assert not reader.is_alive()  # the reader does not wait for the batch in progress
        release.set()
        assert got.get(timeout=WAIT) == (frozenset({Path("/x/a.py")}), "hotmod-watcher")
        assert got.get(timeout=WAIT) == (frozenset({Path("/x/b.py")}), "hotmod-watcher")
    finally:
        delivery.stop(WAIT)
    assert overlaps == []


@needs_inotify
def test_an_in_place_save_is_delivered_by_the_inotify_reader(proj: Path) -> None:
    got: queue.Queue[str] = queue.Queue()
    monitor = make_monitor(
        [proj],
        on_batch=lambda batch: got.put(threading.current_thread().name),
        **backend_options("inotify"),
    )
    monitor.start()
    try:
        with open(proj / "mod.py", "w") as f:
            f.write("x = 1\n")
        assert got.get(timeout=WAIT) == "hotmod-inotify"
    finally:
        monitor.stop()


@needs_inotify
def test_watched_since_with_inotify(proj: Path, tmp_path: Path) -> None:
    # The reloader trusts a dependent's cached text only for files this says are seen.
    (proj / "mod.py").write_text("x = 1\n")
    other = tmp_path / "other"
    other.mkdir()
    monitor = make_monitor([proj], on_batch=Batches(), **backend_options("inotify"))
    assert monitor.watched_since(str(proj / "mod.py")) is None  # not started
    before = time.monotonic()
    monitor.start()
    try:
        since = monitor.watched_since(str(proj / "mod.py"))
        assert since is not None and before <= since <= time.monotonic()
        assert monitor.watched_since(str(proj / "notes.txt")) is None  # not taken
        assert monitor.watched_since(str(other / "mod.py")) is None  # not under the roots
        monitor.add_path(other)
        later = monitor.watched_since(str(other / "mod.py"))
        assert later is not None and later >= since  # only changes from now on are sure
    finally:
        monitor.stop()
    assert monitor.watched_since(str(proj / "mod.py")) is None


@pytest.mark.parametrize(
    ("name", "sees_every_change"), [("inotify", True), ("observer", False), ("polling", False)]
)
def test_watched_since_is_known_only_where_every_change_raises_an_event(
    proj: Path, name: str, sees_every_change: bool
) -> None:
    # Polling sees a change only at its next look, and watchdog's Observer queues events
    # on threads of its own: neither may vouch that a file with no event is unchanged.
    monitor = make_monitor([proj], on_batch=Batches(), **backend_options(name))
    monitor.start()
    try:
        assert (monitor.watched_since(str(proj / "mod.py")) is not None) is sees_every_change
    finally:
        monitor.stop()


@needs_inotify
def test_watched_since_is_unknown_once_a_folder_could_not_be_watched(
    proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctypes

    import watchdog.observers.inotify_c as inotify_c

    (proj / "locked").mkdir()
    real_add = inotify_c.inotify_add_watch

    def add_watch(fd: int, path: bytes, mask: int) -> int:
        if path.endswith(b"locked"):  # as the kernel answers for a folder we may not read
            ctypes.set_errno(errno.EACCES)
            return -1
        return int(real_add(fd, path, mask))

    monkeypatch.setattr(inotify_c, "inotify_add_watch", add_watch)
    monitor = make_monitor([proj], on_batch=Batches(), **backend_options("inotify"))
    monitor.start()
    try:
        assert monitor.watched_since(str(proj / "mod.py")) is None
    finally:
        monitor.stop()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"debounce": -1}, "debounce must be >= 0"),
        ({"debounce": float("nan")}, "debounce must be a finite number"),
        ({"debounce": "0.1"}, "debounce must be a number of seconds"),
        ({"poll_interval": 0}, "poll_interval must be > 0"),
        ({"backend": "inotify"}, "unknown backend 'inotify'"),
        ({"include": "*.py"}, "include must be a sequence of patterns, not a single string"),
        ({"exclude": ["*.swp", ""]}, "exclude patterns must be non-empty strings"),
        ({"on_batch": None}, "on_batch must be callable"),
    ],
)
def test_bad_options_raise_value_error(proj: Path, options: dict[str, Any], message: str) -> None:
    kwargs: dict[str, Any] = {"on_batch": Batches(), **options}
    with pytest.raises(ValueError, match=message):
        make_monitor([proj], **kwargs)


def test_bad_roots_raise_value_error(tmp_path: Path, proj: Path) -> None:
    with pytest.raises(ValueError, match="no such file or folder"):
        make_monitor([tmp_path / "missing"], on_batch=Batches())
    with pytest.raises(ValueError, match="not a single path"):
        make_monitor(proj, on_batch=Batches())  # type: ignore[arg-type]
    monitor = make_monitor([proj], on_batch=Batches())
    with pytest.raises(ValueError, match="no such file or folder"):
        monitor.add_path(tmp_path / "missing")


# --------------------------------------------------------------------------- complete files


class Reader:
    """An ``on_batch`` that reads each reported file at once, as the reloader does."""

    def __init__(self, *watched: Path) -> None:
        self.watched = set(watched)
        self.reads: queue.Queue[tuple[Path, str]] = queue.Queue()
        self.batches = Batches()
        self.history: dict[Path, list[str]] = {path: [] for path in watched}
        self._changed = threading.Condition()

    def __call__(self, batch: Batch) -> None:
        for path in sorted(batch & self.watched):
            with contextlib.suppress(OSError):
                content = path.read_text()
                with self._changed:
                    self.history[path].append(content)
                    self._changed.notify_all()
                self.reads.put((path, content))
        self.batches(batch)

    def settles_on(self, path: Path, text: str) -> list[str]:
        """Every content read for ``path``, once the last one read is ``text`` (or fail)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.history[path][-1:] == [text], WAIT):
                pytest.fail(f"{path} did not settle on {text!r}: {self.history[path][-3:]}")
            return list(self.history[path])

    def until(self, path: Path, text: str) -> list[str]:
        """Contents read for ``path`` until ``text`` is read (fails after WAIT)."""
        seen: list[str] = []
        while True:
            try:
                got, content = self.reads.get(timeout=WAIT)
            except queue.Empty:
                pytest.fail(f"{text!r} never read from {path}; read so far: {seen}")
            if got == path:
                seen.append(content)
                if content == text:
                    return seen


def versions(i: int) -> str:
    """Source text of version ``i``: long enough that a half write is visible."""
    return f"VALUE = {i}\n" + "# padding\n" * 200


def watched_file(impl: str, proj: Path, start_monitor: Start) -> tuple[Path, Reader]:
    """``mod.py`` at version 0, watched by ``impl`` with a `Reader`."""
    target = proj / "mod.py"
    target.write_text(versions(0))
    reader = Reader(target)
    start_monitor([proj], on_batch=reader, **backend_options(impl))
    return target, reader


@pytest.mark.parametrize("impl", ["inotify", "observer", "polling"])
def test_two_in_place_saves_10ms_apart_are_never_read_half(
    impl: str, proj: Path, start_monitor: Start
) -> None:
    # Once, 2-6 of 57 reloads ran the second save's still-empty file: the batch of the
    # first save was read while the second save had truncated the file.
    target, reader = watched_file(impl, proj, start_monitor)
    seen: list[str] = []
    pause = threading.Event()
    for i in range(1, 31):
        with open(target, "w") as f:
            f.write(versions(2 * i - 1))
        pause.wait(0.01)  # part of the scenario: the second save 10 ms later
        with open(target, "w") as f:
            f.write(versions(2 * i))
        seen += reader.until(target, versions(2 * i))
    whole = {versions(i) for i in range(61)}
    assert [s for s in seen if s not in whole] == []


@pytest.mark.parametrize("impl", ["inotify", "observer", "polling"])
def test_a_file_truncated_then_written_by_a_second_open_is_never_read_empty(
    impl: str, proj: Path, start_monitor: Start
) -> None:
    # ": > mod.py; cat new >> mod.py": closed empty, reopened to write a moment later.
    # Its empty text ran half of the time, reported as a reload.
    target, reader = watched_file(impl, proj, start_monitor)
    seen: list[str] = []
    pause = threading.Event()
    for i in range(1, 11):
        open(target, "w").close()
        pause.wait(0.002)  # part of the scenario: the second open 2 ms later
        with open(target, "a") as f:
            f.write(versions(i))
        seen += reader.until(target, versions(i))
    assert "" not in seen
    target.write_text("")  # emptied on purpose: goes, after a short wait
    assert reader.until(target, "")[-1] == ""


def test_a_save_that_begins_while_a_batch_is_read_waits_for_it(
    proj: Path, start_monitor: Start
) -> None:
    # The batch's files are held still while on_batch runs: the next save's open()
    # (which truncates) waits until the batch has been read.
    if not sys.platform.startswith("linux"):
        pytest.skip("read leases are Linux only")
    target = proj / "mod.py"
    target.write_text(versions(0))
    inside, release = threading.Event(), threading.Event()
    reads: list[str] = []

    def on_batch(batch: Batch) -> None:
        if target in batch and not inside.is_set():
            inside.set()
            release.wait(WAIT)  # meanwhile the next save starts
            reads.append(target.read_text())

    start_monitor([proj], on_batch=on_batch, **backend_options("inotify"))
    target.write_text(versions(1))
    assert inside.wait(WAIT)
    saved = threading.Event()

    def save() -> None:
        target.write_text(versions(2))
        saved.set()

    writer = threading.Thread(target=save)
    writer.start()
    blocked = not saved.wait(0.2)  # the writer's open() waits on the lease ...
    release.set()  # ... until the batch is read
    writer.join(WAIT)
    assert saved.is_set()
    assert reads == [versions(1)]
    if hasattr(os, "geteuid") and os.geteuid() != 0 and target.stat().st_uid != os.geteuid():
        return  # leases need the file's owner
    assert blocked


@pytest.mark.parametrize("impl", ["inotify", "observer"])
def test_a_slow_writer_is_never_read_half(impl: str, proj: Path, start_monitor: Start) -> None:
    slow, marker = proj / "slow.py", proj / "marker.py"
    slow.write_text("OLD = 1\n")
    reader = Reader(slow)
    start_monitor([proj], on_batch=reader, **backend_options(impl))
    with open(slow, "w") as f:
        f.write("FIRST = 1\n")
        f.flush()
        for i in range(3):  # other files come and go while slow.py is half written
            marker.write_text(f"x = {i}\n")
            reader.batches.wait_for(marker)
        f.write("SECOND = 2\n")
    assert reader.until(slow, "FIRST = 1\nSECOND = 2\n") == ["FIRST = 1\nSECOND = 2\n"]


@contextlib.contextmanager
def no_leases() -> Iterator[set[str]]:
    yield set()


@pytest.mark.parametrize("leases", [True, False])
def test_polling_never_reads_a_slow_writers_half_file(
    leases: bool, proj: Path, start_monitor: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotmod._monitor._polling import PollingBackend

    if not leases:  # as on other systems: only the rule "unchanged over a whole interval"
        monkeypatch.setattr("hotmod._monitor._polling.open_for_writing", lambda path: None)
        monkeypatch.setattr("hotmod._monitor._batch.hold_still", lambda paths: no_leases())
    slow = proj / "slow.py"
    slow.write_text("OLD = 1\n")
    lines = [f"LINE_{i} = {i}\n" for i in range(6)]
    writer = open(slow, "w")  # noqa: SIM115
    todo = list(lines)
    original = PollingBackend.poll

    def poll(self: PollingBackend) -> None:
        # The slow writer adds a chunk between every two walks: never still for a whole
        # interval until it is done.
        if todo:
            writer.write(todo.pop(0))
            writer.flush()
            if not todo:
                writer.close()
        original(self)

    monkeypatch.setattr(PollingBackend, "poll", poll)
    reader = Reader(slow)
    try:
        start_monitor([proj], on_batch=reader, **backend_options("polling"))
        assert reader.until(slow, "".join(lines)) == ["".join(lines)]
    finally:
        writer.close()


def test_polling_sees_a_same_size_save_within_one_clock_tick(
    proj: Path, start_monitor: Start
) -> None:
    # File times come from the kernel's coarse clock: a second save of the same size
    # within one tick leaves mtime, size and inode as they were.
    target = proj / "mod.py"
    target.write_text("VALUE = 0\n")
    reader = Reader(target)
    monitor, _ = start_monitor([proj], on_batch=reader, backend="polling", poll_interval=3600)
    target.write_text("VALUE = 1\n")
    monitor._backend.poll()  # the walks the poller thread would make, here at once
    assert reader.until(target, "VALUE = 1\n") == ["VALUE = 1\n"]
    before = target.stat()
    target.write_text("VALUE = 2\n")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # within the same tick
    monitor._backend.poll()
    assert reader.until(target, "VALUE = 2\n") == ["VALUE = 2\n"]


@pytest.mark.parametrize("impl", ["inotify", "observer", "polling"])
def test_churn_of_one_file_starves_no_other(impl: str, proj: Path, start_monitor: Start) -> None:
    churn, other = proj / "churn.py", proj / "other.py"
    churn.write_text(versions(0))
    reader = Reader(churn, other)
    start_monitor([proj], on_batch=reader, **backend_options(impl))
    stop, churning = threading.Event(), threading.Event()
    last: list[int] = []

    def rewrite() -> None:
        i = 0
        while not stop.wait(0.001):  # rewritten in place every millisecond
            i += 1
            with open(churn, "w") as f:
                f.write(versions(i))
            last[:] = [i]
            if i == 20:
                churning.set()

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        assert churning.wait(WAIT)
        other.write_text("X = 1\n")
        assert reader.until(other, "X = 1\n")
        assert writer.is_alive() and not stop.is_set()  # applied while the churn goes on
    finally:
        stop.set()
        writer.join(WAIT)
    # Its final content always goes (maybe in the batch that took other.py).
    seen = reader.settles_on(churn, versions(last[0]))
    whole = {versions(i) for i in range(last[0] + 1)}
    assert [s for s in seen if s not in whole] == []


def test_backends_are_imported_only_when_chosen(proj: Path, project: Project) -> None:
    project.scenario("monitor_backend_imports")
    out = project.run_driver(args=[str(proj)]).splitlines()
    common = [
        "hotmod._monitor._batch",
        "hotmod._monitor._filter",
        "hotmod._monitor._hurry",
        "hotmod._monitor._lease",
    ]
    assert out == [repr(common), repr([*common, "hotmod._monitor._polling"])]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux only")
@pytest.mark.parametrize("monitor_running", [True, False])
def test_a_save_waits_on_a_held_file_at_most_a_while(
    monitor_running: bool, proj: Path, start_monitor: Start
) -> None:
    # A reload that runs long (a slow module body) must not hang the editor's save.
    from hotmod._monitor._lease import hold_still

    target = proj / "mod.py"
    target.write_text("x = 1\n")
    if monitor_running:
        start_monitor([proj], backend="polling")
    saved = threading.Event()
    with hold_still([str(target)], at_most=0.05) as busy:
        assert busy == set()
        writer = threading.Thread(target=lambda: (target.write_text("x = 2\n"), saved.set()))
        writer.start()
        assert saved.wait(WAIT)  # released by the time limit, inside the with body
    writer.join(WAIT)
    if not monitor_running:  # the fallback timer is gone with the hold
        assert [t for t in threading.enumerate() if t.name == "hotmod-lease"] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux only")
def test_the_lease_keeper_is_not_woken_by_every_save(
    proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Waking it cost a thread switch in the middle of each reload: after a first hold it
    # looks on its own often enough to end the next holds in time.
    from hotmod._monitor._lease import hold_still, keeper

    target = proj / "mod.py"
    target.write_text("x = 1\n")
    keeper.start()
    try:
        with hold_still([str(target)]):
            pass
        deadline = time.monotonic() + WAIT
        while keeper._wake_at is None and time.monotonic() < deadline:
            time.sleep(0.001)
        woken: list[int] = []
        monkeypatch.setattr(keeper._cond, "notify", lambda n=1: woken.append(n))
        for _ in range(3):
            with hold_still([str(target)]):
                pass
        assert woken == []
    finally:
        keeper.stop()


@pytest.fixture
def leases_taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files leases are taken on from now on."""
    from hotmod._monitor import _lease

    taken: list[str] = []
    real = _lease._lease

    def counting(path: str) -> int | None:
        taken.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(_lease, "_lease", counting)
    return taken


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux only")
def test_a_thread_holding_a_file_takes_no_second_lease_on_it(
    proj: Path, leases_taken: list[str]
) -> None:
    # The watcher applies a batch the monitor holds already: one lease per file.
    from hotmod._monitor import _lease

    a, b = proj / "a.py", proj / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 1\n")
    with _lease.hold_still([str(a)]), _lease.hold_still([str(a), str(b)]) as busy:
        assert busy == set()
    with _lease.hold_still([str(a)]):  # released: leased again
        pass
    assert leases_taken == ["a.py", "b.py", "a.py"]


def test_the_gil_is_shared_finely_only_while_a_save_is_in_flight() -> None:
    # Beside a thread running pure Python, each GIL wait of the reload's thread would
    # otherwise cost up to the program's switch interval (5 ms by default).
    program = sys.getswitchinterval()
    seen: queue.Queue[float] = queue.Queue()
    delivery = Delivery(lambda batch: seen.put(sys.getswitchinterval()), debounce=0.01)
    delivery.start()
    try:
        delivery.emit("/x/m.py", "write")  # the save began: in flight from here
        assert sys.getswitchinterval() == pytest.approx(hurry.INTERVAL)
        _emit_and_flush(delivery, "/x/m.py", "done")
        assert seen.get(timeout=WAIT) == pytest.approx(hurry.INTERVAL)
        assert sys.getswitchinterval() == program  # put back once delivered

        delivery.emit("/x/m.py", "write")
        sys.setswitchinterval(0.02)  # the program sets its own value meanwhile
        _emit_and_flush(delivery, "/x/m.py", "done")
        assert seen.get(timeout=WAIT) == pytest.approx(0.02)
        assert sys.getswitchinterval() == pytest.approx(0.02)  # kept, not overwritten

        sys.setswitchinterval(0.0001)  # finer than ours: left alone
        _emit_and_flush(delivery, "/x/m.py", "done")
        assert seen.get(timeout=WAIT) == pytest.approx(0.0001)
        assert sys.getswitchinterval() == pytest.approx(0.0001)
    finally:
        delivery.stop(WAIT)
        sys.setswitchinterval(program)


# --------------------------------------------------------------------------- reading held files

needs_leases = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="read leases are Linux only"
)


@needs_leases
def test_a_held_file_is_read_as_held_though_its_path_is_saved_over(proj: Path) -> None:
    # vim's save: the file renamed to a backup, a new one written at the path. Within
    # the hold the reloader reads the file it held, never the new one half-written.
    from hotmod._monitor._lease import hold_still, read_held

    target = proj / "mod.py"
    target.write_text("VALUE = 1\nCOMPLETE = True\n")
    with hold_still([str(target)]) as busy:
        assert busy == set()
        os.rename(target, proj / "mod.py~")
        with open(target, "w") as half:
            half.write("VALUE = 2\n")
            half.flush()
            assert read_held(str(target)) == b"VALUE = 1\nCOMPLETE = True\n"
    assert read_held(str(target)) == b"VALUE = 2\n"  # outside the hold: the path as it is


class _SlowSave:
    """An editor's in-place save, begun in a thread: open (truncating) and write half,
    then the rest once told to."""

    def __init__(self, target: Path, text: str) -> None:
        self.opened, self.finish = threading.Event(), threading.Event()
        self._target, self._text = target, text
        self._thread = threading.Thread(target=self._save)
        self._thread.start()

    def _save(self) -> None:
        half = len(self._text) // 2
        with open(self._target, "w") as f:  # (waits in open() while the file is held)
            f.write(self._text[:half])
            f.flush()
            self.opened.set()
            self.finish.wait(WAIT)
            f.write(self._text[half:])

    def close(self) -> None:
        self.finish.set()
        self._thread.join(WAIT)


@needs_leases
def test_a_held_file_is_not_read_while_written_once_its_hold_ran_out(proj: Path) -> None:
    # A long reload (failed, then retried) reads again after its hold ran out, and the
    # editor's next save, which waited on the hold, is half-written by then.
    from hotmod._monitor._lease import hold_still, read_held, read_still

    target = proj / "mod.py"
    target.write_text("VALUE = 1\nCOMPLETE = True\n")
    with hold_still([str(target)], at_most=0.05):
        assert read_held(str(target)) == b"VALUE = 1\nCOMPLETE = True\n"
        save = _SlowSave(target, "VALUE = 2\nCOMPLETE = True\n")
        assert save.opened.wait(WAIT)
        with pytest.raises(BlockingIOError):
            read_held(str(target))
        assert read_still(str(target)) is None
        save.close()
        assert read_held(str(target)) == b"VALUE = 2\nCOMPLETE = True\n"  # closed: whole


@needs_leases
def test_a_reload_leaves_out_a_target_written_again_since_its_hold_ran_out(
    proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its module stays as it is; the writer's close brings the file in a batch of its own.
    from hotmod._monitor._lease import hold_still
    from hotmod._runtime import get_reloader

    name = f"held_{os.getpid()}_{time.monotonic_ns()}"
    target = proj / f"{name}.py"
    target.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(proj))
    module = importlib.import_module(name)
    try:
        reloader = get_reloader()
        reloader.sync()
        with hold_still([str(target)], at_most=0.05):
            save = _SlowSave(target, "VALUE = 2\nMORE = 3\n")
            assert save.opened.wait(WAIT)
            try:
                assert reloader.reload_changed([str(target)]) is None
            finally:
                save.close()
        assert module.VALUE == 1
        report = reloader.reload_changed([str(target)])
        assert report is not None and report.ok
        assert (module.VALUE, module.MORE) == (2, 3)
    finally:
        del sys.modules[name]


@needs_leases
def test_a_path_missing_when_held_is_not_read_within_the_hold(proj: Path) -> None:
    # Deleted, then written again: the new file appeared after the hold looked, so its
    # write may not be finished; its own events bring it.
    from hotmod._monitor._lease import hold_still, read_held, read_still

    target = proj / "mod.py"
    with hold_still([str(target)]) as busy:
        assert busy == set()
        target.write_text("VALUE = 2\n")
        for read in (read_held, read_still):
            with pytest.raises(FileNotFoundError):
                read(str(target))
    assert read_held(str(target)) == b"VALUE = 2\n"


@needs_leases
def test_a_file_not_held_is_read_under_a_lease_of_its_own(
    proj: Path, leases_taken: list[str]
) -> None:
    from hotmod._monitor import _lease

    target = proj / "mod.py"
    target.write_text("VALUE = 1\n")
    assert _lease.read_still(str(target)) == b"VALUE = 1\n"
    assert leases_taken == ["mod.py"]
    with open(target, "a") as writer:  # a save going on: not read
        writer.write("MORE = 2\n")
        assert _lease.read_still(str(target)) is None
    assert _lease.read_still(str(target)) == b"VALUE = 1\nMORE = 2\n"


@pytest.mark.parametrize("impl", ["inotify", "polling"])
def test_a_file_made_readable_again_is_reported(
    impl: str, proj: Path, start_monitor: Start
) -> None:
    # A save its reload could not read (no read permission) is tried again once the
    # file's mode changes, with no new write.
    target = proj / "mod.py"
    target.write_text("VALUE = 1\n")
    target.chmod(0o200)
    _, batches = start_monitor([proj], **backend_options(impl))
    target.chmod(0o644)
    assert real(target) in set().union(*batches.wait_for(target))
