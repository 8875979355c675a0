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
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._report import ReloadReport
    from .cli import RunOptions

__all__ = [
    "RESTART_EXIT_CODE",
    "is_child",
    "restart_when_needed",
    "supervise",
    "unblock_in_child",
]

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
            unblock_in_child()
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
    except Exception:  # pragma: no cover - no usable prctl: the parent still forwards
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
    with contextlib.suppress(OSError, ValueError):  # SIGKILL's cannot be set, nor needs it
        signal.signal(signum, signal.SIG_DFL)
    with contextlib.suppress(OSError, ValueError):
        os.kill(os.getpid(), signum)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
    return 128 + signum


def _forwarded(*, ignored: bool = False) -> list[int]:
    """The signals passed on; without ``ignored``, less those this process was started
    ignoring: under ``nohup`` a hangup leaves supervisor and child (which inherits the
    ignoring) running, as it leaves python."""
    signals = [getattr(signal, name) for name in _FORWARDED if hasattr(signal, name)]
    return [s for s in signals if ignored or signal.getsignal(s) != signal.SIG_IGN]


# Linux fills si_code with SI_KERNEL for signals the terminal sends (Ctrl-C, hangup) to
# its foreground process group: the child, in the same group, received it already.
_SI_KERNEL = 0x80


class _SignalQueue:
    """The signals sent to the supervisor, each with whether the terminal sent it.

    Where ``sigtimedwait`` exists (Linux) the signals are blocked and read with their
    origin, so a Ctrl-C, which the terminal sends to the child too, is not sent twice;
    elsewhere Python's wakeup fd reports them and every signal is passed on.
    """

    def __init__(self) -> None:
        self.signals = _forwarded()
        self._precise = hasattr(signal, "sigtimedwait") and sys.platform.startswith("linux")
        self._waited = {*self.signals, signal.SIGCHLD} if self._precise else set()
        self._handlers: dict[int, Any] = {}
        self._mask: set[int] | None = None
        self._pipe: tuple[socket.socket, socket.socket] | None = None
        self._wakeup = -1

    def start(self) -> None:
        """Catch the signals from now on (before any thread starts: threads inherit it)."""
        if self._precise:
            self._mask = set(signal.pthread_sigmask(signal.SIG_BLOCK, self._waited))
            return
        self._pipe = socket.socketpair()  # select() takes sockets on every platform
        for sock in self._pipe:
            sock.setblocking(False)
        self._wakeup = signal.set_wakeup_fd(self._pipe[1].fileno())
        for signum in self.signals:
            self._handlers[signum] = signal.signal(signum, lambda s, f: None)

    def stop(self) -> None:
        """Back to how signals were handled before `start`."""
        if self._mask is not None:
            while signal.sigtimedwait(self._waited, 0) is not None:
                pass  # drop what came after the child ended; do not raise it here
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
            self._mask = None
        for signum, handler in self._handlers.items():
            signal.signal(signum, handler)
        self._handlers.clear()
        if self._pipe is not None:
            signal.set_wakeup_fd(self._wakeup)
            for sock in self._pipe:
                sock.close()
            self._pipe = None

    def get(self, timeout: float) -> tuple[int, bool] | None:
        """The next signal and whether the terminal sent it; None after ``timeout``."""
        if self._precise:
            info = signal.sigtimedwait(self._waited, timeout)
            if info is None or info.si_signo == signal.SIGCHLD:
                return None
            return info.si_signo, info.si_code == _SI_KERNEL and info.si_pid == 0
        assert self._pipe is not None
        import select

        ready, _, _ = select.select([self._pipe[0]], [], [], timeout)
        if ready:
            with contextlib.suppress(BlockingIOError):
                data = self._pipe[0].recv(1)
                if data:
                    return data[0], False
        return None


def unblock_in_child() -> None:
    """The child starts with the supervisor's blocked signals: take them again."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {*_forwarded(ignored=True), signal.SIGCHLD})


class _Supervisor:
    """Runs the child, restarts it on request, passes signals on."""

    def __init__(self, opts: RunOptions) -> None:
        self.argv = [sys.executable, "-m", "hotmod", "run", *opts.flags(), *opts.program()]
        self.env = dict(os.environ, **{_CHILD_ENV: str(os.getpid())})
        self.opts = opts
        self.child: subprocess.Popen[bytes] | None = None
        self.signals: list[int] = []
        self.queue = _SignalQueue()
        self.changed = threading.Event()

    def take_signal(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` for a signal; pass it on to the child; return it."""
        got = self.queue.get(timeout)
        if got is None:
            return None
        signum, from_terminal = got
        self.signals.append(signum)
        child = self.child
        if not from_terminal and child is not None and child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signum)
        return signum

    def wait_child(self) -> int:
        """Wait for the child; after SIGTERM or SIGHUP, kill it if it outlives the grace."""
        child = self.child
        assert child is not None
        kill_at: float | None = None
        while True:
            code = child.poll()
            if code is not None:
                return code
            self.take_signal(0.1)
            if kill_at is None and any(s != signal.SIGINT for s in self.signals):
                kill_at = time.monotonic() + _GRACE
            if kill_at is not None and time.monotonic() > kill_at:
                log.warning("the program did not end %g s after the signal: killing it", _GRACE)
                child.kill()
                kill_at = float("inf")

    def run(self) -> int:
        from ._monitor import make_monitor

        self.queue.start()
        try:
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
            try:
                return self._loop()
            finally:
                monitor.stop()
                self._end_child()
        finally:
            self.queue.stop()

    def _end_child(self) -> None:
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
            code = self.wait_child()
            ended_by = [s for s in self.signals if s != signal.SIGINT or code != RESTART_EXIT_CODE]
            if ended_by:
                return _end_like(code)
            self.signals.clear()
            if code == RESTART_EXIT_CODE:
                restarted = True
                continue
            if not restarted or code == 0:
                return _end_like(code)
            log.warning("the restarted program exited with code %d; waiting for a change", code)
            while not self.changed.is_set():
                signum = self.take_signal(0.1)
                if signum is not None:
                    return _end_like(-signum)


def _default_excludes() -> tuple[str, ...]:
    from . import DEFAULT_EXCLUDES

    return tuple(DEFAULT_EXCLUDES)


def supervise(opts: RunOptions) -> int:
    """Run the program of ``opts`` in a child process until it ends; its exit status."""
    return _Supervisor(opts).run()
