"""``hotmod run --restart``: the program in a child process, restarted when it must be.

The parent starts ``python -m hotmod run`` (without ``--restart``) as its child, with
``HOTMOD_RESTART_CHILD`` set. The child reloads in place as usual; when a reload fails or
a ``__hotmod_reload__ = False`` module changes, and every changed file compiles, it exits
with `RESTART_EXIT_CODE` and the parent starts it again. SIGINT, SIGTERM and SIGHUP sent
to the parent are passed on to the child, and the parent ends with the child's status.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

    from ._report import ReloadReport
    from .cli import RunOptions

__all__ = ["RESTART_EXIT_CODE", "is_child", "restart_when_needed", "supervise"]

log = logging.getLogger("hotmod.restart")

# The exit code a child uses to ask its parent for a restart (EX_TEMPFAIL).
RESTART_EXIT_CODE = 75
_CHILD_ENV = "HOTMOD_RESTART_CHILD"
_FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP")
# Seconds a child has to end after SIGTERM or SIGHUP before it is killed.
_GRACE = 10.0

_child_of: list[int] = []


def is_child() -> bool:
    """True in the child of a ``--restart`` parent (read once, hidden from the program)."""
    if not _child_of:
        value = os.environ.pop(_CHILD_ENV, "")
        _child_of.append(int(value) if value.isdigit() else 0)
        if _child_of[0]:
            _die_with_parent(_child_of[0])
    return _child_of[0] != 0


def _die_with_parent(parent: int) -> None:
    # Linux: if the parent is killed outright (SIGKILL), the kernel ends the child too.
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl: the parent forwards
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _uncompilable(report: ReloadReport) -> list[str]:
    """The changed files that do not compile, as ``file:line: error`` lines."""
    if isinstance(report.error, SyntaxError):
        exc = report.error
        return [f"{exc.filename}:{exc.lineno}: {exc.msg}"]
    broken = []
    for name in {*report.changed, *report.needs_restart}:
        file = getattr(sys.modules.get(name), "__file__", None)
        if not isinstance(file, str) or not file.endswith(".py"):
            continue
        try:
            with open(file, "rb") as f:
                compile(f.read(), file, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            broken.append(f"{file}:{line}: {exc}" if line else f"{file}: {exc}")
        except OSError:
            continue
    return broken


def restart_when_needed(report: ReloadReport) -> None:
    """Reload listener of the child: exit for a restart when in-place cannot do."""
    if report.error is None and not report.needs_restart:
        return
    broken = _uncompilable(report)
    if broken:
        log.warning(
            "not restarting: %s does not compile; the program keeps running until it does",
            "; ".join(broken),
        )
        return
    reason = "the reload failed" if report.error is not None else "a restart is needed"
    log.warning("%s: restarting the process", reason)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(RESTART_EXIT_CODE)


def _roots(opts: RunOptions) -> list[Path]:
    """What the parent watches to restart a program that failed after a restart."""
    if opts.watch:
        return [Path(p) for p in opts.watch]
    roots = {Path.cwd()}
    if opts.script is not None:
        folder = Path(opts.script).resolve()
        roots.add(folder if folder.is_dir() else folder.parent)
    return sorted(p for p in roots if p.is_dir())


def _end_like(code: int) -> int:
    """Exit status ``code`` of a child, as this process's: a signal death is repeated."""
    if code >= 0:
        return code
    signum = -code
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    except (OSError, ValueError):  # pragma: no cover - a signal that cannot be re-raised
        pass
    return 128 + signum


class _Supervisor:
    """Runs the child, restarts it on request, passes signals on."""

    def __init__(self, opts: RunOptions) -> None:
        self.argv = [sys.executable, "-m", "hotmod", "run", *opts.flags(), *opts.program()]
        self.env = dict(os.environ, **{_CHILD_ENV: str(os.getpid())})
        self.opts = opts
        self.child: subprocess.Popen[bytes] | None = None
        self.signals: list[int] = []
        self.changed = threading.Event()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only what is safe in a handler: note it, pass it on.
        self.signals.append(signum)
        self.forward(signum)

    def forward(self, signum: int) -> None:
        child = self.child
        if child is not None and child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signum)

    def wait_child(self) -> int:
        """Wait for the child; after SIGTERM or SIGHUP, kill it if it outlives the grace."""
        child = self.child
        assert child is not None
        deadline: float | None = None
        while True:
            try:
                return child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
            if deadline is None and any(s != signal.SIGINT for s in self.signals):
                deadline = _GRACE
            elif deadline is not None:
                deadline -= 0.2
                if deadline <= 0:
                    log.warning("the program did not end %g s after the signal: killing it", _GRACE)
                    child.kill()

    def run(self) -> int:
        from ._watcher import make_monitor

        monitor = make_monitor(
            _roots(self.opts),
            on_batch=lambda paths: self.changed.set(),
            include=tuple(self.opts.include),
            exclude=(*_default_excludes(), *self.opts.exclude),
            debounce=self.opts.debounce,
            backend=self.opts.backend,  # type: ignore[arg-type]
            poll_interval=self.opts.poll_interval or 0.1,
        )
        monitor.start()
        previous = {}
        for name in _FORWARDED:
            signum = getattr(signal, name, None)
            if signum is not None:
                previous[signum] = signal.signal(signum, self.on_signal)
        try:
            return self._loop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            monitor.stop()
            child = self.child
            if child is not None and child.poll() is None:  # never leave it behind
                child.terminate()
                try:
                    child.wait(timeout=_GRACE)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()

    def _loop(self) -> int:
        restarted = False
        while True:
            self.changed.clear()
            self.child = subprocess.Popen(self.argv, env=self.env)
            if self.signals:  # arrived while starting it
                self.forward(self.signals[-1])
            code = self.wait_child()
            ended_by = [s for s in self.signals if s != signal.SIGINT or code != RESTART_EXIT_CODE]
            if ended_by:
                return _end_like(code)
            self.signals.clear()
            if code == RESTART_EXIT_CODE:
                restarted = True
                continue
            if not restarted or code == 0:
                return code
            log.warning("the restarted program exited with code %d; waiting for a change", code)
            while not self.changed.wait(0.2):
                if self.signals:
                    return _end_like(-self.signals[-1])


def _default_excludes() -> tuple[str, ...]:
    from . import DEFAULT_EXCLUDES

    return tuple(DEFAULT_EXCLUDES)


def supervise(opts: RunOptions) -> int:
    """Run the program of ``opts`` in a child process until it ends; its exit status."""
    return _Supervisor(opts).run()
