"""The ``hotmod`` command: ``run``, ``graph``, ``demo`` and ``test``.

Every option of ``hotmod run`` also comes from an environment variable, resolved in one
``_default_<option>()`` helper each; the command line beats the environment. Bad usage
is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import importlib.machinery
import logging
import os
import runpy
import sys
import traceback
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ._typing import override

if TYPE_CHECKING:
    from ._report import ReloadReport
    from ._watcher import Watcher

__all__ = ["main"]

log = logging.getLogger("hotmod.run")

DEBOUNCE = 0.01
POLL_INTERVAL = 0.1
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

# The environment variable of each ``hotmod run`` option (documented in docs/cli.md).
ENV = {
    "watch": "HOTMOD_WATCH",
    "include": "HOTMOD_INCLUDE",
    "exclude": "HOTMOD_EXCLUDE",
    "apply": "HOTMOD_APPLY",
    "no_cascade": "HOTMOD_NO_CASCADE",
    "debounce": "HOTMOD_DEBOUNCE",
    "poll": "HOTMOD_POLL",
    "backend": "HOTMOD_BACKEND",
    "restart": "HOTMOD_RESTART",
    "live": "HOTMOD_LIVE",
    "factory": "HOTMOD_FACTORY",
    "verbose": "HOTMOD_VERBOSE",
    "quiet": "HOTMOD_QUIET",
}


class UsageError(Exception):
    """Bad usage of the command: printed as one line, exit code 2."""


class _Exit(Exception):
    """argparse asked to exit (``--help``, ``--version``) with this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse, with errors raised as one-line `UsageError` instead of usage + exit."""

    @override
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {_reword(message)}; see '{self.prog} --help'")

    @override
    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise _Exit(status)


def _reword(message: str) -> str:
    """argparse's message, saying plainly whether an option or a value is the problem."""
    if message.endswith(": expected one argument"):
        return message.replace(": expected one argument", ": the value is missing")
    unknown = "unrecognized arguments: "
    if message.startswith(unknown):
        extra = message[len(unknown) :].split()
        if all(arg.startswith("-") for arg in extra):
            return f"unknown option{'s' if len(extra) > 1 else ''} {' '.join(extra)}"
        return f"unexpected arguments: {' '.join(extra)}"
    return message


# --------------------------------------------------------------------------- environment


def _env_list(name: str) -> list[str]:
    return [item for item in os.environ.get(name, "").split(os.pathsep) if item]


def _env_flag(name: str) -> bool:
    text = os.environ.get(name, "")
    if text.strip().lower() in _TRUE:
        return True
    if text.strip().lower() in _FALSE:
        return False
    raise UsageError(
        f"hotmod run: {name}={text!r} is not a boolean (use 1/0, true/false, yes/no, on/off)"
    )


def _seconds(text: str, *, what: str, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} takes a number of seconds, not {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{what} takes a finite number of seconds, not {text!r}")
    if allow_zero and value < 0:
        raise ValueError(f"{what} must be >= 0, not {text!r}")
    if not allow_zero and value <= 0:
        raise ValueError(f"{what} must be > 0, not {text!r}")
    return value


def _env_seconds(name: str, default: float, *, allow_zero: bool) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return _seconds(text, what=name, allow_zero=allow_zero)
    except ValueError as exc:
        raise UsageError(f"hotmod run: {exc}") from None


def _env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if text not in choices:
        expected = ", ".join(repr(c) for c in choices)
        raise UsageError(f"hotmod run: {name}={text!r} is not one of {expected}")
    return text


def _default_watch() -> list[str]:
    return _env_list(ENV["watch"])


def _default_include() -> list[str]:
    return _env_list(ENV["include"]) or ["*.py"]


def _default_exclude() -> list[str]:
    return _env_list(ENV["exclude"])


def _default_apply() -> str:
    return _env_choice(ENV["apply"], "thread", ("thread", "manual"))


def _default_no_cascade() -> bool:
    return _env_flag(ENV["no_cascade"])


def _default_debounce() -> float:
    return _env_seconds(ENV["debounce"], DEBOUNCE, allow_zero=True)


def _default_poll() -> float | None:
    """HOTMOD_POLL: a boolean (default interval) or the interval in seconds."""
    text = os.environ.get(ENV["poll"], "").strip()
    if text.lower() in _FALSE:
        return None
    if text.lower() in ("true", "yes", "on"):
        return POLL_INTERVAL
    return _env_seconds(ENV["poll"], POLL_INTERVAL, allow_zero=False)


def _default_backend() -> str:
    return _env_choice(ENV["backend"], "auto", ("auto", "watchdog", "polling"))


def _default_restart() -> bool:
    return _env_flag(ENV["restart"])


def _default_live() -> bool:
    return _env_flag(ENV["live"])


def _default_factory() -> bool:
    return _env_flag(ENV["factory"])


def _default_verbosity() -> int:
    verbose, quiet = _env_flag(ENV["verbose"]), _env_flag(ENV["quiet"])
    if verbose and quiet:
        raise UsageError(f"hotmod run: {ENV['verbose']} and {ENV['quiet']} are both set")
    return 1 if verbose else -1 if quiet else 0


# --------------------------------------------------------------------------- parsers


def _debounce_arg(text: str) -> float:
    try:
        return _seconds(text, what="debounce", allow_zero=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_RUN_USAGE = "hotmod run [options] (script.py | folder | -m module) [args ...]"
_RUN_EPILOG = """\
Options go before the program: everything after the script, folder or -m module
belongs to the program, as with python.

environment variables (the command line wins):
  HOTMOD_WATCH      paths to watch, separated by '{sep}' (like --watch)
  HOTMOD_INCLUDE    file name patterns, separated by '{sep}' (like --include)
  HOTMOD_EXCLUDE    more patterns to ignore, separated by '{sep}' (like --exclude)
  HOTMOD_APPLY      thread or manual (like --apply)
  HOTMOD_NO_CASCADE 1 to reload changed modules only (like --no-cascade)
  HOTMOD_DEBOUNCE   seconds (like --debounce)
  HOTMOD_POLL       1 to poll, or the interval in seconds (like --poll)
  HOTMOD_BACKEND    auto, watchdog or polling (like --backend)
  HOTMOD_RESTART    1 to restart when a change cannot apply in place (like --restart)
  HOTMOD_LIVE       1 for browser refresh (like --live)
  HOTMOD_FACTORY    1 when the app is a factory (like --factory)
  HOTMOD_VERBOSE    1 for -v;  HOTMOD_QUIET  1 for -q
Booleans take 1/0, true/false, yes/no or on/off.

examples:
  hotmod run app.py --port 8000
  hotmod run -w src -w lib --exclude 'migrations' -m myapp.server
  hotmod run --restart --poll 0.5 -v manage.py runserver --noreload
"""


def _add_run_parser(commands: Any) -> _Parser:
    run: _Parser = commands.add_parser(
        "run",
        help="run a program with hot reloading",
        description="Run a Python program as python would, applying each save of its\n"
        "modules in place while it runs.",
        usage=_RUN_USAGE,
        epilog=_RUN_EPILOG.format(sep=os.pathsep),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    _add_watch_options(run)
    _add_program_options(run)
    return run


def _add_watch_options(run: _Parser) -> None:
    """`hotmod run`'s options on what is watched and when a save applies."""
    run.add_argument(
        "-w",
        "--watch",
        action="append",
        metavar="PATH",
        help="watch this folder or file (repeatable; default: the program's folder and "
        "the folders of the project modules it imports)",
    )
    run.add_argument(
        "--include",
        action="append",
        metavar="GLOB",
        help="only files whose name matches count (repeatable; default: '*.py')",
    )
    run.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help="also ignore files and folders whose name matches (repeatable; default: "
        "none beyond hotmod's own list: editor swap files, .git, .venv, build, ...)",
    )
    run.add_argument(
        "--apply",
        choices=("thread", "manual"),
        help="thread: reload as soon as a save settles; manual: at safe points only "
        "(hotmod.apply(), @hotmod.reloadable, middleware requests) (default: thread)",
    )
    run.add_argument(
        "--no-cascade",
        action="store_true",
        default=None,
        help="re-execute the changed modules only, not the modules that import them "
        "(default: off, importers are re-executed too)",
    )
    run.add_argument(
        "--debounce",
        type=_debounce_arg,
        metavar="SECONDS",
        help=f"longest extra wait for more events of the same save (default: {DEBOUNCE})",
    )
    run.add_argument(
        "--poll",
        nargs="?",
        const="",
        metavar="INTERVAL",
        help="watch by polling (network drives, containers, WSL), every INTERVAL seconds "
        f"(default: off; INTERVAL default: {POLL_INTERVAL})",
    )
    run.add_argument(
        "--backend",
        choices=("auto", "watchdog", "polling"),
        help="auto: native events, polling if they fail; watchdog: native only; "
        "polling (default: auto)",
    )


def _add_program_options(run: _Parser) -> None:
    """`hotmod run`'s options on how the program runs and logs, then the program."""
    run.add_argument(
        "--restart",
        action="store_true",
        default=None,
        help="run the program in a child process and restart it when a change cannot be "
        "applied in place (a failed reload, a __hotmod_reload__ = False module); a save "
        "that does not compile keeps the running process (default: off)",
    )
    run.add_argument(
        "--live",
        action="store_true",
        default=None,
        help="browser refresh for web apps: sets HOTMOD_LIVE=1 for the program; see the "
        "dev servers docs (default: off)",
    )
    run.add_argument(
        "--factory",
        action="store_true",
        default=None,
        help="the app is a factory to call: sets HOTMOD_FACTORY=1 for the program; see "
        "the dev servers docs (default: off)",
    )
    loud = run.add_mutually_exclusive_group()
    loud.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=None,
        help="also log the watched folders and each batch of changes (default: off)",
    )
    loud.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=None,
        help="log only failed reloads and warnings, no line per reload (default: off)",
    )
    run.add_argument(
        "-m",
        dest="module",
        nargs=argparse.REMAINDER,
        help="run a module as 'python -m module' does; what follows is the module's",
    )
    run.add_argument(
        "program",
        nargs=argparse.REMAINDER,
        help="the script or folder to run, then its arguments",
    )


def _build_parser() -> tuple[_Parser, dict[str, _Parser]]:
    from . import __version__

    parser = _Parser(
        prog="hotmod",
        description="Instant, transactional hot reloading for Python.",
        epilog="'hotmod COMMAND --help' describes each command. "
        "'python -m hotmod' is the same command.",
    )
    parser.add_argument("--version", action="version", version=f"hotmod {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subs = {"run": _add_run_parser(commands)}
    subs["graph"] = _add_graph_parser(commands)
    subs["demo"] = _add_demo_parser(commands)
    subs["test"] = _add_test_parser(commands)
    return parser, subs


def _add_graph_parser(commands: Any) -> _Parser:
    """`hotmod graph`."""
    graph: _Parser = commands.add_parser(
        "graph",
        help="print the project's import graph, or one module's dependents",
        description="Print the import graph of the project in the current folder (read\n"
        "from the sources, nothing is imported), or the modules a reload of MODULE\n"
        "re-executes, in order.",
        epilog="examples:\n  hotmod graph\n  hotmod graph myapp.models\n"
        "  hotmod graph --exclude 'tests'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    graph.add_argument(
        "module", nargs="?", help="a module of the project (default: the whole graph)"
    )
    graph.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help="also skip files and folders whose name matches (repeatable; default: "
        "$HOTMOD_EXCLUDE, then hotmod's own list)",
    )
    return graph


def _add_demo_parser(commands: Any) -> _Parser:
    """`hotmod demo`."""
    demo: _Parser = commands.add_parser(
        "demo",
        help="watch hotmod reload a small app, edit by edit",
        description="Write a small app to a temporary folder, run it under 'hotmod run' "
        "and edit it five times while it runs.",
        allow_abbrev=False,
    )
    demo.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder afterwards (default: it is deleted)",
    )
    return demo


def _add_test_parser(commands: Any) -> _Parser:
    """`hotmod test`: its arguments are pytest's."""
    # The test loop's arguments are pytest's: none is read here ("+" is never a prefix).
    test: _Parser = commands.add_parser(
        "test",
        help="run pytest, then re-run the affected tests on each save",
        usage="hotmod test [--all] [pytest args ...]",
        description="Run pytest once, then stay up: on each save, reload the changed\n"
        "modules in place and re-run the tests that import them. Enter re-runs the\n"
        "last selection; Ctrl-C quits.\n\n"
        "  --all  re-run the whole selection on every save\n\n"
        "Every other argument is passed to pytest (see 'pytest --help').",
        epilog="examples:\n  hotmod test\n  hotmod test -x -k checkout tests/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        prefix_chars="+",
        add_help=False,
    )
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return test


# --------------------------------------------------------------------------- hotmod run


@dataclass
class RunOptions:
    """The resolved options of ``hotmod run`` (command line, then environment)."""

    watch: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=lambda: ["*.py"])
    exclude: list[str] = field(default_factory=list)
    apply: str = "thread"
    cascade: bool = True
    debounce: float = DEBOUNCE
    backend: str = "auto"
    poll_interval: float | None = None
    restart: bool = False
    live: bool = False
    factory: bool = False
    verbosity: int = 0
    module: str | None = None
    script: str | None = None
    args: list[str] = field(default_factory=list)

    def flags(self) -> list[str]:
        """These options as ``hotmod run`` flags (for the child of ``--restart``)."""
        out = [f"--watch={path}" for path in self.watch]
        out += [f"--include={glob}" for glob in self.include]
        out += [f"--exclude={glob}" for glob in self.exclude]
        out += [f"--apply={self.apply}", f"--debounce={self.debounce!r}"]
        out += [] if self.cascade else ["--no-cascade"]
        if self.poll_interval is not None:
            out.append(f"--poll={self.poll_interval!r}")
        else:
            out.append(f"--backend={self.backend}")
        out += ["--live"] if self.live else []
        out += ["--factory"] if self.factory else []
        out += {1: ["-v"], -1: ["-q"]}.get(self.verbosity, [])
        return out

    def program(self) -> list[str]:
        """The program and its arguments, for a ``hotmod run`` command line."""
        head = ["-m", self.module] if self.module is not None else ["--", self.script or ""]
        return [*head, *self.args]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fix_argv(args: list[str], ns: argparse.Namespace | None) -> list[str] | None:
    """``args`` rewritten where argparse did not stop at the program, or None.

    ``-mpkg`` (value attached) does not take the rest as ``-m pkg`` does, and
    ``--poll``'s optional INTERVAL takes the program's name when no interval is given.
    ``ns`` is None when the first parse failed: a rewrite can only fix such a failure if
    it is one of these two cases, as the program's own arguments never reach argparse.
    """
    if ns is None or ns.module is not None:
        for i, arg in enumerate(args):
            if arg == "-m":
                break
            if arg.startswith("-m"):
                name = arg[3:] if arg.startswith("-m=") else arg[2:]
                return [*args[:i], "-m", name, *args[i + 1 :]]
    lost = ns is None or not (ns.program or ns.module)
    if lost or (ns is not None and ns.poll and not _is_number(ns.poll)):
        for i, arg in enumerate(args[:-1]):
            value = args[i + 1]
            if arg == "--poll" and not _is_number(value) and not value.startswith("-"):
                return [*args[:i], "--poll=", *args[i + 1 :]]
    return None


def _parse_run(parser: _Parser, argv: list[str]) -> RunOptions:
    error: UsageError | None = None
    ns: argparse.Namespace | None = None
    try:
        ns = parser.parse_args(argv)
    except UsageError as exc:
        error = exc
    for _ in range(2):
        fixed = _fix_argv(argv, ns)
        if fixed is None:
            break
        argv = fixed
        try:
            ns = parser.parse_args(argv)
        except UsageError:
            if error is not None:
                raise error from None
            raise
    if ns is None:
        assert error is not None
        raise error
    return _resolve(ns)


def _resolve(ns: argparse.Namespace) -> RunOptions:
    """Command line first, then environment, then defaults; checked as a whole."""
    opts = RunOptions()
    opts.watch = ns.watch if ns.watch is not None else _default_watch()
    opts.include = ns.include if ns.include is not None else _default_include()
    opts.exclude = ns.exclude if ns.exclude is not None else _default_exclude()
    opts.apply = ns.apply if ns.apply is not None else _default_apply()
    opts.cascade = not (ns.no_cascade if ns.no_cascade is not None else _default_no_cascade())
    opts.debounce = ns.debounce if ns.debounce is not None else _default_debounce()
    opts.backend = ns.backend if ns.backend is not None else _default_backend()
    if ns.poll is not None:
        try:
            opts.poll_interval = (
                _seconds(ns.poll, what="--poll", allow_zero=False) if ns.poll else POLL_INTERVAL
            )
        except ValueError as exc:
            raise UsageError(f"hotmod run: argument {exc}") from None
    elif ns.backend is None:
        opts.poll_interval = _default_poll()
    if opts.poll_interval is not None:
        if ns.backend not in (None, "polling"):
            raise UsageError(f"hotmod run: --poll and --backend {ns.backend} contradict")
        opts.backend = "polling"
    opts.restart = ns.restart if ns.restart is not None else _default_restart()
    opts.live = ns.live if ns.live is not None else _default_live()
    opts.factory = ns.factory if ns.factory is not None else _default_factory()
    if ns.verbose or ns.quiet:
        opts.verbosity = 1 if ns.verbose else -1
    else:
        opts.verbosity = _default_verbosity()
    for glob in [*opts.include, *opts.exclude]:
        if not glob.strip():
            raise UsageError("hotmod run: --include and --exclude take non-empty patterns")
    for path in opts.watch:
        if not os.path.exists(path):
            source = "--watch" if ns.watch is not None else ENV["watch"]
            raise UsageError(f"hotmod run: {source}: no such file or folder: {path!r}")
    if ns.module is not None:
        if not ns.module:
            raise UsageError("hotmod run: argument -m: expected a module name")
        opts.module, opts.args = ns.module[0], [*ns.module[1:], *ns.program]
    else:
        program = ns.program[1:] if ns.program[:1] == ["--"] else ns.program
        if not program:
            raise UsageError(
                "hotmod run: no program to run: give a script, a folder or -m module; "
                "see 'hotmod run --help'"
            )
        opts.script, opts.args = program[0], program[1:]
    return opts


class _ProgramError(Exception):
    """The program cannot start: python's own message, and its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _main_module(file: str | None) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    module.__file__ = file
    module.__cached__ = None  # type: ignore[attr-defined]
    return module


def _prepare_script(script: str, args: list[str]) -> tuple[types.ModuleType, types.CodeType]:
    # python's message quotes the path joined to the cwd, trailing separator kept.
    given = os.path.join(os.getcwd(), script)
    if os.path.isdir(script) or (not script.endswith(".py") and _is_zip(script)):
        return _prepare_main_of(script, given, args)
    path = os.path.abspath(script)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        raise _ProgramError(
            f"{sys.executable}: can't open file {given!r}: [Errno {exc.errno}] {exc.strerror}", 2
        ) from None
    code = compile(source, path, "exec", dont_inherit=True)
    module = _main_module(path)
    module.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    module.__spec__ = None
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    return module, code


def _is_zip(path: str) -> bool:
    import zipfile

    return os.path.isfile(path) and zipfile.is_zipfile(path)


def _prepare_main_of(
    script: str, given: str, args: list[str]
) -> tuple[types.ModuleType, types.CodeType]:
    # A folder or zip file runs its __main__ module, found on it as sys.path[0].
    spec = importlib.machinery.PathFinder.find_spec("__main__", [given])
    if spec is None or spec.loader is None or not hasattr(spec.loader, "get_code"):
        raise _ProgramError(f"{sys.executable}: can't find '__main__' module in {given!r}", 1)
    code = spec.loader.get_code("__main__")
    if code is None:
        raise _ProgramError(f"{sys.executable}: can't find '__main__' module in {given!r}", 1)
    module = _main_module(spec.origin)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__package__ = ""
    sys.argv = [script, *args]
    sys.path[0] = given
    return module, code


class _NoModule(Exception):
    """runpy's error for a module that cannot be run."""


def _prepare_module(name: str, args: list[str]) -> tuple[types.ModuleType, types.CodeType]:
    sys.path[0] = os.getcwd()
    # runpy's own lookup, so every message is python's ("No module named ...").
    details: Callable[..., tuple[str, Any, types.CodeType]] = runpy._get_module_details  # type: ignore[attr-defined]
    try:
        _, spec, code = details(name, _NoModule)
    except _NoModule as exc:
        raise _ProgramError(f"{sys.executable}: {exc}", 1) from None
    module = _main_module(spec.origin)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__package__ = spec.parent
    module.__cached__ = spec.cached  # type: ignore[attr-defined]
    sys.argv = [spec.origin or name, *args]
    return module, code


def _configure_logging(verbosity: int) -> None:
    """The CLI's handler on the ``hotmod`` logger (library code never adds one)."""
    logger = logging.getLogger("hotmod")
    if not any(getattr(h, "_hotmod_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        handler._hotmod_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel({1: logging.DEBUG, -1: logging.WARNING}.get(verbosity, logging.INFO))
    logger.propagate = False


def _export(opts: RunOptions) -> None:
    # Read by the framework integrations of the program (and of --restart's children).
    for name, on in (("HOTMOD_LIVE", opts.live), ("HOTMOD_FACTORY", opts.factory)):
        if on:
            os.environ[name] = "1"
        else:
            os.environ.pop(name, None)


def _start_watcher(opts: RunOptions) -> Watcher:
    import hotmod

    extra: dict[str, Any] = {}
    if opts.poll_interval is not None:
        extra["poll_interval"] = opts.poll_interval
    try:
        return hotmod.watch(
            *opts.watch,
            include=tuple(opts.include),
            exclude=(*hotmod.DEFAULT_EXCLUDES, *opts.exclude),
            debounce=opts.debounce,
            apply=opts.apply,  # type: ignore[arg-type]
            cascade=opts.cascade,
            backend=opts.backend,  # type: ignore[arg-type]
            **extra,
        )
    except ValueError as exc:
        raise UsageError(f"hotmod run: {exc}") from None


def _describe(opts: RunOptions) -> str:
    how = (
        f"polling every {opts.poll_interval:g} s"
        if opts.poll_interval is not None
        else f"backend {opts.backend}"
    )
    cascade = "" if opts.cascade else ", no cascade"
    return f"{how}, debounce {opts.debounce:g} s, apply {opts.apply}{cascade}"


def _log_batches(watcher: Watcher) -> Callable[[ReloadReport], None]:
    """``-v``: one line per batch (files and modules) and any newly watched folder."""
    known = set(watcher.paths)

    def on_report(report: ReloadReport) -> None:
        new = [p for p in watcher.paths if p not in known]
        known.update(new)
        if new:
            log.info("now also watching %s", ", ".join(new))
        files = []
        for name in report.changed:
            module = sys.modules.get(name)
            file = getattr(module, "__file__", None)
            files.append(os.path.relpath(file) if isinstance(file, str) else name)
        order = ", ".join(report.reloaded) or "nothing (rolled back)"
        log.info("batch: %s changed; re-executed %s", ", ".join(files) or "nothing", order)

    return on_report


def _run(opts: RunOptions) -> int:
    from . import _supervisor

    child = _supervisor.is_child()
    if opts.restart and not child:
        _configure_logging(opts.verbosity)
        _export(opts)
        return _supervisor.supervise(opts)
    _configure_logging(opts.verbosity)
    _export(opts)
    global running
    running = True  # read by the framework integrations: the program runs under hotmod
    from ._runtime import get_reloader

    get_reloader()  # from now on, importing a framework starts its integration
    try:
        if opts.module is not None:
            module, code = _prepare_module(opts.module, opts.args)
        else:
            assert opts.script is not None
            module, code = _prepare_script(opts.script, opts.args)
    except _ProgramError as exc:
        print(exc, file=sys.stderr)
        return exc.code
    except SyntaxError as exc:  # as python: the error and its caret, no launcher frames
        sys.stderr.write("".join(traceback.format_exception_only(type(exc), exc)))
        return 1
    _kept.append(sys.modules.get("__main__"))  # the launcher's module must stay alive
    sys.modules["__main__"] = module
    sys.excepthook = _user_frames_only(sys.excepthook)
    watcher = _start_watcher(opts)
    if opts.verbosity > 0:
        log.info("watching %s (%s)", ", ".join(watcher.paths) or "nothing", _describe(opts))
        watcher.add_callback(_log_batches(watcher))
    if child:
        watcher.add_callback(_supervisor.restart_when_needed)
    try:
        exec(code, module.__dict__)
    finally:
        watcher.stop()
    return 0


_kept: list[object] = []
running = False  # True once ``hotmod run`` starts a program in this process


def _user_frames_only(hook: Callable[..., object]) -> Callable[..., object]:
    # An uncaught exception shows the program's frames only, as under plain ``python``:
    # everything up to the frame that executes the program is hotmod's launcher.
    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: types.TracebackType | None
    ) -> object:
        cursor = tb
        while cursor is not None:
            if cursor.tb_frame.f_code is _run.__code__ and cursor.tb_next is not None:
                tb = cursor.tb_next
                break
            cursor = cursor.tb_next
        return hook(exc_type, exc.with_traceback(tb), tb)

    return excepthook


# --------------------------------------------------------------------------- hotmod graph


def _project_files(base: Path, patterns: Sequence[str]) -> tuple[list[Path], list[Path]]:
    """The ``*.py`` files under ``base`` (relative), and those the patterns exclude."""
    from fnmatch import fnmatch

    def excluded(name: str) -> bool:
        return any(fnmatch(name, p) for p in patterns)

    kept: list[Path] = []
    skipped: list[Path] = []
    for folder, dirs, files in os.walk(base):
        rel = Path(folder).relative_to(base)
        for d in [d for d in dirs if excluded(d)]:
            dirs.remove(d)  # not walked: a .venv can hold thousands of files
            skipped.append(rel / d)
        dirs.sort()
        for file in sorted(f for f in files if f.endswith(".py")):
            (skipped if excluded(file) else kept).append(rel / file)
    return kept, skipped


def _graph(module: str | None, exclude: list[str] | None) -> int:
    from . import DEFAULT_EXCLUDES
    from ._graph import ImportGraph, parse_imports

    extra = exclude if exclude is not None else _default_exclude()
    patterns = (*DEFAULT_EXCLUDES, *extra)
    root = Path.cwd()
    # A src layout's packages are importable from src/, the rest from the project root.
    bases = [root / "src", root] if (root / "src").is_dir() else [root]
    graph = ImportGraph()
    names: list[str] = []
    skipped: list[str] = []
    for base in bases:
        files, excluded = _project_files(base, patterns)
        skipped += [str(base.relative_to(root) / rel) for rel in excluded]
        for rel in files:
            if base == root and len(bases) > 1 and rel.parts[0] == "src":
                continue
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            if not parts or name in graph or not all(p.isidentifier() for p in parts):
                skipped.append(str(rel))
                continue
            try:
                refs = parse_imports((base / rel).read_bytes(), module=name, is_package=is_package)
            except SyntaxError as exc:
                print(f"hotmod graph: skipping {rel}:{exc.lineno}: {exc.msg}", file=sys.stderr)
                continue
            except ValueError as exc:  # null bytes, undecodable
                print(f"hotmod graph: skipping {rel}: {exc}", file=sys.stderr)
                continue
            graph.set_imports(name, refs)
            names.append(name)
    if not names:
        print(f"hotmod graph: {_nothing_found(bases, skipped)}", file=sys.stderr)
        return 1
    if module is None:
        for name in sorted(names):
            imports = sorted(graph.imports(name))
            print(name + (f" -> {', '.join(imports)}" if imports else ""))
        return 0
    if module not in graph:
        print(f"hotmod graph: {_unknown(module, sorted(names))}", file=sys.stderr)
        return 1
    order = [m for group in graph.order(graph.dependents([module])) for m in group]
    if not order:
        print(f"{module} is imported by no module of the project: a reload re-executes it alone")
        return 0
    plural = "module" if len(order) == 1 else "modules"
    print(f"{module} is imported by {len(order)} {plural}; a reload re-executes {module}, then:")
    for name in order:
        print(f"  {name}")
    return 0


def _nothing_found(bases: list[Path], skipped: list[str]) -> str:
    looked = " and ".join(str(b) for b in bases)
    if not skipped:
        return (
            f"no Python modules here: no *.py file under {looked} (run it in the project's folder)"
        )
    shown = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
    return (
        f"no Python modules here: under {looked}, skipped {shown} (excluded by "
        "hotmod's default excludes or --exclude, or not importable names)"
    )


def _unknown(module: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(module, names, n=3)
    hint = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
    shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
    return f"no module {module!r} in this project{hint} (known: {shown})"


# --------------------------------------------------------------------------- hotmod test


def _test(args: list[str], parser: _Parser) -> int:
    if args[:1] in (["-h"], ["--help"]):
        parser.print_help()
        return 0
    try:
        testloop = importlib.import_module("hotmod._testloop")
    except ImportError as exc:
        print(f"hotmod test: the test loop cannot start: {exc}", file=sys.stderr)
        return 1
    run_tests: Callable[[list[str]], int] = testloop.main
    return run_tests(args)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hotmod`` command and ``python -m hotmod``."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser, subs = _build_parser()
    try:
        if args[:1] == ["run"]:  # parsed apart: argparse must stop at the program
            return _run(_parse_run(subs["run"], args[1:]))
        ns = parser.parse_args(args)
        if ns.command is None:
            raise UsageError(
                "hotmod: a command is required: run, graph, demo or test; see 'hotmod --help'"
            )
        if ns.command == "graph":
            return _graph(ns.module, ns.exclude)
        if ns.command == "test":
            return _test(ns.pytest_args, subs["test"])
        from ._demo import run_demo

        return run_demo(keep=ns.keep)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except _Exit as exc:
        return exc.status
