"""Thread pool subclasses that override `_adjust_thread_count()`: submit()'s checks and failures.

Such a subclass gets a submit() that calls the hook once per call (README, "Differences":
thread pool subclasses). It must refuse exactly as the plain submit() does (after
shutdown, once broken), differential with the stdlib; and when the hook or the thread
start fails while the pool has no worker, submit() raises and the call never runs (README:
"a submit() that raises had no effect"), while a pool that has a worker still runs it, as
the stdlib does.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

import pytest
from _support import MODULES, WAIT_BOUND

import futures_impl


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def adjusting_pool(mod: ModuleType) -> type:
    class AdjustingPool(mod.ThreadPoolExecutor):  # type: ignore[name-defined, misc]
        hook_calls = 0
        fail_with: BaseException | None = None

        def _adjust_thread_count(self) -> None:
            type(self).hook_calls += 1
            if self.fail_with is not None:
                raise self.fail_with
            super()._adjust_thread_count()

    return AdjustingPool


def test_hook_runs_once_per_submit_and_calls_run(mod: ModuleType) -> None:
    cls = adjusting_pool(mod)
    with cls(2) as pool:
        assert [pool.submit(pow, 2, i).result(WAIT_BOUND) for i in range(3)] == [1, 2, 4]
    assert cls.hook_calls == 3


def test_submit_after_shutdown_is_refused(mod: ModuleType) -> None:
    cls = adjusting_pool(mod)
    pool = cls(1)
    pool.shutdown()
    with pytest.raises(RuntimeError, match="^cannot schedule new futures after shutdown$"):
        pool.submit(int, "1")
    assert cls.hook_calls == 0


def test_submit_to_a_broken_pool_raises_broken_thread_pool(mod: ModuleType) -> None:
    def failing_init() -> None:
        raise ValueError("init failed")

    cls = adjusting_pool(mod)
    pool = cls(1, initializer=failing_init)
    try:
        first = pool.submit(int, "1")
        assert isinstance(first.exception(WAIT_BOUND), mod.BrokenExecutor)
        with pytest.raises(mod.thread.BrokenThreadPool, match="initializer failed"):
            pool.submit(int, "2")
    finally:
        pool.shutdown()


def test_failing_hook_with_a_live_worker_still_runs_the_call(mod: ModuleType) -> None:
    """The call was queued before the hook: an existing worker takes it (both modules)."""
    cls = adjusting_pool(mod)
    with cls(1) as pool:
        assert pool.submit(int, "1").result(WAIT_BOUND) == 1  # one worker, idle now
        ran = threading.Event()
        pool.fail_with = OSError("hook failed")
        with pytest.raises(OSError, match="hook failed"):
            pool.submit(ran.set)
        assert ran.wait(WAIT_BOUND)


def test_failing_hook_with_no_worker_leaves_no_call_behind() -> None:
    """futures_impl: with no worker to run it, a refused call is taken back, never run."""
    cls = adjusting_pool(futures_impl)
    ran: list[str] = []
    with cls(1) as pool:
        pool.fail_with = OSError("hook failed")
        with pytest.raises(OSError, match="hook failed"):
            pool.submit(ran.append, "refused")
        assert pool._work_queue.qsize() == 0 and not pool._threads
        pool.fail_with = None
        assert pool.submit(ran.append, "accepted").result(WAIT_BOUND) is None
    assert ran == ["accepted"]


def test_thread_start_failure_in_the_hook_leaves_no_call_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """super()._adjust_thread_count() cannot start a worker ("can't start new thread"):
    submit() raises that error and the call is not left queued for a later worker."""
    cls = adjusting_pool(futures_impl)
    original = threading.Thread.start

    def start(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
        if self.name.startswith("no-thread"):
            raise RuntimeError("can't start new thread")
        original(self, *args, **kwargs)

    ran: list[str] = []
    with cls(1, thread_name_prefix="no-thread") as pool:
        monkeypatch.setattr(threading.Thread, "start", start)
        with pytest.raises(RuntimeError, match="can't start new thread"):
            pool.submit(ran.append, "refused")
        assert pool._work_queue.qsize() == 0 and not pool._threads
        monkeypatch.setattr(threading.Thread, "start", original)
        assert pool.submit(ran.append, "accepted").result(WAIT_BOUND) is None
    assert ran == ["accepted"]
