"""The process pool's robust options: task_timeout/submit_with, cancel_running,
survive_worker_death, and the errors that name the call (issue 14).

Each option is off by default, and then the pool behaves as the stdlib's: the tests that
say "default" compare with the stdlib's pool run the same way.
"""

from __future__ import annotations

import concurrent.futures as std_futures
import concurrent.futures.process  # noqa: F401 - std_futures.process is not loaded lazily
import multiprocessing
import os
import signal
from typing import Any

import _robust_helpers as helpers
import pytest
from _support import wait_until

import futures_impl
from futures_impl.process import (
    BrokenProcessPool,
    ProcessPoolExecutor,
    TaskTimeoutError,
    WorkerDiedError,
)

pytestmark = pytest.mark.timeout(120)

BOUND = 60.0  # seconds: a hang guard on every result(), never a timing assertion
METHODS = [m for m in ("fork", "spawn", "forkserver")
           if m in multiprocessing.get_all_start_methods()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone(pid: int) -> None:
    wait_until(lambda: not _alive(pid), f"worker {pid} to be gone")


def _outcome(future: Any) -> Any:
    try:
        return ("value", future.result(BOUND))
    except BaseException as exc:  # noqa: BLE001
        return ("error", exc)


# -- task_timeout and submit_with ----------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_call_over_its_timeout_fails_alone_and_the_pool_goes_on(method: str) -> None:
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(2, mp_context=ctx, task_timeout=1.0) as ex:
        quick = [ex.submit(helpers.pid_of, i) for i in range(4)]
        stuck = ex.submit(helpers.block)
        error = stuck.exception(BOUND)
        assert isinstance(error, TaskTimeoutError), error
        assert isinstance(error, futures_impl.TimeoutError)
        assert error.timeout == 1.0
        assert "_robust_helpers.block()" in (error.call or "")
        assert f"pid {error.pid}" in str(error)
        _gone(error.pid)
        assert [f.result(BOUND)[0] for f in quick] == [0, 1, 2, 3]
        # The pool replaced the worker and goes on.
        after = [ex.submit(helpers.pid_of, i) for i in range(4)]
        assert [f.result(BOUND)[0] for f in after] == [0, 1, 2, 3]
        assert error.pid not in {f.result(BOUND)[1] for f in after}


def test_submit_with_sets_one_calls_timeout_and_overrides_the_pools() -> None:
    with ProcessPoolExecutor(1) as ex:
        untimed = ex.submit_with(helpers.sleep_then, (0.2, "slow but untimed"))
        timed = ex.submit_with(helpers.block, timeout=0.5)
        later = ex.submit_with(helpers.identity, kwargs={"x": 7})
        assert untimed.result(BOUND) == "slow but untimed"
        assert isinstance(timed.exception(BOUND), TaskTimeoutError)
        assert later.result(BOUND) == 7
    with ProcessPoolExecutor(1, task_timeout=0.5) as ex:
        # A longer limit for one call: it finishes, where the pool's limit would kill it.
        relaxed = ex.submit_with(helpers.sleep_then, (1.5, "done"), timeout=60)
        assert relaxed.result(BOUND) == "done"


def test_the_clock_starts_when_the_worker_starts_the_call() -> None:
    """A worker's start-up (here a 3 s initializer) does not count against the call's
    1.5 s: timed from submit(), the call would have timed out before it started."""
    ctx = multiprocessing.get_context("spawn")
    event = ctx.Event()
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=helpers.init_sleep_then_event,
                             initargs=(3.0, event), task_timeout=1.5) as ex:
        assert ex.submit(helpers.identity, "ran").result(BOUND) == "ran"


def test_a_timed_out_calls_neighbours_in_the_same_worker_run_elsewhere() -> None:
    """Calls queued behind the timed-out one in its worker's pipe are not lost: they run
    on the replacement (fork: prefetching is on, so they were sent to that worker)."""
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=ctx) as ex:
        stuck = ex.submit_with(helpers.block, timeout=0.5)
        behind = [ex.submit(helpers.pid_of, i) for i in range(20)]
        error = stuck.exception(BOUND)
        assert isinstance(error, TaskTimeoutError)
        results = [f.result(BOUND) for f in behind]
        assert [x for x, _ in results] == list(range(20))
        assert error.pid not in {p for _, p in results}


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "1", True])
def test_bad_timeouts_are_refused(bad: Any) -> None:
    expected = TypeError if isinstance(bad, (str, bool)) else ValueError
    with pytest.raises(expected, match="task_timeout"):
        ProcessPoolExecutor(1, task_timeout=bad)
    with ProcessPoolExecutor(1) as ex, pytest.raises(expected, match="timeout"):
        ex.submit_with(helpers.identity, (1,), timeout=bad)


# -- cancel_running -------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_cancel_running_kills_only_that_worker(method: str) -> None:
    ctx = multiprocessing.get_context(method)
    event = ctx.Event()
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=helpers.init_event,
                             initargs=(event,), cancel_running=True) as ex:
        running = ex.submit(helpers.started_then_block)
        assert event.wait(BOUND), "the call never started"
        other = ex.submit(helpers.pid)
        other_pid = other.result(BOUND)
        victims = set(ex._processes) - {other_pid}
        assert running.cancel() is True
        assert running.cancelled() and running.done()
        assert running._state == "CANCELLED_AND_NOTIFIED"
        done, _ = futures_impl.wait([running], timeout=BOUND)
        assert done == {running}
        with pytest.raises(futures_impl.CancelledError):
            running.result(0)
        for pid in victims:
            _gone(pid)
        assert _alive(other_pid)
        assert ex.submit(helpers.identity, "next").result(BOUND) == "next"
        assert running.cancel() is True  # still cancelled
    assert "cancelled" in repr(running)


def test_cancel_running_callbacks_and_as_completed_see_the_cancel() -> None:
    ctx = multiprocessing.get_context("fork")
    event = ctx.Event()
    seen: list[bool] = []
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=helpers.init_event,
                             initargs=(event,), cancel_running=True) as ex:
        running = ex.submit(helpers.started_then_block)
        running.add_done_callback(lambda f: seen.append(f.cancelled()))
        assert event.wait(BOUND)
        assert running.cancel()
        assert list(futures_impl.as_completed([running], timeout=BOUND)) == [running]
    assert seen == [True]


def test_cancel_of_a_pending_call_touches_no_worker() -> None:
    ctx = multiprocessing.get_context("fork")
    event = ctx.Event()
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=helpers.init_event,
                             initargs=(event,), cancel_running=True) as ex:
        first = ex.submit(helpers.die_when_started, 0)  # ends when we set the event
        pid_before = set(ex._processes)
        queued = ex.submit(helpers.pid)
        assert not queued.running()  # idle workers only: it waits in the pool, PENDING
        assert queued.cancel()
        assert set(ex._processes) == pid_before
        assert queued._state == "CANCELLED"
        event.set()
        first.exception(BOUND)


def test_without_the_option_a_running_call_cannot_be_cancelled() -> None:
    """Default: as the stdlib, cancel() of a running call returns False."""
    for mod in (std_futures, futures_impl):
        ctx = multiprocessing.get_context("fork")
        event = ctx.Event()
        ex = mod.ProcessPoolExecutor(1, mp_context=ctx, initializer=helpers.init_event,
                                     initargs=(event,))
        try:
            running = ex.submit(helpers.die_when_started, 0)
            wait_until(running.running)
            assert running.cancel() is False, mod.__name__
            event.set()
            running.exception(BOUND)
        finally:
            ex.shutdown()


# -- survive_worker_death ---------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("how", ["exit", "sigkill", "segfault"])
def test_a_dead_worker_fails_only_its_call(method: str, how: str) -> None:
    fn, args, code, sig = {
        "exit": (helpers.die, (3,), 3, None),
        "sigkill": (helpers.kill_self, (), -signal.SIGKILL, "SIGKILL"),
        "segfault": (helpers.segfault, (), -signal.SIGSEGV, "SIGSEGV"),
    }[how]
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(2, mp_context=ctx, survive_worker_death=True) as ex:
        before = [ex.submit(helpers.pid_of, i) for i in range(5)]
        dying = ex.submit(fn, *args)
        after = [ex.submit(helpers.pid_of, i) for i in range(5, 30)]
        error = dying.exception(BOUND)
        assert isinstance(error, WorkerDiedError), error
        assert isinstance(error, BrokenProcessPool)  # code written for the stdlib catches it
        assert (error.exitcode, error.signal) == (code, sig)
        assert error.call is not None and fn.__name__ in error.call
        assert f"Process {error.pid}" in str(error)
        if sig == "SIGKILL":
            assert "OOM killer" in str(error)
        results = [f.result(BOUND) for f in before + after]
        assert [x for x, _ in results] == list(range(30))
        assert error.pid not in {p for _, p in results[5:]}
        _gone(error.pid)
        assert ex.submit(helpers.identity, "still usable").result(BOUND) == "still usable"


def test_a_killed_workers_unstarted_calls_run_elsewhere() -> None:
    """SIGKILL from outside while the worker holds calls it has not started: they are sent
    to the replacement; only the running one fails."""
    ctx = multiprocessing.get_context("fork")
    event = ctx.Event()
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=helpers.init_event,
                             initargs=(event,), survive_worker_death=True) as ex:
        running = ex.submit(helpers.started_then_block)
        behind = [ex.submit(helpers.pid_of, i) for i in range(10)]
        assert event.wait(BOUND)
        (victim,) = ex._processes
        os.kill(victim, signal.SIGKILL)
        error = running.exception(BOUND)
        assert isinstance(error, WorkerDiedError) and error.pid == victim
        assert "started_then_block()" in str(error)
        assert [f.result(BOUND)[0] for f in behind] == list(range(10))


def test_a_failing_initializer_still_breaks_the_pool() -> None:
    """Surviving dead workers does not mean restarting one that cannot start: as in the
    stdlib, the pool breaks (no endless respawning)."""
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=helpers.fail_init,
                             survive_worker_death=True) as ex:
        future = ex.submit(helpers.identity, 1)
        error = future.exception(BOUND)
        assert type(error) is BrokenProcessPool
        with pytest.raises(BrokenProcessPool):
            ex.submit(helpers.identity, 2)


def test_a_call_the_worker_cannot_read_fails_alone() -> None:
    """Default (as the stdlib): a call that cannot be unpickled in the worker breaks the
    pool. With survive_worker_death only that call fails, with the unpickling error."""
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=ctx, survive_worker_death=True) as ex:
        bad = ex.submit(helpers.identity, helpers.BreaksInWorker())
        good = [ex.submit(helpers.identity, i) for i in range(5)]
        error = bad.exception(BOUND)
        assert isinstance(error, RuntimeError) and "cannot be rebuilt" in str(error)
        assert [f.result(BOUND) for f in good] == list(range(5))
    for mod in (std_futures, futures_impl):
        ex = mod.ProcessPoolExecutor(1, mp_context=ctx)
        try:
            bad = ex.submit(helpers.identity, helpers.BreaksInWorker())
            assert isinstance(bad.exception(BOUND), mod.process.BrokenProcessPool), mod
        finally:
            ex.shutdown()


# -- errors that name the call (default mode too) ---------------------------------------------


def test_broken_pool_error_keeps_the_stdlibs_message_and_names_the_call() -> None:
    ctx = multiprocessing.get_context("fork")
    messages = {}
    for mod in (std_futures, futures_impl):
        ex = mod.ProcessPoolExecutor(1, mp_context=ctx)
        try:
            error = ex.submit(helpers.kill_self).exception(BOUND)
        finally:
            ex.shutdown()
        assert isinstance(error, mod.process.BrokenProcessPool)
        messages[mod.__name__] = str(error)
        cause = str(error.__cause__)
    assert messages["concurrent.futures"] == messages["futures_impl"]
    # Ours (the last one run) says what the worker ran and how it ended.
    assert "_robust_helpers.kill_self()" in cause
    assert "exit code -9 (SIGKILL" in cause and "OOM killer" in cause


def test_error_pickles_with_its_attributes() -> None:
    import pickle

    died = WorkerDiedError("m", 12, -11, "SIGSEGV", "f(1)")
    copy = pickle.loads(pickle.dumps(died))
    assert (copy.pid, copy.exitcode, copy.signal, copy.call, str(copy)) == (
        12, -11, "SIGSEGV", "f(1)", "m")
    timed = TaskTimeoutError("t", 1.5, 7, "g()")
    copy2 = pickle.loads(pickle.dumps(timed))
    assert (copy2.timeout, copy2.pid, copy2.call, str(copy2)) == (1.5, 7, "g()", "t")


@pytest.mark.parametrize("survive", [False, True])
def test_naming_the_call_never_unpickles_it_in_the_parent(survive: bool) -> None:
    """The error names the call from the objects given to submit(): rebuilding its frame
    in the parent would run the call's own code there (CPython's test_crash_at_task_unpickle
    crashes the interpreter that way)."""
    ctx = multiprocessing.get_context("fork")
    helpers.REBUILT_IN_PARENT.clear()
    with ProcessPoolExecutor(1, mp_context=ctx, survive_worker_death=survive) as ex:
        error = ex.submit(helpers.identity, helpers.KillsWorkerWhenRebuilt()).exception(BOUND)
    assert isinstance(error, BrokenProcessPool)
    text = str(error) if survive else str(error.__cause__)
    assert "_robust_helpers.identity(<" in text and "SIGKILL" in text
    assert helpers.REBUILT_IN_PARENT == []
