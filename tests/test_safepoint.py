"""SafePoint in-process: units of work read, reloads write, and reach() applies at safe points."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from hotmod._safepoint import SafePoint

DEADLINE = 10.0


def admits(gate: SafePoint) -> bool:
    """Whether new work (another thread, in no unit of work) may enter now; never blocks."""
    result: list[bool] = []

    def probe() -> None:
        entered = gate.try_acquire_read()
        if entered:
            gate.release_read()
        result.append(entered)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(DEADLINE)
    return result[0]


def until(condition: Callable[[], bool]) -> None:
    """Wait (with a deadline) for another thread to reach a state."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.001)


@contextmanager
def writer_thread(gate: SafePoint) -> Iterator[threading.Event]:
    """A reload holding the gate in another thread until the yielded event is set."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        gate.acquire_write()
        holding.set()
        done.wait(DEADLINE)
        gate.release_write()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(DEADLINE)
        yield done
    finally:
        done.set()
        thread.join(DEADLINE)


# -- readers and writers --------------------------------------------------------------


def test_units_of_work_are_counted_and_nest() -> None:
    gate = SafePoint()
    assert gate.in_flight == 0 and not gate.held_here()
    with gate.reading():
        assert gate.in_flight == 1 and gate.held_here()
        with gate.reading():
            assert gate.in_flight == 2
        assert gate.held_here()
    assert gate.in_flight == 0 and not gate.held_here()


def test_new_work_waits_while_a_reload_runs() -> None:
    gate = SafePoint()
    with writer_thread(gate):
        assert not admits(gate)
    assert admits(gate)


def test_a_reload_waits_for_work_in_flight_then_holds_new_work() -> None:
    gate = SafePoint()
    gate.acquire_read()  # work in flight in this thread
    acquired = threading.Event()
    release = threading.Event()

    def reload() -> None:
        gate.acquire_write()
        acquired.set()
        release.wait(DEADLINE)
        gate.release_write()

    thread = threading.Thread(target=reload)
    thread.start()
    try:
        # The reload now waits: new work is refused (the waiting reload goes first) ...
        until(lambda: not admits(gate))
        assert not acquired.is_set()
        # ... while work already inside may enter again (no deadlock on nested calls).
        assert gate.try_acquire_read()
        gate.release_read()
        gate.release_read()  # the work in flight ends: the reload goes ahead
        assert acquired.wait(DEADLINE)
        assert not admits(gate)
    finally:
        release.set()
        thread.join(DEADLINE)
    assert admits(gate)


def test_the_writer_is_reentrant_and_may_read() -> None:
    gate = SafePoint()
    assert gate.acquire_write()
    assert gate.acquire_write(), "the thread holding the gate may enter it again"
    assert gate.try_acquire_read(), "code run by the reload itself is not held"
    gate.release_read()
    gate.release_write()
    assert not admits(gate), "still held after one of two releases"
    gate.release_write()
    assert admits(gate)


def test_acquire_write_times_out_and_lets_work_go_on() -> None:
    gate = SafePoint()
    with gate.reading():
        assert gate.acquire_write(timeout=0.01) is False
        # The writer gave up: it no longer holds back new work.
        assert admits(gate)


def test_writing_goes_ahead_after_the_hold_timeout_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = SafePoint(hold_timeout=0.01)
    gate.acquire_read()  # a stream that never ends
    with caplog.at_level(logging.WARNING, logger="hotmod.safepoint"), gate.writing():
        assert not admits(gate)
    gate.release_read()
    assert "1 request(s) still in flight" in caplog.text
    assert admits(gate)


# -- asyncio --------------------------------------------------------------------------


def test_async_work_awaits_a_reload_without_blocking_the_loop() -> None:
    gate = SafePoint()

    async def main() -> list[str]:
        seen: list[str] = []

        async def request() -> None:
            await gate.acquire_read_async()
            seen.append("request in")
            gate.release_read()

        with writer_thread(gate) as done:
            task = asyncio.ensure_future(request())
            for _ in range(20):
                await asyncio.sleep(0)  # the loop keeps running other work
            seen.append("loop alive")
            assert not task.done()
            done.set()
            await asyncio.wait_for(task, DEADLINE)
        return seen

    assert asyncio.run(main()) == ["loop alive", "request in"]


def test_an_async_reload_waits_for_requests_in_flight() -> None:
    gate = SafePoint()

    async def main() -> list[str]:
        order: list[str] = []
        await gate.acquire_read_async()  # a request in flight in this task
        order.append("request")

        async def reload() -> None:
            assert await gate.acquire_write_async()
            order.append("reload")
            gate.release_write()

        task = asyncio.ensure_future(reload())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not task.done()
        order.append("request done")
        gate.release_read()
        await asyncio.wait_for(task, DEADLINE)
        return order

    assert asyncio.run(main()) == ["request", "request done", "reload"]


def test_async_write_timeout_and_force(caplog: pytest.LogCaptureFixture) -> None:
    gate = SafePoint()

    async def main() -> tuple[bool, bool]:
        await gate.acquire_read_async()
        gave_up = await gate.acquire_write_async(timeout=0.01)
        with caplog.at_level(logging.WARNING, logger="hotmod.safepoint"):
            forced = await gate.acquire_write_async(timeout=0.01, force=True)
        gate.release_write()
        gate.release_read()
        return gave_up, forced

    assert asyncio.run(main()) == (False, True)
    assert "still in flight" in caplog.text


# -- reach() ----------------------------------------------------------------------------


def test_reach_applies_pending_changes_at_a_safe_point() -> None:
    gate = SafePoint()
    calls: list[str] = []
    assert gate.reach() is None, "nothing pending"

    def apply() -> str:
        calls.append("applied")
        return "report"

    gate.pending = apply
    assert gate.reach() == "report"
    assert calls == ["applied"]


def test_reach_inside_a_unit_of_work_is_not_a_safe_point() -> None:
    gate = SafePoint()
    calls: list[str] = []
    gate.pending = lambda: calls.append("applied")
    with gate.reading():
        assert gate.reach() is None
    assert calls == []
    gate.reach()
    assert calls == ["applied"]


def test_reach_on_an_event_loop_never_blocks_on_a_busy_gate() -> None:
    gate = SafePoint()
    calls: list[str] = []
    gate.pending = lambda: calls.append("applied")

    async def main() -> None:
        with writer_thread(gate):
            assert gate.reach() is None  # blocking here would stall the loop
        assert calls == []
        gate.reach()  # the gate is free: apply now
        assert calls == ["applied"]

    asyncio.run(main())
