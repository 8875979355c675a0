"""``hotmod test``: pytest in a warm process that re-runs the tests each save affects.

Each round is a fresh ``pytest.main`` (a new session: collection, fixtures and the report
are pytest's own), while the modules the tests import stay loaded. Between rounds, saved
modules of the program are reloaded in place by hotmod. Test modules, ``conftest.py``
files and the other modules only pytest imports (assertion rewriting) are never executed
by hotmod: they leave ``sys.modules`` before a round, so that pytest imports them again,
rewritten, exactly as a cold run would. The affected tests come from hotmod's import
graph (`hotmod.dependents`) and the fixtures each test file used.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import fnmatch
import functools
import gc
import importlib.util
import inspect
import logging
import os
import queue
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from ._missing import MISSING
from ._paths import file_digest, is_under
from ._typing import override

if TYPE_CHECKING:
    from ._report import ReloadReport

__all__ = ["main"]

DESCRIPTION = """\
Run pytest once, then stay up: on each save, reload the changed modules in place and
re-run only the tests whose modules import a changed module, directly or transitively.
Press Enter to re-run the last selection; Ctrl-C quits.

Every argument not listed below goes to pytest unchanged (-x, -k EXPR, -v, paths, node
ids, ...; see pytest --help).
"""

WATCHING = "watching for changes (Enter re-runs the last selection, Ctrl-C quits)"

# Seconds between looks at the watcher's queue while idle.
_IDLE_POLL = 0.005


def _say(message: str) -> None:
    print(f"hotmod test: {message}", flush=True)


class _Parser(argparse.ArgumentParser):
    @override
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")  # one line, as every hotmod command


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hotmod test",
        usage="hotmod test [--all] [pytest args ...]",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
        allow_abbrev=False,  # pytest's long options must never be taken for --all
    )
    parser.add_argument("-h", "--help", action="help", help="show this help and exit")
    parser.add_argument(
        "--all",
        action="store_true",
        help="re-run the whole selection on every save, not only the affected tests",
    )
    return parser


@functools.cache
def _real(path: str) -> str:
    return os.path.realpath(path)


def _modules_of(paths: list[str]) -> dict[str, list[str]]:
    """The names of the loaded modules of each of ``paths``."""
    by_file: dict[str, list[str]] = {}
    for name, module in list(sys.modules.items()):
        file = _file_of(module)
        if file is not None:
            by_file.setdefault(file, []).append(name)
    return {p: by_file.get(p, []) for p in paths}


def _say_changed(names: set[str], paths: set[str], report: ReloadReport | None) -> None:
    """One line: what changed, and how long its reload took."""
    what = sorted(names) + sorted(os.path.relpath(p) for p in paths)
    timing = ""
    if report is not None and report.reloaded:
        timing = f" (reloaded {len(report.reloaded)} in {report.duration * 1000:.1f} ms)"
    _say(f"changed: {', '.join(what)}{timing}")


def _file_of(module: object) -> str | None:
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) if spec is not None else None
    if not isinstance(origin, str) or not origin.endswith(".py"):
        origin = getattr(module, "__file__", None)
    if not isinstance(origin, str) or not origin.endswith(".py"):
        return None
    return _real(origin)


def _is_project_file(path: str) -> bool:
    from ._modmap import excluded_reason

    return excluded_reason(path) is None


def _hooks_of_source(source: bytes, path: str) -> tuple[set[str], object] | None:
    """The ``pytest_*`` functions and the ``pytest_plugins`` value a conftest defines."""
    try:
        tree = ast.parse(source, path)
    except (SyntaxError, ValueError):
        return None  # the reload reports it
    hooks: set[str] = set()
    plugins: object = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("pytest_"):
                hooks.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            named = any(isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in targets)
            if named and node.value is not None:
                try:
                    plugins = _plugin_list(ast.literal_eval(node.value))
                except ValueError:
                    plugins = ast.dump(node.value)
    return hooks, plugins


def _hooks_of_module(module: ModuleType) -> tuple[set[str], object]:
    hooks = {
        name
        for name, value in vars(module).items()
        if name.startswith("pytest_") and name != "pytest_plugins" and callable(value)
    }
    return hooks, _plugin_list(vars(module).get("pytest_plugins"))


def _plugin_list(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _hook_change(path: str, old: ModuleType | None) -> str | None:
    """Why a saved conftest cannot be applied in place, or None when it can."""
    try:
        with open(path, "rb") as f:
            new = _hooks_of_source(f.read(), path)
    except OSError:
        new = (set(), None)  # deleted: its hooks go away
    if new is None:
        return None
    before = _hooks_of_module(old) if old is not None else (set(), None)
    rel = os.path.relpath(path)
    added, removed = sorted(new[0] - before[0]), sorted(before[0] - new[0])
    if added:
        return f"{rel} adds hook {', '.join(added)}"
    if removed:
        return f"{rel} removes hook {', '.join(removed)}"
    if new[1] != before[1]:
        return f"{rel} changes pytest_plugins"
    return None


def _drop_cached_bytecode(path: str) -> None:
    """Delete the cached bytecode of a saved file: Python's and pytest's rewritten one.

    Both may be validated by mtime and size, which an edit of the same size within the
    same second leaves unchanged: the next import (pytest's, or a restarted process's)
    would run the previous code.
    """
    from _pytest.assertion.rewrite import PYC_TAIL, get_cache_dir

    file = Path(path)
    for cached in (
        importlib.util.cache_from_source(path),
        get_cache_dir(file) / (file.name[:-3] + PYC_TAIL),
    ):
        with contextlib.suppress(OSError, ValueError):
            os.unlink(cached)


class _Dist:
    """An installed distribution whose entry points and file list are read once."""

    def __init__(self, dist: Any) -> None:
        self._dist = dist

    @functools.cached_property
    def entry_points(self) -> Any:
        return self._dist.entry_points

    @functools.cached_property
    def files(self) -> Any:
        return self._dist.files

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dist, name)


class _Distributions:
    """``importlib.metadata.distributions()`` read once for every later run.

    Setting up a session, pytest reads the entry points and file lists of every
    installed distribution twice (plugins to load, plugins to rewrite): a third of a
    small re-run. Swapped in while a session is set up, out before any test runs.
    """

    def __init__(self) -> None:
        self._dists: list[_Dist] = []
        self._original: Any = None

    def install(self) -> None:
        import importlib.metadata as metadata

        original = self._original = metadata.distributions
        if not self._dists:
            self._dists = [_Dist(d) for d in original()]
        dists = self._dists

        def distributions(**kwargs: Any) -> Any:
            return iter(dists) if not kwargs else original(**kwargs)

        metadata.distributions = distributions

    def uninstall(self) -> None:
        import importlib.metadata as metadata

        if self._original is not None:
            metadata.distributions = self._original
            self._original = None


class _Kept:
    """One kept session fixture: its value, where it is defined, how to tear it down."""

    __slots__ = ("deps", "file", "teardown", "value")

    def __init__(self, value: object, file: str, teardown: Any, deps: set[tuple[str, str]]):
        self.value = value
        self.file = file
        self.teardown = teardown  # the generator of a yield fixture, or None
        self.deps = deps


class _KeptFixtures:
    """The project's session fixtures, created once and kept across rounds.

    Kept: session-scoped, not parametrized, defined at module level in a project file,
    and asking only for other kept fixtures (not ``request``, not a fixture of pytest
    or a plugin, whose values belong to one session). Dropped, and torn down, when
    their module or anything it imports is saved; torn down when the loop ends.
    """

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], _Kept] = {}
        self.current: dict[str, tuple[str, str]] = {}  # argname -> key, this round

    def setup(self, fixturedef: Any, request: Any) -> object:
        """The fixture's value if it is kept (created now if needed), else MISSING."""
        func = fixturedef.func
        code = getattr(func, "__code__", None)
        if (
            fixturedef.scope != "session"
            or fixturedef.params is not None
            or hasattr(request, "param")  # indirect parametrization
            or code is None
            or hasattr(func, "__self__")
            or request.instance is not None
            or inspect.iscoroutinefunction(func)
            or inspect.isasyncgenfunction(func)
            or request.config.getoption("setupplan", False)
        ):
            return MISSING
        file = _real(code.co_filename)
        if not _is_project_file(file):
            return MISSING
        kwargs = {name: request.getfixturevalue(name) for name in fixturedef.argnames}
        if any(name not in self.current for name in fixturedef.argnames):
            return MISSING
        key = (fixturedef.baseid, fixturedef.argname)
        cache_key = fixturedef.cache_key(request)
        entry = self.entries.get(key)
        if entry is None or entry.file != file:
            entry = self._create(func, kwargs, file, fixturedef, cache_key)
            entry.deps = {self.current[name] for name in fixturedef.argnames}
            self.entries[key] = entry
        self.current[fixturedef.argname] = key
        fixturedef.cached_result = (entry.value, cache_key, None)
        return entry.value

    def _create(
        self, func: Any, kwargs: dict[str, object], file: str, fixturedef: Any, cache_key: object
    ) -> _Kept:
        try:
            if inspect.isgeneratorfunction(func):
                generator = func(**kwargs)
                try:
                    value = next(generator)
                except StopIteration:
                    raise ValueError(f"{fixturedef.argname} did not yield a value") from None
                return _Kept(value, file, generator, set())
            return _Kept(func(**kwargs), file, None, set())
        except Exception as exc:
            fixturedef.cached_result = (None, cache_key, (exc, exc.__traceback__))
            raise

    def drop(self, files: set[str]) -> None:
        """Tear down the fixtures defined in these files and those built on them."""
        gone = {key for key, entry in self.entries.items() if entry.file in files}
        while True:
            more = {k for k, e in self.entries.items() if k not in gone and e.deps & gone}
            if not more:
                break
            gone |= more
        for key in reversed([k for k in self.entries if k in gone]):
            self._teardown(key, self.entries.pop(key))

    def close(self) -> None:
        """Tear down every kept fixture, newest first."""
        for key in reversed(list(self.entries)):
            self._teardown(key, self.entries.pop(key))

    def _teardown(self, key: tuple[str, str], entry: _Kept) -> None:
        if entry.teardown is None:
            return
        try:
            next(entry.teardown)
        except StopIteration:
            return
        except Exception as exc:
            _say(f"teardown of session fixture {key[1]!r} raised {exc!r}")
            return
        _say(f"session fixture {key[1]!r} yielded twice; its teardown stopped there")


class _Plugin:
    """The pytest plugin of one round: narrows collection to a selection, notes what ran."""

    def __init__(
        self, selection: list[str] | None, kept: _KeptFixtures, dists: _Distributions
    ) -> None:
        self.selection = selection
        self.kept = kept
        kept.current = {}
        self.dists = dists
        self.config: Any = None
        self.args: list[str] = []
        self.test_files: set[str] = set()
        self.doctest_files: set[str] = set()
        self.plugin_modules: dict[str, ModuleType] = {}
        self.fixture_modules: dict[str, set[str]] = {}
        self.sys_path: list[str] = []
        self.interrupted = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: Any) -> None:
        self.dists.uninstall()
        self.config = config
        self.args = list(config.args)
        if self.selection is not None:
            config.args = list(self.selection)
            if hasattr(config, "args_source"):  # as if given on the command line
                config.args_source = type(config).ArgsSource.ARGS

    def pytest_plugin_registered(self, plugin: object) -> None:
        if isinstance(plugin, ModuleType):
            path = _file_of(plugin)
            if path is not None and _is_project_file(path):
                self.plugin_modules[path] = plugin

    def pytest_collectstart(self, collector: Any) -> None:
        if type(collector).__name__ == "DoctestModule":
            # A module of the project collected for its doctests: reloaded in place by
            # hotmod like any other, its doctests re-run when it or an import changes.
            self.doctest_files.add(_real(str(collector.path)))
        elif isinstance(collector, pytest.Module):
            self.test_files.add(_real(str(collector.path)))

    def pytest_collection_finish(self, session: Any) -> None:
        self.sys_path = list(sys.path)
        for item in session.items:
            # The modules whose fixtures a test file uses count as imported by it.
            info = getattr(item, "_fixtureinfo", None)
            defs = getattr(info, "name2fixturedefs", {})
            used = self.fixture_modules.setdefault(os.path.realpath(item.path), set())
            used.update(
                module
                for chain in defs.values()
                for fixturedef in chain
                if isinstance(module := getattr(fixturedef.func, "__module__", None), str)
            )

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        # Ctrl-C; not pytest's own interruptions (collection errors, -x, pytest.exit),
        # which subclass KeyboardInterrupt too.
        self.interrupted = excinfo.type is KeyboardInterrupt

    @pytest.hookimpl(tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> object:
        value = self.kept.setup(fixturedef, request)
        return None if value is MISSING else value


class _Loop:
    """The rounds of one ``hotmod test`` process and the state kept between them."""

    def __init__(self, pytest_args: list[str], *, run_all: bool) -> None:
        self.pytest_args = pytest_args
        self.run_all = run_all
        self.invocation_dir = os.getcwd()
        self.args: list[str] = []  # positional args pytest resolved in the first round
        self.python_files: list[str] = ["test_*.py", "*_test.py"]
        self.inifile: tuple[str, bytes] | None = None
        self.test_files: set[str] = set()
        self.doctest_files: set[str] = set()
        self.plugin_modules: dict[str, ModuleType] = {}
        self.fixture_modules: dict[str, set[str]] = {}  # test file -> modules of its fixtures
        self.config: Any = None  # the last round's, to ask its ignore hooks
        self.owned: dict[str, ModuleType] = {}  # modules pytest imports itself
        self.in_place: set[str] = set()  # ... but that the program imports too
        self.checked: set[str] = set()
        self.sys_path: list[str] = list(sys.path)
        self.last_selection: list[str] | None = None
        self.carry_names: set[str] = set()  # changes of failed reloads, retried with the fix
        self.carry_paths: set[str] = set()
        self.stuck: dict[str, tuple[int, int]] | None = None
        self.last_seen: dict[str, bytes | None] = {}  # path -> file_digest, when last pending
        self.lines: queue.Queue[str] = queue.Queue()
        self.watcher: Any = None
        self.kept = _KeptFixtures()
        self.saved: list[str] = []  # the paths of the save being applied
        self.dists = _Distributions()

    # -- rounds ------------------------------------------------------------------------

    def round(self, selection: list[str] | None) -> tuple[int, _Plugin]:
        for name in self.owned:
            sys.modules.pop(name, None)
        plugin = _Plugin(selection, self.kept, self.dists)
        if self.config is not None:  # the first run reads them as pytest always does
            self.dists.install()
        try:
            code = int(pytest.main(list(self.pytest_args), plugins=[plugin]))
        finally:
            self.dists.uninstall()
            sys.stdout.flush()
            sys.stderr.flush()
        self._after_round(plugin)
        return code, plugin

    def _after_round(self, plugin: _Plugin) -> None:
        if plugin.config is None:
            return
        self.test_files |= plugin.test_files
        self.doctest_files |= plugin.doctest_files
        self.plugin_modules.update(plugin.plugin_modules)
        self.fixture_modules.update(plugin.fixture_modules)
        self.config = plugin.config
        if plugin.sys_path:
            self.sys_path = plugin.sys_path
        files = self.test_files | set(self.plugin_modules)
        found: dict[str, ModuleType] = {}
        for name, module in list(sys.modules.items()):
            path = _file_of(module) if isinstance(module, ModuleType) else None
            if path is None or name in self.in_place:
                continue
            loader = type(getattr(module, "__loader__", None)).__name__
            if path in files or (loader == "AssertionRewritingHook" and _is_project_file(path)):
                found[name] = module
        for name, module in found.items():
            if name not in self.checked:  # once per name: test modules are many
                self.checked.add(name)
                if self._imported_by_the_program(name, found):
                    self._keep_in_place(name, module)
                    continue
            self.owned[name] = module
        for name, module in self.owned.items():
            # Never executed by hotmod: pytest imports it again when a round needs it.
            module.__dict__["__hotmod_reload__"] = False
            # One pytest did not import again (not selected, or its import failed) stays
            # as it was, so the import graph keeps matching sys.modules.
            sys.modules.setdefault(name, module)

    def _imported_by_the_program(self, name: str, found: dict[str, Any]) -> bool:
        """True when a module pytest imported is imported by the code under test too
        (a source file named on the command line, a module registered for assertion
        rewriting, a plugin module): importing it again would leave the program with
        the old one."""
        from . import dependents

        try:
            return any(dep not in found for dep in dependents(name))
        except ValueError:
            return False

    def _keep_in_place(self, name: str, module: ModuleType) -> None:
        # Reloaded in place by hotmod like the rest of the program (without pytest's
        # assertion rewriting, which matters for test code only).
        self.in_place.add(name)
        old = self.owned.pop(name, None)
        for holder in (module, old):
            if holder is not None and holder.__dict__.get("__hotmod_reload__") is False:
                del holder.__dict__["__hotmod_reload__"]

    def first(self) -> tuple[int, _Plugin]:
        code, plugin = self.round(None)
        # pytest collects garbage several times a session; the libraries loaded by now
        # would be walked each time (half of a small re-run with numpy loaded).
        gc.collect()
        gc.freeze()
        config = plugin.config
        if config is not None:
            self.args = plugin.args
            self.invocation_dir = str(config.invocation_params.dir)
            self.python_files = list(config.getini("python_files"))
            if getattr(config.option, "pyargs", False):
                self.run_all = True  # module names, not files: no narrower selection
            inipath = getattr(config, "inipath", None)
            if inipath is not None:
                self.inifile = (str(inipath), _read(str(inipath)))
        return code, plugin

    # -- watching ----------------------------------------------------------------------

    def start_watching(self, rootdir: str) -> None:
        from . import watch

        roots = {os.path.realpath(rootdir)}
        for module in list(sys.modules.values()):
            path = _file_of(module)
            if path is None or not _is_project_file(path):
                continue
            folder = os.path.dirname(path)
            if not any(is_under(folder, r) for r in roots):
                roots.add(folder)
        include = ["*.py"]
        if self.inifile is not None:
            include.append(os.path.basename(self.inifile[0]))
        self.watcher = watch(*sorted(roots), include=tuple(include), apply="manual")
        thread = threading.Thread(target=self._read_stdin, name="hotmod-test-stdin", daemon=True)
        thread.start()

    def _read_stdin(self) -> None:
        # A duplicate of fd 0: pytest points fd 0 at /dev/null while it runs tests.
        try:
            fd = os.dup(sys.stdin.fileno())
        except (AttributeError, OSError, ValueError):
            return
        with os.fdopen(fd, errors="replace") as stream:
            for line in stream:
                self.lines.put(line)

    def wait(self) -> str:
        """Block until a save (``"change"``) or Enter (``"enter"``)."""
        while True:
            if self.watcher.has_pending and self._fresh():
                return "change"
            try:
                self.lines.get(timeout=_IDLE_POLL)
            except queue.Empty:
                continue
            return "enter"

    def _fresh(self) -> bool:
        # After a failed reload, wait for a save newer than the failed batch.
        if self.stuck is None:
            return True
        return _stats(self.watcher.pending) != self.stuck

    # -- a save ------------------------------------------------------------------------

    def on_change(self) -> list[str] | str | None:
        """Apply the pending saves.

        Returns the selection to run (None: everything the user asked for), or a
        message when nothing is to run.
        """
        taken = list(self.watcher.pending)  # a save arriving from now on waits its turn
        pending = sorted(os.path.realpath(p) for p in taken)
        self.saved = pending
        self._check_restart(pending)
        loaded = _modules_of(pending)
        # Files hotmod keeps no record of the source of: not imported yet, or imported by
        # pytest (whose imports bypass hotmod's import clock). Such a file counts when its
        # bytes differ from the last time it was pending: the files of a new folder can be
        # reported twice for one save, found by the folder's scan and by their own events.
        unrecorded = {
            p
            for p, names in loaded.items()
            if (not names and p.endswith(".py")) or any(n in self.owned for n in names)
        }
        fresh = {p for p in unrecorded if self._saved_again(p)}
        unloaded = {p for p in fresh if not loaded[p]}
        mine = {n for p in fresh for n in loaded[p] if n in self.owned}
        error: BaseException | None = _syntax_error(
            p for p in pending if p in unloaded or set(loaded[p]) & mine
        )
        if error is None:
            for path in pending:
                if path.endswith(".py"):
                    _drop_cached_bytecode(path)
        report, changed = self._apply_round(taken, retry=error is None)
        if report is not None and report.error is not None:
            error = report.error
        if error is not None:
            # Wait for a newer save of a file of this round left pending (being written);
            # one that arrived during the round is new, and runs at once.
            left = set(taken).intersection(self.watcher.pending)
            self.stuck = _stats(left)
            self.carry_names |= changed | mine
            self.carry_paths |= unloaded
            self._show_failure(error)
            return "nothing re-run; fix the error and save to re-run"
        self.stuck = None
        names = changed | mine | self.carry_names
        paths = unloaded | self.carry_paths
        self.carry_names, self.carry_paths = set(), set()
        if report is not None:
            frozen = [n for n in report.needs_restart if n not in self.owned]
            if frozen:
                self.restart(f"{', '.join(frozen)} is marked __hotmod_reload__ = False")
        if not names and not paths:
            return "no change"
        _say_changed(names, paths, report)
        touched = self.touched(names, paths)
        self.kept.drop(touched)
        if self.run_all:
            return None
        return self.select(names, paths, touched)

    def _apply_round(
        self, taken: list[Path], *, retry: bool
    ) -> tuple[ReloadReport | None, set[str]]:
        """Apply the saves taken, on the session's ``sys.path`` (pytest's ``pythonpath``
        too); with ``retry``, then the names carried from a failed round. Returns the
        report and the modules whose source changed."""
        saved_path = list(sys.path)
        sys.path[:] = self.sys_path
        try:
            report = self.watcher._apply(taken)
            changed = set(report.changed) if report is not None else set()
            if retry and (report is None or report.ok):
                report = self._retry_carried(report)
        finally:
            sys.path[:] = saved_path
        return report, changed

    def _saved_again(self, path: str) -> bool:
        """Whether ``path`` holds other bytes than when it was last pending (the first
        time: yes). The same text saved again is no change, as for any module."""
        seen = file_digest(path)
        before = self.last_seen.get(path)
        self.last_seen[path] = seen
        return seen != before

    def _retry_carried(self, report: Any) -> Any:
        # Modules of an earlier failed batch that this batch did not re-execute.
        from . import reload

        done = report.reloaded if report is not None else []
        left = [
            n
            for n in self.carry_names
            if n in sys.modules and n not in self.owned and n not in done
        ]
        if not left:
            return report
        retry = reload(*left)
        return retry if not retry.ok else report

    def _check_restart(self, pending: Iterable[str]) -> None:
        for path in pending:
            ini = self.inifile
            if ini is not None and path == os.path.realpath(ini[0]) and _read(path) != ini[1]:
                self.restart(f"pytest's configuration {os.path.relpath(path)} changed")
            if path in self.plugin_modules or os.path.basename(path) == "conftest.py":
                reason = _hook_change(path, self.plugin_modules.get(path))
                if reason is not None:
                    self.restart(reason)

    def touched(self, names: set[str], paths: set[str]) -> set[str]:
        """The files of the changed modules and of every module importing one."""
        from . import dependents

        reached = set(names)
        for name in names:
            try:
                reached.update(dependents(name))
            except ValueError:
                continue
        files = {_file_of(sys.modules[n]) for n in reached if n in sys.modules}
        return {f for f in files if f is not None} | paths

    def select(self, names: set[str], paths: set[str], touched: set[str]) -> list[str]:
        """The test files (or the user's node ids) affected by changed modules and paths.

        ``touched``: the files of the changed modules and of their importers.
        """

        saved = {f for n in names if n in sys.modules and (f := _file_of(sys.modules[n]))}
        saved |= paths
        selected: set[str] = set()
        for path in touched:
            known = path in self.test_files or path in self.doctest_files
            if known or self._is_new_test_file(path):
                selected.add(path)
        for path in touched & set(self.plugin_modules) | {
            p for p in paths if os.path.basename(p) == "conftest.py"
        }:
            # A conftest or plugin module: the tests using its fixtures; every test in its
            # folder when it changed itself or holds hooks.
            module = self.plugin_modules.get(path)
            name = module.__name__ if module is not None else ""
            broad = module is None or path in saved or bool(_hooks_of_module(module)[0])
            folder = os.path.dirname(path)
            selected |= {
                f
                for f in self.test_files
                if is_under(f, folder) and (broad or name in self.fixture_modules.get(f, ()))
            }
        return self._narrow([f for f in sorted(selected) if os.path.exists(f)])

    def _is_new_test_file(self, path: str) -> bool:
        """A file pytest would collect: named as a test, not ignored on the way to it
        from the paths the user gave (norecursedirs, collect_ignore, --ignore)."""
        name = os.path.basename(path)
        if not any(fnmatch.fnmatch(name, pattern) for pattern in self.python_files):
            return False
        for base in self._bases():
            if path == base or not is_under(path, base):
                continue
            parts = path[len(base) + 1 :].split(os.sep)
            steps = [os.path.join(base, *parts[: i + 1]) for i in range(len(parts))]
            try:
                return not any(
                    self.config.hook.pytest_ignore_collect(
                        collection_path=Path(step), config=self.config
                    )
                    for step in steps
                )
            except Exception:
                return True  # a hook that fails outside a session: let pytest decide
        return False

    def _bases(self) -> list[str]:
        return [
            os.path.realpath(os.path.join(self.invocation_dir, arg.partition("::")[0]))
            for arg in self.args
        ]

    def _narrow(self, files: list[str]) -> list[str]:
        # Within what the user asked for: their node ids for a file, or the file itself
        # when it lies in one of their folders.
        result: list[str] = []
        for file in files:
            for arg in self.args:
                part, sep, rest = arg.partition("::")
                base = os.path.realpath(os.path.join(self.invocation_dir, part))
                if base == file:
                    result.append(file + sep + rest)
                elif file != base and is_under(file, base) and file not in result:
                    result.append(file)
        return result

    def _show_failure(self, error: BaseException) -> None:
        from ._report import format_error

        print(" reload failed, kept the previous code ".center(80, "="), flush=True)
        print(format_error(error), flush=True)

    def restart(self, reason: str) -> None:
        """Run the same command again in this process (os.execv)."""
        _say(f"{reason}: restarting")
        if self.watcher is not None:
            self.watcher.stop()
        self.kept.close()
        for path in self.saved:
            if path.endswith(".py"):
                _drop_cached_bytecode(path)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _syntax_error(paths: Iterable[str]) -> SyntaxError | None:
    """The first SyntaxError among these sources (files pytest compiles itself)."""
    for path in paths:
        try:
            ast.parse(_read(path), path)
        except SyntaxError as exc:
            return exc
        except ValueError as exc:  # null bytes
            return SyntaxError(str(exc), (path, 1, 1, ""))
    return None


def _stats(paths: Iterable[os.PathLike[str] | str]) -> dict[str, tuple[int, int]]:
    result = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            result[os.fspath(path)] = (-1, -1)
        else:
            result[os.fspath(path)] = (st.st_mtime_ns, st.st_size)
    return result


class _QuietReports(logging.Filter):
    """Drops hotmod's own reload lines: ``hotmod test`` prints its report itself."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return record.funcName != "log_report"


def _configure_logging() -> None:
    logger = logging.getLogger("hotmod")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        handler.addFilter(_QuietReports())
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: Sequence[str]) -> int:
    """Run ``hotmod test``; ``argv`` is everything after ``test`` on the command line."""
    opts, pytest_args = _parser().parse_known_args(list(argv))
    _configure_logging()
    loop = _Loop(pytest_args, run_all=opts.all)
    try:
        code, plugin = loop.first()
        if plugin.config is None or plugin.interrupted:
            return code  # a usage error (pytest printed it) or Ctrl-C
        loop.start_watching(str(plugin.config.rootpath))
        _say(WATCHING)
        while True:
            event = loop.wait()
            if event == "enter":
                selection = loop.last_selection
            else:
                outcome = loop.on_change()
                if outcome == "no change":
                    continue
                if isinstance(outcome, str):
                    _say(outcome)
                    _say(WATCHING)
                    continue
                selection = outcome
                if selection is not None and not selection:
                    gone = [os.path.relpath(p) for p in loop.saved if not os.path.exists(p)]
                    if gone and len(gone) == len(loop.saved):
                        _say(f"removed {', '.join(gone)}; no test left to re-run")
                    else:
                        _say("no test imports the changed modules; nothing re-run")
                    _say(WATCHING)
                    continue
            loop.last_selection = selection
            code, plugin = loop.round(selection)
            if plugin.interrupted:
                return 130
            _say(WATCHING)
    except KeyboardInterrupt:
        return 130
    finally:
        if loop.watcher is not None:
            loop.watcher.stop()
        loop.kept.close()
