"""The ``hotmod`` command: ``run``, ``graph`` and ``demo``."""

from __future__ import annotations

import argparse
import builtins
import importlib.machinery
import importlib.util
import logging
import os
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["main"]

USAGE = """\
usage: hotmod run [--restart] [--live] [--debounce SECONDS] [--backend NAME]
                  (script.py | -m module) [args ...]
       hotmod graph [module]
       hotmod demo
"""

# The exit code a child of ``hotmod run --restart`` uses to ask its parent for a restart.
RESTART_EXIT_CODE = 75
_CHILD_ENV = "HOTMOD_RESTART_CHILD"


def _configure_logging() -> None:
    logger = logging.getLogger("hotmod")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


class _RunOptions:
    def __init__(self) -> None:
        self.restart = False
        self.live = False
        self.debounce = 0.01
        self.backend = "auto"
        self.module: str | None = None
        self.script: str | None = None
        self.args: list[str] = []


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"hotmod run: --debounce takes seconds, not {text!r}") from None
    if not value >= 0:
        raise SystemExit(f"hotmod run: --debounce must be >= 0, not {text!r}")
    return value


def _parse_run(argv: Sequence[str]) -> _RunOptions:
    # Hand-parsed: everything after the script or module belongs to the program.
    opts = _RunOptions()
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--restart":
            opts.restart = True
        elif arg == "--live":
            opts.live = True
        elif arg in ("--debounce", "--backend") and rest:
            value = rest.pop(0)
            if arg == "--debounce":
                opts.debounce = _seconds(value)
            else:
                opts.backend = value
        elif arg.startswith("--debounce="):
            opts.debounce = _seconds(arg.split("=", 1)[1])
        elif arg.startswith("--backend="):
            opts.backend = arg.split("=", 1)[1]
        elif arg == "-m" and rest:
            opts.module = rest.pop(0)
            opts.args = rest
            return opts
        elif arg.startswith("-m") and len(arg) > 2:
            opts.module = arg[2:]
            opts.args = rest
            return opts
        elif arg in ("-h", "--help"):
            print(USAGE, end="")
            raise SystemExit(0)
        elif arg.startswith("-"):
            raise SystemExit(f"hotmod run: unknown option {arg!r}\n{USAGE}")
        else:
            opts.script = arg
            opts.args = rest
            return opts
    raise SystemExit(f"hotmod run: a script or -m module is required\n{USAGE}")


def _main_module(file: str | None) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    module.__file__ = file
    module.__cached__ = None  # type: ignore[attr-defined]
    return module


def _prepare_script(script: str, args: list[str]) -> tuple[types.ModuleType, types.CodeType]:
    path = os.path.abspath(script)
    if os.path.isdir(path):
        path = os.path.join(path, "__main__.py")
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        raise SystemExit(f"hotmod run: can't open file {script!r}: {exc.strerror}") from None
    code = compile(source, path, "exec", dont_inherit=True)
    module = _main_module(path)
    module.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    module.__spec__ = None
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    return module, code


def _prepare_module(name: str, args: list[str]) -> tuple[types.ModuleType, types.CodeType]:
    sys.path[0] = os.getcwd()
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations is not None:
        spec = importlib.util.find_spec(name + ".__main__")
    if spec is None or spec.loader is None or not hasattr(spec.loader, "get_code"):
        raise SystemExit(f"hotmod run: no module named {name!r}")
    code = spec.loader.get_code(spec.name)
    if code is None:
        raise SystemExit(f"hotmod run: no code object available for {name!r}")
    module = _main_module(spec.origin)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__package__ = spec.parent
    sys.argv = [spec.origin or name, *args]
    return module, code


def _run(opts: _RunOptions) -> int:
    from ._watch import watch

    if opts.live:
        # Read by the integrations where they wrap the server's app (Flask, Starlette)
        # and by the middlewares: HTML pages refresh themselves after each reload.
        os.environ["HOTMOD_LIVE"] = "1"

    if opts.restart and not os.environ.get(_CHILD_ENV):
        return _supervise(opts)
    _configure_logging()
    global running
    running = True
    from ._reloader import get_reloader

    get_reloader()  # from now on, importing a framework starts its integration
    if opts.module is not None:
        module, code = _prepare_module(opts.module, opts.args)
    else:
        assert opts.script is not None
        module, code = _prepare_script(opts.script, opts.args)
    _kept.append(sys.modules.get("__main__"))  # the launcher's module must stay alive
    sys.modules["__main__"] = module
    sys.excepthook = _user_frames_only(sys.excepthook)
    watcher = watch(
        debounce=opts.debounce,
        backend=opts.backend,  # type: ignore[arg-type]
    )
    if os.environ.get(_CHILD_ENV):
        watcher.add_callback(_restart_when_needed)
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


def _restart_when_needed(report: object) -> None:
    from ._report import ReloadReport

    assert isinstance(report, ReloadReport)
    if report.error is not None or report.needs_restart:
        logging.getLogger("hotmod").warning("restarting the process")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(RESTART_EXIT_CODE)


def _supervise(opts: _RunOptions) -> int:
    # ``--restart``: run the program in a child; when an in-place reload is impossible the
    # child exits with RESTART_EXIT_CODE and is started again, as restart reloaders do.
    from ._watch import default_paths
    from ._watcher import make_monitor

    _configure_logging()
    log = logging.getLogger("hotmod")
    argv = [sys.executable, "-m", "hotmod", "run", "--debounce", str(opts.debounce)]
    argv += ["--backend", opts.backend]
    argv += ["-m", opts.module] if opts.module else [opts.script or ""]
    argv += opts.args
    env = dict(os.environ, **{_CHILD_ENV: "1"})
    changed = threading.Event()
    roots = [Path(p) for p in {*default_paths(), os.getcwd()}]
    monitor = make_monitor(roots, on_batch=lambda paths: changed.set(), debounce=opts.debounce)
    monitor.start()
    try:
        restarted = False
        while True:
            changed.clear()
            code = subprocess.call(argv, env=env)
            if code == RESTART_EXIT_CODE:
                restarted = True
                continue
            if not restarted or code == 0:
                return code
            log.warning("the restarted program exited with code %d; waiting for a change", code)
            changed.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        monitor.stop()


def _graph(module: str | None) -> int:
    from ._graph import ImportGraph, parse_imports
    from ._watcher import DEFAULT_EXCLUDES, path_matches

    root = Path.cwd()
    # A src layout's packages are importable from src/, the rest from the project root.
    bases = [root / "src", root] if (root / "src").is_dir() else [root]
    graph = ImportGraph()
    names: list[str] = []
    for base in bases:
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base)
            if base == root and len(bases) > 1 and rel.parts[0] == "src":
                continue
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            if (
                not parts
                or name in graph
                or not all(p.isidentifier() for p in parts)
                or not path_matches(path, ("*.py",), DEFAULT_EXCLUDES, root=base)
            ):
                continue
            try:
                refs = parse_imports(path.read_bytes(), module=name, is_package=is_package)
            except (SyntaxError, ValueError) as exc:
                print(f"hotmod graph: skipping {rel}: {exc}", file=sys.stderr)
                continue
            graph.set_imports(name, refs)
            names.append(name)
    if module is None:
        for name in sorted(names):
            imports = sorted(graph.imports(name))
            print(name + (f" -> {', '.join(imports)}" if imports else ""))
        return 0
    if module not in graph:
        print(f"hotmod graph: no module {module!r} under {root}", file=sys.stderr)
        return 1
    order = [m for group in graph.order(graph.dependents([module])) for m in group]
    print(f"{module} is imported by {len(order)} module(s); reload order:")
    for name in order:
        print(f"  {name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hotmod`` command and ``python -m hotmod``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "run":
        return _run(_parse_run(rest))
    if command == "graph":
        parser = argparse.ArgumentParser(prog="hotmod graph")
        parser.add_argument("module", nargs="?")
        return _graph(parser.parse_args(rest).module)
    if command == "demo":
        from ._demo import run_demo

        parser = argparse.ArgumentParser(prog="hotmod demo")
        parser.add_argument("--keep", action="store_true", help="keep the demo folder")
        return run_demo(keep=parser.parse_args(rest).keep)
    print(f"hotmod: unknown command {command!r}\n{USAGE}", end="", file=sys.stderr)
    return 2
