"""The Django app that hands ``runserver``'s code reloads to hotmod."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.apps import AppConfig

__all__ = ["HotmodConfig"]

log = logging.getLogger("hotmod")

# The exit code Django's reloader parent answers with a restart.
_RESTART_EXIT_CODE = 3


class HotmodConfig(AppConfig):  # type: ignore[misc]
    """Starts hotmod in the serving process of ``manage.py runserver``."""

    name = "hotmod.contrib.django"
    label = "hotmod"
    verbose_name = "hotmod"

    def ready(self) -> None:
        """Watch the project and take .py changes over from Django's autoreloader."""
        from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

        from hotmod import integrations
        from hotmod.integrations.django import install_recorders

        integrations.activate("django")
        install_recorders()  # the admin may have been imported after this app's module
        # Set by Django's autoreloader in the process that serves (its parent only
        # starts that process again when it exits with code 3).
        if os.environ.get(DJANGO_AUTORELOAD_ENV) != "true" or _takeover.started:
            return
        _takeover.start()


class _Takeover:
    """hotmod reloads in place; Django's reloader restarts only when hotmod asks."""

    def __init__(self) -> None:
        self.started = False
        self.restart: str | None = None  # why the process must restart
        self.lock = threading.Lock()

    def start(self) -> None:
        from django.utils import autoreload

        import hotmod

        self.started = True
        _log_to_stderr()
        hotmod.watch(on_reload=self.on_reload)
        autoreload.autoreload_started.connect(self.reloader_started, dispatch_uid="hotmod")
        autoreload.file_changed.connect(self.file_changed, dispatch_uid="hotmod")

    def on_reload(self, report: Any) -> None:
        """A reload that cannot apply in place restarts the server process."""
        if report.needs_restart:
            with self.lock:
                self.restart = ", ".join(report.needs_restart)

    def reloader_started(self, sender: Any, **kwargs: Any) -> None:
        """Let Django's reloader loop restart the process when hotmod asks for it."""
        if getattr(sender, "_hotmod_tick", False):
            return
        sender._hotmod_tick = True
        sender.tick = self._ticking(sender.tick)

    def _ticking(self, tick: Callable[[], Iterator[Any]]) -> Callable[[], Iterator[Any]]:
        def checked() -> Iterator[Any]:
            for item in tick():
                if self.restart is not None:
                    log.info("restarting the server process for %s", self.restart)
                    sys.exit(_RESTART_EXIT_CODE)  # Django's reloader parent starts a new one
                yield item

        return checked

    def file_changed(self, sender: Any, file_path: Path, **kwargs: Any) -> bool | None:
        """True (Django does not restart) for source files hotmod reloads in place."""
        from hotmod._runtime import get_reloader

        path = str(file_path)
        if not path.endswith(".py"):
            return None
        reloader = get_reloader()
        with reloader.lock:
            reloader.sync()  # modules imported since the last reload
        names = reloader.modmap.names_for(os.path.realpath(path))
        if any(reloader.modmap.is_reloadable(n) for n in names):
            return True
        return None


def _log_to_stderr() -> None:
    # One INFO line per reload without any logging setup, as runserver prints its own.
    logger = logging.getLogger("hotmod")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


_takeover = _Takeover()
