"""ProcessPoolExecutor: the stdlib's known hangs, worker death, pickling, forced shutdown.

Workers run functions from tests/_process_helpers.py (importable by spawn/forkserver
children). Ordering uses multiprocessing Events; nothing sleeps to synchronise. Every
wait on a future is bounded, so a regression fails instead of hanging.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import _process_helpers as helpers
import pytest

from futures_impl import as_completed, process, wait
from futures_impl.process import BrokenProcessPool, ProcessPoolExecutor, _RemoteTraceback

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
BOUND = 60.0  # seconds any single future may take before the test counts it as a hang

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def ctx() -> Any:
    """forkserver: spawn semantics (fresh workers), cheap to start after the first."""
    return multiprocessing.get_context("forkserver")


# -- max_tasks_per_child churn (cpython#115634, #111498) --------------------------------


@pytest.mark.parametrize(("tasks", "per_child"), [(200, 10), (60, 3), (30, 1)])
def test_max_tasks_per_child_churn_completes(ctx: Any, tasks: int, per_child: int) -> None:
    with ProcessPoolExecutor(2, mp_context=ctx, max_tasks_per_child=per_child) as ex:
        futures = [ex.submit(helpers.getpid_after, i) for i in range(tasks)]
        results = [f.result(timeout=BOUND) for f in futures]
    assert [x for x, _ in results] == list(range(tasks))
    per_pid = Counter(pid for _, pid in results)
    assert max(per_pid.values()) <= per_child  # no worker ran more than its budget
    assert len(per_pid) >= tasks // per_child


def test_max_tasks_per_child_map_completes(ctx: Any) -> None:
    # cpython#111498: map() over far more items than max_tasks_per_child.
    with ProcessPoolExecutor(2, mp_context=ctx, max_tasks_per_child=5) as ex:
        assert list(ex.map(helpers.square, range(60), timeout=BOUND)) == [
            x * x for x in range(60)
        ]


def test_max_tasks_per_child_shutdown_wait_false_completes(ctx: Any) -> None:
    ex = ProcessPoolExecutor(2, mp_context=ctx, max_tasks_per_child=2)
    futures = [ex.submit(helpers.square, i) for i in range(20)]
    ex.shutdown(wait=False)
    assert [f.result(timeout=BOUND) for f in futures] == [i * i for i in range(20)]


def test_max_tasks_per_child_validation() -> None:
    with pytest.raises(TypeError, match="max_tasks_per_child must be an integer"):
        ProcessPoolExecutor(1, max_tasks_per_child=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_tasks_per_child must be >= 1"):
        ProcessPoolExecutor(1, max_tasks_per_child=0)
    with pytest.raises(ValueError, match="incompatible with the 'fork'"):
        ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("fork"), max_tasks_per_child=2
        )
    ex = ProcessPoolExecutor(1, max_tasks_per_child=2)
    assert ex._mp_context.get_start_method() == "spawn"
    ex.shutdown()


# -- worker death -------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_worker_killed_mid_task_breaks_pool_with_pid_and_exit_code(ctx: Any, sig: int) -> None:
    started = ctx.Event()
    ex = ProcessPoolExecutor(
        1, mp_context=ctx, initializer=helpers.set_started, initargs=(started,)
    )
    running = ex.submit(helpers.block_forever)
    waiting = [ex.submit(helpers.square, i) for i in range(3)]
    assert started.wait(BOUND)
    (pid,) = ex._processes
    os.kill(pid, sig)
    everything: list[Any] = [running, *waiting]
    for future in everything:
        error = future.exception(timeout=BOUND)
        assert isinstance(error, BrokenProcessPool)
        assert "terminated abruptly" in str(error)
        assert isinstance(error.__cause__, _RemoteTraceback)
        assert f"Process {pid} terminated abruptly with exit code {-sig}" in error.__cause__.tb
    assert running.exception() is not waiting[0].exception()  # one instance per future
    with pytest.raises(BrokenProcessPool, match="not usable anymore"):
        ex.submit(helpers.square, 2)
    assert ex._broken
    ex.shutdown()


def test_failing_initializer_breaks_pool(ctx: Any) -> None:
    ex = ProcessPoolExecutor(1, mp_context=ctx, initializer=helpers.init_fail)
    future = ex.submit(helpers.square, 3)
    assert isinstance(future.exception(timeout=BOUND), BrokenProcessPool)
    with pytest.raises(BrokenProcessPool):
        ex.submit(helpers.square, 3)
    ex.shutdown()


# -- pickling -----------------------------------------------------------------------


def test_unpicklable_argument_fails_only_its_future(ctx: Any) -> None:
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        bad = ex.submit(helpers.length, helpers.Unpicklable())
        with pytest.raises(pickle.PicklingError, match="refuses"):
            bad.result(timeout=BOUND)
        error = bad.exception()
        assert error is not None
        assert isinstance(error.__cause__, _RemoteTraceback)
        assert ex.submit(helpers.square, 7).result(timeout=BOUND) == 49
        assert not ex._broken


def test_unpicklable_result_fails_only_its_future(ctx: Any) -> None:
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        bad = ex.submit(helpers.return_unpicklable)
        with pytest.raises(pickle.PicklingError, match="refuses"):
            bad.result(timeout=BOUND)
        assert ex.submit(helpers.square, 8).result(timeout=BOUND) == 64
        assert not ex._broken


def test_worker_exception_carries_remote_traceback(ctx: Any) -> None:
    with ProcessPoolExecutor(1, mp_context=ctx) as ex:
        future = ex.submit(helpers.raise_value_error, "remote boom")
        error = future.exception(timeout=BOUND)
    assert type(error) is ValueError
    assert error.args == ("remote boom",)
    cause = error.__cause__
    assert type(cause) is _RemoteTraceback
    assert "raise ValueError(message)  # the remote-traceback marker line" in cause.tb
    assert "in raise_value_error" in cause.tb
    assert str(cause) == cause.tb


def test_large_argument_goes_through_the_writer(ctx: Any) -> None:
    data = b"x" * (4 * 1024 * 1024 + 1)  # bigger than any pipe buffer
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        futures = [ex.submit(helpers.length, data) for _ in range(4)]
        assert [f.result(timeout=BOUND) for f in futures] == [len(data)] * 4


def test_shutdown_when_a_large_call_is_answered_before_its_write_is_booked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The writer thread books a large frame as written only after the write returns; the
    # worker may have answered it by then, and the manager sends no stop frame while a
    # write is under way: the writer must wake it, or shutdown() waits forever.
    from futures_impl._process import manager as _process_manager
    from futures_impl._process import pool as _process_pool

    closing_seen = threading.Event()
    original_written = _process_pool._Pool.written
    original_finished = _process_manager._Manager.finished

    def late_written(self: Any, worker: Any) -> None:
        closing_seen.wait(BOUND)  # the manager has looked at the closing pool already
        original_written(self, worker)

    def finished(self: Any) -> bool:
        done: bool = original_finished(self)
        if self.pool.shutdown:
            closing_seen.set()
        return done

    monkeypatch.setattr(_process_pool._Pool, "written", late_written)
    monkeypatch.setattr(_process_manager._Manager, "finished", finished)
    ex = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    future = ex.submit(helpers.length, b"z" * (1024 * 1024))
    assert future.result(timeout=BOUND) == 1024 * 1024
    stopper = threading.Thread(target=ex.shutdown)
    stopper.start()
    stopper.join(BOUND)
    hung = stopper.is_alive()
    if hung:  # unblock it, so that the failure does not hang the session
        ex._executor_manager_thread_wakeup.wakeup()
        stopper.join(BOUND)
    assert not hung


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_long_and_short_frames_interleaved_both_ways(method: str) -> None:
    # Workers read every call waiting in their pipe at once and the manager every
    # result: frames split across reads, several frames in one read, both directions.
    big = b"y" * (300 * 1024 + 7)
    items: list[Any] = [i if i % 3 else big + bytes([i]) for i in range(24)]
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as ex:
        assert list(ex.map(helpers.identity, items, timeout=BOUND)) == items
        futures = [ex.submit(helpers.length, x) for x in items if isinstance(x, bytes)]
        assert [f.result(timeout=BOUND) for f in futures] == [len(big) + 1] * 8


def test_calls_pickle_like_forking_pickler(ctx: Any) -> None:
    # Calls and results are pickled with a faster pickler that must write exactly what
    # multiprocessing's ForkingPickler writes, reducers registered later included.
    from multiprocessing.reduction import ForkingPickler

    from futures_impl._process.wire import dumps as _dumps

    ForkingPickler.register(helpers.Registered, helpers.reduce_registered)
    try:
        samples: list[Any] = [
            (1, helpers.length, (b"abc",), {}),
            (2, helpers.identity, ([1.5, None, "x" * 300, {"k": (1, 2)}],), {"a": 3}),
            (3, len, (list.append, str.join, helpers.Registered("r")), {}),
        ]
        for sample in samples:
            assert bytes(_dumps(sample)) == bytes(ForkingPickler.dumps(sample))
        with ProcessPoolExecutor(1, mp_context=ctx) as ex:
            future = ex.submit(helpers.identity, helpers.Registered("z"))
            assert future.result(timeout=BOUND) == "reduced:z"
    finally:
        ForkingPickler._extra_reducers.pop(helpers.Registered, None)  # type: ignore[attr-defined]


# -- terminate_workers / kill_workers -------------------------------------------------


def _forced_shutdown_outcome(module: Any, ctx: Any, force: Any) -> tuple[Any, ...]:
    """Run a pool with one call running and five queued, `force` it, describe the outcome."""
    started = ctx.Event()
    ex = module.ProcessPoolExecutor(
        1, mp_context=ctx, initializer=helpers.set_started, initargs=(started,)
    )
    futures = [ex.submit(helpers.block_forever)] + [
        ex.submit(helpers.square, i) for i in range(5)
    ]
    assert started.wait(BOUND)
    processes = list(ex._processes.values())
    force(ex)
    errors = [future.exception(timeout=BOUND) for future in futures]
    for p in processes:
        p.join(BOUND)
        assert not p.is_alive()
    try:
        ex.submit(helpers.square, 1)
    except Exception as exc:  # noqa: BLE001 - the refusal is part of the outcome
        refusal: Any = (type(exc) is module.BrokenProcessPool, type(exc).__name__, str(exc))
    else:
        refusal = "accepted"
    ex.shutdown()
    return (
        [(type(e) is module.BrokenProcessPool, str(e)) for e in errors],
        len({id(e) for e in errors}),
        refusal,
    )


@pytest.mark.parametrize("method", ["terminate_workers", "kill_workers"])
def test_forced_shutdown_with_work_pending(ctx: Any, method: str) -> None:
    """terminate_workers()/kill_workers() (3.14) with a call running and five queued.

    The 3.14 docs define them as Process.terminate()/kill() on every live worker, then
    shutdown(); CPython's test_process_pool.py (test_force_shutdown_workers_stops_pool)
    only asks that submit() then raise RuntimeError, which BrokenProcessPool is. No stdlib
    here has them, so the stdlib side runs that definition by hand (3.9-3.13): every future
    fails with its own BrokenProcessPool, and the pool, broken before shutdown, refuses
    submit() with BrokenProcessPool (the broken check comes first), never the plain
    RuntimeError of a pool shut down cleanly. futures_impl must give exactly that.
    """
    import concurrent.futures.process as std_process

    def by_hand(ex: Any) -> None:
        for p in list(ex._processes.values()):
            getattr(p, "terminate" if method == "terminate_workers" else "kill")()
        ex.shutdown()

    ours = _forced_shutdown_outcome(process, ctx, lambda ex: getattr(ex, method)())
    expected = (
        [(True, "A process in the process pool was terminated abruptly while the future "
                "was running or pending.")] * 6,
        6,  # each future its own exception (3.14: gh-101267)
        (True, "BrokenProcessPool",
         "A child process terminated abruptly, the process pool is not usable anymore"),
    )
    assert ours == expected
    std = _forced_shutdown_outcome(std_process, ctx, by_hand)
    # The stdlib before 3.14 gives all the futures one shared instance (gh-101267): only
    # the instance count may differ.
    assert (std[0], std[2]) == (expected[0], expected[2])


def test_forced_shutdown_of_idle_or_unused_pool(ctx: Any) -> None:
    ProcessPoolExecutor(1, mp_context=ctx).kill_workers()  # never started
    ex = ProcessPoolExecutor(2, mp_context=ctx)
    assert ex.submit(helpers.square, 4).result(timeout=BOUND) == 16
    ex.terminate_workers()
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(helpers.square, 1)


def test_force_shutdown_rejects_unknown_operation(ctx: Any) -> None:
    ex = ProcessPoolExecutor(1, mp_context=ctx)
    with pytest.raises(ValueError, match="Unsupported operation"):
        ex._force_shutdown("explode")
    assert process._TERMINATE != process._KILL
    ex.shutdown()


# -- map ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunksize", [1, 3, 64, 1000])
def test_map_chunksize_in_order(ctx: Any, chunksize: int) -> None:
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        got = list(ex.map(pow, range(200), range(200), chunksize=chunksize, timeout=BOUND))
    assert got == [pow(x, x) for x in range(200)]


@pytest.mark.parametrize("chunksize", [1, 4])
def test_map_buffersize_reads_input_lazily(ctx: Any, chunksize: int) -> None:
    """3.14 docs: with buffersize, map reads its input only as results are yielded, so an
    infinite input works (CPython 3.14 tests: test_map_buffersize_on_infinite_iterable);
    in the process pool each submitted unit is a chunk of `chunksize` items, and each
    next() submits one before waiting, so at most buffersize + 1 chunks beyond what was
    yielded are read, plus one item of look-ahead: the bound asserted here."""
    consumed = []

    def numbers() -> Any:
        i = 0
        while True:  # infinite: only buffersize keeps map from reading it all
            consumed.append(i)
            yield i
            i += 1

    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        results: Any = ex.map(helpers.square, numbers(), chunksize=chunksize, buffersize=3)
        assert [next(results) for _ in range(20)] == [x * x for x in range(20)]
        results.close()
    assert len(consumed) <= 20 + 4 * chunksize + 1


def test_map_rejects_bad_chunksize(ctx: Any) -> None:
    with ProcessPoolExecutor(1, mp_context=ctx) as ex:
        with pytest.raises(ValueError, match="chunksize must be >= 1"):
            ex.map(helpers.square, [1], chunksize=0)


# -- shutdown and interpreter exit -----------------------------------------------------


def _run_script(code: str, bound: float = 120.0) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=bound, env=env, cwd=str(ROOT),
    )


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_shutdown_wait_false_then_interpreter_exit(method: str) -> None:
    result = _run_script(f"""
        import multiprocessing, _process_helpers as h
        from futures_impl import ProcessPoolExecutor
        if __name__ == "__main__":
            ex = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context({method!r}))
            futures = [ex.submit(h.square, i) for i in range(10)]
            ex.shutdown(wait=False)
            print("submitted", flush=True)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "submitted"
    assert result.stderr == ""


def test_abandoned_executor_still_finishes_work(ctx: Any) -> None:
    import gc

    ex = ProcessPoolExecutor(2, mp_context=ctx)
    futures = [ex.submit(helpers.square, i) for i in range(10)]
    thread = ex._executor_manager_thread
    del ex
    gc.collect()
    assert [f.result(timeout=BOUND) for f in futures] == [i * i for i in range(10)]
    assert thread is not None
    thread.join(BOUND)
    assert not thread.is_alive()


def test_import_without_multiprocessing_fails_only_at_construction() -> None:
    result = _run_script("""
        import sys
        sys.modules["_multiprocessing"] = None  # as in an embedded interpreter
        import futures_impl.process as p
        print("imported", flush=True)
        try:
            p.ProcessPoolExecutor()
        except NotImplementedError as exc:
            print("NotImplementedError", "_multiprocessing" in str(exc))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["imported", "NotImplementedError", "True"]


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="max_workers must be greater than 0"):
        ProcessPoolExecutor(0)
    with pytest.raises(TypeError, match="initializer must be a callable"):
        ProcessPoolExecutor(1, initializer=3)  # type: ignore[arg-type]


# -- more failure modes and threading -------------------------------------------------


def test_call_that_fails_to_unpickle_in_worker_breaks_pool(ctx: Any) -> None:
    ex = ProcessPoolExecutor(1, mp_context=ctx)
    future = ex.submit(helpers.length, helpers.FailsToUnpickle())
    error = future.exception(timeout=BOUND)
    assert isinstance(error, BrokenProcessPool)
    assert isinstance(error.__cause__, _RemoteTraceback)
    assert "refuses to be unpickled" in error.__cause__.tb
    ex.shutdown()


def test_result_that_fails_to_unpickle_here_fails_only_its_future(ctx: Any) -> None:
    # BrokenProcessPool for that future, as in the stdlib; the pool stays usable (the
    # stream of results is intact), where the stdlib breaks it.
    ex = ProcessPoolExecutor(1, mp_context=ctx)
    future = ex.submit(helpers.return_fails_to_unpickle)
    error = future.exception(timeout=BOUND)
    assert isinstance(error, BrokenProcessPool)
    assert isinstance(error.__cause__, _RemoteTraceback)
    assert "refuses to be unpickled" in error.__cause__.tb
    assert ex.submit(helpers.square, 2).result(timeout=BOUND) == 4
    ex.shutdown()


def test_submit_from_done_callback(ctx: Any) -> None:
    import threading

    chained: list[Any] = []
    done = threading.Event()

    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        def again(future: Any) -> None:  # runs on the manager thread
            chained.append(ex.submit(helpers.square, future.result()))
            done.set()

        ex.submit(helpers.square, 3).add_done_callback(again)
        assert done.wait(BOUND)
        assert chained[0].result(timeout=BOUND) == 81


def test_shutdown_cancel_futures_cancels_waiting_calls(ctx: Any) -> None:
    release = ctx.Event()
    ex = ProcessPoolExecutor(
        1, mp_context=ctx, initializer=helpers.set_started, initargs=(release,)
    )
    running = ex.submit(helpers.wait_started)
    waiting = [ex.submit(helpers.square, i) for i in range(20)]
    # The worker holds `running` and at most one prefetched call; the rest can be cancelled.
    ex.shutdown(wait=False, cancel_futures=True)
    release.set()
    assert running.result(timeout=BOUND) is True
    cancelled = [f for f in waiting if f.cancelled()]
    assert len(cancelled) >= 18
    # Fully settled, so wait() and as_completed() return for them (the stdlib hangs here:
    # cpython#136655). The timeout only bounds a regression.
    done, not_done = wait(cancelled, timeout=BOUND)
    assert not not_done
    assert len(list(as_completed(cancelled, timeout=BOUND))) == len(cancelled)
    for i, f in enumerate(waiting):
        if not f.cancelled():
            assert f.result(timeout=BOUND) == i * i
    thread = ex._executor_manager_thread
    assert thread is not None
    thread.join(BOUND)
    assert not thread.is_alive()


def test_wakeup_never_blocks() -> None:
    wakeup = process._ThreadWakeup()
    for _ in range(200_000):  # far more than a pipe holds
        wakeup.wakeup()
    wakeup.clear()
    wakeup.close()
    wakeup.wakeup()  # after close: a no-op, not an error


def _gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for a reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_workers_exit_when_the_parent_dies(method: str) -> None:
    from _support import wait_until

    result = _run_script(f"""
        import multiprocessing, os, _process_helpers as h
        from futures_impl import ProcessPoolExecutor
        if __name__ == "__main__":
            ex = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context({method!r}))
            futures = [ex.submit(h.square, i) for i in range(8)]
            assert [f.result(timeout=60) for f in futures] == [i * i for i in range(8)]
            print(*ex._processes, flush=True)
            os._exit(0)  # no shutdown, no atexit: the workers are left to notice alone
    """)
    assert result.returncode == 0, result.stderr
    pids = [int(p) for p in result.stdout.split()]
    assert pids
    wait_until(lambda: all(_gone(pid) for pid in pids), "orphaned workers to exit")
