"""``hotmod test`` end to end: a real project under tmp_path, saved edits, printed reports.

Each report of the warm loop is compared with a cold ``pytest`` run of the same
selection in a fresh interpreter.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SRC
from hotmod._testloop import _hook_change, _Loop, main

PROJECT = Path(__file__).resolve().parent / "projects" / "testloop"
WATCHING = "hotmod test: watching for changes"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pytest caches rewritten test modules
    env.update(PYTHONPATH=SRC, PYTHONUNBUFFERED="1")
    return env


class Loop:
    """``python -m hotmod test ARGS`` in a project; its output read line by line."""

    def __init__(self, root: Path, *args: str) -> None:
        self.root = root
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hotmod", "test", "-p", "no:cacheprovider", *args],
            cwd=root,
            env=_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def report(self, timeout: float = 60) -> str:
        """The output up to the next "watching" line (one report), waiting at most timeout."""
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no report within {timeout} s:\n{self.text()}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"hotmod test ended ({self.proc.wait()}):\n{self.text()}")
            self.output.append(line)
            if line.startswith(WATCHING):
                return "".join(lines)
            lines.append(line)

    def enter(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def text(self) -> str:
        return "".join(self.output)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of tests/projects/testloop: a package, three test modules, a conftest."""
    root = tmp_path / "shop"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture
def start(shop: Path) -> Iterator[object]:
    loops: list[Loop] = []

    def start(*args: str) -> Loop:
        loop = Loop(shop, *args)
        loops.append(loop)
        return loop

    yield start
    for loop in loops:
        loop.stop()


def edit(path: Path, old: str, new: str, *, atomic: bool = False, same_mtime: bool = False) -> None:
    """Save ``path`` with ``old`` replaced, as an editor would (in place or atomically).

    ``same_mtime``: keep the file's mtime, as an edit within the same second does.
    """
    text = path.read_text()
    assert old in text, (old, text)
    before = path.stat()
    data = text.replace(old, new, 1)
    if atomic:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(data)
        os.replace(tmp, path)
    else:
        path.write_text(data)
    if same_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def cold(root: Path, *args: str) -> str:
    """A cold ``pytest`` run in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.stdout


def essence(report: str) -> str:
    """A pytest report from its "collected" line on, without timings and progress."""
    lines = [line for line in report.splitlines() if not line.startswith("hotmod test:")]
    starts = [i for i, line in enumerate(lines) if re.search(r"\bcollected \d+ item", line)]
    kept = []
    for line in lines[starts[0] if starts else 0 :]:
        line = re.sub(r"0x[0-9a-f]+", "0x?", line)
        line = re.sub(r"^collecting \.\.\. ", "", line)
        line = re.sub(r"\s*\[\s*\d+%\]$", "", line)
        line = re.sub(r" in \d+\.\d+s( \(.*\))?", "", line)
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def ran(report: str) -> list[str]:
    """Node ids of the tests a ``-v`` report ran."""
    return re.findall(r"^(tests/\S+::\S+) (?:PASSED|FAILED|ERROR)", report, re.M)


CART = ["tests/test_cart.py::test_empty", "tests/test_cart.py::test_apple"]


def test_edit_reruns_only_the_importers_and_matches_a_cold_run(start, shop: Path) -> None:
    loop = start("-v")
    first = loop.report()
    assert "7 passed" in first, first
    assert essence(first) == essence(cold(shop, "-v"))

    # prices is imported by test_prices directly and by test_cart through shop.cart
    # (and by conftest.py): both files re-run, test_inventory does not.
    edit(shop / "shop" / "prices.py", "TAX = 0.5", "TAX = 1.0")
    report = loop.report()
    assert "changed: shop.prices" in report, report
    assert set(ran(report)) == {
        *CART,
        "tests/test_cart.py::test_fresh_cart",
        "tests/test_prices.py::test_pear",
        "tests/test_prices.py::test_session_fixture",
    }
    assert "2 failed, 3 passed" in report
    assert essence(report) == essence(
        cold(shop, "-v", "tests/test_cart.py", "tests/test_prices.py")
    )

    # A module imported by test_inventory only.
    edit(shop / "shop" / "inventory.py", '{"apple": 3}', '{"apple": 0}', atomic=True)
    report = loop.report()
    assert ran(report) == [
        "tests/test_inventory.py::test_apple_in_stock",
        "tests/test_inventory.py::test_pear_not_in_stock",
    ]
    assert essence(report) == essence(cold(shop, "-v", "tests/test_inventory.py"))

    # A module no test imports: nothing runs.
    edit(shop / "shop" / "unused.py", "VALUE = 1", "VALUE = 2")
    report = loop.report()
    assert "no test imports the changed modules; nothing re-run" in report
    assert "test session starts" not in report


def test_break_and_fix_a_test_with_assertion_rewriting(start, shop: Path) -> None:
    loop = start()
    loop.report()
    test_file = shop / "tests" / "test_cart.py"
    # Same size, same mtime: pytest's cached rewritten pyc would look valid.
    edit(test_file, "cart.total() == 3", "cart.total() == 4", same_mtime=True)
    report = loop.report()
    assert "changed: test_cart" in report
    assert "E       assert 3.0 == 4" in report, report
    assert "where 3.0 = " in report
    assert essence(report) == essence(cold(shop, "tests/test_cart.py"))

    edit(test_file, "cart.total() == 4", "cart.total() == 3", same_mtime=True)
    report = loop.report()
    assert "3 passed" in report and "failed" not in report, report
    assert essence(report) == essence(cold(shop, "tests/test_cart.py"))


def test_added_renamed_and_removed_tests_are_collected_as_pytest_would(start, shop: Path) -> None:
    loop = start("-v")
    loop.report()
    test_file = shop / "tests" / "test_inventory.py"
    edit(
        test_file,
        "def test_pear_not_in_stock",
        "def test_plum_not_in_stock() -> None:\n    assert not in_stock('plum')\n\n\n"
        "def test_pear_missing",
    )
    report = loop.report()
    assert ran(report) == [
        "tests/test_inventory.py::test_apple_in_stock",
        "tests/test_inventory.py::test_plum_not_in_stock",
        "tests/test_inventory.py::test_pear_missing",
    ]
    assert essence(report) == essence(cold(shop, "-v", "tests/test_inventory.py"))

    edit(test_file, 'def test_apple_in_stock() -> None:\n    assert in_stock("apple")\n', "")
    report = loop.report()
    assert ran(report) == [
        "tests/test_inventory.py::test_plum_not_in_stock",
        "tests/test_inventory.py::test_pear_missing",
    ]
    assert essence(report) == essence(cold(shop, "-v", "tests/test_inventory.py"))

    # A new test file in the selected folder is collected too.
    (shop / "tests" / "test_new.py").write_text(
        "from shop.inventory import STOCK\n\n\ndef test_stock() -> None:\n    assert STOCK\n"
    )
    report = loop.report()
    assert ran(report) == ["tests/test_new.py::test_stock"]

    # ... and in a new folder under it; not in a folder pytest ignores (collect_ignore).
    (shop / "tests" / "deep").mkdir()
    (shop / "tests" / "deep" / "test_deep.py").write_text("def test_deep() -> None:\n    pass\n")
    report = loop.report()
    assert ran(report) == ["tests/deep/test_deep.py::test_deep"]
    (shop / "tests" / "data").mkdir()
    (shop / "tests" / "data" / "test_sample.py").write_text("def test_sample():\n    1 / 0\n")
    report = loop.report()
    assert "nothing re-run" in report and "test session starts" not in report, report
    assert essence(cold(shop, "-v")).count("PASSED") == 9  # cold pytest ignores it too


def test_collection_errors_and_renamed_test_files(start, shop: Path) -> None:
    loop = start("-v")
    loop.report()
    test_file = shop / "tests" / "test_inventory.py"
    edit(test_file, "from shop.inventory", "import nosuchmodule\nfrom shop.inventory")
    report = loop.report()
    assert "ERROR collecting tests/test_inventory.py" in report, report
    assert essence(report) == essence(cold(shop, "-v", "tests/test_inventory.py"))
    # The loop goes on: an edit of what the broken module imports shows the error again.
    edit(shop / "shop" / "inventory.py", '{"apple": 3}', '{"apple": 4}')
    report = loop.report()
    assert "No module named 'nosuchmodule'" in report, report
    edit(test_file, "import nosuchmodule\n", "")
    report = loop.report()
    assert "2 passed" in report, report

    # A test file renamed (an atomic move): its tests run under the new name.
    os.replace(test_file, shop / "tests" / "test_stock.py")
    report = loop.report()
    assert ran(report) == [
        "tests/test_stock.py::test_apple_in_stock",
        "tests/test_stock.py::test_pear_not_in_stock",
    ], report
    # Removed: nothing left to run (a cold run of the remaining suite is unchanged).
    (shop / "tests" / "test_stock.py").unlink()
    report = loop.report()
    assert "removed tests/test_stock.py; no test left to re-run" in report, report


def test_doctests_of_reloaded_modules(start, shop: Path) -> None:
    args = ("-v", "--doctest-modules", "shop/prices.py", "tests")
    loop = start(*args)
    assert "shop/prices.py::shop.prices.price PASSED" in loop.report()
    edit(shop / "shop" / "prices.py", "TAX = 0.5", "TAX = 1.0")
    report = loop.report()
    # shop.prices is reloaded in place, not left for pytest to import again: shop.cart
    # (no doctests collected), which took price with a from-import, runs the new code.
    assert "shop/prices.py::shop.prices.price FAILED" in report, report
    assert "tests/test_cart.py::test_apple FAILED" in report
    affected = ("shop/prices.py", "tests/test_cart.py", "tests/test_prices.py")
    assert essence(report) == essence(cold(shop, "-v", "--doctest-modules", *affected))


def test_syntax_error_shows_the_error_and_runs_nothing_until_fixed(start, shop: Path) -> None:
    loop = start("-v")
    loop.report()
    prices = shop / "shop" / "prices.py"
    edit(prices, "def price(item: str) -> float:", "def price(item: str) -> float")
    report = loop.report()
    assert "test session starts" not in report, report
    assert f'File "{prices.resolve()}", line 8' in report
    assert "^" in report and "SyntaxError" in report
    assert "nothing re-run" in report

    # A broken test module: the same.
    test_file = shop / "tests" / "test_inventory.py"
    edit(test_file, "def test_apple_in_stock()", "def test_apple_in_stock(")
    report = loop.report()
    assert "test session starts" not in report and "SyntaxError" in report, report

    # Fixing the test module re-runs both the tests of the broken source's importers
    # (kept from the failed save) ... once the source is fixed too.
    edit(test_file, "def test_apple_in_stock(", "def test_apple_in_stock()")
    report = loop.report()
    assert "SyntaxError" in report and "test session starts" not in report, report
    edit(prices, "def price(item: str) -> float", "def price(item: str) -> float:")
    report = loop.report()
    assert {f.split("::")[0] for f in ran(report)} == {
        "tests/test_cart.py",
        "tests/test_prices.py",
        "tests/test_inventory.py",
    }, report
    assert "7 passed" in report


def test_all_reruns_everything(start, shop: Path) -> None:
    loop = start("--all", "-q")
    loop.report()
    edit(shop / "shop" / "inventory.py", '{"apple": 3}', '{"apple": 0}')
    report = loop.report()
    assert "1 failed, 6 passed" in report, report
    assert essence(report) == essence(cold(shop, "-q"))


def test_enter_reruns_the_last_selection(start, shop: Path) -> None:
    loop = start("-v")
    loop.report()
    edit(shop / "shop" / "inventory.py", '{"apple": 3}', '{"apple": 5}')
    first = loop.report()
    loop.enter()
    again = loop.report()
    assert (
        ran(again)
        == ran(first)
        == [
            "tests/test_inventory.py::test_apple_in_stock",
            "tests/test_inventory.py::test_pear_not_in_stock",
        ]
    )


def test_pytest_options_are_honoured(start, shop: Path) -> None:
    loop = start("-v", "-k", "apple or pear", "-x")
    first = loop.report()
    assert essence(first) == essence(cold(shop, "-v", "-k", "apple or pear", "-x"))
    edit(shop / "shop" / "prices.py", "TAX = 0.5", "TAX = 2.0")
    report = loop.report()
    # -x stops at the first failure; -k keeps deselecting.
    assert ran(report) == ["tests/test_cart.py::test_apple"], report
    assert essence(report) == essence(
        cold(shop, "-v", "-k", "apple or pear", "-x", "tests/test_cart.py", "tests/test_prices.py")
    )


def test_fixtures_are_recreated_and_conftest_edits_apply(start, shop: Path) -> None:
    loop = start("-v")
    loop.report()
    conftest = shop / "tests" / "conftest.py"
    edit(conftest, 'yield ["token"]', 'yield ["changed"]')
    report = loop.report()
    # Every test under the conftest's folder re-runs with the new fixture.
    assert len(ran(report)) == 7
    assert "1 failed, 6 passed" in report, report
    assert "test_session_fixture" in report.split("FAILURES")[1]
    # test_fresh_cart mutates its function-scoped cart: a new one each time.
    loop.enter()
    assert "1 failed, 6 passed" in loop.report()


def test_session_fixtures_are_kept_until_their_module_changes(start, shop: Path) -> None:
    log = shop / "session.log"
    loop = start("-v")
    loop.report()
    assert log.read_text() == "setup\n"
    edit(shop / "tests" / "test_prices.py", "== 6", "== 6.0")
    report = loop.report()
    assert "tests/test_prices.py::test_session_fixture PASSED" in report, report
    assert log.read_text() == "setup\n"  # kept: not set up again, not torn down
    edit(shop / "tests" / "conftest.py", 'yield ["token"]', 'yield ["token", "new"]')
    report = loop.report()
    # Its module changed: torn down, then created from the new code.
    assert log.read_text() == "setup\nteardown\nsetup\n"
    assert "test_session_fixture FAILED" in report, report
    # Ctrl-C ends the loop: kept fixtures are torn down.
    loop.proc.send_signal(signal.SIGINT)
    assert loop.proc.wait(timeout=30) == 130
    assert log.read_text() == "setup\nteardown\nsetup\nteardown\n"


def test_conftest_with_a_new_hook_restarts(start, shop: Path) -> None:
    loop = start()
    loop.report()
    conftest = shop / "tests" / "conftest.py"
    edit(
        conftest,
        "@pytest.fixture\n",
        "def pytest_report_header() -> str:\n    return 'shop header'\n\n\n@pytest.fixture\n",
    )
    report = loop.report()
    assert "tests/conftest.py adds hook pytest_report_header: restarting" in report, report
    # The restarted process runs everything once, with the hook registered.
    assert "shop header" in report and "7 passed" in report
    # An edit inside an existing hook applies in place.
    edit(conftest, "'shop header'", "'new header'")
    report = loop.report()
    assert "restarting" not in report and "new header" in report, report


def test_pytest_configuration_change_restarts(start, shop: Path) -> None:
    loop = start()
    assert "7 passed" in loop.report()
    edit(shop / "pyproject.toml", 'testpaths = ["tests"]', 'testpaths = ["tests"]\naddopts = "-v"')
    report = loop.report()
    assert "pytest's configuration pyproject.toml changed: restarting" in report, report
    assert "tests/test_cart.py::test_empty PASSED" in report  # the new addopts apply


def test_module_marked_not_reloadable_restarts(start, shop: Path) -> None:
    (shop / "shop" / "inventory.py").write_text(
        (shop / "shop" / "inventory.py").read_text() + "\n__hotmod_reload__ = False\n"
    )
    loop = start()
    loop.report()
    edit(shop / "shop" / "inventory.py", '{"apple": 3}', '{"apple": 0}')
    report = loop.report()
    assert "shop.inventory is marked __hotmod_reload__ = False: restarting" in report, report
    assert "1 failed, 6 passed" in report


def test_a_pytest_usage_error_ends_the_command(shop: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hotmod", "test", "--no-such-option"],
        cwd=shop,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4, proc  # pytest's usage error, not a watching loop
    assert "unrecognized arguments: --no-such-option" in proc.stderr
    assert WATCHING not in proc.stdout


def test_hook_changes_are_told_apart_from_edits_inside_hooks(tmp_path: Path) -> None:
    conftest = tmp_path / "conftest.py"
    old = types.ModuleType("conftest")
    exec("def pytest_report_header():\n    return 'a'\n\npytest_plugins = ['p1']\n", vars(old))

    def change(source: str) -> str | None:
        conftest.write_text(source)
        return _hook_change(str(conftest), old)

    same = "def pytest_report_header():\n    return 'b'\n\npytest_plugins = ['p1']\n"
    assert change(same) is None
    assert change(same + "def pytest_configure(config):\n    pass\n") == (
        f"{os.path.relpath(conftest)} adds hook pytest_configure"
    )
    assert "removes hook pytest_report_header" in str(change("pytest_plugins = ['p1']\n"))
    assert "changes pytest_plugins" in str(change(same.replace("['p1']", "['p1', 'p2']")))
    assert change("def pytest_report_header(:\n") is None  # the reload reports it
    conftest.unlink()
    assert "removes hook pytest_report_header" in str(_hook_change(str(conftest), old))


def test_own_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--all=yes"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hotmod test: "), err


def test_help_describes_own_options_and_defers_to_pytest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--all" in out and "pytest --help" in out


class _Pending:
    """The part of a Watcher `_Loop.on_change` reads: the saved paths, and apply()."""

    def __init__(self, *paths: Path, arriving: tuple[Path, ...] = ()) -> None:
        self.pending = [str(p) for p in paths]
        self.arriving = [str(p) for p in arriving]  # saved while the round applies

    def _apply(self, only: list[str]) -> None:
        assert only == self.pending
        self.pending, self.arriving = self.arriving, []
        return None  # hotmod's record: nothing of its own changed (pytest owns the file)


def test_a_save_reported_twice_runs_its_tests_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new folder's files can be reported by the folder's scan and again by their own
    # events; pytest's own modules have no hotmod record of their source to tell.
    test_file = tmp_path / "test_twice.py"
    test_file.write_text("def test_once() -> None:\n    assert 1\n")
    path = os.path.realpath(test_file)
    module = types.ModuleType("test_twice")
    module.__file__ = path
    monkeypatch.setitem(sys.modules, "test_twice", module)
    loop = _Loop([str(tmp_path)], run_all=False)
    loop.args, loop.invocation_dir = [str(tmp_path)], str(tmp_path)
    loop.owned["test_twice"] = module
    loop.test_files.add(path)
    watcher = loop.watcher = _Pending()

    def saved() -> list[str] | str | None:
        watcher.pending = [str(test_file)]
        return loop.on_change()

    assert saved() == [path]
    assert saved() == "no change"  # the same save, reported again

    before = test_file.stat()
    test_file.write_text("def test_once() -> None:\n    assert 2\n")
    os.utime(test_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert saved() == [path]  # new bytes within the same mtime
    test_file.write_text("def test_once() -> None:\n    assert 2\n")
    assert saved() == "no change"  # the same text saved again, as for any module
    test_file.unlink()
    assert saved() == []  # removed: its tests are gone


def test_a_save_arriving_during_a_failed_round_is_acted_on(tmp_path: Path) -> None:
    broken = tmp_path / "test_broken.py"
    broken.write_text("def test_x(:\n")
    late = tmp_path / "test_late.py"
    late.write_text("def test_y() -> None:\n    pass\n")
    loop = _Loop([str(tmp_path)], run_all=False)
    loop.args, loop.invocation_dir = [str(tmp_path)], str(tmp_path)
    loop.watcher = _Pending(broken, arriving=(late,))
    assert loop.on_change() == "nothing re-run; fix the error and save to re-run"
    assert loop.watcher.pending == [str(late)]
    assert loop._fresh()  # not held back until test_late.py is saved once more
