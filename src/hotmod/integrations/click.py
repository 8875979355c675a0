"""Click and Typer: command groups a running program holds pick up edited and new commands.

A module run again creates its groups and commands anew (``@click.group()``,
``cli = click.Group()``, ``app = typer.Typer()``) while the program holds the old
objects: the old object takes the new one's state (commands, options, callback) and
stays the one bound. Commands a module adds to a group made elsewhere
(``@cli.command()``, ``cli.add_command(cmd)``, ``@app.command()``, ``app.add_typer(sub)``)
go to the ledger, so a command deleted or renamed in the source leaves the group.
A click command Typer built from an app (``typer.main.get_command(app)``, held by a
shell) is rebuilt after each reload.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import weakref
from collections.abc import Callable
from typing import Any

from .._runtime import ledger
from .._typing import override
from . import NOT_HANDLED, Integration, Transaction
from ._common import Entry, importing_module, track_calls

__all__ = ["ClickIntegration", "TyperIntegration"]

log = logging.getLogger("hotmod.integrations")


def _take_state(txn: Transaction, old: Any, new: Any) -> Any:
    """``old`` takes ``new``'s attributes (undone on rollback) and stays the object bound."""
    saved = dict(old.__dict__)

    def undo() -> None:
        old.__dict__.clear()
        old.__dict__.update(saved)

    txn.on_rollback(undo)
    old.__dict__.clear()
    old.__dict__.update({key: txn.canonical(value) for key, value in new.__dict__.items()})
    return old


def _same_kind(old: object, new: object, base: type | None) -> bool:
    return base is not None and type(old) is type(new) and isinstance(old, base)


class ClickIntegration(Integration):
    """Click groups and commands keep their identity; added commands go to the ledger."""

    framework = "click"

    @override
    def activate(self) -> None:
        """Record ``Group.add_command`` calls made by modules' top-level code."""
        import click

        track_calls(click.Group, "add_command", _command, module=importing_module)

    @override
    def keep(self, txn: Transaction, old: object, new: object) -> object:
        """A re-created command or group: the old object takes the new one's state."""
        click = sys.modules.get("click")
        if not _same_kind(old, new, getattr(click, "Command", None)):
            return NOT_HANDLED
        return _take_state(txn, old, new)


def _command(
    add_command: Any, result: None, group: Any, cmd: Any, name: str | None = None
) -> Entry:
    return (
        functools.partial(_remove_command, group, name or cmd.name, cmd),
        functools.partial(add_command, group, cmd, name),
    )


def _remove_command(group: Any, name: str, cmd: Any) -> None:
    if group.commands.get(name) is cmd:
        del group.commands[name]


class TyperIntegration(Integration):
    """Typer apps keep their identity; commands and sub-apps added go to the ledger."""

    framework = "typer"

    @override
    def activate(self) -> None:
        """Record ``Typer.command`` and ``Typer.add_typer`` calls made at module level."""
        import typer

        cls = typer.Typer
        if getattr(cls.command, "_hotmod", False):
            return
        command, add_typer = cls.command, cls.add_typer

        @functools.wraps(command)
        def tracked_command(self: Any, *args: Any, **kwargs: Any) -> Any:
            decorator = command(self, *args, **kwargs)

            def register(func: Callable[..., Any]) -> Any:
                return _recording(self.registered_commands, decorator, func)

            return register

        @functools.wraps(add_typer)
        def tracked_add_typer(self: Any, *args: Any, **kwargs: Any) -> None:
            _recording(self.registered_groups, lambda _: add_typer(self, *args, **kwargs), None)

        tracked_command._hotmod = True  # type: ignore[attr-defined]
        cls.command = tracked_command  # type: ignore[method-assign]
        cls.add_typer = tracked_add_typer  # type: ignore[method-assign]
        self._wrap_get_command()

    def _wrap_get_command(self) -> None:
        # Remember the click commands built from each app, to rebuild them after a reload.
        import typer.main

        global _get_command
        get_command = typer.main.get_command
        if getattr(get_command, "_hotmod", False):
            return
        _get_command = get_command

        @functools.wraps(get_command)
        def tracked_get_command(typer_instance: Any) -> Any:
            command = get_command(typer_instance)
            with contextlib.suppress(TypeError):  # not weakly referenceable
                built = _built.setdefault(typer_instance, [])
                built[:] = [ref for ref in built if ref() is not None]
                built.append(weakref.ref(command))
            return command

        tracked_get_command._hotmod = True  # type: ignore[attr-defined]
        typer.main.get_command = tracked_get_command

    @override
    def finish(self, txn: Transaction) -> None:
        """Click commands built from an app before the reload take the app's new commands."""
        if _get_command is None:
            return
        for app, refs in list(_built.items()):
            for ref in refs:
                command = ref()
                if command is None:
                    continue
                try:
                    fresh = _get_command(app)
                except Exception:  # a command Typer cannot build: its use will say why
                    log.debug("could not rebuild the click command of %r", app, exc_info=True)
                    continue
                if type(fresh) is type(command):
                    _take_state(txn, command, fresh)

    @override
    def keep(self, txn: Transaction, old: object, new: object) -> object:
        """A re-created ``typer.Typer()``: the old app takes the new one's commands."""
        typer = sys.modules.get("typer")
        if not _same_kind(old, new, getattr(typer, "Typer", None)):
            return NOT_HANDLED
        return _take_state(txn, old, new)


_built: weakref.WeakKeyDictionary[Any, list[weakref.ref[Any]]] = weakref.WeakKeyDictionary()
_get_command: Callable[[Any], Any] | None = None  # typer.main.get_command itself


def _recording(registered: list[Any], register: Callable[[Any], Any], arg: Any) -> Any:
    """Call ``register(arg)``; note each entry it appended to ``registered`` in the ledger."""
    before = len(registered)
    result = register(arg)
    module = importing_module()
    if module is not None:
        for info in registered[before:]:
            ledger.record(
                module,
                functools.partial(_remove_entry, registered, info),
                functools.partial(registered.append, info),
            )
    return result


def _remove_entry(registered: list[Any], info: Any) -> None:
    for i, item in enumerate(registered):
        if item is info:
            del registered[i]
            return
