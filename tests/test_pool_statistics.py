"""Reprs that show state, and ThreadPoolExecutor.statistics() (issue 13, D).

The pool is driven into known states with Events and Barriers (never sleeps), then its
snapshot and repr are compared with what those states imply.
"""

from __future__ import annotations

import threading

import pytest

import futures_impl
from futures_impl import _base
from futures_impl._stats import Snapshot, ThreadPoolStatistics
from futures_impl.thread import BrokenThreadPool, ThreadPoolExecutor

BOUND = 30

pytestmark = pytest.mark.usefixtures("no_thread_leaks")


def test_statistics_of_a_busy_pool_with_a_queued_call() -> None:
    release = threading.Event()
    started = threading.Barrier(3, timeout=BOUND)

    def block() -> None:
        started.wait()
        release.wait(BOUND)

    ex = ThreadPoolExecutor(2)
    try:
        assert ex.statistics() == ThreadPoolStatistics("running", 2, 0, 0, 0)
        running = [ex.submit(block), ex.submit(block)]
        started.wait()  # both workers are inside block(): none idle, nothing queued
        assert ex.statistics() == ThreadPoolStatistics("running", 2, 2, 0, 0)
        queued = ex.submit(int, "3")
        stats = ex.statistics()
        assert stats == ThreadPoolStatistics("running", 2, 2, 0, 1)
        assert (stats.state, stats.max_workers, stats.workers, stats.idle, stats.queued) == (
            "running", 2, 2, 0, 1,
        )
        text = repr(ex)
        assert text.startswith("<ThreadPoolExecutor at 0x")
        assert text.endswith(" state=running workers=2/2 idle=0 queued=1>")
    finally:
        release.set()
    assert queued.result(timeout=BOUND) == 3
    for f in running:
        f.result(timeout=BOUND)
    ex.shutdown(wait=True)
    stats = ex.statistics()
    assert (stats.state, stats.workers, stats.idle) == ("shut down", 0, 0)
    assert "state=shut down workers=0/2" in repr(ex)


def test_statistics_of_a_broken_pool() -> None:
    def fail() -> None:
        raise ValueError("no")

    ex = ThreadPoolExecutor(1, initializer=fail)
    try:
        with pytest.raises(BrokenThreadPool):
            ex.submit(int).result(timeout=BOUND)
    finally:
        ex.shutdown(wait=True)
    assert ex.statistics().state == "broken"
    assert "state=broken" in repr(ex)


def test_snapshot_is_immutable_comparable_and_printable() -> None:
    stats = ThreadPoolStatistics("running", 4, 1, 1, 0)
    with pytest.raises(AttributeError):
        stats.workers = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del stats.idle
    assert stats == ThreadPoolStatistics("running", 4, 1, 1, 0)
    assert stats != ThreadPoolStatistics("running", 4, 2, 1, 0)
    assert hash(stats) == hash(ThreadPoolStatistics("running", 4, 1, 1, 0))
    assert stats.as_dict() == {
        "state": "running", "max_workers": 4, "workers": 1, "idle": 1, "queued": 0,
    }
    assert repr(stats) == (
        "ThreadPoolStatistics(state='running', max_workers=4, workers=1, idle=1, queued=0)"
    )
    with pytest.raises(TypeError):
        ThreadPoolStatistics("running", 4)


def test_a_sibling_snapshot_needs_only_its_slots() -> None:
    """How the process pool's snapshot is meant to be declared."""

    class Sibling(Snapshot):
        __slots__ = ("state", "pending")

    one = Sibling("running", 3)
    assert one.as_dict() == {"state": "running", "pending": 3}
    assert one != ThreadPoolStatistics("running", 1, 1, 1, 1)


def test_waiter_repr_shows_its_progress() -> None:
    f, g = futures_impl.Future(), futures_impl.Future()
    waiter = _base._Waiter(_base.ALL_COMPLETED)
    registered = _base._register(waiter, [f, g], [])
    try:
        assert repr(waiter).endswith(" until=all registered=2 settled=0 armed=False>")
        waiter.arm()
        f.set_result(1)
        assert repr(waiter).endswith(" until=all registered=2 settled=1 armed=True>")
    finally:
        _base._unregister(waiter, registered)
    assert " until=any " in repr(_base._Waiter(_base.FIRST_COMPLETED))
    assert " until=first failure " in repr(_base._Waiter(_base.FIRST_EXCEPTION))


def test_condition_view_repr_names_its_future() -> None:
    f = futures_impl.Future()
    assert repr(f._condition) == f"<_FutureCondition of {f!r}>"
