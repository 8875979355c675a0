"""APScheduler 3: jobs a module adds at import are there once after it runs again.

A module's top-level ``scheduler.add_job(tick, "interval", seconds=10)`` (or
``@scheduler.scheduled_job(...)``) goes to the ledger. Before the module runs again its
jobs are removed, so the new run adds them once: without this, each reload added one
more job running the function (a job's id is new each time), or failed with
``ConflictingIdError`` for a job given an ``id``. A rollback takes out the jobs the
failed run added and adds the previous ones again, under their ids.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any

from .._typing import override
from . import Integration
from ._common import Entry, track_calls

__all__ = ["APSchedulerIntegration"]


class APSchedulerIntegration(Integration):
    """Jobs added by modules' top-level code go to the ledger."""

    framework = "apscheduler"

    @override
    def activate(self) -> None:
        """Record ``BaseScheduler.add_job`` calls made at module level (APScheduler 3)."""
        try:
            from apscheduler.schedulers.base import BaseScheduler
        except ImportError:  # (APScheduler 4 has schedules, not jobs: left as it is)
            return
        track_calls(BaseScheduler, "add_job", _job)


def _job(add_job: Any, job: Any, scheduler: Any, *args: Any, **kwargs: Any) -> Entry:
    # (made again on rollback under its id, replacing any job of that id)
    again = inspect.signature(add_job).bind(scheduler, *args, **kwargs)
    again.arguments.update(id=job.id, replace_existing=True)
    return (
        functools.partial(_remove, scheduler, job.id),
        functools.partial(add_job, *again.args, **again.kwargs),
    )


def _remove(scheduler: Any, job_id: str) -> None:
    from apscheduler.jobstores.base import JobLookupError

    with contextlib.suppress(JobLookupError):  # (it ran its course, or the program removed it)
        scheduler.remove_job(job_id)
