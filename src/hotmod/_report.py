"""The outcome of one reload: ``ReloadReport`` and its log lines."""

from __future__ import annotations

import contextlib
import logging
import os
from types import FrameType

from ._errors import ReloadError
from ._typing import override

__all__ = ["ReloadReport", "format_error", "log_report", "release_frames"]

log = logging.getLogger("hotmod")

_FIELDS = (
    "ok",
    "changed",
    "reloaded",
    "rebound",
    "patched",
    "needs_restart",
    "error",
    "duration",
    "module",
    "notes",
    "stale",
)


class ReloadReport:
    """What one call of `hotmod.reload` did.

    Attributes:
        ok: True when every module of the plan was re-executed and committed.
        changed: modules whose source differed from the code that was running.
        reloaded: modules re-executed, in execution order (empty after a rollback).
        rebound: names in other namespaces rebound to new objects.
        patched: functions and classes updated in place (identity kept).
        needs_restart: changed modules marked ``__hotmod_reload__ = False``.
        error: the original exception when the reload failed, else None.
        duration: seconds spent, from planning to commit or rollback.
        module: the module the error comes from, when known.
        notes: objects whose identity could not be kept, and why.
        stale: previous versions of reloaded functions and classes still reachable
            after the commit, each with what holds it (old code that may still run),
            and calls still running the previous code of a patched function (a
            thread's frame, a paused generator or coroutine).
    """

    __slots__ = (
        "changed",
        "duration",
        "error",
        "module",
        "needs_restart",
        "notes",
        "ok",
        "patched",
        "rebound",
        "reloaded",
        "stale",
    )

    def __init__(self) -> None:
        self.ok = True
        self.changed: list[str] = []
        self.reloaded: list[str] = []
        self.rebound = 0
        self.patched = 0
        self.needs_restart: list[str] = []
        self.error: BaseException | None = None
        self.duration = 0.0
        self.module: str | None = None
        self.notes: list[str] = []
        self.stale: list[str] = []

    @override
    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"ReloadReport({fields})"

    def raise_for_error(self) -> None:
        """Raise `hotmod.ReloadError` chained to the cause if the reload failed."""
        if self.error is not None:
            raise ReloadError(
                f"reload failed, kept the previous code: {_one_line(self.error)}",
                module=self.module,
            ) from self.error

    @override
    def __str__(self) -> str:
        ms = self.duration * 1000
        if self.error is not None:
            where = f" in {self.module}" if self.module else ""
            return f"reload failed{where}: {_one_line(self.error)}; kept the previous code"
        if not self.reloaded:
            if self.needs_restart:
                return f"restart needed for {', '.join(self.needs_restart)}"
            return "nothing to reload"
        head = self.changed[0] if self.changed else self.reloaded[0]
        others = len(self.changed) - 1 if self.changed else 0
        deps = len(self.reloaded) - max(len(self.changed), 1)
        parts = []
        if others > 0:
            parts.append(f"+{others} changed")
        parts.append(f"+{max(deps, 0)} dependents")
        parts.append(f"{self.rebound} rebound")
        parts.append(f"{self.patched} patched")
        if self.stale:
            parts.append(f"{len(self.stale)} still running previous code")
        return f"reloaded {head} ({', '.join(parts)}) in {ms:.1f} ms"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg} ({exc.filename}, line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"


def _is_own_frame(filename: str) -> bool:
    here = os.path.dirname(os.path.abspath(__file__))
    return filename.startswith(here) or filename.startswith("<frozen importlib")


def release_frames(exc: BaseException) -> None:
    """Clear the locals of hotmod's own frames in ``exc``'s tracebacks (its causes and
    contexts too): a failed reload's report, kept for error pages, must not keep the
    rolled-back transaction alive (its snapshots hold the previous objects, which the
    next reload's audit would then find held)."""
    import traceback

    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        error = stack.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        for frame, _ in traceback.walk_tb(error.__traceback__):
            # (and the callers: a finished frame holds the frame that called it)
            caller: FrameType | None = frame
            while caller is not None and id(caller) not in seen:
                seen.add(id(caller))
                if _is_own_frame(caller.f_code.co_filename):
                    with contextlib.suppress(RuntimeError):  # (one still running)
                        caller.clear()
                caller = caller.f_back
        stack += [error.__cause__, error.__context__]


def format_error(exc: BaseException, *, short: bool = False) -> str:
    """The error with its file:line; a SyntaxError shows the line and caret.

    The traceback is trimmed to the user's frames (hotmod's and importlib's are dropped);
    ``short`` keeps only the innermost one, without the "Traceback" header (for a
    notebook's output). The one formatter of the log, IPython and error pages.
    """
    import linecache
    import traceback

    if isinstance(exc, SyntaxError):
        return "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _is_own_frame(f.filename)]
    for f in frames:
        if f.line is None and f.lineno is not None:
            linecache.checkcache(f.filename)
    if short:
        lines = traceback.format_list(frames[-1:])
    else:
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def log_report(report: ReloadReport) -> None:
    """One INFO line for a reload, one WARNING for a failure, a needed restart or stale code."""
    from .integrations import RestartRequired

    if isinstance(report.error, RestartRequired):
        log.warning(
            "%s: %s; restart needed, kept the previous code",
            report.error.module,
            report.error.reason,
        )
        return
    if report.error is not None:
        where = f" in {report.module}" if report.module else ""
        log.warning(
            "reload failed%s, kept the previous code:\n%s", where, format_error(report.error)
        )
    elif report.reloaded:
        log.info("%s", report)
        if report.stale:
            log.warning(
                "previous code still reachable after reloading %s:\n  %s",
                report.reloaded[0],
                "\n  ".join(report.stale),
            )
    if report.needs_restart:
        log.warning(
            "%s changed but is marked __hotmod_reload__ = False: restart needed",
            ", ".join(report.needs_restart),
        )
    for note in report.notes:
        log.debug("%s", note)
