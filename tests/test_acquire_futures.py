"""_AcquireFutures: several futures locked at once, in one global order (no deadlock)."""

from __future__ import annotations

import threading

import pytest

from futures_impl._base import Future, _AcquireFutures


@pytest.mark.timeout(60)
def test_overlapping_sets_in_opposite_orders_do_not_deadlock() -> None:
    futures = [Future() for _ in range(50)]
    forward, backward = futures, list(reversed(futures))
    start = threading.Barrier(2, timeout=30)
    rounds = 2000

    def lock_repeatedly(order: list[Future[object]]) -> None:
        start.wait()
        for _ in range(rounds):
            with _AcquireFutures(order):
                pass

    threads = [threading.Thread(target=lock_repeatedly, args=(o,)) for o in (forward, backward)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=50)
    assert not any(t.is_alive() for t in threads), "_AcquireFutures deadlocked"


def _free_for_another_thread(f: Future[object]) -> bool:
    """A non-blocking try from another thread (the lock is reentrant for this one)."""
    got: list[bool] = []

    def attempt() -> None:
        taken = f._lock.acquire(False)
        if taken:
            f._lock.release()
        got.append(taken)

    t = threading.Thread(target=attempt)
    t.start()
    t.join(timeout=30)
    return got == [True]


@pytest.mark.timeout(30)
def test_all_locks_held_inside_and_released_after() -> None:
    futures = [Future() for _ in range(5)]
    with _AcquireFutures(reversed(futures)):
        assert all(f._lock._is_owned() for f in futures)
        # Nobody else can take one meanwhile (a non-blocking try, no timing involved).
        assert not any(_free_for_another_thread(f) for f in futures)
    assert not any(f._lock._is_owned() for f in futures)
    assert all(_free_for_another_thread(f) for f in futures)
    futures[2].set_result(1)  # settling works again once the block has ended
    assert futures[2].result(timeout=0) == 1


@pytest.mark.timeout(30)
def test_a_future_listed_twice_is_locked_twice_without_deadlock() -> None:
    """The stdlib's _AcquireFutures over Conditions on RLocks tolerates duplicates; so does ours."""
    f: Future[object] = Future()
    with _AcquireFutures([f, f]):
        assert not _free_for_another_thread(f)
    assert _free_for_another_thread(f)
