"""The reload transaction: compile everything, snapshot, execute in order, commit or roll back."""

from __future__ import annotations

import ast
import contextlib
import errno
import functools
import gc
import logging
import operator
import os
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress
from types import CodeType, FunctionType, ModuleType
from typing import Any

from . import _bigsource, _diskcache, _sideeffects, integrations
from ._audit import CodeHistory, Reported, find_running, find_stale
from ._bigsource import Piece, parse
from ._closures import update_made
from ._cycles import Cycles
from ._define import (
    Definer,
    Prints,
    adopt,
    fingerprints,
    kept_count,
    made_here,
    unchanged,
)
from ._graph import ImportGraph, ImportRef, parse_imports, refs_of_nodes
from ._missing import MISSING
from ._modmap import ModuleMap, no_source_reason, real, source_hash
from ._monitor._batch import STALL
from ._monitor._lease import read_held, read_still
from ._patch import Patcher, forget_abc_verdicts, is_class, is_function
from ._plan import Plan, PlanError, make_plan
from ._quiet import literals_hold
from ._rebind import rebind
from ._registrants import registrants
from ._registry import Registries, take_out_modules
from ._report import ReloadReport, log_report, release_frames
from ._runtime import import_clock, install_clock, ledger, state
from ._settle import Shares
from ._steps import (
    CompileCache,
    Light,
    Step,
    build_step,
    cacheable,
    entry_light,
    entry_step,
    from_disk,
    is_main,
    light_record,
    light_step,
    make_entry,
    parse_args,
    read_file,
    stat_key,
    store_entry,
)
from ._syntax import children

__all__ = ["Reloader"]

_Found = tuple[tuple[int, int, int], float]
"""Where a source's text was read: its file's `stat_key`, and when (`time.monotonic`)
just before that stat."""


def _skippable(step: Step, ns: dict[str, Any], prints: Prints | None, txn: _Txn) -> frozenset[str]:
    """The plain definitions this run leaves be, counted as kept (as a run would have
    kept them: the report reads the same)."""
    if prints is None:
        return frozenset()
    skip = unchanged(ns, prints, step.plain)
    txn.patcher.patched += prints.kept if skip is prints.every else kept_count(ns, skip)
    return skip


def _run_pieces(pieces: Sequence[Piece], ns: dict[str, Any], definer: Definer) -> None:
    """Run a big source's pieces in order; the functions and classes a piece compiled
    from its text defines get their definition hooks as soon as it has run
    (`_bigsource`)."""
    for piece in pieces:
        exec(piece.code, ns)
        for name in piece.defines:
            new = ns.get(name)
            if getattr(new, "__qualname__", None) != name:
                continue
            if type(new) is FunctionType:
                ns[name] = definer.bind(name)(definer.define(new))
            elif is_class(new):
                ns[name] = definer.define(new)  # (as its tree would: no decorator to bind)


def _left_plain(
    step: Step, ns: dict[str, Any], prints: Prints | None, skip: frozenset[str]
) -> tuple[CodeType, Prints] | None:
    """How this run left the module's plain definitions (the note it had if it left them
    all be)."""
    if step.code is None or not step.plain:
        return None
    if prints is not None and skip and skip is prints.every:
        return step.code, prints
    return step.code, fingerprints(ns, step.plain)


class _Txn:
    """Everything a transaction touched, to commit or undo."""

    def __init__(self) -> None:
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.modules_before: set[str] = set()
        self.finish_before: list[str] = []  # (`Reloader._finish_order` as it began)
        self.patcher = Patcher()
        self.rebind_undo: list[Callable[[], None]] = []
        self.plan: Plan | None = None
        self.current: str | None = None
        self.modules: dict[str, ModuleType] = {}
        # Cycle members taken out of sys.modules (and their parents' attributes) while
        # their group runs, so that importing one runs it as a fresh import would.
        self.cycles: Cycles | None = None
        self.settle: list[Callable[[Patcher, list[Callable[[], None]]], None]] = []
        self.path: list[str] = []  # sys.path as the plan began to run
        self.settle_undo: list[Callable[[], None]] = []
        self.shared = Shares()  # registries the plan's modules share
        self.stats: dict[str, tuple[int, int, int]] = {}  # file stat when its source was read
        # How each run left its module's plain definitions, kept by the reloader on commit.
        self.plain: dict[str, tuple[CodeType, Prints] | None] = {}
        self.checked: dict[str, float] = {}  # monotonic time just before that stat
        # The watcher's monitor: since when it has seen every change to a path (or None).
        self.watched: Callable[[str], float | None] | None = None
        # Compiled steps whose files the monitor vouches for: compiled already.
        self.unchanged: dict[str, Step] = {}
        self.bound: set[str] = set()  # modules whose imports were bound anew, not run
        self.thread = threading.get_ident()
        self.view: integrations.Transaction | None = None
        self.adapters: list[integrations.Integration] = []

    def release(self) -> None:
        """Let go of the old objects held (namespaces as they were, the patcher's maps,
        undo steps), once the transaction rolled back: whatever still refers to it (the
        report's traceback, an integration) must not keep them for the next reload's
        walk of the heap to take for registries."""
        self.patcher.release()
        for held in (self.snapshots, self.modules, self.plain, self.unchanged, self.bound):
            held.clear()
        for steps in (self.settle, self.settle_undo, self.rebind_undo, self.shared.later):
            steps.clear()
        self.view = None
        self.plan = None
        self.cycles = None


class _BeingWritten(OSError):
    """A dependent's file is open for writing and no complete text of it is known."""


class _Failure(Exception):
    """Carries the original exception and the module it came from out of a stage."""

    def __init__(self, error: BaseException, module: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.module = module


class Reloader:
    """The one reloader of the process; every entry point goes through `reload`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.modmap = ModuleMap()
        self.graph = ImportGraph(started=import_clock.started.get)
        self.listeners: list[Callable[[ReloadReport], None]] = []
        self.last_failure: ReloadReport | None = None
        self.registries = Registries(
            lambda: integrations.triggers(entry_points=False), ledger.holders
        )
        # Namespaces of no module (an IPython shell's user_ns) with their from-imports.
        self.namespaces: dict[int, tuple[dict[str, Any], Callable[[], Sequence[ImportRef]]]] = {}
        self._compiled = CompileCache()
        self.cache_worker = _diskcache.Worker(self.lock)
        self._plain: dict[str, tuple[CodeType, Prints]] = {}  # (`_unchanged`)
        # Modules whose light step was cached when indexed with no entry on its way to
        # disk: once a reload binds one, its entry is made (`_to_prepare`).
        self._unqueued: set[str] = set()
        self._history = CodeHistory()  # previous codes a call may still run
        self._reported = Reported()  # previous versions reported held, while they live
        # Entries of what a reload compiled, written once it committed (imports to add).
        self._unsaved: list[tuple[str, bytes, _diskcache.Entry]] = []
        # Modules a reload bound with a light step: their entries are made in the
        # background once it committed, for the next run (`_warm`).
        self._unprepared: list[tuple[str, bytes]] = []
        # The order modules finished importing in, as a fresh import has it, once a
        # reload ran a cycle (`_finish_order`), with the size and last name of
        # sys.modules it was brought up to date for.
        self._finished: list[str] | None = None
        self._finished_for: tuple[int, str] = (0, "")
        install_clock()
        integrations.triggers()  # third-party adapters' frameworks, known from now on

    # -- knowledge of the loaded program -----------------------------------------------

    def sync(self, *, warm: bool = False) -> None:
        """Index modules imported since the last call (path, source hash, imports).

        With ``warm`` (or while a watcher runs), the cache worker then prepares every
        module indexed without a disk entry (`_warm`).
        """
        # The garbage collector pauses meanwhile, as for a reload: indexing thousands of
        # modules makes millions of short-lived syntax nodes, no cycles among them.
        state.reload_begins()
        gc.disable()
        try:
            self._sync(warm=warm)
        finally:
            _bigsource.forget()  # (kept only for a reload's own plan: see `_reload`)
            state.reload_ends()

    def _sync(self, *, warm: bool = False) -> None:
        warm = warm or bool(state.watchers)
        unwarmed: list[Callable[[], None]] = []
        for name in self.modmap.sync():
            path = self.modmap.path_of(name)
            module = sys.modules.get(name)
            if path is None or module is None:
                continue
            imported = import_clock.sources.pop(path, None)
            compiled = import_clock.codes.pop(path, None)  # (the code of ``imported``)
            checked = time.monotonic()
            try:
                stat = stat_key(os.stat(path))  # (before the read: see `_read_source`)
                data = read_file(path)
            except OSError:  # (gone for now): its imports read off its namespace
                self.modmap.set_hash(name, None)
                self.graph.set_imports(name, _live_refs(module))
                continue
            digest: int | None = source_hash(data)
            found: _Found | None = (stat, checked)  # where the text read was found
            if imported is not None and imported != data:
                # Edited since its import: the source it runs is the one the loader read.
                data, digest, found = imported, source_hash(imported), None
            elif import_clock.edited_after_import(name, path, digest):
                digest = None  # edited since it was imported: what it runs is unknown
            self.modmap.set_hash(name, digest)
            args = parse_args(name, module, path)
            key = (data, path, args["module"], args["is_package"])
            storable = digest is not None and cacheable(module, data)
            entry = _diskcache.load(*key) if storable else None
            if entry is not None:
                assert digest is not None  # (storable)
                self.registries.committed(name, entry.registrants)
                self.graph.set_imports(name, entry.imports())
                light = entry_light(entry)
                if light is not None and warm:  # its light step, in the background
                    unwarmed.append(functools.partial(self._warm, name, *key, found))
                elif light is not None:
                    self._keep_light(name, module, light, data, digest, found, queued=True)
                continue
            # (Under a watcher, the cache worker makes its light step from its entry.)
            refs = self._index(name, module, data, digest, args, compiled, None if warm else found)
            self.graph.set_imports(name, refs)
            if storable and warm:
                unwarmed.append(functools.partial(self._warm, name, *key, found))
        self.cache_worker.warm(unwarmed)

    def _warm(
        self,
        name: str,
        source: bytes,
        path: str,
        module: str,
        is_package: bool,
        found: _Found | None = None,
    ) -> None:
        # A cache worker's job (under the lock): the module's entry, written to disk
        # unless some process did meanwhile, and (``found``: where ``source`` was read)
        # its light step if it is quiet and no reload took it up yet; for a program that
        # writes no bytecode, else the entry's compiled step, while the cache has room.
        digest = source_hash(source)
        writes = not sys.dont_write_bytecode
        entry = _diskcache.load(source, path, module, is_package) if writes else None
        if entry is None:
            if not writes and self._compiled.get(name, path, digest) is not None:
                return
            entry = make_entry(source, path, module, is_package)
            if writes:
                _diskcache.store(source, path, module, is_package, entry)
        loaded = sys.modules.get(name)
        kept = (
            loaded is not None
            and self.modmap.known_hash(name) == digest
            and self._compiled.latest(name, path) is None
            and cacheable(loaded, source)
            and self._keep_light(name, loaded, entry_light(entry), source, digest, found, True)
        )
        if not kept and not writes:
            step = entry_step(name, path, source, entry, None)
            self._compiled.put(name, path, digest, step, 0.0, evict=False)

    def _index(
        self,
        name: str,
        module: ModuleType,
        data: bytes,
        digest: int | None,
        args: dict[str, Any],
        compiled: CodeType | None,
        found: _Found | None,
    ) -> list[ImportRef]:
        # A module's imports (and registrants) from its source (``compiled``: its code,
        # as the import compiled it). With ``found`` (where the source was read, when no
        # cache worker prepares it), the light step of a quiet module too.
        path = args["filename"]
        try:
            refs, parsed = parse(
                data, path, module=args["module"], is_package=args["is_package"], compiled=compiled
            )
        except (SyntaxError, ValueError):
            # Not the source it ran: its imports are read line by line and off its
            # namespace, so the next reload of what it imports still includes it.
            self.modmap.set_hash(name, None)
            return _import_lines(data, name, module, path) + _live_refs(module)
        if digest is None:
            return refs
        if isinstance(parsed, ast.Module):
            names = registrants(parsed)
            if found is not None and not names and cacheable(module, data):
                light = light_record(parsed, data)
                self._keep_light(name, module, light, data, digest, found, queued=False)
        else:
            names = parsed.registrants
        self.registries.committed(name, names)
        return refs

    def _keep_light(
        self,
        name: str,
        module: ModuleType,
        record: Light | None,
        source: bytes,
        digest: int,
        found: _Found | None,
        queued: bool,
    ) -> bool:
        # Cache the light step of a quiet module (`light_step`), with how its import left
        # its plain definitions, if it is known to run ``source``: the import read that
        # very text, or its bytecode cache is current for it (`bytecode_current`). Its
        # first reload then neither reads nor compiles it. (``found``: where ``source``
        # was read; ``queued``: its entry is on disk or on its way.) True if cached.
        path = self.modmap.path_of(name)
        if record is None or found is None or path is None:
            return False
        stat, checked = found
        if import_clock.read.get(path) != digest and not _diskcache.bytecode_current(
            source, path, stat[:2]
        ):
            return False
        ns = module.__dict__
        prints = None
        if record.plain:
            files = {path, ns.get("__file__") or path}
            owner = ns.get("__name__", name)
            prints = made_here(ns, record.plain, record.lines, owner, files)
        step = light_step(name, path, source, stat, record, prints)
        if not self._compiled.put(name, path, digest, step, checked, evict=False):
            return False
        if not queued:
            self._unqueued.add(name)
        return True

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
            order = self._finish_order()
            return [m for group in self.graph.order(deps, finish_order=order) for m in group]

    def _finish_order(self) -> list[str]:
        """The order the loaded modules finished importing in, as a fresh import has it
        (ties of the plan's order, first places in lists go by it): the order of
        ``sys.modules``, but for the members of cycles a reload ran, which moved to its
        end (`Cycles.finish_order`). Read it, never change it."""
        modules = list(sys.modules)
        order = self._finished
        if order is None:
            return modules
        key = (len(modules), modules[-1] if modules else "")
        if key != self._finished_for:  # (modules imported or removed since)
            live, known = set(modules), set(order)
            order = [name for name in order if name in live]
            order.extend(name for name in modules if name not in known)
            self._finished, self._finished_for = order, key
        return order

    def add_namespace(self, ns: dict[str, Any], refs: Callable[[], Sequence[ImportRef]]) -> None:
        """Rebind ``ns`` (no module's namespace) inside every reload, from ``refs()``."""
        with self.lock:
            self.namespaces[id(ns)] = (ns, refs)

    def remove_namespace(self, ns: dict[str, Any]) -> None:
        """Stop rebinding ``ns``."""
        with self.lock:
            self.namespaces.pop(id(ns), None)

    def _importers(self, name: str, txn: _Txn) -> list[dict[str, Any]]:
        # The namespaces of the modules importing it: live, and their snapshots.
        found = []
        for importer in self.graph.importers(name):
            module = sys.modules.get(importer)
            if module is not None:
                found.append(module.__dict__)
            snapshot = txn.snapshots.get(importer)
            if snapshot is not None:
                found.append(snapshot)
        return found

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
        # The garbage collector pauses while the reload plans and runs module code (one
        # collection after the reload, not many over the whole heap) and resumes once
        # the report is out (`state.reload_ends`).
        state.reload_begins()
        gc.disable()
        try:
            with self.lock:
                # (a big source indexed now is read by the plan too: one scan of it)
                self._sync()
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
                if report.error is not None:
                    release_frames(report.error)
                report.duration = time.perf_counter() - started
                # Shown by the middlewares' error pages until a reload succeeds.
                self.last_failure = report if report.error is not None else None
                unsaved = self._to_save(report.error is None)
                unprepared = self._to_prepare(report.error is None)
            log_report(report)
            for listener in list(self.listeners):
                try:
                    listener(report)
                except Exception:
                    logging.getLogger("hotmod").exception("reload listener %r raised", listener)
            self.cache_worker.write(unsaved)  # after the report: off a save's path
            self.cache_worker.warm(unprepared)
            return report
        finally:
            _bigsource.forget()
            state.reload_ends()

    def _to_save(self, committed: bool) -> dict[str, Callable[[], None]]:
        # Jobs writing the entries of what a committed reload compiled, with the imports
        # the graph now holds for them, by file.
        jobs: dict[str, Callable[[], None]] = {}
        for name, source, entry in (
            self._unsaved if committed and not sys.dont_write_bytecode else ()
        ):
            args = self._source_args(name)
            if args is not None:
                entry = entry._replace(refs=tuple(self.graph.refs(name)))
                jobs[args["filename"]] = functools.partial(store_entry, source, args, entry)
        self._unsaved = []
        return jobs

    def _to_prepare(self, committed: bool) -> list[Callable[[], None]]:
        # Warm-up jobs making the entries of the modules a committed reload bound with
        # a light step (the next run then indexes them without parsing).
        jobs: list[Callable[[], None]] = []
        for name, source in self._unprepared if committed and not sys.dont_write_bytecode else ():
            self._unqueued.discard(name)
            args = self._source_args(name)
            if args is not None:
                key = (source, args["filename"], args["module"], args["is_package"])
                jobs.append(functools.partial(self._warm, name, *key))
        self._unprepared = []
        return jobs

    def _source_args(self, name: str) -> dict[str, Any] | None:
        # `parse_args` of a loaded module with a source file, else None.
        module = sys.modules.get(name)
        path = self.modmap.path_of(name)
        return parse_args(name, module, path) if module is not None and path is not None else None

    def _quiet(self, target: object) -> list[str]:
        # The watcher's view: files no loaded module comes from are simply ignored.
        if isinstance(target, (str, os.PathLike)):
            return [n for n in self.modmap.names_for(os.fspath(target)) if n in sys.modules]
        return self.resolve(target)

    def _import_order(self, finish_order: list[str], names: set[str]) -> list[str]:
        """Those of ``names`` the graph knows, in the order a fresh import runs them."""
        known = {name for name in names if name in self.graph}
        return [m for group in self.graph.order(known, finish_order=finish_order) for m in group]

    def _run(
        self,
        names: list[str],
        *,
        cascade: bool,
        only_changed: bool,
        watched: Callable[[str], float | None] | None = None,
    ) -> ReloadReport | None:
        report = ReloadReport()
        txn = _Txn()
        txn.watched = watched
        # (as the modules were before this reload ran any: a cycle's members it runs
        # go to the end of sys.modules)
        txn.finish_before = self._finish_order()
        txn.shared.order = functools.partial(self._import_order, txn.finish_before)
        try:
            sources = self._read_targets(names, txn, report, only_changed=only_changed)
            if only_changed:
                names = list(report.changed)
                if not names:
                    return None
            steps = self._prepare(names, sources, txn, report, cascade=cascade)
        except (PlanError, _Failure) as failure:
            return _failed(report, failure.error, failure.module)
        if not steps:
            return report
        if not self._attempt(steps, txn, report):
            txn.release()  # (`reload` clears hotmod's frames in the report's traceback)
            return report
        self._commit(steps, txn, report)
        owners: dict[str, str] = {}
        discarded = _discarded(steps, txn, owners)
        if txn.patcher.reshaped:
            forget_abc_verdicts(txn.patcher.reshaped)
        made = update_made(txn.patcher.replaced)
        txn.patcher.replaced += made.updated
        report.patched += len(made.updated)
        discarded += made.stale
        owners.update(made.makers)
        del made
        txn.view = None  # the view's callables refer back to txn: no cycle to outlive it
        txn.patcher.object_hooks.clear()
        previous = self._history.previous(txn.patcher.replaced)
        txn.patcher.replaced.clear()  # (``previous`` is now all that refers to those codes)
        del txn, steps  # our references to old objects go before we look for others'
        again = self._reported.again(report.reloaded)  # (before the new ones are noted)
        report.stale = find_stale(discarded, self.registries.prune, self._namespaces)
        self._reported.note(discarded, owners, report.stale)
        report.stale += again + find_running(previous)
        return report

    def _read_targets(
        self, names: list[str], txn: _Txn, report: ReloadReport, *, only_changed: bool
    ) -> dict[str, bytes]:
        """Read the targets' sources, noting in ``report`` the ones that changed.

        A deleted file, or one a writer has open again since its hold ran out, is left
        out under ``only_changed`` (its module stays as it is; its own events bring it),
        else it fails the reload (`_Failure`).
        """
        sources: dict[str, bytes] = {}
        for name in names:
            path = self.modmap.path_of(name)
            assert path is not None
            try:
                txn.checked[name] = time.monotonic()
                txn.stats[name] = stat_key(os.stat(path))
                sources[name] = read_held(path)
            except OSError as exc:
                if only_changed and isinstance(exc, (FileNotFoundError, BlockingIOError)):
                    continue  # deleted, or being saved: its module stays as it is
                raise _Failure(exc, name) from exc
            digest = source_hash(sources[name])
            self._compiled.settle(name, path, digest)
            if digest != self.modmap.known_hash(name):
                report.changed.append(name)
        return sources

    def _prepare(
        self,
        names: list[str],
        sources: dict[str, bytes],
        txn: _Txn,
        report: ReloadReport,
        *,
        cascade: bool,
    ) -> list[Step]:
        """Plan the reload of ``names`` and compile each module of the plan, in order.

        Raises:
            PlanError, _Failure: a source does not compile.
        """
        frozen = {n for n in names if _no_reload(n)}
        report.needs_restart = [n for n in report.changed if n in frozen]
        plan = txn.plan = make_plan(
            self.graph,
            self.modmap,
            names,
            sources,
            frozen=frozen,
            cascade=cascade,
            cascades=self._cascades,
            no_reload=_no_reload,
            read=functools.partial(self._read_source, txn),
            parse_args=lambda name: parse_args(
                name, sys.modules[name], self.modmap.path_of(name) or "<unknown>"
            ),
            finish_order=self._finish_order(),
        )
        return [self._compile(name, plan, txn) for group in plan.groups for name in group]

    def _attempt(self, steps: list[Step], txn: _Txn, report: ReloadReport) -> bool:
        """Execute the steps; on any exception roll everything back and return False."""
        assert txn.plan is not None
        integrations.activate_imported()
        txn.adapters = list(integrations.active())
        ledger.begin()
        try:
            self._execute(steps, txn.plan.groups, txn, report)
        except BaseException as exc:
            self._rollback(txn)
            _failed(report, exc, txn.current)
            if isinstance(exc, integrations.RestartRequired):
                report.needs_restart.append(exc.module)
                report.module = exc.module
            self._tell(txn, "rolled_back", report)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return False
        return True

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

    def _commit(self, steps: list[Step], txn: _Txn, report: ReloadReport) -> None:
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
        finished = txn.cycles.finish_order(txn.finish_before) if txn.cycles else None
        if finished is not None:
            self._finished, self._finished_for = finished, (0, "")  # (merged when next read)
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
        stat = txn.stats[name] = stat_key(os.stat(path))
        cached = self._compiled.unchanged(name, path, stat, now)
        if cached is not None:
            txn.unchanged[name] = cached
            return cached.source
        data = read_still(path)  # (held still while read: no save lands in the middle)
        if data is not None:
            return data
        if time.time_ns() - stat[0] < STALL * 1e9:
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
        return read_held(path)

    def _compile(self, name: str, plan: Plan, txn: _Txn) -> Step:
        source = plan.sources[name]
        vouched = txn.unchanged.get(name)
        if vouched is not None and vouched.source is source:
            return vouched  # (its cache entry is as it was: same file, same stat)
        path = self.modmap.path_of(name) or "<unknown>"
        module = sys.modules[name]
        digest = source_hash(source)
        stat, checked = txn.stats.get(name), txn.checked.get(name, 0.0)
        cached = None if is_main(module) else self._compiled.get(name, path, digest)
        if cached is not None:
            if cached.stat != stat:
                cached = cached._replace(stat=stat)
                self._compiled.put(name, path, digest, cached, checked)
            return cached
        step = None
        if name not in plan.trees and name not in plan.scans and cacheable(module, source):
            step = from_disk(name, module, path, source, stat)
        if step is None:
            try:
                step = self._build(
                    name,
                    module,
                    path,
                    source,
                    stat,
                    tree=plan.trees.pop(name, None),
                    scanned=plan.scans.pop(name, None),
                )
            except (SyntaxError, ValueError) as exc:
                raise _Failure(exc, name) from exc
        if not step.definitions_only:  # the running script is never cached
            self._compiled.put(name, path, digest, step, checked)
        return step

    def _build(
        self,
        name: str,
        module: ModuleType,
        path: str,
        source: bytes,
        stat: tuple[int, int, int] | None,
        **read: Any,
    ) -> Step:
        # `build_step` (``read``: what the plan read off the source); its entry is
        # written once the reload commits.
        step, entry = build_step(name, module, path, source, stat, **read)
        if entry is not None:
            self._unsaved.append((name, source, entry))
        return step

    def _compiled_light(self, step: Step, txn: _Txn) -> Step:
        """The step that runs a module whose light step could not just bind it: compiled
        from its source with the definition hooks, cached in place of the light one."""
        # (The source it ran: it compiles. Were it not to, the reload fails, rolled back.)
        module = txn.modules[step.name]
        full = from_disk(step.name, module, step.path, step.source, step.stat) or self._build(
            step.name, module, step.path, step.source, step.stat
        )
        checked = txn.checked.get(step.name, 0.0)
        self._compiled.put(step.name, step.path, source_hash(step.source), full, checked)
        return full

    def _execute(
        self, steps: list[Step], groups: list[list[str]], txn: _Txn, report: ReloadReport
    ) -> None:
        txn.modules_before = set(sys.modules)
        txn.path = list(sys.path)
        txn.shared.loaded = txn.modules_before
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
                step = by_name[group[0]]
                if not self._bind_only(step, txn, report):
                    self._exec_step(step, txn, report)
            else:
                self._exec_cycle([by_name[name] for name in group], txn, report)
        txn.current = None
        for settle in (*txn.settle, *txn.shared.later):
            settle(patcher, txn.settle_undo)
        txn.shared.later.clear()  # (each refers to the records: a cycle holding registries)
        report.rebound = self._rebind(steps, txn)
        for adapter in txn.adapters:
            adapter.finish(view)
        report.patched = patcher.patched
        report.notes = list(patcher.notes)

    def _bind_only(self, step: Step, txn: _Txn, report: ReloadReport) -> bool:
        """Bring a quiet module up to date without running it, when a run would only
        bind its imports again (True): its source is the one it ran, its plain
        definitions are as its last run left them, its literals' names hold what the
        literals make, it registered nothing, and what it imports from modules outside
        the plan is still bound as its import bound it.
        Its from-imports of the plan's modules (run or bound before it) are bound anew,
        as a run would bind them; any doubt, and it runs."""
        name = step.name
        if step.quiet is None or step.registrants or step.definitions_only:
            return False
        if step.code is None and not step.light:
            return False
        assert txn.plan is not None
        if name in txn.plan.refs or self.modmap.known_hash(name) != source_hash(step.source):
            return False
        ns = txn.modules[name].__dict__
        owner = ns.get("__name__", name)
        if "__hotmod_unload__" in ns or ledger.holds(owner):
            return False
        prints = self._prints(step, ns)
        if step.plain and (
            prints is None
            or not prints.every
            or unchanged(ns, prints, step.plain) is not prints.every
        ):
            return False
        if not literals_hold(ns, step.quiet):
            return False  # (the program rebound one: a run binds the literal again)
        fresh = self._fresh_imports(name, ns, txn)
        if fresh is None:
            return False
        txn.current = name
        txn.bound.add(name)
        ns.update(fresh)
        if prints is not None:
            txn.patcher.patched += prints.kept  # (kept, as a run would have)
        # (A light step's own note of its definitions is its ``prints``: none kept.)
        txn.plain[name] = None if prints is None or step.code is None else (step.code, prints)
        if step.light and name in self._unqueued:
            self._unprepared.append((name, step.source))
        report.reloaded.append(name)
        return True

    def _fresh_imports(
        self, name: str, ns: dict[str, Any], txn: _Txn
    ) -> list[tuple[str, Any]] | None:
        """What a run of ``name`` would bind anew: each name it imports from a module of
        the plan, with its value now. None if a run would bind anything else than what
        ``ns`` holds, or might fail (a name missing, a module not imported)."""
        fresh: list[tuple[str, Any]] = []
        for ref in self.graph.refs(name):
            if ref.kind != "top":
                continue
            if not ref.names:  # import a.b (binds a), import a.b as c (binds a.b)
                top = ref.module.partition(".")[0]
                local, target = (ref.alias, ref.module) if ref.alias else (top, top)
                module = sys.modules.get(target)
                if module is None or ns.get(local, MISSING) is not module:
                    return None
                continue
            values = getattr(sys.modules.get(ref.module), "__dict__", None)
            if type(values) is not dict:
                return None
            planned = ref.module in txn.modules
            for attr, local in ref.names:
                value = values.get(attr, MISSING)
                if value is MISSING:
                    return None  # (a run tells: an ImportError, or a submodule imported)
                if planned:
                    fresh.append((local, value))
                elif ns.get(local, MISSING) is not value:
                    return None
        return fresh

    def _exec_cycle(self, steps: list[Step], txn: _Txn, report: ReloadReport) -> None:
        if txn.cycles is None:
            specs = {name: ns.get("__spec__") for name, ns in txn.snapshots.items()}
            txn.cycles = Cycles(txn.modules, specs)

        def run(step: Step) -> None:
            self._exec_step(step, txn, report)

        def imported(step: Step) -> None:
            importer = txn.current
            self._exec_step(step, txn, report)
            txn.current = importer  # on failure it names the member that raised

        txn.cycles.run(steps, run, imported)

    def _take_back(
        self, step: Step, txn: _Txn, module: ModuleType, owner: str, old: dict[str, Any]
    ) -> None:
        """Before a module runs again: count its entries in the registries outside it
        (settled once the plan has run), and take back what its previous run registered
        there, each with its undo."""
        take_out = None
        if self.registries.tracks(owner, step.registrants):
            counted = self.registries.before(
                owner,
                step.registrants,
                old,
                lambda: _internal_ids(txn),
                lambda: self._imported(step.name, txn),
                lambda: self._importers(step.name, txn),
                txn.shared,
            )
            if counted.settle is not None:
                txn.settle.append(counted.settle)
            take_out = counted.take_out
        # The running script's top-level statements do not run again: only what its
        # definitions registered is taken back (they run again).
        ledger.retract(owner, definitions_only=step.definitions_only)
        put_back = _sideeffects.take_overloads(owner)
        if put_back is not None:
            txn.settle_undo.append(put_back)
        assert txn.view is not None
        for adapter in txn.adapters:
            adapter.before_module(txn.view, module)
        # What the module's run adds to its registries goes on rollback (what the ledger
        # took back above, it puts back itself).
        restore = self.registries.held(owner, take_out)
        if restore is not None:
            txn.settle_undo.append(restore)
        self.registries.take_back(owner)

    def _exec_step(self, step: Step, txn: _Txn, report: ReloadReport) -> None:
        txn.current = step.name
        if step.light:
            step = self._compiled_light(step, txn)
        module = txn.modules[step.name]
        ns = module.__dict__
        old = txn.snapshots[step.name]
        owner = ns.get("__name__", step.name)
        _unload(step, module, old)
        self._take_back(step, txn, module, owner, old)
        if not step.definitions_only:
            # A fresh import starts with no module annotations and no docstring.
            ns.pop("__annotations__", None)
            ns["__doc__"] = None
        definer = Definer(txn.patcher, owner, old)
        prints = self._prints(step, ns)
        skip = _skippable(step, ns, prints, txn)
        definer.install(ns, skip)
        path = list(sys.path)
        try:
            if step.code is None:
                step.loader.exec_module(module)
            elif step.pieces:
                _run_pieces(step.pieces, ns, definer)
            else:
                exec(step.code, ns)
            definer.settle_twins(ns)
            if sys.path != path:
                _no_second_entries(path)
        finally:
            Definer.remove(ns)
            entry = sys.modules.get(step.name)
            if entry is not module and type(getattr(entry, "__dict__", None)) is dict:
                Definer.remove(entry.__dict__)  # (it replaced its entry by a copy of itself)
        if not step.definitions_only:
            _drop_removed(ns, old, step)
            _keep_submodules(module)
        txn.patcher.patch_namespace(owner, old, ns)
        txn.plain[step.name] = _left_plain(step, ns, prints, skip)
        assert txn.view is not None
        for adapter in txn.adapters:
            adapter.after_module(txn.view, module)
        report.reloaded.append(step.name)

    def _prints(self, step: Step, ns: dict[str, Any]) -> Prints | None:
        # How the plain definitions of the module were left by its last committed run
        # of this same code, or found as this code would define them (its first run),
        # or (a light step) as its import left them.
        if not step.plain or (step.code is None and not step.light):
            return None
        last = self._plain.get(step.name)
        if last is not None and last[0] is step.code:
            return last[1]
        if self.modmap.known_hash(step.name) != source_hash(step.source):
            # An edited source: a default or an annotation may have changed, and a
            # function's code does not hold those. Its definitions run this time.
            return None
        if step.code is None:
            return step.prints
        return adopt(ns, step.code, step.plain, ns.get("__name__", step.name))

    def _rebind(self, steps: list[Step], txn: _Txn) -> int:
        count = 0
        loose = self._loose_namespaces()
        typed = _typed_imports() if loose else None  # (read once: not once per module)
        by_module = _by_module(typed, top_only=False) if typed is not None else None
        # Each importer's bindings indexed once per reload by module: a script importing
        # the whole project is an importer of every module a reload runs.
        indexes: dict[str, dict[str, list[tuple[str, str]]]] = {}
        spaces = [
            (ns, _by_module(refs_of(), top_only=False))
            for ns, refs_of in list(self.namespaces.values())
        ]
        ran = _ran_alone(steps, txn)
        assert txn.plan is not None
        place = {name: i for i, group in enumerate(txn.plan.groups) for name in group}
        for step in steps:
            old = txn.snapshots[step.name]
            new = txn.modules[step.name].__dict__
            position = place[step.name]
            for importer in self.graph.importers(step.name):
                if ran.get(importer, -1) > position:
                    continue  # (it ran its imports again, after this module: bound anew)
                module = sys.modules.get(importer)
                if module is None:
                    continue
                index = indexes.get(importer)
                if index is None:
                    index = indexes[importer] = self._bindings(importer, txn)
                count += rebind(
                    module.__dict__,
                    index.get(step.name, []),
                    old,
                    new,
                    txn.rebind_undo,
                    txn.patcher.canonical,
                )
            if loose:
                count += self._rebind_loose(step.name, loose, by_module, old, new, txn)
            for ns, index in spaces:
                pairs = index.get(step.name, [])
                count += rebind(ns, pairs, old, new, txn.rebind_undo, txn.patcher.canonical)
        return count

    def _bindings(self, importer: str, txn: _Txn) -> dict[str, list[tuple[str, str]]]:
        # An importer's top-level from-imports by module: its new imports if the plan
        # changes them, else the graph's.
        refs = txn.plan.refs.get(importer) if txn.plan is not None else None
        return _by_module(refs if refs is not None else self.graph.refs(importer), top_only=True)

    def _rebind_loose(
        self,
        name: str,
        loose: list[dict[str, Any]],
        typed: dict[str, list[tuple[str, str]]] | None,
        old: dict[str, Any],
        new: dict[str, Any],
        txn: _Txn,
    ) -> int:
        # No source file (python -c, the REPL): the from-imports are read from the -c
        # code or the REPL's history; without either, a name holding the very object
        # under the same name, never a value any code could hold alike (True, 0, "").
        if typed is not None:
            pairs = typed.get(name, [])
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
        first = set(sys.modules) - txn.modules_before  # (imported by the failed run)
        if first:  # (what they registered goes with them: a failure is rare)
            modules = [sys.modules[name] for name in first]
            take_out_modules([m for m in modules if isinstance(m, ModuleType)], _internal_ids(txn))
            del modules
        for name, saved in txn.snapshots.items():
            ns = txn.modules[name].__dict__
            ns.update(saved)
            for key in [k for k in ns if k not in saved]:
                del ns[key]
        for name in first:
            added = sys.modules.pop(name)
            parent, _, child = name.rpartition(".")
            parent_module = sys.modules.get(parent)
            if parent_module is not None and getattr(parent_module, child, None) is added:
                delattr(parent_module, child)
        ledger.rollback()
        if sys.path != txn.path:
            sys.path[:] = txn.path


def _no_second_entries(before: list[str]) -> None:
    """Take out of ``sys.path`` what a module's run added to it a second time: a fresh
    import adds a folder once (``sys.path.append(LIB)`` at module level would pile up,
    one more entry per reload)."""
    try:
        left = Counter(before)
        known = set(before)
    except TypeError:  # (an entry that cannot be hashed: left as it is)
        return
    kept = []
    for entry in sys.path:
        if left[entry] > 0:
            left[entry] -= 1
        elif entry in known:
            continue  # (held before, and again)
        kept.append(entry)
    if len(kept) != len(sys.path):
        sys.path[:] = kept


def _unload(step: Step, module: ModuleType, old: dict[str, Any]) -> None:
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


def _ran_alone(steps: list[Step], txn: _Txn) -> dict[str, int]:
    """The place in the plan of each module it ran whole and outside a cycle (not the
    running script, whose imports do not run again)."""
    assert txn.plan is not None
    script = {step.name for step in steps if step.definitions_only}
    return {
        group[0]: position
        for position, group in enumerate(txn.plan.groups)
        if len(group) == 1 and group[0] not in script
    }


def _discarded(steps: list[Step], txn: _Txn, modules: dict[str, str]) -> list[tuple[str, Any]]:
    """Old functions and classes of the plan that the module no longer binds, each
    name's module noted in ``modules``.

    A discarded class brings its methods: whoever holds one of them runs old code too.
    """
    out: list[tuple[str, Any]] = []
    for step in steps:
        if step.name in txn.bound:
            continue  # (it binds what it imports anew: none of its own objects)
        first = len(out)
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
                        if is_function(func)
                        and func.__module__ == owner  # (not one it inherits: Enum's __new__)
                        and not txn.patcher.is_patched(func)
                    ]
        if len(out) > first:
            modules.update((name, step.name) for name, _ in out[first:])
    return out


def _typed_imports() -> list[ImportRef] | None:
    """The top-level from-imports of ``python -c`` code or of the REPL's history, if
    known: of each name, the import that bound it last, if no other statement did."""
    argv = getattr(sys, "orig_argv", [])
    if "-c" in argv[:-1]:
        code = argv[argv.index("-c") + 1]
        statements = _statements(textwrap.dedent(code)) or [
            s for line in code.splitlines() for s in _statements(line.strip())
        ]
    else:
        readline = sys.modules.get("readline")
        length = readline.get_current_history_length() if readline is not None else 0
        if not length:
            return None
        statements = [
            s
            for i in range(1, length + 1)
            for s in _statements((readline.get_history_item(i) or "").strip())  # type: ignore[union-attr]
        ]
    # name -> the from-import that bound it last, or None: bound last by other code (a
    # variable the user assigned after taking the name is theirs, whatever it holds)
    last: dict[str, _Taken | None] = {}
    for statement in statements:
        last.update(_bindings(statement))
    refs: dict[int, tuple[ImportRef, list[tuple[str, str]]]] = {}
    for found in last.values():
        if found is not None:
            refs.setdefault(id(found[0]), (found[0], []))[1].append(found[1])
    return [ref._replace(names=tuple(pairs)) for ref, pairs in refs.values()]


_OWN_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _statements(code: str) -> list[ast.stmt]:
    try:
        return ast.parse(code).body
    except (SyntaxError, ValueError):
        return []  # (a line of a statement the history holds line by line)


_Taken = tuple[ImportRef, tuple[str, str]]  # a from-import, and the (name, alias) it binds


def _bindings(statement: ast.stmt) -> Iterator[tuple[str, _Taken | None]]:
    """The global names a top-level statement binds or deletes, in order (not in nested
    scopes), each with the from-import that binds it, or None."""
    if isinstance(statement, ast.ImportFrom):
        for ref in refs_of_nodes([(statement, "top")], module="__main__", is_package=False):
            yield from ((alias, (ref, (name, alias))) for name, alias in ref.names)
        return
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield statement.name, None
        return
    if isinstance(statement, ast.Import):
        yield from (((a.asname or a.name).split(".")[0], None) for a in statement.names)
        return
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            yield node.id, None
        elif isinstance(node, _OWN_SCOPES):
            continue  # (their names are their own; a walrus in one is rare enough)
        elif isinstance(node, ast.stmt) and node is not statement:
            yield from _bindings(node)  # (in an if, a try, a with, a loop)
        else:
            stack.extend(reversed(children(node)))


def _by_module(refs: Iterable[ImportRef], *, top_only: bool) -> dict[str, list[tuple[str, str]]]:
    """The ``(name, bound as)`` pairs of ``refs`` by imported module (``top_only``:
    imports run at the module's top level only)."""
    index: dict[str, list[tuple[str, str]]] = {}
    for ref in refs:
        if ref.names and (ref.kind == "top" or not top_only):
            index.setdefault(ref.module, []).extend(ref.names)
    return index


def _traceable(value: Any) -> bool:
    """False for values a REPL variable may hold by coincidence (True, 0, "", None, ...)."""
    # type(), not isinstance(): a proxy (werkzeug's request) would resolve its __class__.
    return not issubclass(type(value), (bool, int, float, complex, str, bytes, type(None), tuple))


def _import_lines(data: bytes, name: str, module: ModuleType, path: str) -> list[ImportRef]:
    """The import statements of a source that does not parse as a whole, line by line."""
    refs: list[ImportRef] = []
    args = parse_args(name, module, path)
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


def _no_reload(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and module.__dict__.get("__hotmod_reload__") is False


def _drop_removed(ns: dict[str, Any], old: dict[str, Any], step: Step) -> None:
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
