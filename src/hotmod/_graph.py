"""Static import graph: imports read from source with ``ast``, importers, dependents, order.

A module's imports are parsed once per source (`parse_imports`) and registered with
`ImportGraph`. Only imports that run while the module itself is being imported
(``kind == "top"``) order a reload; imports inside functions or under ``if TYPE_CHECKING:``
are recorded but create no edges.

Edges are resolved against the modules the graph currently knows, because
``from a import n`` depends on ``a.n`` when that is a submodule and on ``a`` otherwise.
Each module's edges are recomputed lazily, only when a name its imports mention is added
to or removed from the graph, so updates stay proportional to what changed.

Planning must stay in milliseconds on 10,000 modules, so `ImportGraph.order` keeps
the whole graph ordered for the last ``finish_order`` and, when that order agrees with the
edges, answers a query by filtering it; otherwise it orders the query's subgraph afresh.
"""

from __future__ import annotations

import ast
import heapq
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import Literal, NamedTuple

from ._syntax import nested_statements

__all__ = [
    "ImportGraph",
    "ImportRef",
    "ImportNode",
    "Kind",
    "import_nodes",
    "imports_of",
    "parse_imports",
    "refs_of_nodes",
    "type_checking_test",
]

Kind = Literal["top", "function", "type_checking"]
ImportNode = tuple[ast.Import | ast.ImportFrom, Kind]
"""An import statement and the context it runs in."""

_EMPTY: frozenset[str] = frozenset()


class ImportRef(NamedTuple):
    """One imported module of an import statement, with its absolute dotted name.

    Attributes:
        module: the module the statement names, relative imports resolved
            (``"pkg.a"`` for ``from .a import x`` inside ``pkg``).
        names: ``(name, alias)`` pairs of a from-import; ``()`` for a plain ``import``;
            ``(("*", "*"),)`` for a star import.
        alias: ``"c"`` for ``import a.b as c``; None otherwise.
        lineno: line of the statement.
        kind: ``"top"`` if it runs when the module is imported, ``"function"`` inside a
            function body, ``"type_checking"`` under ``if TYPE_CHECKING:``.
    """

    module: str
    names: tuple[tuple[str, str], ...]
    alias: str | None
    lineno: int
    kind: Kind


def parse_imports(
    source: str | bytes, *, module: str, is_package: bool, filename: str = "<unknown>"
) -> list[ImportRef]:
    """All import statements of a module's source, in source order.

    Relative imports are resolved against ``module`` (a package's own name when
    ``is_package``); one reaching beyond the top-level package is skipped, as is
    ``from __future__ import ...``.

    Raises:
        SyntaxError: the source does not parse (``filename`` and ``lineno`` set).
    """
    try:
        tree = ast.parse(source, filename=filename)
    except ValueError as exc:  # null bytes on Python 3.10
        raise SyntaxError(str(exc), (filename, 1, 1, None)) from exc
    return imports_of(tree, module=module, is_package=is_package)


def imports_of(tree: ast.Module, *, module: str, is_package: bool) -> list[ImportRef]:
    """`parse_imports` for a tree already parsed."""
    return refs_of_nodes(import_nodes(tree), module=module, is_package=is_package)


def refs_of_nodes(nodes: Iterable[ImportNode], *, module: str, is_package: bool) -> list[ImportRef]:
    """The imports of statements found by `import_nodes`, in their order."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    refs: list[ImportRef] = []
    for node, kind in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                refs.append(ImportRef(a.name, (), a.asname, node.lineno, kind))
            continue
        if node.level:
            target = _resolve_relative(package, node.level, node.module)
            if target is None:
                continue
        elif node.module == "__future__":
            continue
        else:
            target = node.module or ""
        names = tuple((a.name, a.asname or a.name) for a in node.names)
        refs.append(ImportRef(target, names, None, node.lineno, kind))
    return refs


def import_nodes(tree: ast.Module) -> Iterator[ImportNode]:
    """Import statements of a tree in source order, each with the context it runs in."""
    stack: list[tuple[ast.AST, Kind]] = [(s, "top") for s in reversed(tree.body)]
    while stack:
        node, kind = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, kind
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # Decorators and defaults are expressions: they cannot hold import statements.
            stack.extend((s, "function") for s in reversed(node.body))
            continue
        if kind == "top" and isinstance(node, ast.If):
            guarded = type_checking_test(node.test)
            if guarded is not None:
                body_kind: Kind = "type_checking" if guarded else "top"
                else_kind: Kind = "top" if guarded else "type_checking"
                stack.extend((s, else_kind) for s in reversed(node.orelse))
                stack.extend((s, body_kind) for s in reversed(node.body))
                continue
        # Statements nest only in statements' bodies, handlers and match cases.
        stack.extend((c, kind) for c in reversed(nested_statements(node)))


def type_checking_test(test: ast.expr) -> bool | None:
    """True for ``TYPE_CHECKING``, False for ``not TYPE_CHECKING``, None for other tests."""
    negated = False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        negated, test = True, test.operand
    if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    ):
        return not negated
    return None


def _resolve_relative(package: list[str], level: int, name: str | None) -> str | None:
    """Absolute name of a relative import from ``package``; None beyond the top level."""
    if len(package) < level:
        return None
    base = ".".join(package[: len(package) - level + 1])
    return f"{base}.{name}" if name else base


def _parents(name: str) -> Iterator[str]:
    """Enclosing packages of a dotted name, outermost first: ``a``, ``a.b`` for ``a.b.c``."""
    dot = name.find(".")
    while dot != -1:
        yield name[:dot]
        dot = name.find(".", dot + 1)


# An edge to `target` when the graph knows it, unless the graph knows `unless`.
_Candidate = tuple[str, "str | None"]


def _candidates(module: str, refs: Iterable[ImportRef]) -> tuple[_Candidate, ...]:
    """Every edge a module's top-level imports may resolve to, with its condition."""
    # An enclosing package that imports `module` is still initialising when `module` runs,
    # so reaching it implicitly (as a parent, or for a submodule) is not a dependency.
    ancestors = set(_parents(module))
    out: dict[_Candidate, None] = {}
    for ref in refs:
        if ref.kind != "top":
            continue
        target = ref.module
        for parent in _parents(target):
            if parent not in ancestors:
                out[parent, None] = None
        if not ref.names:
            out[target, None] = None
            continue
        for name, _ in ref.names:
            if name == "*":
                out[target, None] = None
                continue
            sub = f"{target}.{name}"
            out[sub, None] = None
            # `name` is read from target's namespace unless it names a submodule.
            out[target, sub if target in ancestors else None] = None
    return tuple(out)


class _Layout(NamedTuple):
    """The whole graph ordered for one graph version and one ``finish_order``."""

    version: int
    finish_order: tuple[str, ...]
    known_order: tuple[str, ...]  # finish_order restricted to the graph: all that matters
    # Every group in order, or None when finish_order disagrees with the edges.
    groups: list[list[str]] | None
    cycles: list[list[str]]
    rank: dict[str, int]  # module -> index of its group


def _unknown(module: str) -> float | None:
    return None


class ImportGraph:
    """Modules and the modules whose completion their top-level code depends on.

    Not thread-safe: callers serialise access (the reloader holds its lock).
    """

    __slots__ = (
        "_candidates",
        "_dirty",
        "_fwd",
        "_layout",
        "_refs",
        "_rev",
        "_version",
        "_watchers",
        "started",
    )

    def __init__(self, started: Callable[[str], float | None] | None = None) -> None:
        # When a module started importing, if known: the entry of an import cycle.
        self.started: Callable[[str], float | None] = started or _unknown
        self._refs: dict[str, tuple[ImportRef, ...]] = {}
        self._candidates: dict[str, tuple[_Candidate, ...]] = {}
        # name -> modules whose edges change when `name` becomes known or unknown
        self._watchers: dict[str, set[str]] = {}
        self._fwd: dict[str, frozenset[str]] = {}
        self._rev: dict[str, set[str]] = {}
        self._dirty: set[str] = set()
        # Bumped whenever the modules, the edges or a cycle's start order change.
        self._version = 0
        self._layout: _Layout | None = None

    def set_imports(self, module: str, refs: Sequence[ImportRef]) -> None:
        """Add a module or replace its imports."""
        refs = tuple(refs)
        old = self._refs.get(module)
        if old == refs:
            return  # (a plan overlays every changed source: most keep their imports)
        if old is None or (old != refs and self._in_cycle(module)):
            self._version += 1
        self._unwatch(module)
        self._refs[module] = refs
        candidates = _candidates(module, refs)
        self._candidates[module] = candidates
        for target, unless in candidates:
            self._watchers.setdefault(target, set()).add(module)
            if unless is not None:
                self._watchers.setdefault(unless, set()).add(module)
        self._dirty.add(module)
        if old is None:
            self._dirty.update(self._watchers.get(module, ()))

    def discard(self, module: str) -> None:
        """Forget a module and its edges; no error if it is unknown."""
        if module not in self._refs:
            return
        self._version += 1
        self._unwatch(module)
        del self._refs[module], self._candidates[module]
        self._set_edges(module, _EMPTY)
        del self._fwd[module]
        self._dirty.discard(module)
        self._dirty.update(self._watchers.get(module, ()))

    def __contains__(self, module: object) -> bool:
        return module in self._refs

    def __len__(self) -> int:
        return len(self._refs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def refs(self, module: str) -> Sequence[ImportRef]:
        """The imports registered for a module; ``()`` if unknown."""
        return self._refs.get(module, ())

    def imports(self, module: str) -> set[str]:
        """Known modules whose completion ``module``'s top-level code depends on."""
        self._flush()
        return set(self._fwd.get(module, ()))

    def importers(self, module: str) -> set[str]:
        """Known modules whose top-level code depends on ``module``."""
        self._flush()
        return set(self._rev.get(module, ()))

    def dependents(
        self, targets: Iterable[str], *, include: Callable[[str], bool] | None = None
    ) -> set[str]:
        """Transitive importers of ``targets``, the targets excluded.

        Modules for which ``include`` returns False are neither returned nor traversed.
        """
        self._flush()
        rev_get = self._rev.get
        roots = set(targets)
        seen = set(roots)
        excluded: set[str] = set()
        frontier: set[str] = seen
        while frontier:
            reached = set().union(*map(rev_get, frontier, repeat(_EMPTY)))
            reached -= seen
            seen |= reached
            if include is not None:
                skipped = {m for m in reached if not include(m)}
                excluded |= skipped
                reached -= skipped
            frontier = reached
        return seen - roots - excluded

    def order(
        self,
        modules: Iterable[str],
        *,
        finish_order: Sequence[str] = (),
        imports: Mapping[str, Sequence[ImportRef]] | None = None,
    ) -> list[list[str]]:
        """Modules grouped and ordered so each group comes after every module it imports.

        A group is one module or an import cycle (a strongly connected component) of the
        subgraph ``modules`` induce. Ties go by position in ``finish_order``
        (``list(sys.modules)``: the order modules finished importing), then by name. A
        cycle's members are listed in the order a fresh import would start them. The
        lists may be those of the graph's cached order: read them, never change them.

        ``imports``: new imports of some modules (a plan's edited sources), ordered as
        if the graph held them; the graph itself is left as it is.
        """
        nodes = modules if isinstance(modules, (set, frozenset)) else set(modules)
        layout = self._layout_for(finish_order)
        finish_order = layout.finish_order
        changed = self._changed_edges(imports) if imports else None
        if layout.groups is not None and changed is None:
            fast = _restrict(layout, nodes)
            if fast is not None:
                return fast
        absent = len(finish_order)
        position = {m: i for i, m in enumerate(finish_order) if m in nodes}
        ranked = sorted(nodes, key=lambda m: (position.get(m, absent), m))
        rank = {m: i for i, m in enumerate(ranked)}
        fwd, new = self._fwd, changed or {}
        deps = {m: (new[m] if m in new else fwd.get(m, _EMPTY)) & nodes for m in ranked}
        groups = [
            self._start_order(g, position, imports) if len(g) > 1 else g
            for g in _components(ranked, deps)
        ]
        return _prioritised(groups, deps, rank)

    def _changed_edges(
        self, imports: Mapping[str, Sequence[ImportRef]]
    ) -> dict[str, frozenset[str]] | None:
        """The edges that ``imports`` would change (None: none), or that would change a
        cycle's start order."""
        known = self._refs.keys() | imports.keys()
        affected = set(imports)
        for module in imports.keys() - self._refs.keys():  # newly known: edges to it appear
            affected.update(self._watchers.get(module, ()))
        changed: dict[str, frozenset[str]] = {}
        for module in affected:
            new = imports.get(module)
            refs = tuple(new) if new is not None else self._refs[module]
            candidates = _candidates(module, refs) if new is not None else self._candidates[module]
            edges = _edges(module, candidates, known)
            if edges != self._fwd.get(module) or (
                new is not None and refs != self._refs.get(module) and self._in_cycle(module)
            ):
                changed[module] = edges
        return changed or None

    def _layout_for(self, finish_order: Sequence[str]) -> _Layout:
        """The cached layout of the whole graph for ``finish_order``, rebuilt if stale."""
        self._flush()
        finished = _main_last(finish_order)
        layout = self._layout
        if layout is not None and layout.version == self._version:
            if layout.finish_order == finished:
                return layout
            # Unrelated modules imported since (say, lazily from the stdlib) change nothing.
            known = self._refs
            if layout.known_order == tuple(m for m in finished if m in known):
                layout = self._layout = layout._replace(finish_order=finished)
                return layout
        layout = self._layout = self._build_layout(finished)
        return layout

    def _build_layout(self, finish_order: tuple[str, ...]) -> _Layout:
        """Order the whole graph, and check that ``finish_order`` agrees with its edges."""
        # When every import finished before its importer (cycles aside), ordering any set
        # closed under importers is a filter of this order: no per-query graph walk.
        known = self._refs
        known_order = tuple(m for m in finish_order if m in known)
        absent = len(finish_order)
        position = {m: i for i, m in enumerate(finish_order) if m in known}
        ranked = sorted(known, key=lambda m: (position.get(m, absent), m))
        rank = {m: i for i, m in enumerate(ranked)}
        groups = _components(ranked, self._fwd)
        cycles = []
        for i, g in enumerate(groups):
            if len(g) > 1:
                g = groups[i] = self._start_order(g, position)
                cycles.append(g)
        # A group ranks as its entry, the member that finishes last in a fresh import.
        groups.sort(key=lambda g: rank[g[0]])
        group_rank = {m: i for i, g in enumerate(groups) for m in g}
        agrees = all(
            max(map(group_rank.__getitem__, deps), default=-1) <= group_rank[m]
            for m, deps in self._fwd.items()
        )
        return _Layout(
            self._version, finish_order, known_order, groups if agrees else None, cycles, group_rank
        )

    def _layout_survives(self, module: str, edges: frozenset[str]) -> bool:
        """Whether the current layout stays exact when ``module``'s edges become ``edges``."""
        # Outside a cycle, dropping edges splits nothing, and edges to modules ordered
        # earlier close no cycle: the order stays the same.
        layout = self._layout
        if layout is None or layout.version != self._version or layout.groups is None:
            return False
        rank = layout.rank.get(module)
        if rank is None or self._in_cycle(module):
            return False
        return all(layout.rank.get(m, rank) < rank for m in edges)

    def _in_cycle(self, module: str) -> bool:
        """Whether the current layout puts ``module`` in an import cycle."""
        layout = self._layout
        return layout is not None and any(module in c for c in layout.cycles)

    def _start_order(
        self,
        group: list[str],
        position: dict[str, int],
        imports: Mapping[str, Sequence[ImportRef]] | None = None,
    ) -> list[str]:
        """A cycle's members in the order a fresh import starts them."""
        members = set(group)
        present = sorted((m for m in group if m in position), key=position.__getitem__)
        timed = {m: t for m in group if (t := self.started(m)) is not None}
        if timed:  # when each member really started importing, where known
            entry = min(timed, key=timed.__getitem__)
        else:  # the one that started first finishes last
            entry = present[-1] if present else min(group)
        while entry.rpartition(".")[0] in members:  # a package starts before its submodules
            entry = entry.rpartition(".")[0]
        started = [entry]
        seen = {entry}
        overlay, graph = imports or {}, self._refs

        def refs_of(module: str) -> Sequence[ImportRef]:
            return overlay[module] if module in overlay else graph.get(module, ())

        stack = [_reached(refs_of, entry, members)]
        while stack:
            for m in stack[-1]:
                if m not in seen:
                    seen.add(m)
                    started.append(m)
                    stack.append(_reached(refs_of, m, members))
                    break
            else:
                stack.pop()
        started += [m for m in present if m not in seen]
        started += sorted(m for m in group if m not in seen and m not in position)
        return started

    def _flush(self) -> None:
        """Recompute the edges of modules whose imports or targets changed."""
        if not self._dirty:
            return
        known = self._refs
        for module in self._dirty:
            self._set_edges(module, _edges(module, self._candidates[module], known))
        self._dirty.clear()

    def _set_edges(self, module: str, edges: frozenset[str]) -> None:
        """Replace a module's resolved edges, keeping the reverse index in step."""
        old = self._fwd.get(module, _EMPTY)
        self._fwd[module] = edges
        if old == edges:
            return
        if not self._layout_survives(module, edges):
            self._version += 1
        rev = self._rev
        for target in old - edges:
            importers = rev[target]
            importers.discard(module)
            if not importers:
                del rev[target]
        for target in edges - old:
            rev.setdefault(target, set()).add(module)

    def _unwatch(self, module: str) -> None:
        """Stop tracking the names a module's current imports mention."""
        for target, unless in self._candidates.get(module, ()):
            for name in (target, unless):
                if name is None:
                    continue
                watchers = self._watchers.get(name)
                if watchers is not None:
                    watchers.discard(module)
                    if not watchers:
                        del self._watchers[name]


def _reached(
    refs_of: Callable[[str], Sequence[ImportRef]], module: str, members: set[str]
) -> Iterator[str]:
    """Members of ``members`` that ``module``'s top-level imports start, in order."""
    refs = sorted(refs_of(module), key=lambda r: r.lineno)
    for ref in refs:
        if ref.kind != "top":
            continue
        for m in (*_parents(ref.module), ref.module):
            if m in members:
                yield m
        for name, _ in ref.names:
            sub = f"{ref.module}.{name}"
            if sub in members:
                yield sub


def _edges(module: str, candidates: Iterable[_Candidate], known: Container[str]) -> frozenset[str]:
    """The modules a module's candidates resolve to, given the modules the graph knows."""
    edges = {
        target
        for target, unless in candidates
        if target in known and (unless is None or unless not in known)
    }
    edges.discard(module)
    return frozenset(edges)


def _restrict(layout: _Layout, nodes: set[str] | frozenset[str]) -> list[list[str]] | None:
    """The layout's groups found in ``nodes``; None unless ``nodes`` holds whole groups only."""
    assert layout.groups is not None
    for cycle in layout.cycles:
        if not nodes.isdisjoint(cycle) and not nodes.issuperset(cycle):
            return None  # a partial cycle may split into smaller groups
    out = [g for g in layout.groups if g[0] in nodes]  # shared, not copied: a plan reads them
    # Fewer members than nodes: some are unknown to the graph.
    return out if sum(map(len, out)) == len(nodes) else None


def _main_last(finish_order: Sequence[str]) -> tuple[str, ...]:
    """``finish_order`` with the running script last: it is listed early, yet still running."""
    order = tuple(finish_order)
    try:
        at = order.index("__main__")  # (once: names in sys.modules are unique)
    except ValueError:
        return order
    return (*order[:at], *order[at + 1 :], "__main__")


def _components(ranked: Iterable[str], deps: Mapping[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in ranked:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(deps[root]))]
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(deps[w])))
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    if low[v] < low[u]:
                        low[u] = low[v]
                if low[v] == index[v]:
                    component = [stack.pop()]
                    while component[-1] != v:
                        component.append(stack.pop())
                    on_stack.difference_update(component)
                    components.append(component)
    return components


def _prioritised(
    groups: list[list[str]], deps: dict[str, frozenset[str]], rank: dict[str, int]
) -> list[list[str]]:
    """Groups in dependency order, the lowest-ranked ready group first (Kahn's algorithm)."""
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    waiting = [0] * len(groups)
    unblocks: list[list[int]] = [[] for _ in groups]
    for i, g in enumerate(groups):
        needed = {group_of[d] for m in g for d in deps[m]}
        needed.discard(i)
        waiting[i] = len(needed)
        for j in needed:
            unblocks[j].append(i)
    # A group's rank is its entry's, the member that finishes last in a fresh import.
    key = [rank[g[0]] for g in groups]
    ready = [(key[i], i) for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    out: list[list[str]] = []
    while ready:
        _, i = heapq.heappop(ready)
        out.append(groups[i])
        for j in unblocks[i]:
            waiting[j] -= 1
            if not waiting[j]:
                heapq.heappush(ready, (key[j], j))
    return out
