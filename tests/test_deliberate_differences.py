"""The README's "differences from the stdlib, on purpose" that other files do not cover."""

from __future__ import annotations

import threading

import pytest

import futures_impl

BOUND = 30.0  # seconds; bounds a regression (a hang), never a timing assertion


@pytest.mark.timeout(60)
def test_thread_pool_cancel_futures_leaves_them_settled() -> None:
    """shutdown(cancel_futures=True): wait()/as_completed() on the cancelled futures return
    (the stdlib leaves them CANCELLED, and both block forever: cpython#136655)."""
    release = threading.Event()
    ex = futures_impl.ThreadPoolExecutor(1)
    running = ex.submit(release.wait, BOUND)
    queued = [ex.submit(pow, 2, i) for i in range(10)]
    ex.shutdown(wait=False, cancel_futures=True)
    release.set()
    assert running.result(timeout=BOUND) is True
    assert all(f.cancelled() for f in queued)
    done, not_done = futures_impl.wait(queued, timeout=BOUND)
    assert not not_done and done == set(queued)
    assert set(futures_impl.as_completed(queued, timeout=BOUND)) == set(queued)
    ex.shutdown(wait=True)
