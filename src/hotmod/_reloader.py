"""The reload transaction: compile everything, snapshot, execute in order, commit or roll back."""

from __future__ import annotations

import _imp
import ast
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from importlib.machinery import ModuleSpec
from types import CodeType, ModuleType
from typing import Any, NamedTuple

from ._graph import ImportGraph, imports_of, parse_imports
from ._modmap import ModuleMap, excluded_reason, real, source_hash
from ._patch import Patcher
from ._rebind import rebind
from ._report import ReloadReport, log_report
from ._tracker import import_clock

__all__ = ["Reloader", "bound_names", "get_reloader"]

_MISSING: Any = object()


def bound_names(tree: ast.Module) -> tuple[set[str], bool]:
    """Names a module's top-level code may bind, and whether it binds names dynamically."""
    names: set[str] = set()
    dynamic = False

    def visit(node: ast.AST, top: bool) -> None:
        nonlocal dynamic
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if top:
                names.add(node.name)
            for child in ast.walk(node):
                if isinstance(child, ast.Global):
                    names.update(child.names)
            if top:
                for dec in node.decorator_list:
                    visit(dec, top)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and top:
            names.add(node.id)
        elif isinstance(node, ast.alias):
            if node.name == "*":
                dynamic = True
            else:
                names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("globals", "vars", "setattr", "exec")
        ):
            dynamic = True
        for child in ast.iter_child_nodes(node):
            visit(child, top)

    for stmt in tree.body:
        visit(stmt, True)
    return names, dynamic


class _Step(NamedTuple):
    """One module of a plan, compiled and ready to run (cached per source)."""

    name: str
    path: str
    source: bytes
    code: CodeType
    bound: set[str]
    dynamic: bool
    definitions_only: bool


class _Txn:
    """Everything a transaction touched, to commit or undo."""

    def __init__(self) -> None:
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.modules_before: set[str] = set()
        self.patcher = Patcher()
        self.rebind_undo: list[Callable[[], None]] = []
        self.old_refs: dict[str, Sequence[Any]] = {}
        self.current: str | None = None
        self.modules: dict[str, ModuleType] = {}
        # Cycle members taken out of sys.modules (and their parents' attributes) while
        # their group runs, so that importing one runs it as a fresh import would.
        self.displaced: dict[str, ModuleType] = {}
        self.parent_attrs: list[tuple[ModuleType, str, ModuleType]] = []
        self.order_before: list[str] = []
        self.trees: dict[str, ast.Module] = {}  # sys.modules order, if cycles moved it


class _Failure(Exception):
    """Carries the original exception and the module it came from out of a stage."""

    def __init__(self, error: BaseException, module: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.module = module


def _is_main(module: ModuleType) -> bool:
    return module.__name__ == "__main__"


class Reloader:
    """The one reloader of the process; every entry point goes through `reload`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.modmap = ModuleMap()
        self.graph = ImportGraph(started=import_clock.started.get)
        self.listeners: list[Callable[[ReloadReport], None]] = []
        self._compiled: dict[tuple[str, str, bool, int], _Step] = {}
        import_clock.install()

    # -- knowledge of the loaded program -----------------------------------------------

    def sync(self) -> None:
        """Index modules imported since the last call (path, source hash, imports)."""
        for name in self.modmap.sync():
            path = self.modmap.path_of(name)
            module = sys.modules.get(name)
            if path is None or module is None:
                continue
            try:
                data = _read(path)
            except OSError:
                self.modmap.set_hash(name, None)
                continue
            digest: int | None = source_hash(data)
            if import_clock.edited_after_import(name, os.path.getmtime(path)):
                digest = None  # edited since it was imported: what it runs is unknown
            self.modmap.set_hash(name, digest)
            try:
                refs = parse_imports(data, **_parse_args(name, module, path))
            except (SyntaxError, ValueError):
                refs = []
            self.graph.set_imports(name, refs)

    def resolve(self, target: object) -> list[str]:
        """Module names for a module object, a dotted name or a file path."""
        if isinstance(target, ModuleType):
            names = [k for k, v in sys.modules.items() if v is target] or [target.__name__]
        elif isinstance(target, (str, os.PathLike)):
            text = os.fspath(target)
            if isinstance(text, bytes):
                raise TypeError(f"cannot reload {target!r}: expected a str path")
            if text in sys.modules:
                names = [text]
            elif text.endswith(".py") or os.sep in text or os.path.exists(text):
                names = self.modmap.names_for(real(text))
                if not names:
                    raise ValueError(f"cannot reload {text!r}: no loaded module comes from it")
            else:
                raise ValueError(f"cannot reload {text!r}: no module of that name is loaded")
        else:
            raise TypeError(
                f"cannot reload {target!r}: expected a module, a dotted name or a file path"
            )
        for name in names:
            module = sys.modules.get(name)
            if module is None:
                raise ValueError(f"cannot reload {name!r}: no module of that name is loaded")
            path = self.modmap.path_of(name)
            if path is None:
                from ._modmap import source_path

                origin = source_path(module)
                reason = excluded_reason(origin) if origin else "it has no Python source file"
                raise ValueError(f"cannot reload {name!r}: {reason}")
            self.modmap.add_explicit(name)
        return names

    def dependents(self, target: object) -> list[str]:
        """Transitive importers of ``target`` among reloadable modules, in reload order."""
        with self.lock:
            self.sync()
            names = self.resolve(target)
            deps = self.graph.dependents(names, include=self._cascades) - set(names)
            return [
                m for group in self.graph.order(deps, finish_order=list(sys.modules)) for m in group
            ]

    def _cascades(self, name: str) -> bool:
        return name != "__main__" and self.modmap.is_reloadable(name)

    # -- the transaction ---------------------------------------------------------------

    def reload(
        self, targets: Iterable[object], *, cascade: bool = True, only_changed: bool = False
    ) -> ReloadReport | None:
        """Reload ``targets`` (and dependents); None when ``only_changed`` finds no change."""
        started = time.perf_counter()
        with self.lock:
            self.sync()
            names: list[str] = []
            for target in targets:
                for name in self.resolve(target) if not only_changed else self._quiet(target):
                    if name not in names:
                        names.append(name)
            report = self._run(names, cascade=cascade, only_changed=only_changed)
            if report is None:
                return None
            report.duration = time.perf_counter() - started
        log_report(report)
        for listener in list(self.listeners):
            try:
                listener(report)
            except Exception:
                logging.getLogger("hotmod").exception("reload listener %r raised", listener)
        return report

    def _quiet(self, target: object) -> list[str]:
        # The watcher's view: files no loaded module comes from are simply ignored.
        if isinstance(target, (str, os.PathLike)):
            return [n for n in self.modmap.names_for(os.fspath(target)) if n in sys.modules]
        return self.resolve(target)

    def _run(self, names: list[str], *, cascade: bool, only_changed: bool) -> ReloadReport | None:
        report = ReloadReport()
        sources: dict[str, bytes] = {}
        for name in names:
            path = self.modmap.path_of(name)
            assert path is not None
            try:
                sources[name] = _read(path)
            except OSError as exc:
                if only_changed:
                    continue  # a deleted file: the module stays as it is
                return _failed(report, exc, name)
            if source_hash(sources[name]) != self.modmap.known_hash(name):
                report.changed.append(name)
        if only_changed:
            names = [n for n in report.changed]
            if not names:
                return None
        frozen = {n for n in names if _no_reload(n)}
        report.needs_restart = [n for n in report.changed if n in frozen]
        txn = _Txn()
        try:
            groups = self._plan(names, frozen, sources, cascade, txn)
            steps = [self._compile(name, sources, txn) for group in groups for name in group]
        except _Failure as failure:
            self._restore_graph(txn)
            return _failed(report, failure.error, failure.module)
        if not steps:
            return report
        _imp.acquire_lock()
        try:
            self._execute(steps, groups, txn, report)
        except BaseException as exc:
            self._rollback(txn)
            _failed(report, exc, txn.current)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return report
        finally:
            _imp.release_lock()
        for action in txn.patcher.on_commit:
            action()
        for step in steps:
            self.modmap.set_hash(step.name, source_hash(step.source))
        return report

    def _plan(
        self,
        names: list[str],
        frozen: set[str],
        sources: dict[str, bytes],
        cascade: bool,
        txn: _Txn,
    ) -> list[list[str]]:
        # The graph is updated from the new sources first: an edit may add an import.
        for name in names:
            self._update_refs(name, sources[name], txn)
        members = {n for n in names if n not in frozen}
        if cascade:
            deps = self.graph.dependents(names, include=self._cascades)
            for dep in deps - set(names):
                if _no_reload(dep):
                    continue
                path = self.modmap.path_of(dep)
                assert path is not None
                try:
                    sources[dep] = _read(path)
                except OSError:
                    continue
                if source_hash(sources[dep]) != self.modmap.known_hash(dep):
                    self._update_refs(dep, sources[dep], txn)
                members.add(dep)
        return self.graph.order(members, finish_order=list(sys.modules))

    def _update_refs(self, name: str, source: bytes, txn: _Txn) -> None:
        if source_hash(source) == self.modmap.known_hash(name) and name in self.graph:
            return  # the graph already holds the imports of this source
        module = sys.modules[name]
        path = self.modmap.path_of(name) or "<unknown>"
        args = _parse_args(name, module, path)
        try:
            tree = ast.parse(source, path)
        except (SyntaxError, ValueError) as exc:
            raise _Failure(exc, name) from exc
        refs = imports_of(tree, module=args["module"], is_package=args["is_package"])
        txn.trees[name] = tree  # compiled next: parse each changed source once
        txn.old_refs.setdefault(name, self.graph.refs(name))
        self.graph.set_imports(name, refs)

    def _restore_graph(self, txn: _Txn) -> None:
        for name, refs in txn.old_refs.items():
            self.graph.set_imports(name, refs)

    def _compile(self, name: str, sources: dict[str, bytes], txn: _Txn) -> _Step:
        path = self.modmap.path_of(name) or "<unknown>"
        source = sources[name]
        main = _is_main(sys.modules[name])
        key = (name, path, main, source_hash(source))
        cached = None if main else self._compiled.get(key)
        if cached is not None:
            return cached
        try:
            tree = txn.trees.pop(name, None) or ast.parse(source, path)
            bound, dynamic = bound_names(tree)
            if main:
                # The running script: only its definitions are refreshed, and imports
                # it did not run yet (added with the code that uses them).
                namespace = sys.modules[name].__dict__
                tree.body = [
                    node
                    for node in tree.body
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                    or _new_import(node, namespace)
                ]
            code = compile(tree, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise _Failure(exc, name) from exc
        step = _Step(name, path, source, code, bound, dynamic, main)
        # Dependents re-run unchanged sources on every reload of what they import.
        if len(self._compiled) > 4096:
            self._compiled.clear()
        self._compiled[key] = step
        return step

    def _execute(
        self, steps: list[_Step], groups: list[list[str]], txn: _Txn, report: ReloadReport
    ) -> None:
        txn.modules_before = set(sys.modules)
        for step in steps:
            txn.modules[step.name] = sys.modules[step.name]
            txn.snapshots[step.name] = dict(sys.modules[step.name].__dict__)
        by_name = {step.name: step for step in steps}
        for group in groups:
            if len(group) == 1:
                self._exec_step(by_name[group[0]], txn, report)
            else:
                self._exec_cycle([by_name[name] for name in group], txn, report)
        txn.current = None
        patcher = txn.patcher
        report.patched = patcher.patched
        report.notes = list(patcher.notes)
        report.rebound = self._rebind(steps, txn)

    def _exec_step(self, step: _Step, txn: _Txn, report: ReloadReport) -> None:
        txn.current = step.name
        module = txn.modules[step.name]
        ns = module.__dict__
        old = txn.snapshots[step.name]
        hook = old.get("__hotmod_unload__")
        if callable(hook):
            hook()
        if not step.definitions_only:
            # A fresh import starts with no module annotations and no docstring.
            ns.pop("__annotations__", None)
            ns["__doc__"] = None
        exec(step.code, ns)
        if not step.definitions_only:
            _drop_removed(ns, old, step)
            _keep_submodules(module)
        txn.patcher.patch_namespace(ns.get("__name__", step.name), old, ns)
        report.reloaded.append(step.name)

    def _exec_cycle(self, steps: list[_Step], txn: _Txn, report: ReloadReport) -> None:
        # In a fresh import, a cycle member that imports a member not yet started runs
        # that one to completion first. Members not yet re-executed are taken out of
        # sys.modules, so such an import re-executes them (into the same module object)
        # at that point, as a fresh import would; the rest run in start order.
        pending = {s.name: s for s in steps if not s.definitions_only}
        if not txn.order_before:
            txn.order_before = list(sys.modules)
        for name in pending:
            self._displace(name, txn)
        finder = _PendingFinder(pending, txn, lambda step: self._exec_step(step, txn, report))
        sys.meta_path.insert(0, finder)
        try:
            for step in steps:
                if step.name not in pending and step.definitions_only:
                    self._exec_step(step, txn, report)
                elif pending.pop(step.name, None) is not None:
                    self._replace(step.name, txn)
                    self._exec_step(step, txn, report)
                    # Finished last, as an import would record it (the next reload's
                    # cycle order reads this).
                    sys.modules[step.name] = sys.modules.pop(step.name)
            if finder.error is not None:
                raise finder.error  # raised by a member imported from a caught import
        finally:
            sys.meta_path.remove(finder)
        for name in txn.displaced:
            sys.modules.setdefault(name, txn.modules[name])
        txn.displaced.clear()
        for parent, child, value in txn.parent_attrs:
            if child not in parent.__dict__:
                setattr(parent, child, value)
        txn.parent_attrs.clear()

    def _displace(self, name: str, txn: _Txn) -> None:
        if name not in sys.modules:
            return
        module = txn.displaced[name] = sys.modules.pop(name)
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name) or txn.modules.get(parent_name)
        if parent is not None and parent.__dict__.get(child) is module:
            delattr(parent, child)
            txn.parent_attrs.append((parent, child, module))

    def _replace(self, name: str, txn: _Txn) -> None:
        # A member run in start order (not imported by another): back in, as an import
        # would put it, before its code runs.
        module = txn.modules[name]
        sys.modules[name] = module
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name)
        if parent is not None and child not in parent.__dict__:
            setattr(parent, child, module)

    def _rebind(self, steps: list[_Step], txn: _Txn) -> int:
        count = 0
        loose = self._loose_namespaces()
        for step in steps:
            old = txn.snapshots[step.name]
            new = sys.modules[step.name].__dict__
            for importer in self.graph.importers(step.name):
                module = sys.modules.get(importer)
                if module is None:
                    continue
                bindings = [
                    pair
                    for ref in self.graph.refs(importer)
                    if ref.kind == "top" and ref.module == step.name
                    for pair in ref.names
                ]
                count += rebind(
                    module.__dict__, bindings, old, new, txn.rebind_undo, txn.patcher.canonical
                )
            if loose:  # no source to read their imports from: same name, same object
                heuristic = [(k, k) for k in old if not k.startswith("__")]
                for ns in loose:
                    count += rebind(ns, heuristic, old, new, txn.rebind_undo)
        return count

    def _loose_namespaces(self) -> list[dict[str, Any]]:
        # Namespaces with no source to read imports from: the REPL's __main__.
        main = sys.modules.get("__main__")
        return [main.__dict__] if main is not None and "__main__" not in self.graph else []

    def _rollback(self, txn: _Txn) -> None:
        for name, displaced in txn.displaced.items():
            sys.modules[name] = displaced
        if txn.order_before:
            # Cycle order is read from sys.modules order: put it back as it was.
            for name in txn.order_before:
                if name in sys.modules:
                    sys.modules[name] = sys.modules.pop(name)
        for package, attr, value in txn.parent_attrs:
            setattr(package, attr, value)
        for undo in reversed(txn.rebind_undo):
            undo()
        for undo in reversed(txn.patcher.undo):
            undo()
        for name, saved in txn.snapshots.items():
            module = sys.modules.get(name)
            if module is None:
                continue
            ns = module.__dict__
            ns.update(saved)
            for key in [k for k in ns if k not in saved]:
                del ns[key]
        for name in set(sys.modules) - txn.modules_before:
            added = sys.modules.pop(name)
            parent, _, child = name.rpartition(".")
            parent_module = sys.modules.get(parent)
            if parent_module is not None and getattr(parent_module, child, None) is added:
                delattr(parent_module, child)
        self._restore_graph(txn)


class _PendingFinder:
    """Finds the cycle members not yet re-executed; loading one re-executes it in place."""

    def __init__(self, pending: dict[str, _Step], txn: _Txn, run: Callable[[_Step], None]) -> None:
        self.pending = pending
        self.txn = txn
        self.run = run
        self.error: BaseException | None = None

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name not in self.pending:
            return None
        module = self.txn.modules[name]
        origin = getattr(module.__spec__, "origin", None)
        loader: Any = self
        return ModuleSpec(name, loader, origin=origin, is_package=hasattr(module, "__path__"))

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return self.txn.modules[spec.name]

    def exec_module(self, module: ModuleType) -> None:
        name = next(n for n, m in self.txn.modules.items() if m is module)
        module.__spec__ = self.txn.snapshots[name].get("__spec__")  # the import set ours
        step = self.pending.pop(name)
        importer = self.txn.current
        try:
            self.run(step)
        except BaseException as exc:
            self.error = self.error or exc
            raise
        self.txn.current = importer

    def invalidate_caches(self) -> None:
        """Nothing cached."""


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _parse_args(name: str, module: ModuleType, path: str) -> dict[str, Any]:
    spec = getattr(module, "__spec__", None)
    resolved = spec.name if spec is not None and getattr(spec, "name", None) else name
    return {"module": resolved, "is_package": hasattr(module, "__path__"), "filename": path}


def _new_import(node: ast.stmt, namespace: dict[str, Any]) -> bool:
    """True for an import statement none of whose names the namespace binds yet."""
    if not isinstance(node, (ast.Import, ast.ImportFrom)):
        return False
    names = [alias.asname or alias.name.split(".")[0] for alias in node.names]
    return "*" not in names and not any(name in namespace for name in names)


def _no_reload(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and module.__dict__.get("__hotmod_reload__") is False


# Set by the import system, not by the module's code.
_IMPORT_DUNDERS = frozenset(
    {
        "__name__",
        "__file__",
        "__spec__",
        "__loader__",
        "__package__",
        "__path__",
        "__builtins__",
        "__cached__",
        "__doc__",
        "__annotations__",
    }
)


def _drop_removed(ns: dict[str, Any], old: dict[str, Any], step: _Step) -> None:
    # Names the new source no longer binds are gone, as after a fresh import. Values
    # the new code re-bound differ from the snapshot; untouched ones are identical.
    if step.dynamic:
        return
    for key, value in old.items():
        if key in _IMPORT_DUNDERS:
            continue
        if key not in step.bound and ns.get(key, _MISSING) is value:
            del ns[key]


def _keep_submodules(module: ModuleType) -> None:
    # A fresh import leaves ``pkg.sub`` bound for every imported submodule.
    if not hasattr(module, "__path__"):
        return
    prefix = module.__name__ + "."
    for name, sub in list(sys.modules.items()):
        if name.startswith(prefix) and "." not in name[len(prefix) :] and sub is not None:
            child = name[len(prefix) :]
            if child not in module.__dict__:
                setattr(module, child, sub)


def _failed(report: ReloadReport, error: BaseException, module: str | None) -> ReloadReport:
    report.ok = False
    report.error = error
    report.module = module
    report.reloaded = []
    report.rebound = 0
    report.patched = 0
    return report


_reloader: Reloader | None = None
_reloader_lock = threading.Lock()


def get_reloader() -> Reloader:
    """The process-wide reloader, created on first use."""
    global _reloader
    with _reloader_lock:
        if _reloader is None:
            _reloader = Reloader()
        return _reloader
