"""Celery: the tasks a module defines follow its source, options included.

Celery's ``@app.task`` and ``@shared_task`` give back the task already registered under
a name. So a module run again got its first version's task, with the options it had
then (an edited ``max_retries`` or ``rate_limit`` was silently ignored), a task deleted
from the source stayed registered, and each run gave Celery one more callback making the
task for apps finalized later.

The tasks made from a module's functions are made anew by its next run, from its new
source: a task it no longer defines leaves its app, and the callbacks it gave Celery go
to the ledger. The previous tasks stay registered while the module runs (a lazy task of
the module looks its task up by name), and a rollback puts them back as they were.
"""

from __future__ import annotations

import functools
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .._typing import override
from . import Integration, Transaction
from ._common import Entry, track_calls

if TYPE_CHECKING:
    from .._report import ReloadReport

__all__ = ["CeleryIntegration"]


class CeleryIntegration(Integration):
    """Tasks made by a module's functions are made again from its new source."""

    framework = "celery"

    @override
    def activate(self) -> None:
        """Record the callbacks modules give Celery for apps finalized later; let a
        module's run make its tasks anew."""
        from celery import Celery, _state
        from celery.app import base

        if getattr(Celery._task_from_fun, "_hotmod", False):
            return
        track_calls(_state, "connect_on_app_finalize", _finalizer)
        # (``shared_task`` looks it up in `_state`; ``app.task`` imported it)
        base.connect_on_app_finalize = _state.connect_on_app_finalize
        make = Celery._task_from_fun

        @functools.wraps(make)
        def task_from_fun(app: Any, fun: Any, name: str | None = None, **options: Any) -> Any:
            # Celery gives back the task it holds under the name: one of a module being
            # run again is made anew instead, with the options of the new source.
            tasks = app._tasks
            key = name or app.gen_task_name(fun.__name__, fun.__module__)
            known = tasks.get(key)
            if known is not None and id(known) in _stale:
                del tasks[key]
            task = make(app, fun, name, **options)
            if _made is not None and tasks.get(key) is not known:  # (made now)
                _made.append((tasks, key, task))
            return task

        task_from_fun._hotmod = True  # type: ignore[attr-defined]
        Celery._task_from_fun = task_from_fun

    @override
    def begin(self, txn: Transaction) -> None:
        """Note the tasks the reload makes, for a rollback to take them out."""
        global _made
        _made = []

    @override
    def before_module(self, txn: Transaction, module: ModuleType) -> None:
        """The tasks made from the module's functions are to be made again by its run
        (the previous ones stay registered meanwhile: a lazy task of the module looks
        its task up by name)."""
        for app in _apps():
            tasks = app._tasks
            mine = {name: task for name, task in tasks.items() if _made_in(task, module.__name__)}
            _stale.update((id(task), (tasks, name)) for name, task in mine.items())
            txn.on_rollback(functools.partial(_restore, tasks, mine))

    @override
    def after_module(self, txn: Transaction, module: ModuleType) -> None:
        """Tasks the module's run did not make again are gone from their apps."""
        for key, (tasks, name) in list(_stale.items()):
            task = tasks.get(name)
            if task is not None and id(task) == key and _made_in(task, module.__name__):
                del tasks[name]
                del _stale[key]

    @override
    def committed(self, report: ReloadReport) -> None:
        """The reload's tasks are made."""
        _end()

    @override
    def rolled_back(self, report: ReloadReport) -> None:
        """As `committed`, after a rollback."""
        _end()


def _finalizer(connect: Any, result: Any, callback: Any) -> Entry:
    from celery import _state

    finalizers = _state._on_app_finalizers
    return functools.partial(finalizers.discard, callback), functools.partial(
        finalizers.add, callback
    )


# The tasks of the modules this reload runs again, by id: (their apps' tasks, name).
_stale: dict[int, tuple[dict[str, Any], str]] = {}
# The tasks made during this reload: (their app's tasks, name, task); None between reloads.
_made: list[tuple[dict[str, Any], str, Any]] | None = None


def _end() -> None:
    global _made
    _stale.clear()
    _made = None


def _apps() -> list[Any]:
    state = sys.modules.get("celery._state")
    return list(getattr(state, "_get_active_apps", list)())


def _decorated(obj: object) -> bool:
    # A task ``@app.task`` made from a function (a class of its own, made by Celery).
    return getattr(type(obj), "_decorated", False) is True and hasattr(obj, "name")


def _made_in(task: Any, module: str) -> bool:
    return _decorated(task) and type(task).__module__ == module


def _restore(tasks: dict[str, Any], mine: dict[str, Any]) -> None:
    """Before a failed run: take out the tasks made since, put back the module's."""
    for made_in, name, task in _made or ():
        if made_in is tasks and tasks.get(name) is task:
            del tasks[name]
    tasks.update(mine)
