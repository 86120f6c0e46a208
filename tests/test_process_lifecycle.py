"""ProcessPoolExecutor: worker lifecycle with max_tasks_per_child, idle reuse, and a
cancelled call in the backlog (issue 12, items 3 and 4).

Worker processes are observed from outside, through /proc (Linux): a pid "lingers" while
its process runs, or while it is an unreaped zombie of this process (spawn workers are
our children; forkserver workers are the fork server's, which reaps them). Every wait is
bounded: `_await` polls an observable condition and fails with what it waited for.
"""

from __future__ import annotations

import concurrent.futures as std_futures
import multiprocessing
import os
import sys
import threading
from collections import Counter
from types import ModuleType
from typing import Any, Callable

import _lifecycle_helpers as lifecycle
import _process_helpers as helpers
import pytest

import futures_impl
from futures_impl.process import ProcessPoolExecutor

BOUND = 60.0  # seconds any single future or condition may take before it counts as a hang
REPLACEMENT_BOUND = 30.0  # < lifecycle.LINGER_BOUND: a late replacement fails, not passes

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="observes workers via /proc"),
]

RECYCLING_METHODS = ["spawn", "forkserver"]  # max_tasks_per_child refuses "fork"
STDLIB_HAS_MAX_TASKS = sys.version_info >= (3, 11)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of `pid`, or None once it has gone (exited and been reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return fields[0], int(fields[1])


def _running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _lingers(pid: int) -> bool:
    """Still running, or exited but not reaped by this process (our zombie)."""
    stat = _stat(pid)
    return stat is not None and (stat[0] != "Z" or stat[1] == os.getpid())


def _await(predicate: Callable[[], object], what: str, bound: float = BOUND) -> None:
    """Poll `predicate` until true; fail after `bound` seconds, saying what was awaited."""
    pause = threading.Event()
    deadline = _now() + bound
    while not predicate():
        if _now() > deadline:
            pytest.fail(f"waited {bound:.0f} s for {what}", pytrace=False)
        pause.wait(0.005)


def _now() -> float:
    import time

    return time.monotonic()


# -- item 3a: retired workers exit (and are reaped) before shutdown ------------------------


@pytest.mark.parametrize("method", RECYCLING_METHODS)
def test_retired_workers_exit_before_shutdown(method: str) -> None:
    """60 calls, 2 workers, a budget of 3 calls each: about 20 workers come and go. A
    retired worker exits by itself and the pool reaps it, while the pool lives on: at no
    point do more than the active workers plus their retiring predecessors linger, and
    once the calls are answered only the pool's own `_processes` are left.

    Not differential: the 3.11-3.13.0 stdlib hangs on this very scenario (cpython#115634,
    observed here: a result never arrives).
    """
    max_workers, budget, calls = 2, 3, 60
    ex = ProcessPoolExecutor(
        max_workers, mp_context=multiprocessing.get_context(method), max_tasks_per_child=budget
    )
    try:
        futures = [ex.submit(helpers.getpid_after, i) for i in range(calls)]
        seen: list[int] = []
        peak = 0
        for i, f in enumerate(futures):
            x, pid = f.result(timeout=BOUND)
            assert x == i
            seen.append(pid)
            assert len(ex._processes) <= max_workers
            lingering = [p for p in set(seen) if _lingers(p)]
            peak = max(peak, len(lingering))
        per_pid = Counter(seen)
        assert max(per_pid.values()) <= budget
        assert len(per_pid) >= calls // budget
        # Each active worker, plus a predecessor or two still on its way out on a loaded
        # machine. Retired workers that never exit leave about 20 lingering.
        assert peak <= 3 * max_workers, f"{peak} worker processes lingered at once"
        _await(
            lambda: {p for p in per_pid if _lingers(p)} <= set(ex._processes),
            "every retired worker to exit and be reaped, before shutdown",
        )
        assert len(ex._processes) <= max_workers
        # Reaped from the pool's side too (a forkserver worker is the fork server's child:
        # /proc cannot tell whether the pool has joined it).
        _await(lambda: len(ex._pool.workers) <= max_workers, "the pool to reap retired workers")
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
    _await(lambda: not any(_lingers(p) for p in per_pid), "the workers to exit at shutdown")


# -- item 3b: a replacement starts while a retired worker is still exiting -----------------


@pytest.mark.parametrize("max_workers", [1, 2])
@pytest.mark.parametrize("method", RECYCLING_METHODS)
def test_replacement_starts_while_retired_worker_still_exits(method: str,
                                                              max_workers: int) -> None:
    """Each worker runs one call (max_tasks_per_child=1) that answers at once but keeps
    its process alive until the test lets it go. A worker that has answered its last call
    no longer counts towards max_workers: the next call runs on a new worker while every
    retired one is still there (a replacement that waited for the old process to be
    reaped would wait for the test, which waits for it).

    Not differential on purpose: the stdlib (3.13, observed) starts the replacement only
    once the old process has exited (README, "Differences from the stdlib"). That max_workers
    still bounds the calls running at once is test_process_drop_in's business.
    """
    ctx = multiprocessing.get_context(method)
    release = ctx.Event()
    ex = ProcessPoolExecutor(
        max_workers, mp_context=ctx, max_tasks_per_child=1,
        initializer=lifecycle.set_release, initargs=(release,),
    )
    retired: list[int] = []
    try:
        firsts = [ex.submit(lifecycle.getpid_and_linger) for _ in range(max_workers)]
        retired = [f.result(timeout=BOUND) for f in firsts]
        assert len(set(retired)) == max_workers
        nxt = ex.submit(helpers.getpid_after, 7)
        try:
            x, pid = nxt.result(timeout=REPLACEMENT_BOUND)
        except futures_impl.TimeoutError:
            pytest.fail("no replacement ran the next call while the retired workers exited",
                        pytrace=False)
        assert x == 7 and pid not in retired
        # They could not have exited: the release event is not set yet.
        assert all(_running(p) for p in retired)
        assert not set(retired) & set(ex._processes)
    finally:
        release.set()
        ex.shutdown(wait=True)
    _await(lambda: not any(_lingers(p) for p in retired), "the retired workers to exit")


# -- item 3c: sequential use stays at one process ------------------------------------------


def _sequential(mod: ModuleType, method: str, max_tasks: int | None,
                calls: int = 12, max_workers: int = 4) -> tuple[list[int], int]:
    """submit-then-result `calls` times; (pid of each call, most `_processes` seen)."""
    kwargs: dict[str, Any] = {} if max_tasks is None else {"max_tasks_per_child": max_tasks}
    ex = mod.ProcessPoolExecutor(
        max_workers, mp_context=multiprocessing.get_context(method), **kwargs
    )
    pids, most = [], 0
    try:
        for i in range(calls):
            x, pid = ex.submit(helpers.getpid_after, i).result(timeout=BOUND)
            assert x == i
            pids.append(pid)
            most = max(most, len(ex._processes))
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
    return pids, most


@pytest.mark.parametrize("max_tasks", [None, 1000])
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_sequential_use_stays_at_one_process(method: str, max_tasks: int | None) -> None:
    """One call at a time: an idle worker is reused, no second worker starts (spawn,
    forkserver; the stdlib does the same since 3.9). Under "fork" every worker is forked
    at the first submit (both pools); futures_impl then still runs every call on the same
    idle worker, the stdlib on whichever takes it from its shared queue."""
    if method == "fork" and max_tasks is not None:
        pytest.skip("max_tasks_per_child refuses the fork start method")
    pids, most = _sequential(futures_impl, method, max_tasks)
    if method == "fork":
        assert most == 4
    else:
        assert most == 1
    assert len(set(pids)) == 1
    if max_tasks is None or STDLIB_HAS_MAX_TASKS:
        std_pids, std_most = _sequential(std_futures, method, max_tasks)
        assert std_most == most
        if method != "fork":
            assert len(set(std_pids)) == 1


@pytest.mark.parametrize("method", RECYCLING_METHODS)
def test_sequential_use_with_small_budget_recycles_one_process_at_a_time(method: str) -> None:
    """One call at a time with max_tasks_per_child=3 and 4 allowed workers: each worker
    runs exactly 3 consecutive calls, then exactly one replacement takes over."""
    pids, most = _sequential(futures_impl, method, 3, calls=12)
    assert most == 1
    runs = [pids[i:i + 3] for i in range(0, 12, 3)]
    assert all(len(set(run)) == 1 for run in runs), pids
    assert len(set(pids)) == 4, pids


# -- item 4: cancel() on a call waiting in the backlog, then wait() -------------------------


def _cancel_queued(mod: ModuleType, method: str) -> tuple[Any, ...]:
    """One worker blocked on a call; 20 calls behind it; cancel the 11th (far beyond the
    calls the pool commits to its worker), then let the pool run. Returns what a user
    sees of the cancelled future and its callbacks."""
    ctx = multiprocessing.get_context(method)
    release = ctx.Event()
    ex = mod.ProcessPoolExecutor(
        1, mp_context=ctx, initializer=helpers.set_started, initargs=(release,)
    )
    callbacks: list[Any] = []
    waited: list[Any] = []
    try:
        blocker = ex.submit(helpers.wait_started)
        queued = [ex.submit(helpers.square, i) for i in range(20)]
        target = queued[10]
        target.add_done_callback(lambda f: callbacks.append(("before", f is target)))
        cancelled = target.cancel()
        after_cancel = len(callbacks)
        target.add_done_callback(lambda f: callbacks.append(("after", f is target)))
        # A waiter already blocked when the pool reaches the cancelled call.
        waiter = threading.Thread(
            target=lambda: waited.append(mod.wait([target], timeout=BOUND)), daemon=True
        )
        waiter.start()
        release.set()
        assert blocker.result(timeout=BOUND) is True
        later = [f.result(timeout=BOUND) for f in queued[11:]]
        assert later == [i * i for i in range(11, 20)]
        # The pool runs its calls in order: it has passed the cancelled one, so it has
        # acknowledged it (CANCELLED_AND_NOTIFIED) and wait() counts it as done.
        done_now, _ = mod.wait([target], timeout=0)
        assert target in done_now, "the pool passed the cancelled call without notifying it"
        completed = list(mod.as_completed([target], timeout=BOUND))
        waiter.join(BOUND)
        assert not waiter.is_alive(), "wait() blocked on the cancelled call never returned"
        done_blocked, not_done_blocked = waited[0]
    finally:
        release.set()
        ex.shutdown(wait=True)
    with pytest.raises(mod.CancelledError):
        target.result(timeout=0)
    return (
        cancelled,
        after_cancel,
        target in done_now,
        completed == [target],
        (target in done_blocked, len(not_done_blocked)),
        target.cancelled(),
        target.done(),
        sorted(callbacks),
        [f.result(timeout=0) for f in queued if f is not target],
    )


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_cancelled_backlog_call_is_notified(method: str) -> None:
    """A call cancelled while it waits in the pool's backlog ends CANCELLED_AND_NOTIFIED
    once the pool reaches it, so wait() and as_completed() return it (a future left
    CANCELLED would keep them waiting to the timeout); its callbacks ran exactly once, at
    cancel(). Compared with the stdlib step by step."""
    ours = _cancel_queued(futures_impl, method)
    expected = (
        True, 1, True, True, (True, 0), True, True,
        [("after", True), ("before", True)],
        [i * i for i in range(20) if i != 10],
    )
    assert ours == expected
    assert _cancel_queued(std_futures, method) == ours
