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


@pytest.mark.timeout(30)
def test_all_locks_held_inside_and_released_after() -> None:
    futures = [Future() for _ in range(5)]
    with _AcquireFutures(reversed(futures)):
        assert all(f._lock.locked() for f in futures)
        # Nobody else can take one meanwhile (a non-blocking try, no timing involved).
        assert not any(f._lock.acquire(False) for f in futures)
    assert not any(f._lock.locked() for f in futures)
    futures[2].set_result(1)  # settling works again once the block has ended
    assert futures[2].result(timeout=0) == 1
