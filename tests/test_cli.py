"""The hotmod command: run (script, folder and -m), its options and environment variables,
usage errors, --restart with real signals, graph, test, demo; in-process and end to end."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hotmod
from conftest import Project, explain
from hotmod import cli
from hotmod.cli import main

ENV_NAMES = [name for name in cli.ENV.values()]


@pytest.fixture(autouse=True)
def _clean_cli_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No HOTMOD_* variable from outside; sys.argv and the excepthook restored."""
    for name in [*ENV_NAMES, "HOTMOD_RESTART_CHILD"]:
        monkeypatch.delenv(name, raising=False)
    argv, hook = list(sys.argv), sys.excepthook
    yield
    sys.argv[:] = argv
    sys.excepthook = hook
    cli._kept.clear()


# --------------------------------------------------------------------------- in process


class FakeWatcher:
    def __init__(self, paths: tuple[str, ...]) -> None:
        self.paths = paths
        self.callbacks: list[object] = []
        self.stopped = False

    def add_callback(self, callback: object) -> None:
        self.callbacks.append(callback)

    def stop(self) -> None:
        self.stopped = True


class Recorder:
    """Stands in for hotmod.watch and the --restart supervisor; the program still runs."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        self.supervised: list[cli.RunOptions] = []
        self.watchers: list[FakeWatcher] = []

    def watch(self, *paths: str, **kwargs: Any) -> FakeWatcher:
        self.calls.append((paths, kwargs))
        watcher = FakeWatcher(tuple(os.path.realpath(p) for p in paths))
        self.watchers.append(watcher)
        return watcher

    @property
    def kwargs(self) -> dict[str, Any]:
        assert len(self.calls) == 1, self.calls
        paths, kwargs = self.calls[0]
        return {"paths": paths, **kwargs}


@pytest.fixture
def rec(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Recorder:
    from hotmod import _supervisor

    recorder = Recorder()
    monkeypatch.setattr(hotmod, "watch", recorder.watch)

    def supervise(opts: cli.RunOptions) -> int:
        recorder.supervised.append(opts)
        return 0

    monkeypatch.setattr(_supervisor, "supervise", supervise)
    project.write(
        {
            "prog.py": """
                import os, sys
                print("ran", sys.argv[1:], os.environ.get("HOTMOD_LIVE"),
                      os.environ.get("HOTMOD_FACTORY"))
            """,
            "lib/helper.py": "",
            "src/core.py": "",
        }
    )
    monkeypatch.chdir(project.root)
    return recorder


DEFAULTS: dict[str, Any] = {
    "paths": (),
    "include": ("*.py",),
    "exclude": tuple(hotmod.DEFAULT_EXCLUDES),
    "debounce": 0.01,
    "apply": "thread",
    "cascade": True,
    "backend": "auto",
}

SEP = os.pathsep
OPTION_CASES = [
    # (command-line options, environment, what watch() receives beyond the defaults)
    ([], {}, {}),
    (["-w", "lib"], {}, {"paths": ("lib",)}),
    (["--watch", "lib", "-w", "src"], {}, {"paths": ("lib", "src")}),
    ([], {"HOTMOD_WATCH": f"lib{SEP}src"}, {"paths": ("lib", "src")}),
    (["--include", "*.pyw", "--include", "*.py"], {}, {"include": ("*.pyw", "*.py")}),
    ([], {"HOTMOD_INCLUDE": f"a*.py{SEP}b*.py"}, {"include": ("a*.py", "b*.py")}),
    (["--exclude", "gen", "--exclude=*_pb2.py"], {}, {"exclude": ("gen", "*_pb2.py")}),
    ([], {"HOTMOD_EXCLUDE": f"gen{SEP}tmp"}, {"exclude": ("gen", "tmp")}),
    (["--apply", "manual"], {}, {"apply": "manual"}),
    (["--apply=thread"], {}, {}),
    ([], {"HOTMOD_APPLY": "manual"}, {"apply": "manual"}),
    (["--no-cascade"], {}, {"cascade": False}),
    ([], {"HOTMOD_NO_CASCADE": "1"}, {"cascade": False}),
    ([], {"HOTMOD_NO_CASCADE": "Yes"}, {"cascade": False}),
    ([], {"HOTMOD_NO_CASCADE": "off"}, {}),
    (["--debounce", "0.3"], {}, {"debounce": 0.3}),
    (["--debounce=0"], {}, {"debounce": 0.0}),
    ([], {"HOTMOD_DEBOUNCE": "0.2"}, {"debounce": 0.2}),
    (["--poll"], {}, {"backend": "polling", "poll_interval": 0.1}),
    (["--poll", "0.5"], {}, {"backend": "polling", "poll_interval": 0.5}),
    (["--poll=2"], {}, {"backend": "polling", "poll_interval": 2.0}),
    (["--poll", "--backend", "polling"], {}, {"backend": "polling", "poll_interval": 0.1}),
    ([], {"HOTMOD_POLL": "true"}, {"backend": "polling", "poll_interval": 0.1}),
    ([], {"HOTMOD_POLL": "1"}, {"backend": "polling", "poll_interval": 1.0}),
    ([], {"HOTMOD_POLL": "0.25"}, {"backend": "polling", "poll_interval": 0.25}),
    ([], {"HOTMOD_POLL": "0"}, {}),
    (["--backend", "watchdog"], {}, {"backend": "watchdog"}),
    ([], {"HOTMOD_BACKEND": "polling"}, {"backend": "polling"}),
    # the command line beats the environment
    (["-w", "src"], {"HOTMOD_WATCH": "lib"}, {"paths": ("src",)}),
    (["--include", "x*.py"], {"HOTMOD_INCLUDE": "y*.py"}, {"include": ("x*.py",)}),
    (["--exclude", "a"], {"HOTMOD_EXCLUDE": "b"}, {"exclude": ("a",)}),
    (["--apply", "thread"], {"HOTMOD_APPLY": "manual"}, {}),
    (["--debounce", "0.5"], {"HOTMOD_DEBOUNCE": "2"}, {"debounce": 0.5}),
    (["--poll", "3"], {"HOTMOD_POLL": "1"}, {"backend": "polling", "poll_interval": 3.0}),
    (["--backend", "watchdog"], {"HOTMOD_POLL": "1"}, {"backend": "watchdog"}),
    (["--backend", "auto"], {"HOTMOD_BACKEND": "polling"}, {}),
]


@pytest.mark.parametrize(("options", "env", "expected"), OPTION_CASES)
def test_run_options_and_environment_reach_watch(
    rec: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    env: dict[str, str],
    expected: dict[str, Any],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["run", *options, "prog.py", "a", "-v"]) == 0
    assert capsys.readouterr().out.startswith("ran ['a', '-v']")
    want = {**DEFAULTS, **expected}
    if "exclude" in expected:
        want["exclude"] = (*hotmod.DEFAULT_EXCLUDES, *expected["exclude"])
    assert rec.kwargs == want
    assert rec.watchers[0].stopped  # the watcher ends with the program
    assert not rec.supervised


@pytest.mark.parametrize(
    ("options", "env", "restart", "live", "factory"),
    [
        ([], {}, False, None, None),
        (["--restart"], {}, True, None, None),
        ([], {"HOTMOD_RESTART": "1"}, True, None, None),
        ([], {"HOTMOD_RESTART": "no"}, False, None, None),
        (["--live"], {}, False, "1", None),
        ([], {"HOTMOD_LIVE": "on"}, False, "1", None),
        ([], {"HOTMOD_LIVE": "0"}, False, None, None),
        (["--factory"], {}, False, None, "1"),
        ([], {"HOTMOD_FACTORY": "TRUE"}, False, None, "1"),
        (["--live", "--factory"], {"HOTMOD_FACTORY": "false"}, False, "1", "1"),
    ],
)
def test_restart_live_and_factory_flags(
    rec: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    env: dict[str, str],
    restart: bool,
    live: str | None,
    factory: str | None,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["run", *options, "prog.py"]) == 0
    out = capsys.readouterr().out
    if restart:
        assert [o.restart for o in rec.supervised] == [True]
        assert out == ""  # the supervisor runs the program, in a child
    else:
        assert not rec.supervised
        assert out.split() == ["ran", "[]", str(live), str(factory)]
    assert os.environ.get("HOTMOD_LIVE") == live  # exported for --restart's children too
    assert os.environ.get("HOTMOD_FACTORY") == factory


@pytest.mark.parametrize(
    ("options", "env", "level", "watching"),
    [
        ([], {}, "INFO", False),
        (["-v"], {}, "DEBUG", True),
        (["--verbose"], {}, "DEBUG", True),
        ([], {"HOTMOD_VERBOSE": "1"}, "DEBUG", True),
        (["-q"], {}, "WARNING", False),
        (["--quiet"], {}, "WARNING", False),
        ([], {"HOTMOD_QUIET": "yes"}, "WARNING", False),
        (["-v"], {"HOTMOD_QUIET": "1"}, "DEBUG", True),
        (["-q"], {"HOTMOD_VERBOSE": "1"}, "WARNING", False),
    ],
)
def test_verbosity_sets_the_hotmod_logger(
    rec: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    env: dict[str, str],
    level: str,
    watching: bool,
) -> None:
    import logging

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["run", *options, "-w", "lib", "prog.py"]) == 0
    logger = logging.getLogger("hotmod")
    assert logging.getLevelName(logger.getEffectiveLevel()) == level
    err = capsys.readouterr().err
    root = os.path.realpath("lib")
    assert (f"hotmod.run: watching {root} (backend auto" in err) is watching, err
    assert len(rec.watchers[0].callbacks) == (1 if watching else 0)


def test_program_arguments_are_the_programs(
    rec: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    # Everything after the script or module belongs to the program, as with python.
    cases = [
        (["run", "prog.py", "-v", "--poll", "-m", "x"], ["-v", "--poll", "-m", "x"]),
        (["run", "prog.py", "--", "-x"], ["--", "-x"]),
        (["run", "--", "prog.py", "--help"], ["--help"]),
        (["run", "--poll", "prog.py", "--debounce"], ["--debounce"]),
        (["run", "--poll", "prog.py", "-q", "--poll"], ["-q", "--poll"]),
        (["run", "-w", "lib", "prog.py", "-w"], ["-w"]),
    ]
    for argv, args in cases:
        assert main(argv) == 0, argv
        assert capsys.readouterr().out.split("]")[0] == f"ran {args}"[:-1], argv
    assert [kw.get("backend") for _, kw in rec.calls] == ["auto"] * 3 + ["polling"] * 2 + ["auto"]


def test_run_module_in_process_takes_the_rest(
    rec: Recorder, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write({"tool.py": "import sys\nprint('tool', __name__, sys.argv[1:])\n"})
    for argv in (["-m", "tool"], ["-mtool"], ["-v", "-m", "tool"]):
        assert main(["run", *argv, "-q", "--debounce", "x"]) == 0
        assert capsys.readouterr().out == "tool __main__ ['-q', '--debounce', 'x']\n"


BAD_USAGE = [
    (["run", "--nope", "prog.py"], "hotmod run: unknown option --nope; see 'hotmod run --help'"),
    (["run", "--nope", "-x", "prog.py"], "unknown options --nope -x"),
    (["run", "--debounce"], "argument --debounce: the value is missing"),
    (["run", "--debounce", "-m", "x"], "argument --debounce: the value is missing"),
    (["run", "-w"], "argument -w/--watch: the value is missing"),
    (["run", "--include"], "argument --include: the value is missing"),
    (["run", "--exclude"], "argument --exclude: the value is missing"),
    (["run", "--apply"], "argument --apply: the value is missing"),
    (["run", "--debounce", "soon", "prog.py"], "debounce takes a number of seconds, not 'soon'"),
    (["run", "--debounce", "-1", "prog.py"], "debounce must be >= 0, not '-1'"),
    (["run", "--debounce=nan", "prog.py"], "finite number of seconds"),
    (["run", "--apply", "later", "prog.py"], "argument --apply: invalid choice: 'later'"),
    (["run", "--backend", "foo", "prog.py"], "argument --backend: invalid choice: 'foo'"),
    (["run", "--poll=fast", "prog.py"], "--poll takes a number of seconds, not 'fast'"),
    (["run", "--poll", "0", "prog.py"], "--poll must be > 0, not '0'"),
    (["run", "--poll", "--backend", "watchdog", "prog.py"], "--poll and --backend watchdog"),
    (["run", "-v", "-q", "prog.py"], "argument -q/--quiet: not allowed with argument -v"),
    (["run", "-w", "no/such/dir", "prog.py"], "--watch: no such file or folder: 'no/such/dir'"),
    (["run", "--include=", "prog.py"], "non-empty patterns"),
    (["run"], "no program to run"),
    (["run", "-v", "--poll"], "no program to run"),
    (["run", "--"], "no program to run"),
    (["run", "-m"], "argument -m: expected a module name"),
    ([], "a command is required"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["graph", "a", "b"], "unexpected arguments: b"),
    (["graph", "--nope"], "unknown option --nope"),
    (["demo", "--nope"], "unknown option --nope"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_USAGE)
def test_bad_usage_is_one_line_and_exit_2(
    rec: Recorder, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("hotmod"), err
    assert message in err
    assert not rec.calls


BAD_ENV = [
    ("HOTMOD_WATCH", f"lib{SEP}no/such"),
    ("HOTMOD_APPLY", "later"),
    ("HOTMOD_NO_CASCADE", "maybe"),
    ("HOTMOD_DEBOUNCE", "soon"),
    ("HOTMOD_DEBOUNCE", "-1"),
    ("HOTMOD_POLL", "fast"),
    ("HOTMOD_POLL", "-2"),
    ("HOTMOD_BACKEND", "inotify"),
    ("HOTMOD_RESTART", "2"),
    ("HOTMOD_LIVE", "y"),
    ("HOTMOD_FACTORY", "factory"),
    ("HOTMOD_VERBOSE", "loud"),
    ("HOTMOD_QUIET", "-1"),
]


@pytest.mark.parametrize(("name", "value"), BAD_ENV)
def test_bad_environment_value_is_a_usage_error_naming_it(
    rec: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["run", "prog.py"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith(f"hotmod run: {name}"), err
    assert not rec.calls


def test_verbose_and_quiet_both_in_the_environment(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOTMOD_VERBOSE", "1")
    monkeypatch.setenv("HOTMOD_QUIET", "1")
    assert main(["run", "prog.py"]) == 2
    assert "HOTMOD_VERBOSE and HOTMOD_QUIET are both set" in capsys.readouterr().err
    assert main(["run", "-q", "prog.py"]) == 0  # the command line decides


def test_version_and_help_on_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"hotmod {hotmod.__version__}\n"
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("run", "graph", "demo", "test"):
        assert f"    {command} " in out
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    options = [
        "--watch PATH",
        "--include GLOB",
        "--exclude GLOB",
        "--apply {thread,manual}",
        "--no-cascade",
        "--debounce SECONDS",
        "--poll [INTERVAL]",
        "--backend {auto,watchdog,polling}",
        "--restart",
        "--live",
        "--factory",
        "--verbose",
        "--quiet",
        "-m ...",
    ]
    for option in options:
        assert option in out, option
    run_parser = cli._build_parser()[1]["run"]
    for action in run_parser._actions:  # every option states its default
        if action.dest not in ("help", "module", "program"):
            assert "default:" in str(action.help), action.dest
    for name in ENV_NAMES:
        assert name in out
    for command in ("graph", "demo", "test"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: hotmod {command}")
    assert main(["graph", "-h"]) == 0
    assert "(default: the whole graph)" in capsys.readouterr().out


# --------------------------------------------------------------------------- hotmod test


def test_test_forwards_every_argument(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import types

    seen: list[list[str]] = []
    fake = types.ModuleType("hotmod._testloop")
    fake.main = lambda argv: seen.append(argv) or 5  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hotmod._testloop", fake)
    assert main(["test", "-x", "-k", "foo", "--all", "tests/"]) == 5
    assert main(["test"]) == 5
    assert main(["test", "--", "-v"]) == 5
    assert seen == [["-x", "-k", "foo", "--all", "tests/"], [], ["--", "-v"]]
    assert main(["test", "--help"]) == 0
    assert "passed to pytest" in capsys.readouterr().out
    assert len(seen) == 3


def test_test_without_the_test_loop_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "hotmod._testloop", None)  # import fails
    assert main(["test", "-x"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("hotmod test: the test loop cannot start: ")


# --------------------------------------------------------------------------- hotmod graph


def test_graph_lists_imports_and_dependents(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(
        {
            "models.py": "X = 1\n",
            "views.py": "import models\n",
            "app.py": "from views import *\nimport json\n",
            ".venv/lib/ignored.py": "import models\n",
            "src/pkg/__init__.py": "from pkg import core\n",
            "src/pkg/core.py": "import models\n",
        }
    )
    monkeypatch.chdir(project.root)
    assert main(["graph"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "app -> views",
        "models",
        "pkg -> pkg.core",
        "pkg.core -> models",
        "views -> models",
    ]
    assert main(["graph", "models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "models is imported by 4 modules; a reload re-executes models, then:"
    assert sorted(lines[1:]) == ["  app", "  pkg", "  pkg.core", "  views"]  # its dependents
    assert lines.index("  views") < lines.index("  app")
    assert lines.index("  pkg.core") < lines.index("  pkg")
    assert main(["graph", "pkg.core"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "pkg.core is imported by 1 module; a reload re-executes pkg.core, then:",
        "  pkg",
    ]


def test_graph_says_what_is_missing(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project.root)
    project.write({"notes.txt": "no code\n"})
    assert main(["graph"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"hotmod graph: no Python modules here: no *.py file under {project.root} "
        "(run it in the project's folder)\n"
    )
    project.write({"build/gen.py": "X = 1\n", "my-script.py": "", "a.swp.py": ""})
    assert main(["graph"]) == 1
    out, err = capsys.readouterr()
    assert err == (
        f"hotmod graph: no Python modules here: under {project.root}, skipped build, "
        "a.swp.py, my-script.py (excluded by hotmod's default excludes or --exclude, or not "
        "importable names)\n"
    )
    project.write({"models.py": "X = 1\n", "views.py": "import models\n", "bad.py": "x = (\n"})
    assert main(["graph", "views"]) == 0
    out, err = capsys.readouterr()
    assert out == "views is imported by no module of the project: a reload re-executes it alone\n"
    assert "hotmod graph: skipping bad.py:1: '(' was never closed\n" in err
    assert main(["graph", "model"]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] + "\n" == (
        "hotmod graph: no module 'model' in this project; did you mean 'models'? "
        "(known: models, views)\n"
    )


def test_graph_exclude_from_option_and_environment(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write({"a.py": "", "gen/b.py": "import a\n", "tests/test_a.py": "import a\n"})
    monkeypatch.chdir(project.root)
    assert main(["graph"]) == 0
    assert capsys.readouterr().out.split() == ["a", "gen.b", "->", "a", "tests.test_a", "->", "a"]
    assert main(["graph", "--exclude", "gen", "--exclude", "tests"]) == 0
    assert capsys.readouterr().out.split() == ["a"]
    monkeypatch.setenv("HOTMOD_EXCLUDE", "tests")
    assert main(["graph"]) == 0
    assert capsys.readouterr().out.split() == ["a", "gen.b", "->", "a"]


# --------------------------------------------------------------------------- end to end


def test_run_script_behaves_like_python(project: Project) -> None:
    project.scenario("cli_run_script_behaves_like_python")
    proc = project.hotmod("run", "prog.py", "--flag", "3")
    assert proc.returncode == 3, explain(proc)
    assert proc.stdout.split() == ["__main__", "['--flag',", "'3']", "True"]


def test_run_script_exception_exits_1_with_traceback(project: Project) -> None:
    project.write({"boom.py": "raise RuntimeError('boom at top level')\n"})
    proc = project.hotmod("run", "boom.py")
    assert proc.returncode == 1, explain(proc)
    assert "RuntimeError: boom at top level" in proc.stderr
    assert 'File "' + str(project.root / "boom.py") in proc.stderr
    assert "hotmod" not in proc.stderr  # the launcher's frames are hidden, as under python


def test_run_module_behaves_like_python_dash_m(project: Project) -> None:
    project.scenario("cli_run_module_behaves_like_python_dash")
    proc = project.hotmod("run", "-m", "pkg.tool", "a", "-b")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.split() == ["__main__", "pkg.tool", "['a',", "'-b']", "True"]
    proc = project.hotmod("run", "-m", "pkg2")
    assert proc.stdout.split() == ["package", "main", "pkg2.__main__"], explain(proc)


def test_run_folder_and_zip_run_their_main(project: Project) -> None:
    import zipfile

    main_py = "import sys\nprint(__name__, __spec__.name, sys.argv, sys.path[0])\n"
    project.write({"app/__main__.py": main_py})
    with zipfile.ZipFile(project.root / "app.pyz", "w") as zf:
        zf.writestr("__main__.py", main_py)
    for target in ("app", "app/", "app.pyz"):
        python = project.python(target, "x")
        proc = project.hotmod("run", target, "x")
        assert proc.returncode == python.returncode == 0, explain(proc)
        assert proc.stdout == python.stdout


PYTHON_ERRORS = [
    ["-m", "nosuch.mod"],
    ["-m", "json.nosuch"],
    ["-m", "pkgnomain"],
    ["-m", ".relative"],
    ["somedir/"],
    ["somedir"],
    ["nofile.py"],
    ["bad.py"],
]


@pytest.mark.parametrize("program", PYTHON_ERRORS, ids=" ".join)
def test_a_program_that_cannot_start_fails_as_under_python(
    project: Project, program: list[str]
) -> None:
    project.write({"somedir/readme.txt": "", "pkgnomain/__init__.py": "", "bad.py": "x = (\n"})
    python = project.python(*program)
    proc = project.hotmod("run", *program)
    assert proc.returncode == python.returncode != 0, explain(proc)
    assert proc.stderr == python.stderr
    assert "Traceback" not in proc.stderr


def test_script_that_edits_its_own_file(project: Project) -> None:
    # Top-level statements are not run again; functions and classes are updated in place.
    project.scenario("cli_script_that_edits_its_own_file")
    proc = project.hotmod("run", "selfedit.py")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.splitlines() == [
        "top level ran",
        "True ['__main__'] new greet new label True",
    ]
    assert "hotmod: reloaded __main__" in proc.stderr


def test_verbose_shows_roots_and_each_batch_quiet_only_errors(project: Project) -> None:
    project.scenario("cli_verbose_and_quiet")
    proc = project.hotmod("run", "-v", "--poll", "0.05", "prog.py")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.split() == ["1", "True", "new", "2", "False", "new"]
    lines = proc.stderr.splitlines()
    root = os.path.realpath(project.root)
    assert lines[0] == (
        f"hotmod.run: watching {root} (polling every 0.05 s, debounce 0.01 s, apply thread)"
    ), proc.stderr
    assert "hotmod.run: batch: helper.py changed; re-executed helper" in lines, proc.stderr
    assert "hotmod.run: batch: helper.py changed; re-executed nothing (rolled back)" in lines
    assert any(line.startswith("hotmod: reloaded helper") for line in lines)
    assert any("reload failed in helper, kept the previous code" in line for line in lines)

    project.scenario("cli_verbose_and_quiet")  # helper.py as it was
    proc = project.hotmod("run", "-q", "prog.py", env=project.env())
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.split() == ["1", "True", "new", "2", "False", "new"]
    assert "reloaded" not in proc.stderr and "watching" not in proc.stderr
    assert proc.stderr.startswith("hotmod: reload failed in helper, kept the previous code:")
    assert "SyntaxError" in proc.stderr

    project.scenario("cli_verbose_and_quiet")
    proc = project.hotmod("run", "prog.py", env=project.env(HOTMOD_QUIET="1"))
    assert proc.returncode == 0 and "reloaded" not in proc.stderr, explain(proc)


def test_apply_manual_waits_for_a_safe_point(project: Project) -> None:
    project.scenario("cli_apply_manual")
    for options, env in ((["--apply", "manual"], {}), ([], {"HOTMOD_APPLY": "manual"})):
        proc = project.hotmod("run", *options, "prog.py", env=project.env(**env))
        assert proc.returncode == 0, explain(proc)
        assert proc.stdout.split() == ["manual", "old", "True", "new"]
        project.scenario("cli_apply_manual")  # helper.py as it was


def test_python_dash_m_hotmod_and_console_script_agree(project: Project) -> None:
    project.write({"hello.py": "import sys\nprint('hello from', __name__, sys.argv[1:])\n"})
    proc = project.hotmod("run", "-q", "hello.py", "-v")
    assert proc.stdout.strip() == "hello from __main__ ['-v']", explain(proc)
    script = Path(sys.executable).parent / "hotmod"
    if not script.exists():
        pytest.skip("the hotmod console script is not installed in this environment")
    out = project.command(str(script), "run", "-q", "hello.py", "-v")
    assert out.stdout == proc.stdout, out.stderr
    version = project.command(str(script), "--version")
    assert version.stdout == f"hotmod {hotmod.__version__}\n"
    bad = project.command(str(script), "run", "--debounce")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert "argument --debounce: the value is missing" in bad.stderr


def test_demo_runs_end_to_end(project: Project) -> None:
    proc = project.hotmod("demo", timeout=120)
    assert proc.returncode == 0, explain(proc)
    for text in ("Bonjour, world", "tax rate 0.1", "basket of", "SyntaxError", "Hej, world"):
        assert text in proc.stdout, explain(proc)


def test_ctrl_c_ends_the_program_as_under_python(project: Project) -> None:
    project.scenario("cli_ctrl_c_ends_the_program_as_under")
    codes = []
    for command in (["sleeper.py"], ["-m", "hotmod", "run", "sleeper.py"]):
        child = project.spawn(*command)
        child.wait_for("^ready$")
        child.send_signal(signal.SIGINT)
        codes.append(child.wait())
        err = "\n".join(child.err)
        assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert codes[0] == codes[1]


def test_run_watches_folders_of_modules_imported_later(project: Project) -> None:
    # The script's folder is watched from the start; lib/ only once the program has
    # imported a module from it.
    project.scenario("cli_run_watches_folders_of_modules")
    proc = project.hotmod("run", "scripts/prog.py")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.strip() == "['helper'] new"


# --------------------------------------------------------------------------- --restart


def gone(pid: int, timeout: float = 15, *, reaped: bool = True) -> bool:
    """True once process ``pid`` has ended, within the deadline.

    ``reaped``: its parent also collected it (hotmod waited for its child); a zombie left
    to init means it outlived hotmod.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (ProcessLookupError, FileNotFoundError):
            return True
        if state == "Z" and not reaped:
            return True
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.02)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@needs_posix
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_restart_signals_end_the_child_and_free_its_port(project: Project, signame: str) -> None:
    signum = getattr(signal, signame)
    project.scenario("cli_restart_server")
    run = project.spawn("-m", "hotmod", "run", "--restart", "server.py")
    _, pid, port, _ = run.wait_for("child ").string.split()
    assert int(pid) != run.pid and not port_free(int(port))
    run.send_signal(signum)
    code = run.wait()
    assert code == -signum, run.explain()  # the child's own end, as python would report it
    assert gone(int(pid)), "the child outlived hotmod"
    assert port_free(int(port))


@needs_posix
def test_a_signal_the_supervisor_started_ignoring_stays_ignored() -> None:
    from hotmod._supervisor import _SignalQueue

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        assert signal.SIGHUP not in _SignalQueue().signals  # not caught, not passed on
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        assert signal.SIGHUP in _SignalQueue().signals
    finally:
        signal.signal(signal.SIGHUP, previous)


@needs_posix
def test_restart_exit_code_is_the_childs(project: Project) -> None:
    project.scenario("cli_restart_exit_code_is_the_childs")
    run = project.spawn("-m", "hotmod", "run", "--restart", "polite.py")
    pid = int(run.wait_for("child ").string.split()[1])
    run.send_signal(signal.SIGTERM)
    assert run.wait() == 3, run.explain()
    assert gone(pid)
    run = project.spawn("-m", "hotmod", "run", "--restart", "polite.py")  # killed by someone else
    pid = int(run.wait_for("child ").string.split()[1])
    os.kill(pid, signal.SIGKILL)
    assert run.wait() == -signal.SIGKILL, run.explain()
    proc = project.hotmod("run", "--restart", "quick.py")
    assert proc.returncode == 7, explain(proc)
    proc = project.hotmod("run", "quick.py", env=project.env(HOTMOD_RESTART="1"))
    assert proc.returncode == 7, explain(proc)


@needs_posix
def test_restart_child_dies_with_a_killed_parent(project: Project) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    project.scenario("cli_restart_server")
    run = project.spawn("-m", "hotmod", "run", "--restart", "server.py")
    pid = int(run.wait_for("child ").string.split()[1])
    run.proc.kill()
    run.wait()
    assert gone(pid, reaped=False), "the child outlived a killed hotmod"


@needs_posix
def test_restart_syntax_error_keeps_the_old_process_then_restarts_on_failure(
    project: Project,
) -> None:
    project.scenario("cli_restart_syntax_error_keeps_the_old")
    run = project.spawn("-m", "hotmod", "run", "--restart", "server.py")
    first = int(run.wait_for("child ").string.split()[1])
    (project.root / "helper.py").write_text("VALUE = (\n")  # does not compile
    run.wait_for("not restarting:", stream="err")
    (project.root / "frozen.py").write_text("__hotmod_reload__ = False\nX = (\n")
    run.wait_for("not restarting:", stream="err", count=2)
    (project.root / "frozen.py").write_text("__hotmod_reload__ = False\n")
    (project.root / "helper.py").write_text("VALUE = 'fixed'\n")  # applies in place
    run.wait_for("value fixed")
    assert len([line for line in run.out if line.startswith("child ")]) == 1
    assert not gone(first, timeout=0)
    (project.root / "helper.py").write_text("raise RuntimeError('at import')\n")
    run.wait_for("the reload failed: restarting the process", stream="err")
    run.wait_for("waiting for a change", stream="err")  # the new process fails the same way
    assert gone(first)
    (project.root / "helper.py").write_text("VALUE = 'again'\n")
    second = run.wait_for("child ", count=2).string.split()
    assert second[3] == "again" and int(second[1]) != first
    run.send_signal(signal.SIGTERM)
    assert run.wait() == -signal.SIGTERM, run.explain()
    assert gone(int(second[1]))


def test_restart_when_a_no_reload_module_changes(project: Project) -> None:
    project.scenario("cli_restart_when_a_no_reload_module")
    proc = project.hotmod("run", "--restart", "--live", "prog.py", timeout=60)
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.split("\n")[:2] == ["started with 1 1", "started with 2 1"], explain(proc)
    assert "restart needed" in proc.stderr


# Makes the pty on stdin the controlling terminal of a new session, then runs hotmod.
ON_A_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'hotmod', *sys.argv[1:]])"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signal origin is Linux's")
@pytest.mark.parametrize("sender", ["terminal", "kill"])
def test_restart_ctrl_c_reaches_the_child_once(project: Project, sender: str) -> None:
    # Ctrl-C on a terminal goes to hotmod and its child alike: hotmod must not send it
    # again. A SIGINT sent to hotmod alone (kill) is passed on, once.
    project.scenario("cli_restart_ctrl_c_reaches_the_child")
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", ON_A_TERMINAL, "run", "--restart", "counter.py"],
        cwd=project.root,
        env=project.env(),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    output: list[str] = []
    arrived = threading.Condition()

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every holder of the terminal is gone
                break
            if not data:
                break
            with arrived:
                output.append(data.decode(errors="replace"))
                arrived.notify_all()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def wait_for(text: str) -> str:
        deadline = time.monotonic() + 30
        with arrived:
            while not re.search(text, "".join(output)):
                left = deadline - time.monotonic()
                assert left > 0, f"no {text!r} in time:\n{''.join(output)}"
                arrived.wait(left)
            return "".join(output)

    try:
        wait_for("child ")
        if sender == "terminal":
            os.write(master, b"\x03")  # the terminal's Ctrl-C: SIGINT to the process group
        else:
            proc.send_signal(signal.SIGINT)
        text = wait_for(r"sigints \d")
        assert proc.wait(timeout=30) == 0, text
    finally:
        proc.kill()
        proc.wait()
        reader.join(timeout=10)
        os.close(master)
    assert "sigints 1" in text, text


@needs_posix
def test_restart_kills_a_child_that_ignores_sigterm(project: Project) -> None:
    project.scenario("cli_restart_kills_a_child_that_ignores")
    run = project.spawn("-m", "hotmod", "run", "--restart", "stubborn.py")
    pid = int(run.wait_for("child ").string.split()[1])
    run.send_signal(signal.SIGTERM)
    run.wait_for("did not end 10 s after the signal: killing it", stream="err")
    assert run.wait() == -signal.SIGKILL, run.explain()
    assert gone(pid)


@needs_posix
def test_restart_signal_while_waiting_for_a_fix(project: Project) -> None:
    project.scenario("cli_restart_signal_while_waiting_for_a")
    run = project.spawn("-m", "hotmod", "run", "--restart", "prog.py")
    run.wait_for("waiting for a change", stream="err")  # restarted, then failed at import
    run.send_signal(signal.SIGHUP)
    assert run.wait() == -signal.SIGHUP, run.explain()


def test_restart_child_gets_the_same_options_and_program(project: Project) -> None:
    # The options reach the child as flags, the program after "--" (a script may start
    # with a dash), so the child runs what the parent was asked to run.
    project.scenario("cli_restart_child_gets_the_same_options")
    proc = project.hotmod(
        "run",
        "--restart",
        "-w",
        "lib",
        "--apply",
        "manual",
        "--no-cascade",
        "--factory",
        "-q",
        "--",
        "-dash.py",
        "-v",
        "--",
    )
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.split() == [
        "['-dash.py',",
        "'-v',",
        "'--']",
        "manual",
        "False",
        "lib",
        "1",
        "False",
    ]


def test_watch_manual_inside_hotmod_run_is_honoured(project: Project) -> None:
    project.scenario("manual_under_run")
    proc = project.hotmod("run", "app.py")
    assert proc.returncode == 0, explain(proc)
    assert proc.stdout.splitlines() == [
        "mode: manual",
        "before apply: 1",
        "after apply: 2 True",
    ], explain(proc)
