"""The thread pool's stop signal (`None` on the work queue) and who gets settled when it fires.

- A stray `None` on a running pool's queue (code written against the stdlib's internals
  puts one to wake the workers) is only a wake-up: the worker stays and serves later calls
  (differential with the stdlib).
- A failing initializer breaks the pool: a queued call gets BrokenThreadPool, and a queued
  call the user had already cancelled ends CANCELLED_AND_NOTIFIED, so wait() on it returns
  (the stdlib's worker raises InvalidStateError on it and leaves it CANCELLED, where a
  wait() hangs: README, "Differences").
- The exit hook wakes and joins every thread in `thread._threads_queues`, the stdlib's
  registry, including a thread that code of its own put there (differential, in a child
  interpreter).
"""

from __future__ import annotations

import textwrap
import threading
from types import ModuleType

import pytest
from _support import MODULES, WAIT_BOUND, run_python

import futures_impl


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def test_a_stray_stop_signal_is_only_a_wake_up(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(1) as pool:
        assert pool.submit(int, "1").result(WAIT_BOUND) == 1
        (worker,) = pool._threads
        pool._work_queue.put(None)
        assert pool.submit(int, "2").result(WAIT_BOUND) == 2
        assert pool._threads == {worker} and worker.is_alive()


def test_cancelled_queued_call_is_settled_when_the_initializer_fails() -> None:
    release = threading.Event()

    def initializer() -> None:
        release.wait(WAIT_BOUND)
        raise ValueError("initializer failed")

    pool = futures_impl.ThreadPoolExecutor(1, initializer=initializer)
    try:
        queued = pool.submit(int, "1")
        cancelled = pool.submit(int, "2")
        called: list[bool] = []
        cancelled.add_done_callback(lambda f: called.append(f.cancelled()))
        assert cancelled.cancel()
        release.set()
        assert isinstance(queued.exception(WAIT_BOUND), futures_impl.thread.BrokenThreadPool)
        done, not_done = futures_impl.wait([cancelled], timeout=WAIT_BOUND)
        assert done == {cancelled} and not not_done
        assert cancelled._state == "CANCELLED_AND_NOTIFIED" and called == [True]
    finally:
        release.set()
        pool.shutdown()


EXIT_HOOK_CHILD = """
import queue, threading
import {module} as futures
from {module} import thread as pool_thread

q = queue.SimpleQueue()
def own_worker():
    item = q.get(timeout=60)
    print("woken with", item, flush=True)

t = threading.Thread(target=own_worker)
pool_thread._threads_queues[t] = q
t.start()
with futures.ThreadPoolExecutor(1) as pool:  # a pool of the module's own, alongside
    print(pool.submit(int, "7").result(timeout=60), flush=True)
print("main done", flush=True)
"""


@pytest.mark.parametrize("module", ["concurrent.futures", "futures_impl"])
def test_exit_hook_wakes_and_joins_a_registered_thread(module: str) -> None:
    code, out, err = run_python(
        "-c", textwrap.dedent(EXIT_HOOK_CHILD.format(module=module)), timeout=90)
    assert code == 0, err
    assert out.splitlines() == ["7", "main done", "woken with None"]
