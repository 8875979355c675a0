"""The batcher (hotmod._monitor._batch) on scripted events and a fake clock: no threads, no disk."""

from __future__ import annotations

from hotmod._monitor._batch import EMPTY, HOT, STALL, Batcher

DEBOUNCE = 0.01


def batcher(*, flushes: bool = True) -> Batcher:
    return Batcher(debounce=DEBOUNCE, flushes=flushes)


def test_in_place_save_goes_once_closed_and_flushed() -> None:
    b = batcher()
    b.event("m.py", "write", 0.0)  # the truncation
    b.flush()
    assert b.take(0.001) is None  # still being written
    b.event("m.py", "write", 0.002)
    b.event("m.py", "done", 0.003)  # closed
    assert b.take(0.003) is None  # the backend may have more events queued
    b.flush()
    assert b.take(0.003) == {"m.py"}  # no fixed wait
    assert b.take(1.0) is None and not b


def test_atomic_save_goes_at_once() -> None:
    b = batcher()
    b.event("m.py", "done", 5.0)  # renamed into place
    b.flush()
    assert b.take(5.0) == {"m.py"}


def test_a_write_that_never_closes_counts_after_the_stall_time() -> None:
    b = batcher()
    b.event("m.py", "write", 0.0)  # os.truncate(), or a writer that died
    b.flush()
    assert b.take(STALL / 2) is None
    assert b.wake_at(STALL / 2) == STALL
    assert b.take(STALL) == {"m.py"}


def test_a_newer_write_makes_a_complete_file_wait() -> None:
    b = batcher()
    b.event("m.py", "done", 0.0)
    b.event("m.py", "write", 0.0001)  # the next save truncates it before the batch went
    b.flush()
    assert b.take(0.0002) is None
    b.event("m.py", "done", 0.0003)
    b.flush()
    assert b.take(0.0003) is None  # saved twice within HOT: hot, waits to be quiet
    assert b.take(0.0003 + DEBOUNCE) == {"m.py"}


def test_two_saves_ten_ms_apart() -> None:
    b = batcher()
    b.event("m.py", "write", 0.0)
    b.event("m.py", "done", 0.0005)
    b.flush()
    assert b.take(0.0005) == {"m.py"}  # the first goes at once
    b.event("m.py", "write", 0.0105)
    b.flush()
    assert b.take(0.011) is None  # the second is being written: never taken half
    b.event("m.py", "done", 0.011)
    b.flush()
    assert HOT > 0.011 - 0.0005
    assert b.take(0.011) is None  # a quick re-save: taken once quiet for debounce
    assert b.wake_at(0.011) == 0.011 + DEBOUNCE
    assert b.take(0.011 + DEBOUNCE) == {"m.py"}


def test_follow_up_writes_are_waited_for_at_most_debounce() -> None:
    b = batcher()
    b.event("a.py", "done", 0.0)  # git checkout: a.py is written ...
    b.event("b.py", "write", 0.0001)  # ... and b.py is being written
    b.flush()
    assert b.take(0.0002) is None
    b.event("b.py", "done", 0.002)
    b.flush()
    assert b.take(0.002) == {"a.py", "b.py"}  # one batch when b.py follows in time

    b.event("a.py", "done", 1.0)
    b.event("c.py", "write", 1.0)
    b.flush()
    assert b.take(1.0 + DEBOUNCE / 2) is None
    assert b.take(1.0 + DEBOUNCE) == {"a.py"}  # c.py is too slow: a.py goes without it
    assert "c.py" in b._pending


def test_churn_starves_nobody_and_its_final_content_goes() -> None:
    b = batcher()
    now = 0.0
    taken: list[tuple[float, frozenset[str]]] = []
    for i in range(1000):  # churn.py rewritten every millisecond for a second
        now = i * 0.001
        b.event("churn.py", "write", now)
        b.event("churn.py", "done", now + 0.0002)
        if i == 100:
            b.event("other.py", "write", now + 0.0001)
            b.event("other.py", "done", now + 0.0003)
        b.flush()
        for t in (now + 0.0002, now + 0.0004, now + 0.0009):
            got = b.take(t)
            if got:
                taken.append((t, got))
    others = [t for t, got in taken if "other.py" in got]
    assert len(others) == 1 and others[0] - 0.1003 <= DEBOUNCE + 0.001
    churn = [t for t, got in taken if "churn.py" in got]
    assert len(churn) <= 1  # taken at most once while churning (the first save)
    end = now + 0.0002
    assert b.take(end + DEBOUNCE) == {"churn.py"}  # quiet at last: the final content goes


def test_unknown_completeness_counts_once_quiet() -> None:
    b = batcher(flushes=False)  # e.g. FSEvents: "modified" and nothing else
    b.event("m.py", "changed", 0.0)
    assert b.take(DEBOUNCE / 2) is None
    b.event("m.py", "changed", DEBOUNCE / 2)
    assert b.take(DEBOUNCE) is None
    assert b.take(DEBOUNCE * 1.5) == {"m.py"}


def test_backends_without_flush_wait_a_short_quiet() -> None:
    b = batcher(flushes=False)
    b.event("m.py", "done", 0.0)
    assert b.take(0.0) is None
    wake = b.wake_at(0.0)
    assert wake is not None and 0.0 < wake <= DEBOUNCE
    assert b.take(wake) == {"m.py"}


def test_zero_debounce() -> None:
    b = Batcher(debounce=0.0)
    b.event("m.py", "done", 0.0)
    b.event("m.py", "done", 0.001)  # hot, but no wait asked for
    b.flush()
    assert b.take(0.001) == {"m.py"}


def test_a_path_put_back_waits_for_its_close_unless_it_came_already() -> None:
    b = batcher()
    b.event("m.py", "done", 0.0)
    b.flush()
    assert b.take(0.0) == {"m.py"}
    b.requeue("m.py", 0.001)  # found still open for writing when it was to be read
    b.flush()
    assert b.take(0.002) is None
    b.event("m.py", "done", 0.003)  # its close
    b.flush()
    assert b.take(0.003 + DEBOUNCE) == {"m.py"}

    b.event("n.py", "done", 1.0)
    b.flush()
    assert b.take(1.0) == {"n.py"}
    b.event("n.py", "done", 1.0001)  # the close was seen before the path was put back
    b.requeue("n.py", 1.0002)
    b.flush()
    assert b.take(1.0001 + DEBOUNCE) == {"n.py"}


def test_a_file_found_empty_waits_once_for_a_write_to_follow() -> None:
    b = batcher()
    b.event("m.py", "done", 0.0)  # truncated and closed: ": > m.py"
    b.flush()
    assert b.take(0.0) == {"m.py"}
    assert b.requeue_empty("m.py", 0.001)  # found empty when held: put back
    assert b.take(0.002) is None and b.take(EMPTY) is None
    b.event("m.py", "write", 0.003)  # its writer reopens it ...
    b.event("m.py", "done", 0.004)  # ... and closes it, whole
    b.flush()
    assert b.take(0.004 + DEBOUNCE) == {"m.py"}
    # Emptied on purpose: after one wait it goes.
    b.event("m.py", "done", 1.0)
    b.flush()
    assert b.take(1.0) == {"m.py"} and b.requeue_empty("m.py", 1.0)
    assert b.take(1.0 + EMPTY) == {"m.py"} and not b.requeue_empty("m.py", 1.0 + EMPTY)
