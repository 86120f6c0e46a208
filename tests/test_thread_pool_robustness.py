"""Thread pool: done-callbacks that re-enter the pool, and workers hit by internal errors.

Issue 10, item 5: a done-callback that calls submit() on the same pool, run by
shutdown(cancel_futures=True) or by a failing initializer. The stdlib deadlocks in both
(observed on 3.9 and 3.13: the callback runs while the pool's lock is held, and its
submit() waits for that lock); futures_impl settles those futures after releasing its
locks, so the callback's submit() is refused with the error any late submit() gets. These
scenarios run in a child process: a regression deadlocks a non-daemon worker, which would
otherwise hang the test run's own exit. The child reports a deadlock after a bounded wait.

Issue 10, item 6: a worker hit by an error outside the user's call (the user settled a
queued future by hand, or the pool's own machinery failed) used to die and stay counted,
so the pool shrank and, once every worker was gone, submits hung. The stdlib behaves like
the old code (observed on 3.9 and 3.13: "Exception in worker" is logged and the next
submit() never completes). futures_impl logs the same record and the worker carries on.
"""

from __future__ import annotations

import logging
import os
import textwrap
import threading
from types import ModuleType
from typing import Any

import pytest
from _support import MODULES, run_python

import futures_impl
from futures_impl import thread as thread_module

pytestmark = pytest.mark.usefixtures("no_thread_leaks")

BOUND = 30  # seconds; a bound on waits that return at once when the code is right


def _child(body: str) -> list[str]:
    program = "import os, sys, threading\nimport futures_impl as cf\n" + textwrap.dedent(body)
    returncode, out, err = run_python("-c", program, timeout=120)
    assert returncode == 0, out + err
    return out.splitlines()


CALLBACK_SUBMITS = """
seen = []
called = threading.Event()

def callback(future):
    try:
        seen.append(("accepted", ex.submit(int, 5)))
    except BaseException as exc:
        seen.append((type(exc).__name__, str(exc)))
    called.set()

def finish(ok):
    print("CALLBACK", seen if ok else "DEADLOCK", flush=True)
    if not ok:
        os._exit(0)  # a deadlocked worker would hang this process's exit
"""


def test_callback_submits_during_shutdown_cancel_futures() -> None:
    lines = _child(
        CALLBACK_SUBMITS
        + f"""
ex = cf.ThreadPoolExecutor(max_workers=1)
gate, started = threading.Event(), threading.Event()

def blocker():
    started.set()
    return gate.wait({BOUND})

running = ex.submit(blocker)
started.wait({BOUND})  # the worker is busy: the next call stays queued
queued = ex.submit(int, 1)
queued.add_done_callback(callback)
# shutdown() runs the callback; if that deadlocks, it is on this helper thread.
stopper = threading.Thread(target=ex.shutdown,
                           kwargs=dict(wait=False, cancel_futures=True), daemon=True)
stopper.start()
ok = called.wait({BOUND})
stopper.join({BOUND})
finish(ok and not stopper.is_alive())
gate.set()
ex.shutdown(wait=True)
print("CANCELLED", queued.cancelled(), "RUNNING_RESULT", running.result({BOUND}))
"""
    )
    assert lines == [
        "CALLBACK [('RuntimeError', 'cannot schedule new futures after shutdown')]",
        "CANCELLED True RUNNING_RESULT True",
    ]


def test_callback_submits_when_the_initializer_fails() -> None:
    lines = _child(
        CALLBACK_SUBMITS
        + f"""
go = threading.Event()

def initializer():
    go.wait({BOUND})
    raise ValueError("initializer failed")

import logging
logging.disable(logging.CRITICAL)  # the "Exception in initializer" record is expected
ex = cf.ThreadPoolExecutor(max_workers=1, initializer=initializer)
queued = ex.submit(int, 1)
queued.add_done_callback(callback)
go.set()
finish(called.wait({BOUND}))
try:
    queued.result({BOUND})
except cf.BrokenExecutor as exc:
    print("RESULT", type(exc).__name__, exc)
ex.shutdown(wait=True)
"""
    )
    message = "A thread initializer failed, the thread pool is not usable anymore"
    assert lines == [
        f"CALLBACK [('BrokenThreadPool', '{message}')]",
        f"RESULT BrokenThreadPool {message}",
    ]


def test_worker_survives_a_future_settled_by_its_user(caplog: pytest.LogCaptureFixture) -> None:
    """The user settles a queued future by hand; the worker that dequeues it finds it in
    an unexpected state (logged, as in the stdlib) and goes on serving the pool."""
    ex = futures_impl.ThreadPoolExecutor(max_workers=1)
    try:
        gate = threading.Event()
        blocker = ex.submit(gate.wait, BOUND)
        queued = ex.submit(int, 1)
        queued.set_result("set by the user")
        with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
            gate.set()
            assert blocker.result(BOUND) is True
            # With the worker gone (the old behaviour), these never complete.
            assert [ex.submit(pow, 2, n).result(BOUND) for n in range(3)] == [1, 2, 4]
        assert queued.result(0) == "set by the user"
        assert "Exception in worker" in [r.getMessage() for r in caplog.records]
        assert len(ex._threads) == 1 and all(t.is_alive() for t in ex._threads)
    finally:
        ex.shutdown(wait=True)


class _InternalFailure(BaseException):
    """Raised by the pool's own machinery, outside any user call."""


def test_workers_hit_by_internal_errors_the_pool_still_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The pool's own machinery fails on two items, outside the user's call (before the
    fix each failure killed a worker for good: two failures, no workers left). Each failed
    item settles with the error (nobody waits forever on it), and later submits run."""
    lock = threading.Lock()
    failures_left = [2]
    real_run = thread_module._WorkItem.run

    def run(self: Any) -> None:
        with lock:
            failing = failures_left[0] > 0
            failures_left[0] -= failing
        if failing:
            raise _InternalFailure("in the pool, not in the call")
        real_run(self)

    monkeypatch.setattr(thread_module._WorkItem, "run", run)
    ex = futures_impl.ThreadPoolExecutor(max_workers=2)
    try:
        with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
            for _ in range(2):
                future = ex.submit(int, 1)
                assert isinstance(future.exception(BOUND), _InternalFailure)
            assert [ex.submit(pow, 2, n).result(BOUND) for n in range(4)] == [1, 2, 4, 8]
        records = [r.getMessage() for r in caplog.records]
        assert records.count("Exception in worker") == 2
        assert 1 <= len(ex._threads) <= 2 and all(t.is_alive() for t in ex._threads)
    finally:
        ex.shutdown(wait=True)


def test_worker_whose_start_was_interrupted_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyboardInterrupt inside CPython's Thread.start() can kill the new thread before
    it runs any pool code (threading's Condition is not interrupt-safe). The pool keeps such
    a thread registered (it may be alive), and the next submit() that finds the pool full
    drops it if it died and starts a replacement, rather than queueing behind a corpse."""
    real_start = threading.Thread.start
    release = threading.Event()

    def interrupted_start(self: threading.Thread) -> None:
        self._target = release.wait  # type: ignore[attr-defined]  # dies without serving
        self._args, self._kwargs = (BOUND,), {}  # type: ignore[attr-defined]
        real_start(self)
        raise KeyboardInterrupt

    ex = futures_impl.ThreadPoolExecutor(max_workers=1)
    try:
        monkeypatch.setattr(threading.Thread, "start", interrupted_start)
        with pytest.raises(KeyboardInterrupt):
            ex.submit(int, 1)
        monkeypatch.undo()
        (corpse,) = ex._threads  # registered: it was running when start() was interrupted
        release.set()
        corpse.join(BOUND)
        assert not corpse.is_alive()
        assert ex.submit(pow, 2, 5).result(BOUND) == 32
        assert corpse not in ex._threads and len(ex._threads) == 1
    finally:
        release.set()
        ex.shutdown(wait=True)


def test_thread_that_cannot_start_is_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_start(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    ex = futures_impl.ThreadPoolExecutor(max_workers=1)
    try:
        monkeypatch.setattr(threading.Thread, "start", failing_start)
        with pytest.raises(RuntimeError, match="can't start new thread"):
            ex.submit(int, 1)
        monkeypatch.undo()
        assert len(ex._threads) == 0
        assert ex.submit(pow, 2, 5).result(BOUND) == 32
    finally:
        ex.shutdown(wait=True)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12+: fork() with threads
@pytest.mark.parametrize("mod", MODULES)
def test_forked_child_exits_though_a_pool_lock_was_held_at_the_fork(mod: ModuleType) -> None:
    """bpo-45021's scenario: a process forked while another thread held a pool's lock. The
    exit hook, which multiprocessing's forked child runs too, must not wait for that lock
    (nobody in the child will ever release it); the parent's workers do not exist there."""
    import multiprocessing

    ex = mod.ThreadPoolExecutor(max_workers=1)
    assert ex.submit(int, 1).result(BOUND) == 1  # a worker exists, known to the exit hook
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ex._shutdown_lock:
            holding.set()
            release.wait(BOUND)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(BOUND)
        child = multiprocessing.get_context("fork").Process(target=int)
        child.start()
        child.join(BOUND)
        hung = child.exitcode is None
        if hung:
            child.kill()
            child.join(BOUND)
    finally:
        release.set()
        holder.join(BOUND)
        ex.shutdown(wait=True)
    assert not hung
    assert child.exitcode == 0
