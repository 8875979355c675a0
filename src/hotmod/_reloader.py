"""The reload transaction: compile everything, snapshot, execute in order, commit or roll back."""

from __future__ import annotations

import ast
import contextlib
import errno
import functools
import gc
import logging
import marshal
import operator
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress
from types import CodeType, FunctionType, ModuleType
from typing import Any, NamedTuple

from . import _diskcache, integrations
from ._audit import find_stale
from ._bigsource import BIG, parse, scan
from ._cycles import Cycles
from ._define import (
    Definer,
    Groups,
    Prints,
    adopt,
    fingerprints,
    instrument,
    kept_count,
    plain_definitions,
    unchanged,
)
from ._graph import ImportGraph, ImportRef, imports_of, parse_imports
from ._missing import MISSING
from ._modmap import ModuleMap, no_source_reason, real, source_hash
from ._monitor._batch import STALL
from ._monitor._lease import open_for_writing
from ._patch import Patcher
from ._plan import Plan, PlanError, make_plan
from ._rebind import rebind
from ._registry import Registries, registrants
from ._report import ReloadReport, log_report
from ._runtime import import_clock, install_clock, ledger, state

__all__ = ["Reloader", "bound_names"]


# Words whose absence from a source lets `bound_names` skip expressions (big data
# literals) and function bodies: no walrus, no dynamic binding, no ``global``.
_DEEP_WORDS = (
    *(b":=", b"globals", b"vars", b"setattr", b"exec", b"__import__", b"modules"),
    *(b"__dict__", b"import_module"),
)


def bound_names(tree: ast.Module, source: bytes | None = None) -> tuple[set[str], bool]:
    """Names a module's top-level code may bind, and whether it binds names dynamically.

    With ``source``, expressions are skipped unless its text could bind names in them.
    """
    names: set[str] = set()
    dynamic = False
    deep = source is None or any(word in source for word in _DEEP_WORDS)
    globals_ = source is None or b"global" in source

    def visit(node: ast.AST, top: bool) -> None:
        nonlocal dynamic
        if (
            not deep
            and isinstance(node, ast.expr)
            and not isinstance(getattr(node, "ctx", None), ast.Store)
        ):
            return  # a value: it binds nothing (no walrus in this source)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if top:
                names.add(node.name)
            for child in ast.walk(node) if globals_ else ():
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
            and node.func.id in ("globals", "vars", "setattr", "exec", "__import__")
        ):
            dynamic = True
        elif isinstance(node, ast.Attribute) and (
            node.attr in ("modules", "__dict__", "import_module")
            or (isinstance(node.ctx, ast.Store) and not isinstance(node.value, ast.Name))
        ):
            dynamic = True  # sys.modules[__name__].X = ..., a module object bound by hand
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
    code: CodeType | None  # None: re-executed by the module's own loader
    keeps: frozenset[str]  # names a re-run leaves in place: its own, the import system's
    dynamic: bool
    definitions_only: bool
    registrants: frozenset[str]
    loader: Any
    unload: CodeType | None  # the new source's __hotmod_unload__
    stat: tuple[int, int, int] | None  # the file's (mtime, size, inode) when it was read
    plain: Groups = ()  # definitions a run may skip (`plain_definitions`)
    size: int = 0  # bytes it holds in the compile cache (`_size`)


def _skippable(step: _Step, ns: dict[str, Any], prints: Prints | None, txn: _Txn) -> frozenset[str]:
    """The plain definitions this run leaves be, counted as kept (as a run would have
    kept them: the report reads the same)."""
    if prints is None:
        return frozenset()
    skip = unchanged(ns, prints, step.plain)
    txn.patcher.patched += prints.kept if skip is prints.every else kept_count(ns, skip)
    return skip


def _left_plain(
    step: _Step, ns: dict[str, Any], prints: Prints | None, skip: frozenset[str]
) -> tuple[CodeType, Prints] | None:
    """How this run left the module's plain definitions (the note it had if it left them
    all be)."""
    if step.code is None or not step.plain:
        return None
    if prints is not None and skip and skip is prints.every:
        return step.code, prints
    return step.code, fingerprints(ns, step.plain)


def _entry_step(
    name: str,
    path: str,
    source: bytes,
    entry: _diskcache.Entry,
    stat: tuple[int, int, int] | None,
) -> _Step:
    code = entry.code
    keeps = entry.bound | _IMPORT_DUNDERS
    size = len(source) + 3 * entry.size + 512 if entry.size else _size(source, code)
    return _Step(
        name, path, source, code, keeps, entry.dynamic, False, entry.registrants, None,
        _unload_code(code), stat, entry.plain, size,
    )  # fmt: skip


def _size(source: bytes, code: CodeType | None) -> int:
    # Code objects take about three times their marshalled size in memory (measured:
    # 7.3 KB for a 450-byte module of ten functions and a class, 2.2 KB marshalled).
    return len(source) + 3 * len(marshal.dumps(code)) + 512 if code is not None else 2 * len(source)


class _Txn:
    """Everything a transaction touched, to commit or undo."""

    def __init__(self) -> None:
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.modules_before: set[str] = set()
        self.patcher = Patcher()
        self.rebind_undo: list[Callable[[], None]] = []
        self.plan: Plan | None = None
        self.current: str | None = None
        self.modules: dict[str, ModuleType] = {}
        # Cycle members taken out of sys.modules (and their parents' attributes) while
        # their group runs, so that importing one runs it as a fresh import would.
        self.cycles: Cycles | None = None
        self.settle: list[Callable[[Patcher, list[Callable[[], None]]], None]] = []
        self.settle_undo: list[Callable[[], None]] = []
        self.stats: dict[str, tuple[int, int, int]] = {}  # file stat when its source was read
        # How each run left its module's plain definitions, kept by the reloader on commit.
        self.plain: dict[str, tuple[CodeType, Prints] | None] = {}
        self.checked: dict[str, float] = {}  # monotonic time just before that stat
        # The watcher's monitor: since when it has seen every change to a path (or None).
        self.watched: Callable[[str], float | None] | None = None
        # Compiled steps whose files the monitor vouches for: compiled already.
        self.unchanged: dict[str, _Step] = {}
        self.thread = threading.get_ident()
        self.view: integrations.Transaction | None = None
        self.adapters: list[integrations.Integration] = []


class _BeingWritten(OSError):
    """A dependent's file is open for writing and no complete text of it is known."""


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
        self.last_failure: ReloadReport | None = None
        self.registries = Registries(lambda: integrations.triggers(entry_points=False))
        # Namespaces of no module (an IPython shell's user_ns) with their from-imports.
        self.namespaces: dict[int, tuple[dict[str, Any], Callable[[], Sequence[ImportRef]]]] = {}
        self._compiled = _CompileCache()
        self.cache_worker = _diskcache.Worker(self.lock)
        self._plain: dict[str, tuple[CodeType, Prints]] = {}  # (`_unchanged`)
        # Entries of what a reload compiled, written once it committed (imports to add).
        self._unsaved: list[tuple[str, bytes, _diskcache.Entry]] = []
        install_clock()
        integrations.triggers()  # third-party adapters' frameworks, known from now on

    # -- knowledge of the loaded program -----------------------------------------------

    def sync(self, *, warm: bool = False) -> None:
        """Index modules imported since the last call (path, source hash, imports).

        With ``warm`` (or while a watcher runs), the cache worker then prepares every
        module indexed without a disk entry (`_warm`).
        """
        warm = warm or bool(state.watchers)
        unwarmed: list[Callable[[], None]] = []
        for name in self.modmap.sync():
            path = self.modmap.path_of(name)
            module = sys.modules.get(name)
            if path is None or module is None:
                continue
            try:
                data = _read(path)
            except OSError:  # (gone for now): its imports read off its namespace
                self.modmap.set_hash(name, None)
                self.graph.set_imports(name, _live_refs(module))
                continue
            digest: int | None = source_hash(data)
            imported = import_clock.sources.pop(path, None)
            if imported is not None and imported != data:
                # Edited since its import: the source it runs is the one the loader read.
                data, digest = imported, source_hash(imported)
            elif import_clock.edited_after_import(name, path, digest):
                digest = None  # edited since it was imported: what it runs is unknown
            self.modmap.set_hash(name, digest)
            args = _parse_args(name, module, path)
            key = (data, path, args["module"], args["is_package"])
            cacheable = digest is not None and _cacheable(module, data)
            entry = _diskcache.load(*key) if cacheable else None
            if entry is not None:
                self.registries.committed(name, entry.registrants)
                self.graph.set_imports(name, entry.imports())
                continue
            self.graph.set_imports(name, self._index(name, module, data, digest, args))
            if cacheable and warm:
                unwarmed.append(functools.partial(self._warm, name, *key))
        self.cache_worker.warm(unwarmed)

    def _warm(self, name: str, source: bytes, path: str, module: str, is_package: bool) -> None:
        # A cache worker's job (under the lock): the module's entry on disk, unless some
        # process wrote it meanwhile; or, for a program that writes no bytecode, its
        # compiled step in memory, while the compile cache has room for it.
        if not sys.dont_write_bytecode:
            if _diskcache.load(source, path, module, is_package) is None:
                entry = _entry(source, path, module, is_package)
                _diskcache.store(source, path, module, is_package, entry)
            return
        digest = source_hash(source)
        if self._compiled.get(name, path, digest) is not None:
            return
        step = _entry_step(name, path, source, _entry(source, path, module, is_package), None)
        self._compiled.put(name, path, digest, step, 0.0, evict=False)

    def _index(
        self, name: str, module: ModuleType, data: bytes, digest: int | None, args: dict[str, Any]
    ) -> list[ImportRef]:
        # A module's imports (and registrants) from its source.
        path = args["filename"]
        try:
            refs, parsed = parse(data, path, module=args["module"], is_package=args["is_package"])
            # (a big plain source is read off its bytecode: it registers nothing)
            if digest is not None and isinstance(parsed, ast.Module):
                self.registries.committed(name, registrants(parsed))
        except (SyntaxError, ValueError):
            # Not the source it ran: its imports are read line by line and off its
            # namespace, so the next reload of what it imports still includes it.
            self.modmap.set_hash(name, None)
            refs = _import_lines(data, name, module, path) + _live_refs(module)
        return refs

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
            if self.modmap.path_of(name) is None:
                raise ValueError(f"cannot reload {name!r}: {no_source_reason(module)}")
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

    def add_namespace(self, ns: dict[str, Any], refs: Callable[[], Sequence[ImportRef]]) -> None:
        """Rebind ``ns`` (no module's namespace) inside every reload, from ``refs()``."""
        with self.lock:
            self.namespaces[id(ns)] = (ns, refs)

    def remove_namespace(self, ns: dict[str, Any]) -> None:
        """Stop rebinding ``ns``."""
        with self.lock:
            self.namespaces.pop(id(ns), None)

    def _imported(self, name: str, txn: _Txn) -> list[ModuleType]:
        # What the module imports now and what its previous version imported.
        new = txn.plan.refs.get(name) if txn.plan is not None else None
        names = {r.module for r in new} if new is not None else self.graph.imports(name)
        names |= self.graph.imports(name)
        return [m for dep in names if (m := sys.modules.get(dep)) is not None]

    def _cascades(self, name: str) -> bool:
        return name != "__main__" and self.modmap.is_reloadable(name)

    # -- the transaction ---------------------------------------------------------------

    def reload(self, targets: Iterable[object], *, cascade: bool = True) -> ReloadReport:
        """Reload ``targets`` and (with ``cascade``) their dependents, changed or not."""
        report = self._reload(targets, cascade=cascade, only_changed=False)
        assert report is not None
        return report

    def reload_changed(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        cascade: bool = True,
        watched: Callable[[str], float | None] | None = None,
    ) -> ReloadReport | None:
        """Reload the modules of ``paths`` whose source changed; None if none did.

        The watcher's entry: files no loaded module comes from are ignored, and a file
        saved with the text its module runs is no change. ``watched(path)``: since when
        (``time.monotonic()``) the watcher's monitor has seen every change to ``path``
        as it happened, or None; a dependent read since then, with no event since, is
        known unchanged without looking at the file.
        """
        return self._reload(paths, cascade=cascade, only_changed=True, watched=watched)

    def _reload(
        self,
        targets: Iterable[object],
        *,
        cascade: bool,
        only_changed: bool,
        watched: Callable[[str], float | None] | None = None,
    ) -> ReloadReport | None:
        started = time.perf_counter()
        # The garbage collector pauses while module code runs (one collection after the
        # reload, not many over the whole heap) and resumes once the report is out.
        collecting = gc.isenabled()
        try:
            with self.lock:
                self.sync()
                names: list[str] = []
                for target in targets:
                    for name in self.resolve(target) if not only_changed else self._quiet(target):
                        if name not in names:
                            names.append(name)
                report = self._run(
                    names, cascade=cascade, only_changed=only_changed, watched=watched
                )
                if report is None:
                    return None
                report.duration = time.perf_counter() - started
                # Shown by the middlewares' error pages until a reload succeeds.
                self.last_failure = report if report.error is not None else None
                unsaved = self._to_save(report.error is None)
            log_report(report)
            for listener in list(self.listeners):
                try:
                    listener(report)
                except Exception:
                    logging.getLogger("hotmod").exception("reload listener %r raised", listener)
            self.cache_worker.write(unsaved)  # after the report: off a save's path
            return report
        finally:
            if collecting:
                gc.enable()

    def _to_save(self, committed: bool) -> list[Callable[[], None]]:
        # Jobs writing the entries of what a committed reload compiled, with the imports
        # the graph now holds for them.
        jobs: list[Callable[[], None]] = []
        for name, source, entry in (
            self._unsaved if committed and not sys.dont_write_bytecode else ()
        ):
            module = sys.modules.get(name)
            path = self.modmap.path_of(name)
            if module is not None and path is not None:
                refs = tuple(self.graph.refs(name))
                args = _parse_args(name, module, path)
                jobs.append(functools.partial(_store, source, args, entry._replace(refs=refs)))
        self._unsaved = []
        return jobs

    def _quiet(self, target: object) -> list[str]:
        # The watcher's view: files no loaded module comes from are simply ignored.
        if isinstance(target, (str, os.PathLike)):
            return [n for n in self.modmap.names_for(os.fspath(target)) if n in sys.modules]
        return self.resolve(target)

    def _run(
        self,
        names: list[str],
        *,
        cascade: bool,
        only_changed: bool,
        watched: Callable[[str], float | None] | None = None,
    ) -> ReloadReport | None:
        report = ReloadReport()
        sources: dict[str, bytes] = {}
        txn = _Txn()
        txn.watched = watched
        for name in names:
            path = self.modmap.path_of(name)
            assert path is not None
            try:
                txn.checked[name] = time.monotonic()
                txn.stats[name] = _stat_key(os.stat(path))
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
        try:
            plan = make_plan(
                self.graph,
                self.modmap,
                names,
                sources,
                frozen=frozen,
                cascade=cascade,
                cascades=self._cascades,
                no_reload=_no_reload,
                read=functools.partial(self._read_source, txn),
                parse_args=lambda name: _parse_args(
                    name, sys.modules[name], self.modmap.path_of(name) or "<unknown>"
                ),
                finish_order=sys.modules,
            )
            txn.plan = plan
            groups = plan.groups
            steps = [self._compile(name, plan, txn) for group in groups for name in group]
        except PlanError as failure:
            return _failed(report, failure.error, failure.module)
        except _Failure as failure:
            return _failed(report, failure.error, failure.module)
        if not steps:
            return report
        integrations.activate_imported()
        txn.adapters = list(integrations.active())
        ledger.begin()
        gc.disable()  # enabled again by `_reload`, once the report is out
        try:
            self._execute(steps, groups, txn, report)
        except BaseException as exc:
            self._rollback(txn)
            _failed(report, exc, txn.current)
            if isinstance(exc, integrations.RestartRequired):
                report.needs_restart.append(exc.module)
                report.module = exc.module
            self._tell(txn, "rolled_back", report)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return report
        self._commit(steps, txn, report)
        discarded = _discarded(steps, txn)
        txn.view = None  # the view's callables refer back to txn: no cycle to outlive it
        txn.patcher.object_hooks.clear()
        del txn, steps, groups  # our references to old objects go before we look for others'
        report.stale = find_stale(discarded, self.registries.prune, self._namespaces)
        return report

    def _namespaces(self, near: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        # The program's own modules, where its registries live: first ``near`` and the
        # modules they import (a registry they appended to) or are imported by.
        first: dict[str, None] = {}
        for name in near:
            first.update(dict.fromkeys([name, *self.graph.imports(name)]))
            first.update(dict.fromkeys(self.graph.importers(name)))
        rest = [n for n in list(sys.modules) if n not in first]
        for name in [*first, *rest]:
            module = sys.modules.get(name)
            if module is not None and self.modmap.is_reloadable(name):
                yield name, module.__dict__

    def _commit(self, steps: list[_Step], txn: _Txn, report: ReloadReport) -> None:
        ledger.commit()
        assert txn.plan is not None
        for name, refs in txn.plan.refs.items():
            self.graph.set_imports(name, refs)  # the graph changes only on commit
        for action in txn.patcher.on_commit:
            action()
        for name, plain in txn.plain.items():
            if plain is None:
                self._plain.pop(name, None)
            else:
                self._plain[name] = plain
        for step in steps:
            self.modmap.set_hash(step.name, source_hash(step.source))
            if not step.definitions_only:
                owner = txn.modules[step.name].__dict__.get("__name__", step.name)
                self.registries.committed(owner, step.registrants)
        self._tell(txn, "committed", report)

    def _tell(self, txn: _Txn, hook: str, report: ReloadReport) -> None:
        for adapter in txn.adapters:
            try:
                getattr(adapter, hook)(report)
            except Exception:
                logging.getLogger("hotmod").exception("integration %r raised in %s", adapter, hook)

    def _read_source(self, txn: _Txn, name: str, path: str) -> bytes:
        # A dependent's file is stat'ed, not read, when it did not change since its
        # last reload (the stat comes first: a write after it shows up next time).
        # Not even stat'ed when the monitor has seen every change to it since it was
        # last checked: with no event it is unchanged, and one being written right
        # now is not read half-written (its own batch follows).
        since = txn.watched(path) if txn.watched is not None else None
        if since is not None:
            step = self._compiled.checked_since(name, path, since)
            if step is not None and step.stat is not None:
                txn.stats[name] = step.stat
                txn.unchanged[name] = step
                return step.source
        now = txn.checked[name] = time.monotonic()
        stat = txn.stats[name] = _stat_key(os.stat(path))
        cached = self._compiled.source(name, path, stat, now)
        if cached is not None:
            return cached
        if time.time_ns() - stat[0] < STALL * 1e9 and open_for_writing(path):
            # Changed, and an editor is writing it right now (as the monitor tells: open
            # for writing, written to within STALL): run its last complete text if
            # there is one; its own batch follows once the file is closed.
            step = self._compiled.latest(name, path)
            if step is not None and step.stat is not None:
                txn.stats[name] = step.stat
                return step.source
            if txn.watched is not None:
                # No complete text of it yet: under a watcher it stays as it runs (its
                # from-imports rebound) until its own batch re-runs it.
                raise _BeingWritten(errno.EBUSY, "being written", path)
        return _read(path)

    def _compile(self, name: str, plan: Plan, txn: _Txn) -> _Step:
        source = plan.sources[name]
        vouched = txn.unchanged.get(name)
        if vouched is not None and vouched.source is source:
            return vouched  # (its cache entry is as it was: same file, same stat)
        path = self.modmap.path_of(name) or "<unknown>"
        module = sys.modules[name]
        main = _is_main(module)
        digest = source_hash(source)
        cached = None if main else self._compiled.get(name, path, digest)
        if cached is not None:
            if cached.stat != txn.stats.get(name):
                cached = cached._replace(stat=txn.stats.get(name))
                self._compiled.put(name, path, digest, cached, txn.checked.get(name, 0.0))
            return cached
        loader = _custom_loader(module)
        if name not in plan.trees and name not in plan.scans and _cacheable(module, source):
            step = self._from_disk(name, module, path, source, txn)
            if step is not None:
                self._compiled.put(name, path, digest, step, txn.checked.get(name, 0.0))
                return step
        try:
            scanned = plan.scans.pop(name, None)
            if loader is not None or main:
                scanned = None
            elif scanned is None and name not in plan.trees:
                scanned = scan(source, path)  # planned from its cached text: not read yet
            code: CodeType | None
            if scanned is not None:
                # A big module of plain data and functions: compiled from its text, read
                # off its bytecode (`_bigsource`); its functions are kept when it ends.
                code, bound, dynamic = scanned.code, scanned.bound, scanned.dynamic
                names: frozenset[str] = frozenset()
                plain: Groups = ()
            else:
                tree = plan.trees.pop(name, None) or ast.parse(source, path)
                bound, dynamic = bound_names(tree, source)
                names = registrants(tree)
                plain = () if main else plain_definitions(tree, dynamic, source)
                if main:
                    _script_body(tree, module.__dict__)
                if loader is None:
                    code = compile(instrument(tree, plain), path, "exec", dont_inherit=True)
                    if not main:
                        entry = _diskcache.Entry((), names, code, frozenset(bound), dynamic, plain)
                        self._unsaved.append((name, source, entry))
                elif hasattr(loader, "source_to_code"):
                    code = loader.source_to_code(source, path)  # a source-transforming hook
                else:
                    code = None  # the loader runs the module itself (pytest's rewriting)
        except (SyntaxError, ValueError) as exc:
            raise _Failure(exc, name) from exc
        keeps, stat = frozenset(bound) | _IMPORT_DUNDERS, txn.stats.get(name)
        plain = plain if code is not None and loader is None else ()
        step = _Step(
            name, path, source, code, keeps, dynamic, main, names, loader, _unload_code(code),
            stat, plain, _size(source, code),
        )  # fmt: skip
        if not step.definitions_only:  # the running script is never cached
            self._compiled.put(name, step.path, digest, step, txn.checked.get(name, 0.0))
        return step

    def _from_disk(
        self, name: str, module: ModuleType, path: str, source: bytes, txn: _Txn
    ) -> _Step | None:
        # The step of an entry some earlier reload or process wrote for this text.
        args = _parse_args(name, module, path)
        entry = _diskcache.load(source, path, args["module"], args["is_package"])
        return _entry_step(name, path, source, entry, txn.stats.get(name)) if entry else None

    def _execute(
        self, steps: list[_Step], groups: list[list[str]], txn: _Txn, report: ReloadReport
    ) -> None:
        txn.modules_before = set(sys.modules)
        for step in steps:
            txn.modules[step.name] = sys.modules[step.name]
            txn.snapshots[step.name] = dict(sys.modules[step.name].__dict__)
        patcher = txn.patcher
        view = txn.view = integrations.Transaction(
            [s.name for s in steps],
            report.changed,
            lambda name: txn.snapshots.get(name, {}),
            patcher.undo.append,
            patcher.on_commit.append,
            patcher.notes.append,
            patcher.canonical,
        )
        for adapter in txn.adapters:
            adapter.begin(view)
            patcher.object_hooks.append(_keep_hook(adapter, view))
        by_name = {step.name: step for step in steps}
        for group in groups:
            if len(group) == 1:
                self._exec_step(by_name[group[0]], txn, report)
            else:
                self._exec_cycle([by_name[name] for name in group], txn, report)
        txn.current = None
        for settle in txn.settle:
            settle(patcher, txn.settle_undo)
        report.rebound = self._rebind(steps, txn)
        for adapter in txn.adapters:
            adapter.finish(view)
        report.patched = patcher.patched
        report.notes = list(patcher.notes)

    def _exec_cycle(self, steps: list[_Step], txn: _Txn, report: ReloadReport) -> None:
        if txn.cycles is None:
            specs = {name: ns.get("__spec__") for name, ns in txn.snapshots.items()}
            txn.cycles = Cycles(txn.modules, specs)

        def run(step: _Step) -> None:
            self._exec_step(step, txn, report)

        def imported(step: _Step) -> None:
            importer = txn.current
            self._exec_step(step, txn, report)
            txn.current = importer  # on failure it names the member that raised

        txn.cycles.run(steps, run, imported)

    def _exec_step(self, step: _Step, txn: _Txn, report: ReloadReport) -> None:
        txn.current = step.name
        module = txn.modules[step.name]
        ns = module.__dict__
        old = txn.snapshots[step.name]
        owner = ns.get("__name__", step.name)
        _unload(step, module, old)
        settle = self.registries.before(
            owner,
            step.registrants,
            old,
            lambda: _internal_ids(txn),
            lambda: self._imported(step.name, txn),
        )
        if settle is not None:
            txn.settle.append(settle)
        # The running script's top-level statements do not run again: only what its
        # definitions registered is taken back (they run again).
        ledger.retract(owner, definitions_only=step.definitions_only)
        assert txn.view is not None
        for adapter in txn.adapters:
            adapter.before_module(txn.view, module)
        # What the module's run adds to its registries goes on rollback (what the ledger
        # took back above, it puts back itself).
        restore = self.registries.held(owner)
        if restore is not None:
            txn.settle_undo.append(restore)
        if not step.definitions_only:
            # A fresh import starts with no module annotations and no docstring.
            ns.pop("__annotations__", None)
            ns["__doc__"] = None
        definer = Definer(txn.patcher, owner, old)
        prints = self._prints(step, ns)
        skip = _skippable(step, ns, prints, txn)
        definer.install(ns, skip)
        try:
            if step.code is None:
                step.loader.exec_module(module)
            else:
                exec(step.code, ns)
        finally:
            Definer.remove(ns)
        if not step.definitions_only:
            _drop_removed(ns, old, step)
            _keep_submodules(module)
        txn.patcher.patch_namespace(owner, old, ns)
        txn.plain[step.name] = _left_plain(step, ns, prints, skip)
        for adapter in txn.adapters:
            adapter.after_module(txn.view, module)
        report.reloaded.append(step.name)

    def _prints(self, step: _Step, ns: dict[str, Any]) -> Prints | None:
        # How the plain definitions of the module were left by its last committed run
        # of this same code, or found as this code would define them (its first run).
        if step.code is None or not step.plain:
            return None
        last = self._plain.get(step.name)
        if last is not None and last[0] is step.code:
            return last[1]
        if self.modmap.known_hash(step.name) != source_hash(step.source):
            # An edited source: a default or an annotation may have changed, and a
            # function's code does not hold those. Its definitions run this time.
            return None
        return adopt(ns, step.code, step.plain, ns.get("__name__", step.name))

    def _rebind(self, steps: list[_Step], txn: _Txn) -> int:
        count = 0
        loose = self._loose_namespaces()
        typed = _typed_imports() if loose else None  # (read once: not once per module)
        for step in steps:
            old = txn.snapshots[step.name]
            new = txn.modules[step.name].__dict__
            for importer in self.graph.importers(step.name):
                module = sys.modules.get(importer)
                if module is None:
                    continue
                refs = txn.plan.refs.get(importer) if txn.plan is not None else None
                bindings = [
                    pair
                    for ref in (refs if refs is not None else self.graph.refs(importer))
                    if ref.kind == "top" and ref.module == step.name
                    for pair in ref.names
                ]
                count += rebind(
                    module.__dict__, bindings, old, new, txn.rebind_undo, txn.patcher.canonical
                )
            if loose:
                count += self._rebind_loose(step.name, loose, typed, old, new, txn)
            for ns, refs_of in list(self.namespaces.values()):
                pairs = [p for ref in refs_of() if ref.module == step.name for p in ref.names]
                count += rebind(ns, pairs, old, new, txn.rebind_undo, txn.patcher.canonical)
        return count

    def _rebind_loose(
        self,
        name: str,
        loose: list[dict[str, Any]],
        typed: list[ImportRef] | None,
        old: dict[str, Any],
        new: dict[str, Any],
        txn: _Txn,
    ) -> int:
        # No source file (python -c, the REPL): the from-imports are read from the -c
        # code or the REPL's history; without either, a name holding the very object
        # under the same name, never a value any code could hold alike (True, 0, "").
        if typed is not None:
            pairs = [p for ref in typed if ref.module == name for p in ref.names]
        else:
            pairs = [(k, k) for k, v in old.items() if not k.startswith("__") and _traceable(v)]
        return sum(rebind(ns, pairs, old, new, txn.rebind_undo) for ns in loose)

    def _loose_namespaces(self) -> list[dict[str, Any]]:
        # Namespaces with no source to read imports from: the REPL's __main__.
        main = sys.modules.get("__main__")
        return [main.__dict__] if main is not None and "__main__" not in self.graph else []

    def _rollback(self, txn: _Txn) -> None:
        if txn.cycles is not None:
            txn.cycles.rollback()
        for name, module in txn.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module  # the module deleted or replaced its own entry
        for undo in reversed(txn.rebind_undo):
            undo()
        for undo in reversed(txn.settle_undo):
            undo()
        for undo in reversed(txn.patcher.undo):
            undo()
        for name, saved in txn.snapshots.items():
            ns = txn.modules[name].__dict__
            ns.update(saved)
            for key in [k for k in ns if k not in saved]:
                del ns[key]
        for name in set(sys.modules) - txn.modules_before:
            added = sys.modules.pop(name)
            parent, _, child = name.rpartition(".")
            parent_module = sys.modules.get(parent)
            if parent_module is not None and getattr(parent_module, child, None) is added:
                delattr(parent_module, child)
        ledger.rollback()


class _CompileCache:
    """Compiled steps, the current version of each module only, bounded by bytes.

    Each entry also remembers when (``time.monotonic()``) its file was last found to
    hold its text: just before the stat that said so.
    """

    def __init__(self, limit: int = 128 * 1024 * 1024) -> None:
        self.limit = limit
        self._steps: dict[str, tuple[str, int, _Step, float]] = {}
        self._bytes = 0

    def source(
        self, name: str, path: str, stat: tuple[int, int, int], checked: float
    ) -> bytes | None:
        """The cached text of a file untouched (by its stat) since it was read, or None."""
        entry = self._steps.get(name)
        if entry is not None and entry[0] == path and entry[2].stat == stat:
            self._steps[name] = (*entry[:3], checked)
            return entry[2].source
        return None

    def checked_since(self, name: str, path: str, since: float) -> _Step | None:
        """The cached step of a file last found holding its text at or after ``since``."""
        entry = self._steps.get(name)
        if entry is not None and entry[0] == path and entry[3] >= since:
            self._steps[name] = self._steps.pop(name)  # most recently used last
            return entry[2]
        return None

    def latest(self, name: str, path: str) -> _Step | None:
        """The cached step of a file, whatever its file holds now."""
        entry = self._steps.get(name)
        return entry[2] if entry is not None and entry[0] == path else None

    def get(self, name: str, path: str, digest: int) -> _Step | None:
        entry = self._steps.get(name)
        if entry is None or entry[0] != path or entry[1] != digest:
            return None
        self._steps[name] = self._steps.pop(name)  # most recently used last
        return entry[2]

    def put(
        self, name: str, path: str, digest: int, step: _Step, checked: float, *, evict: bool = True
    ) -> None:
        """Cache ``step``; without ``evict``, only if it fits without evicting another."""
        if not evict and self._bytes + step.size > self.limit:
            return
        old = self._steps.pop(name, None)
        if old is not None:
            self._bytes -= old[2].size
        self._steps[name] = (path, digest, step, checked)
        self._bytes += step.size
        while self._bytes > self.limit and len(self._steps) > 1:
            evicted = next(iter(self._steps.values()))[2]
            del self._steps[evicted.name]
            self._bytes -= evicted.size


def _stat_key(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _custom_loader(module: ModuleType) -> Any:
    """The module's loader if it is not importlib's plain source loader, else None."""
    from importlib.machinery import SourceFileLoader

    spec = getattr(module, "__spec__", None)
    loader = getattr(spec, "loader", None) if spec is not None else None
    if loader is None or type(loader) is SourceFileLoader:
        return None
    if type(loader).__module__ in ("_frozen_importlib_external", "importlib.machinery"):
        return None
    return loader


def _unload_code(code: CodeType | None) -> CodeType | None:
    # The new source's own __hotmod_unload__, so a fixed hook runs on the next save.
    for const in code.co_consts if code is not None else ():
        if isinstance(const, CodeType) and const.co_name == "__hotmod_unload__":
            return const
    return None


def _unload(step: _Step, module: ModuleType, old: dict[str, Any]) -> None:
    hook: Any = old.get("__hotmod_unload__")
    if step.unload is not None and step.unload.co_freevars == ():
        hook = FunctionType(step.unload, module.__dict__, "__hotmod_unload__")
    if callable(hook):
        hook()


def _internal_ids(txn: _Txn) -> set[int]:
    ids = {id(ns) for ns in txn.snapshots.values()}
    ids.update((id(txn.snapshots), id(txn.patcher._alive), id(txn.patcher._canon)))
    return ids


def _keep_hook(
    adapter: integrations.Integration, view: integrations.Transaction
) -> Callable[[Any, Any], Any]:
    def hook(old: Any, new: Any) -> Any:
        kept = adapter.keep(view, old, new)
        return new if kept is integrations.NOT_HANDLED else kept

    return hook


def _discarded(steps: list[_Step], txn: _Txn) -> list[tuple[str, Any]]:
    """Old functions and classes of the plan that the module no longer binds.

    A discarded class brings its methods: whoever holds one of them runs old code too.
    """
    out: list[tuple[str, Any]] = []
    for step in steps:
        ns = txn.modules[step.name].__dict__
        owner = ns.get("__name__", step.name)
        snapshot = txn.snapshots[step.name]
        # Names no longer bound to their old value (found in C loops: usually few).
        for key, value in compress(
            snapshot.items(), map(operator.is_not, map(ns.get, snapshot), snapshot.values())
        ):
            if (
                (type(value) is FunctionType or issubclass(type(value), type))
                and getattr(value, "__module__", None) == owner
                and not txn.patcher.is_patched(value)
            ):
                out.append((f"{owner}.{key}", value))
                if issubclass(type(value), type):
                    out += [
                        (f"{owner}.{key}.{attr}", func)
                        for attr, member in vars(value).items()
                        for func in [getattr(member, "__func__", member)]
                        if isinstance(func, FunctionType) and not txn.patcher.is_patched(func)
                    ]
    return out


def _typed_imports() -> list[ImportRef] | None:
    """The top-level imports of ``python -c`` code or of the REPL's history, if known."""
    lines: list[str] = []
    argv = getattr(sys, "orig_argv", [])
    if "-c" in argv[:-1]:
        lines = argv[argv.index("-c") + 1].splitlines()
    else:
        readline = sys.modules.get("readline")
        length = readline.get_current_history_length() if readline is not None else 0
        if not length:
            return None
        lines = [readline.get_history_item(i) or "" for i in range(1, length + 1)]  # type: ignore[union-attr]
    refs: list[ImportRef] = []
    for line in lines:
        if "import" in line:
            with contextlib.suppress(SyntaxError, ValueError):
                refs += parse_imports(line.strip(), module="__main__", is_package=False)
    return refs


def _traceable(value: Any) -> bool:
    """False for values a REPL variable may hold by coincidence (True, 0, "", None, ...)."""
    # type(), not isinstance(): a proxy (werkzeug's request) would resolve its __class__.
    return not issubclass(type(value), (bool, int, float, complex, str, bytes, type(None), tuple))


def _import_lines(data: bytes, name: str, module: ModuleType, path: str) -> list[ImportRef]:
    """The import statements of a source that does not parse as a whole, line by line."""
    refs: list[ImportRef] = []
    args = _parse_args(name, module, path)
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith(("import ", "from ")):
            with contextlib.suppress(SyntaxError, ValueError):
                refs += parse_imports(line, module=args["module"], is_package=args["is_package"])
    return refs


def _live_refs(module: ModuleType) -> list[ImportRef]:
    """Imports read off a namespace, for a module whose source cannot be read or parsed."""
    refs: list[ImportRef] = []
    for key, value in list(vars(module).items()):
        if isinstance(value, ModuleType):
            refs.append(ImportRef(value.__name__, (), None, 0, "top"))
            continue
        origin = getattr(value, "__module__", None)
        if isinstance(origin, str) and origin != module.__name__ and origin in sys.modules:
            name = getattr(value, "__name__", key)
            refs.append(
                ImportRef(origin, ((name if isinstance(name, str) else key, key),), None, 0, "top")
            )
    return refs


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _parse_args(name: str, module: ModuleType, path: str) -> dict[str, Any]:
    spec = getattr(module, "__spec__", None)
    resolved = spec.name if spec is not None and getattr(spec, "name", None) else name
    return {"module": resolved, "is_package": hasattr(module, "__path__"), "filename": path}


def _cacheable(module: ModuleType, source: bytes) -> bool:
    # Sources run from instrumented code of their own (`_compile`'s usual case).
    return len(source) <= BIG and _custom_loader(module) is None and not _is_main(module)


def _entry(source: bytes, path: str, name: str, is_package: bool) -> _diskcache.Entry:
    """Everything the reloader reads off a source, as `sync` and `_compile` read it."""
    tree = ast.parse(source, path)
    refs = imports_of(tree, module=name, is_package=is_package)
    bound, dynamic = bound_names(tree, source)
    names = registrants(tree)
    plain = plain_definitions(tree, dynamic, source)
    code = compile(instrument(tree, plain), path, "exec", dont_inherit=True)
    return _diskcache.Entry(tuple(refs), names, code, frozenset(bound), dynamic, plain)


def _store(source: bytes, args: dict[str, Any], entry: _diskcache.Entry) -> None:
    _diskcache.store(source, args["filename"], args["module"], args["is_package"], entry)


def _script_body(tree: ast.Module, namespace: dict[str, Any]) -> None:
    """The running script's statements a reload runs: its definitions, and imports it
    did not run yet (added with the code that uses them)."""
    tree.body = [
        node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        or _new_import(node, namespace)
    ]


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
    if step.dynamic or step.keeps.issuperset(old):
        return  # (the common case: no name to look at)
    for key in old.keys() - step.keeps:
        if ns.get(key, MISSING) is old[key]:
            del ns[key]


def _keep_submodules(module: ModuleType) -> None:
    # A fresh import leaves ``pkg.sub`` bound for every imported submodule.
    if "__path__" not in module.__dict__ and (
        type(module) is ModuleType or not hasattr(module, "__path__")
    ):
        return  # (a plain module's dict says it: hasattr's failed lookup costs more)
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
