"""The Ledger in-process: registrations recorded, retracted, committed or rolled back."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from hotmod._ledger import Ledger, current_module


class Registry:
    """A stand-in for a framework registry (routes, signal handlers, CLI commands)."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def register(self, ledger: Ledger, module: str, item: str) -> None:
        self.items.append(item)
        ledger.record(
            module,
            undo=lambda: self.items.remove(item),
            redo=lambda: self.items.append(item),
        )


def test_outside_a_reload_registrations_go_straight_to_the_ledger() -> None:
    ledger, registry = Ledger(), Registry()
    registry.register(ledger, "app", "route-a")
    registry.register(ledger, "app", "route-b")
    registry.register(ledger, "other", "route-c")
    assert len(ledger.entries("app")) == 2
    assert len(ledger.entries("other")) == 1
    assert ledger.entries("unknown") == []


def test_retract_undoes_in_reverse_order() -> None:
    ledger = Ledger()
    calls: list[str] = []
    ledger.record("app", lambda: calls.append("undo 1"), lambda: None)
    ledger.record("app", lambda: calls.append("undo 2"), lambda: None)
    ledger.begin()
    ledger.retract("app")
    assert calls == ["undo 2", "undo 1"]
    assert ledger.entries("app") == []


def test_commit_keeps_the_new_registrations() -> None:
    ledger, registry = Ledger(), Registry()
    registry.register(ledger, "app", "old")
    ledger.begin()
    ledger.retract("app")
    assert registry.items == []
    registry.register(ledger, "app", "new")
    assert ledger.entries("app") == [], "pending until the reload commits"
    ledger.commit()
    assert registry.items == ["new"]
    assert len(ledger.entries("app")) == 1
    # The committed entry is the new one: retracting it takes "new" back.
    ledger.begin()
    ledger.retract("app")
    assert registry.items == []


def test_rollback_undoes_the_new_and_redoes_the_retracted() -> None:
    ledger, registry = Ledger(), Registry()
    registry.register(ledger, "app", "old-1")
    registry.register(ledger, "app", "old-2")
    registry.register(ledger, "lib", "lib-1")
    ledger.begin()
    ledger.retract("app")
    registry.register(ledger, "app", "new-1")
    registry.register(ledger, "lib", "lib-new")
    ledger.rollback()
    assert sorted(registry.items) == ["lib-1", "old-1", "old-2"]
    assert len(ledger.entries("app")) == 2 and len(ledger.entries("lib")) == 1
    # After the transaction, registrations go straight to the ledger again.
    registry.register(ledger, "app", "later")
    assert len(ledger.entries("app")) == 3


def test_registrations_from_other_threads_during_a_reload_are_not_pending() -> None:
    ledger, registry = Ledger(), Registry()
    ledger.begin()
    worker = threading.Thread(target=registry.register, args=(ledger, "bg", "from a thread"))
    worker.start()
    worker.join(10)
    assert len(ledger.entries("bg")) == 1
    ledger.rollback()
    assert registry.items == ["from a thread"], "a rollback leaves other threads' work alone"


def test_forget_drops_without_undoing() -> None:
    ledger, registry = Ledger(), Registry()
    registry.register(ledger, "gone", "kept")
    ledger.forget("gone")
    assert ledger.entries("gone") == []
    assert registry.items == ["kept"]


def test_a_failing_undo_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger = Ledger()
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    ledger.record("app", lambda: calls.append("first"), lambda: None)
    ledger.record("app", broken, lambda: None)
    ledger.begin()
    with caplog.at_level(logging.ERROR, logger="hotmod.ledger"):
        ledger.retract("app")
    assert calls == ["first"]
    assert "could not take back or redo a registration of app" in caplog.text


# -- current_module -------------------------------------------------------------------


def run_module(name: str, source: str, **names: object) -> dict[str, object]:
    ns: dict[str, object] = {"__name__": name, **names}
    exec(compile(source, f"<{name}>", "exec"), ns)
    return ns


def test_current_module_is_the_module_whose_top_level_runs() -> None:
    ns = run_module("app.routes", "who = current_module()\n", current_module=current_module)
    assert ns["who"] == "app.routes"


def test_current_module_through_a_helper_called_at_top_level() -> None:
    def register() -> str | None:
        return current_module()  # a library's register() attributes to its caller

    ns = run_module("app.views", "who = register()\n", register=register)
    assert ns["who"] == "app.views"


def test_current_module_inside_a_function_defined_in_a_module() -> None:
    ns = run_module(
        "app.tasks",
        "def later():\n    return current_module()\n",
        current_module=current_module,
    )
    later = ns["later"]
    assert callable(later)
    # Called later from no module's top level of its own: the caller's frame decides.
    nested = run_module("app.main", "who = later()\n", later=later)
    assert nested["who"] == "app.main"


def test_what_the_records_hold_counts_as_a_known_reference() -> None:
    # A framework's registration (click's add_command, a route) refers to the registered
    # object from the ledger's undo and redo: counted there, the registries' look near
    # the module accounts for every reference, and needs no walk of the heap.
    import functools

    from hotmod._holders import near_containers

    ledger = Ledger()
    group: dict[str, object] = {"hello": object()}
    undo = functools.partial(group.pop, "hello", group["hello"])
    ledger.record("cli", undo, functools.partial(group.__setitem__, "hello", group["hello"]))
    ledger.begin()
    registry = Registry()
    registry.register(ledger, "plugins", "route-a")  # (a pending record: a closure's cells)
    ledger.retract("cli")  # (retracted, pending: still held; its undo took it out)
    namespace = {"group": group, "command": undo.args[1]}
    group["hello"] = namespace["command"]
    # (the command goes to the look in a list of its own, as a reload's objects do)
    assert near_containers([namespace["command"]], [namespace], frozenset()) is None
    found = near_containers([namespace["command"]], [namespace], frozenset(), ledger.holders())
    assert found == ([group], [])
    held = ledger.holders()
    assert len(held) == len({id(h) for h in held}) == 6  # each holder once


def test_the_running_script_notes_only_what_its_definitions_register(tmp_path: Path) -> None:
    # Its top-level statements never run again, so nothing would take their records
    # back, and its main loop may make the same call (a warnings filter in
    # ``catch_warnings``, a reload of a big module) a million times. What its def and
    # class statements register is taken back when they run again.
    ledger, registry = Ledger(), Registry()

    def note(item: object) -> object:
        module = current_module()
        assert module is not None
        registry.register(ledger, module, repr(item))
        return item

    script = tmp_path / "script.py"
    script.write_text("for i in range(1000):\n    note(i)\n\n@note\ndef handler():\n    pass\n")
    code = compile(script.read_text(), str(script), "exec")
    exec(code, {"__name__": "__main__", "note": note})
    assert len(registry.items) == 1001
    assert len(ledger.entries("__main__")) == 1
    exec(code, {"__name__": "app.loop", "note": note})  # a module's run: all of it
    assert len(ledger.entries("app.loop")) == 1001
