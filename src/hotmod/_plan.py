"""The plan of a reload, as a value: what runs, in which order, from which sources.

The execution order comes from the imports of the NEW sources (an edit may add an
import of another changed module, which must then run first). The graph orders the
plan with those imports laid over its own and is never changed by planning: the
reloader writes them into the graph only when the reload commits.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from ._bigsource import Scan, parse
from ._graph import ImportGraph, ImportRef
from ._modmap import ModuleMap, source_hash

__all__ = ["Plan", "PlanError", "make_plan"]


class Plan(NamedTuple):
    """What one reload will do."""

    groups: list[list[str]]  # modules in execution order; a cycle is one group
    sources: dict[str, bytes]  # the text each module runs
    trees: dict[str, ast.Module]  # sources parsed while planning (each parsed once)
    scans: dict[str, Scan]  # big sources compiled in pieces while planning (`_bigsource`)
    refs: dict[str, list[ImportRef]]  # the new imports of changed sources


class PlanError(Exception):
    """A source of the plan does not parse; carries the error and its module."""

    def __init__(self, error: BaseException, module: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.module = module


def make_plan(
    graph: ImportGraph,
    modmap: ModuleMap,
    names: Sequence[str],
    sources: dict[str, bytes],
    *,
    frozen: set[str],
    cascade: bool,
    cascades: Callable[[str], bool],
    no_reload: Callable[[str], bool],
    read: Callable[[str, str], bytes],
    parse_args: Callable[[str], dict[str, Any]],
    finish_order: Iterable[str],
) -> Plan:
    """Plan the reload of ``names`` (whose ``sources`` are read) and, with ``cascade``,
    of every reloadable module importing them.

    Raises:
        PlanError: a changed source (a target's or a dependent's) does not parse.
    """
    plan = Plan([], sources, {}, {}, {})
    for name in names:
        _parse(graph, modmap, plan, name, parse_args)
    members = {n for n in names if n not in frozen}
    if cascade:
        # (Who imports a module is not changed by its own new imports.)
        for dep in graph.dependents(names, include=cascades) - set(names):
            if no_reload(dep):
                continue
            path = modmap.path_of(dep)
            assert path is not None
            try:
                sources[dep] = read(dep, path)
            except OSError:
                continue  # deleted (or being written): the module stays as it is
            _parse(graph, modmap, plan, dep, parse_args)
            members.add(dep)
    plan.groups.extend(graph.order(members, finish_order=list(finish_order), imports=plan.refs))
    return plan


def _parse(
    graph: ImportGraph,
    modmap: ModuleMap,
    plan: Plan,
    name: str,
    parse_args: Callable[[str], dict[str, Any]],
) -> None:
    source = plan.sources[name]
    if source_hash(source) == modmap.known_hash(name) and name in graph:
        return  # the graph already holds the imports of this source
    args = parse_args(name)
    try:
        refs, parsed = parse(
            source, args["filename"], module=args["module"], is_package=args["is_package"]
        )
    except (SyntaxError, ValueError) as exc:
        raise PlanError(exc, name) from exc
    if isinstance(parsed, ast.Module):
        plan.trees[name] = parsed
    else:
        plan.scans[name] = parsed
    plan.refs[name] = refs
