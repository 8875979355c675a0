"""``%load_ext hotmod``: apply pending changes before each IPython cell, rebind its from-imports.

Before each cell (a safe point) the watcher's pending changes are applied; nothing else
is looked at, so a cell costs the same with ten or ten thousand modules loaded. After
each cell its source is parsed for ``from x import y`` statements, and the names they
bound are registered as the imports of the shell's ``__main__`` in the reloader's import
graph: a reload then rebinds exactly those names, by identity and inside the
transaction, like the from-imports of any module. This module never imports IPython:
IPython calls it.
"""

from __future__ import annotations

import ast
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ._define import bound_names
from ._graph import ImportRef, parse_imports
from ._modmap import excluded_reason, source_path
from ._reloader import Reloader
from ._report import ReloadReport, format_error
from ._runtime import get_reloader
from ._typing import override
from ._watcher import Watcher, current_watcher, watch

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

log = logging.getLogger("hotmod.ipython")

_USAGE = "usage: %hotmod [status | graph MODULE | pause | resume]"

Binding = tuple[str, str]  # (module, name) a local name was imported from


def _cell_imports(source: str) -> tuple[list[tuple[str, Binding | None]], list[str], set[str]]:
    """What a cell does to its names, in order: ``(local, (module, name))`` or ``(local, None)``.

    ``None`` means the cell bound the name itself. Also returns the star-imported modules
    and every module imported. Imports inside functions or under ``if TYPE_CHECKING:``
    bind nothing at cell level.
    """
    tree = ast.parse(source)
    tops = parse_imports(source, module="__main__", is_package=False)
    tops = [r for r in tops if r.kind == "top"]
    refs = [r for r in tops if r.names]
    events: list[tuple[str, Binding | None]] = []
    stars: list[str] = []
    for stmt in tree.body:
        end = stmt.end_lineno or stmt.lineno
        inside = [r for r in refs if stmt.lineno <= r.lineno <= end]
        imported = {local for r in inside for _, local in r.names}
        names, _ = bound_names(ast.Module(body=[stmt], type_ignores=[]))
        events += [(local, None) for local in sorted(names - imported)]
        for ref in inside:
            for name, local in ref.names:
                if name == "*":
                    stars.append(ref.module)
                else:
                    events.append((local, (ref.module, name)))
    return events, stars, {r.module for r in tops}


def _print_report(report: ReloadReport) -> None:
    """One line per reload on stdout; a failure with its short error on stderr."""
    if report.error is not None:
        where = f" in {report.module}" if report.module else ""
        text = f"hotmod: reload failed{where}, kept the previous code\n"
        print(text + format_error(report.error, short=True), file=sys.stderr)
    elif report.reloaded or report.needs_restart:
        print(f"hotmod: {report}")


class _LastResort(logging.Handler):
    """Stands in for logging's last resort while loaded: reload results are printed already."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    @override
    def emit(self, record: logging.LogRecord) -> None:
        # The "hotmod" logger itself carries the reload results; other stages' warnings
        # (a polling fallback, say) still show when nothing else would show them.
        if record.name == "hotmod" or logging.getLogger().handlers:
            return
        print(f"hotmod: {record.getMessage()}", file=sys.stderr)


class _Extension:
    """The extension's state in one shell: events, the magic, the user's from-imports."""

    def __init__(self, shell: Any, watcher: Watcher, started: bool) -> None:
        self.shell = shell
        self.watcher = watcher
        self.started = started
        self.paused = False
        self.last: ReloadReport | None = None
        self.reloader: Reloader = get_reloader()
        self.bindings: dict[str, Binding] = {}
        self.stars: list[str] = []
        self.module_name = self._module_name()
        self.refs_before: Sequence[ImportRef] | None = None
        self.log_handler = _LastResort()
        self.modules_seen = len(sys.modules)

    def _module_name(self) -> str | None:
        # The name under which user_ns is a module's namespace in sys.modules: the
        # reloader rebinds such a module's from-imports inside its transaction.
        module = getattr(self.shell, "user_module", None)
        name = getattr(module, "__name__", None)
        if not isinstance(name, str) or sys.modules.get(name) is not module:
            return None
        return name if vars(module) is self.shell.user_ns else None

    # -- life cycle ----------------------------------------------------------------------

    def register(self) -> None:
        """Hook into the shell: events, the magic, the reloader's listeners."""
        if self.module_name is not None:
            with self.reloader.lock:
                graph = self.reloader.graph
                self.refs_before = (
                    graph.refs(self.module_name) if self.module_name in graph else None
                )
        history = self.shell.user_ns.get("In")
        for source in history if isinstance(history, list) else ():
            if isinstance(source, str):
                self.learn(source)
        self.publish()
        self.reloader.listeners.append(self.on_reload)
        if self.module_name is None:  # rebound inside each reload's transaction
            self.reloader.add_namespace(self.shell.user_ns, self.refs)
        logging.getLogger("hotmod").addHandler(self.log_handler)
        self.shell.events.register("pre_run_cell", self.pre_run_cell)
        self.shell.events.register("post_run_cell", self.post_run_cell)
        self.shell.register_magic_function(self.magic, magic_kind="line", magic_name="hotmod")

    def unregister(self) -> None:
        """Undo `register`; stop the watcher if this extension started it."""
        for event, callback in (
            ("pre_run_cell", self.pre_run_cell),
            ("post_run_cell", self.post_run_cell),
        ):
            if callback in self.shell.events.callbacks[event]:
                self.shell.events.unregister(event, callback)
        self.shell.magics_manager.magics["line"].pop("hotmod", None)
        logging.getLogger("hotmod").removeHandler(self.log_handler)
        if self.on_reload in self.reloader.listeners:
            self.reloader.listeners.remove(self.on_reload)
        self.reloader.remove_namespace(self.shell.user_ns)
        if self.module_name is not None:
            with self.reloader.lock:
                if self.refs_before is None:
                    self.reloader.graph.discard(self.module_name)
                else:
                    self.reloader.graph.set_imports(self.module_name, self.refs_before)
        if self.started:
            self.watcher.stop()

    # -- events --------------------------------------------------------------------------

    def pre_run_cell(self, info: Any = None) -> None:
        """Apply pending changes: the watcher's pending set is all that is looked at."""
        if self.paused or not self.watcher.running:
            return
        try:
            self.watcher.apply()
        except Exception as exc:  # a bug or a vanished module: the cell still runs
            print(f"hotmod: could not apply changes: {exc}", file=sys.stderr)

    def post_run_cell(self, result: Any = None) -> None:
        """Index the modules the cell loaded; learn the from-imports it ran."""
        if len(sys.modules) != self.modules_seen:
            # Only after a cell that loaded modules: their source hashes are taken now,
            # close to the import, not at the first reload (an edit could come first).
            with self.reloader.lock:
                self.reloader.sync()
            self.modules_seen = len(sys.modules)
        info = getattr(result, "info", None)
        raw = getattr(info, "raw_cell", None)
        if not isinstance(raw, str) or ("import" not in raw and not self.bindings):
            return
        try:
            source = self.shell.transform_cell(raw)
        except Exception:
            return
        self.watch_folders(self.learn(source))

    def on_reload(self, report: ReloadReport) -> None:
        """Record and print the report (a reloader listener: must never raise)."""
        try:
            self.last = report
            _print_report(report)
        except Exception:
            log.exception("could not handle the reload report")

    # -- the user's from-imports ---------------------------------------------------------

    def learn(self, source: str) -> set[str]:
        """Update the bindings from a cell's source; return the modules it imported."""
        try:
            events, stars, modules = _cell_imports(source)
        except (SyntaxError, ValueError):
            return set()
        before = (dict(self.bindings), list(self.stars))
        for local, binding in events:
            if binding is None:
                self.bindings.pop(local, None)
            else:
                self.bindings[local] = binding
        self.stars += [m for m in stars if m not in self.stars]
        if before != (self.bindings, self.stars):
            self.publish()
        return modules

    def refs(self) -> list[ImportRef]:
        """The bindings as import references, one per module."""
        by_module: dict[str, list[tuple[str, str]]] = {}
        for local, (module, name) in self.bindings.items():
            by_module.setdefault(module, []).append((name, local))
        for module in self.stars:
            by_module.setdefault(module, []).append(("*", "*"))
        return [ImportRef(m, tuple(pairs), None, 0, "top") for m, pairs in by_module.items()]

    def publish(self) -> None:
        """Register the bindings as the imports of the shell's module in the graph."""
        if self.module_name is None:
            return
        with self.reloader.lock:
            self.reloader.graph.set_imports(self.module_name, self.refs())

    def watch_folders(self, names: set[str]) -> None:
        """Watch the folders of modules a cell imported that lie outside the watched roots."""
        modmap = self.reloader.modmap
        for module_name in sorted(names):
            module = sys.modules.get(module_name)
            path = source_path(module) if module is not None else None
            if path is None or excluded_reason(path) is not None or modmap.under_roots(path):
                continue
            try:
                self.watcher.add_paths([os.path.dirname(path)])
            except ValueError:
                continue

    # -- %hotmod -------------------------------------------------------------------------

    def magic(self, line: str = "") -> None:
        """``%hotmod [status | graph MODULE | pause | resume]``."""
        words = line.split()
        command, args = (words[0], words[1:]) if words else ("status", [])
        commands: dict[str, Callable[[list[str]], None]] = {
            "status": self.status,
            "graph": self.graph,
            "pause": self.pause,
            "resume": self.resume,
        }
        action = commands.get(command)
        if action is None or (command != "graph" and args):
            print(_USAGE)
            return
        action(args)

    def status(self, args: list[str]) -> None:
        """Print the watcher's state, paths, pending changes and the last report."""
        watcher = self.watcher
        if not watcher.running:
            state = "stopped"
        elif self.paused:
            state = "paused: changes wait for %hotmod resume"
        elif watcher.apply_mode == "manual":
            state = "watching: changes apply before each cell"
        else:
            state = "watching: changes apply on the watcher thread"
        print(f"hotmod: {state}")
        print("watched paths:")
        for path in watcher.paths:
            print(f"  {path}")
        pending = sorted(str(p) for p in watcher.pending)
        print(f"pending changes: {len(pending)}")
        for path in pending:
            print(f"  {path}")
        print(f"from-import names tracked: {len(self.bindings) + len(self.stars)}")
        print(f"last reload: {self.last if self.last is not None else 'none yet'}")

    def graph(self, args: list[str]) -> None:
        """Print a module's dependents in reload order."""
        if len(args) != 1:
            print("usage: %hotmod graph MODULE")
            return
        try:
            deps = self.reloader.dependents(args[0])
        except (TypeError, ValueError) as exc:
            print(f"hotmod: {exc}")
            return
        if not deps:
            print(f"{args[0]}: no dependents")
            return
        print(f"{args[0]}: {len(deps)} dependents, in reload order:")
        for name in deps:
            print(f"  {name}")

    def pause(self, args: list[str]) -> None:
        """Stop applying changes before cells; they stay pending."""
        self.paused = True
        print("hotmod: paused; changes wait for %hotmod resume")

    def resume(self, args: list[str]) -> None:
        """Apply changes before cells again, starting with the next one."""
        self.paused = False
        count = len(self.watcher.pending)
        print(f"hotmod: resumed; {count} pending change(s) apply before the next cell")


_loaded: dict[int, _Extension] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Load with ``%load_ext hotmod``: watch the project, apply changes before each cell.

    Starts the process's watcher with ``apply="manual"`` on the cwd and the folders of
    the user's modules (or adds those to the watcher already running), applies pending
    changes before each cell, rebinds the names the cells imported with
    ``from x import y``, and adds the ``%hotmod`` line magic.

    Args:
        ipython: the running ``InteractiveShell``.
    """
    if id(ipython) in _loaded:
        return
    existing = current_watcher()
    started = existing is None or not existing.running
    watcher = watch(apply="manual")
    extension = _Extension(ipython, watcher, started)
    extension.register()
    _loaded[id(ipython)] = extension


def unload_ipython_extension(ipython: Any) -> None:
    """Unload with ``%unload_ext hotmod``: unregister the events and the magic.

    Stops the watcher if loading the extension started it.

    Args:
        ipython: the running ``InteractiveShell``.
    """
    extension = _loaded.pop(id(ipython), None)
    if extension is not None:
        extension.unregister()
