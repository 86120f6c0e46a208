"""ProcessPoolExecutor.statistics() and the reprs of the process pool's parts (issue 13).

The snapshot is the thread pool's sibling (both subclass futures_impl._stats.Snapshot);
its numbers are checked at moments the test pins down with gates in the workers, never
by timing: while the only worker runs a call, every submitted call is pending, each
either waiting (cancellable) or sent, and cancelling the waiting ones moves the counts.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import _process_helpers as helpers
import pytest

from futures_impl import process
from futures_impl._stats import ProcessPoolStatistics, Snapshot, ThreadPoolStatistics
from futures_impl.process import BrokenProcessPool, ProcessPoolExecutor

BOUND = 60.0


def _gated_pool(ctx: Any, **kwargs: Any) -> tuple[ProcessPoolExecutor, Any, Any]:
    entered, go = ctx.Semaphore(0), ctx.Semaphore(0)
    gates = (entered, go, ctx.Value("i", 0), ctx.Value("i", 0), ctx.Value("i", 0))
    ex = ProcessPoolExecutor(1, mp_context=ctx, initializer=helpers.init_gates,
                             initargs=gates, **kwargs)
    return ex, entered, go


def test_statistics_is_a_frozen_sibling_of_the_thread_pools() -> None:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        stats = ex.statistics()
    assert isinstance(stats, ProcessPoolStatistics) and isinstance(stats, Snapshot)
    assert type(stats).__mro__[1] is ThreadPoolStatistics.__mro__[1]  # siblings
    assert stats == ProcessPoolStatistics("running", 2, 0, 0, 0, 0, 0)  # not started yet
    assert list(stats.as_dict()) == ["state", "max_workers", "workers", "idle", "pending",
                                     "waiting", "sent"]
    with pytest.raises(AttributeError):
        stats.pending = 1  # type: ignore[misc]
    assert repr(stats).startswith("ProcessPoolStatistics(state='running', max_workers=2")


def test_statistics_and_reprs_follow_the_pool() -> None:
    ctx = multiprocessing.get_context("fork")
    ex, entered, go = _gated_pool(ctx)
    assert "writer=not started" in repr(ex._call_queue)
    released = 0
    try:
        futures = [ex.submit(helpers.gated_call, i) for i in range(6)]
        assert entered.acquire(timeout=BOUND)  # the only worker runs call 0, and waits
        stats = ex.statistics()
        assert (stats.state, stats.workers, stats.idle, stats.pending) == ("running", 1, 0, 6)
        assert stats.sent >= 1 and stats.waiting >= 1  # a window: not all six are sent
        assert stats.sent + stats.waiting == 6
        worker = ex._pool.workers[0]
        assert repr(worker).startswith(f"<_Worker pid={worker.pid} queued={stats.sent} ")
        assert "budget=unlimited" in repr(worker)
        assert "writer=alive" in repr(ex._call_queue)
        assert repr(ex) == (f"<ProcessPoolExecutor at {id(ex):#x} state=running"
                            f" workers=1/1 idle=0 pending=6>")
        waiting = stats.waiting
        cancelled = sum(f.cancel() for f in futures[::-1])  # the waiting ones, no others
        assert cancelled == waiting
        for _ in range(stats.sent):
            go.release()
            released += 1
        for f in futures:
            if not f.cancelled():
                assert f.result(timeout=BOUND) in [i * i for i in range(6)]
        stats = ex.statistics()
        assert (stats.pending, stats.waiting, stats.sent, stats.idle) == (0, 0, 0, 1)
    finally:
        for _ in range(6 - released):
            go.release()
        ex.shutdown(wait=True)
    stats = ex.statistics()
    assert (stats.state, stats.workers, stats.pending) == ("shut down", 0, 0)
    assert "state=shut down" in repr(ex)
    assert "writer=ended" in repr(ex._call_queue) and "closed" in repr(ex._call_queue)


def test_worker_repr_shows_its_task_budget() -> None:
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(1, mp_context=ctx, max_tasks_per_child=3) as ex:
        assert ex.submit(helpers.square, 3).result(timeout=BOUND) == 9
        assert "budget=2" in repr(ex._pool.workers[0])


def test_broken_state() -> None:
    ex = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    try:
        future = ex.submit(helpers.exit_now, 3)
        with pytest.raises(BrokenProcessPool):
            future.result(timeout=BOUND)
        assert ex.statistics().state == "broken"
        assert "state=broken" in repr(ex)
    finally:
        ex.shutdown(wait=True)


def test_the_facade_keeps_the_names_reached_from_outside() -> None:
    # CPython's suites and tests/ reach these at futures_impl.process (docs/conformance.md).
    for name in ("BrokenProcessPool", "_RemoteTraceback", "_ThreadWakeup",
                 "_check_system_limits", "_MAX_WINDOWS_WORKERS", "EXTRA_QUEUED_CALLS",
                 "_ExecutorManagerThread", "_spawn_worker", "_python_exit", "_TERMINATE",
                 "_KILL"):
        assert hasattr(process, name), name
    assert BrokenProcessPool.__module__ == "futures_impl.process"
    assert process._RemoteTraceback.__module__ == "futures_impl.process"
