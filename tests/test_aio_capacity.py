"""AsyncExecutor keeps its capacity and settles every future (issue 15, parts 2 and 4).

What a user relies on: a worker task cancelled from outside (before its first step, while
idle in the same loop iteration as a submit, or while running a call) is replaced, so
``max_workers`` calls run at a time again and nothing queued is left without a worker;
``asyncio.run()`` ending with work queued settles every future and starts nothing; a
failure of the executor's own machinery (a task that can't be created, a queue that
breaks) is reported to the loop's exception handler and fails the affected future
instead of leaving it pending forever; ``as_completed(timeout=)`` counts from the call.
And the argument checks: ``max_workers`` must be an int; a plain ``def`` function is
refused by ``submit`` before it is called (it would block the loop).

Orderings come from asyncio Events and from yielding loop iterations (``until``); no
sleeps.  Each run is bounded: a regression fails, it does not hang.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import sys
import types
import warnings
from collections.abc import Coroutine, Generator
from typing import Any, Callable

import pytest

from futures_impl._aio import future as future_module
from futures_impl.aio import AsyncExecutor, AsyncFuture, ExecutorShutdownError

pytestmark = pytest.mark.timeout(60)
BOUND = 20.0  # seconds: a hang detector, never an expected duration


def run(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(main(), BOUND))


async def until(condition: Callable[[], bool], what: str = "condition") -> None:
    """Yield loop iterations until ``condition()``; fail (not hang) after 1,000."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{what} still false after 1,000 loop iterations")


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def record_reports(loop: asyncio.AbstractEventLoop) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    return reports


class Barrier:
    """Calls wait here until ``parties`` of them are inside at once (proves the capacity)."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.inside = 0
        self.full = asyncio.Event()

    async def __call__(self, i: int) -> int:
        self.inside += 1
        if self.inside == self.parties:
            self.full.set()
        await self.full.wait()
        return i


async def assert_capacity(ex: AsyncExecutor, n: int) -> None:
    barrier = Barrier(n)
    futs = [ex.submit(barrier, i) for i in range(2 * n)]
    got = await asyncio.wait_for(asyncio.gather(*futs), 10)
    assert got == list(range(2 * n))
    assert len(ex._workers) <= n


def test_a_call_submitted_while_every_worker_is_busy_gets_a_new_worker() -> None:
    async def main() -> None:
        ex = AsyncExecutor(3)
        barrier = Barrier(3)
        futs = []
        for i in range(3):  # one at a time, each once the previous one is running
            futs.append(ex.submit(barrier, i))
            await until(futs[-1].running, f"call {i} running")
        assert await asyncio.gather(*futs) == [0, 1, 2]  # all three ran at once
        assert len(ex._workers) == 3
        await ex.shutdown()

    run(main)


# -- outside cancellation -----------------------------------------------------------------


def test_a_worker_cancelled_before_its_first_step_leaves_no_phantom_slot() -> None:
    async def main() -> None:
        ex = AsyncExecutor(1)
        fut = ex.submit(double, 1)
        (worker,) = ex._workers
        worker.cancel()  # before it ever ran: its body (and any finally) never runs
        await until(fut.done, "the queued call settled")
        assert await fut.result() == 2  # a replacement ran it
        await assert_capacity(ex, 1)
        await ex.shutdown()

    run(main)


def test_a_worker_cancelled_in_the_iteration_of_a_submit_is_replaced() -> None:
    async def main() -> None:
        ex = AsyncExecutor(1)
        assert await ex.submit(double, 1) == 2  # the worker is now idle on the queue
        (worker,) = ex._workers
        worker.cancel()
        fut = ex.submit(double, 5)  # lands in the same loop iteration as the cancel
        await until(fut.done, "the call submitted with the cancel settled")
        assert await fut == 10
        await assert_capacity(ex, 1)
        await ex.shutdown()

    run(main)


def test_capacity_is_back_after_every_worker_is_cancelled_in_each_state() -> None:
    async def main() -> None:
        n = 3
        ex = AsyncExecutor(n)
        every: list[AsyncFuture[Any]] = []

        def cancel_workers() -> None:
            for worker in list(ex._workers):
                worker.cancel()

        # 1. before their first step, with more work queued than workers
        every += [ex.submit(double, i) for i in range(2 * n)]
        cancel_workers()
        await until(lambda: all(f.done() for f in every), "the queued calls settled")
        assert [await f for f in every] == [2 * i for i in range(2 * n)]

        # 2. while running calls (those are cancelled with them), work queued behind
        gate = asyncio.Event()
        started = asyncio.Event()

        async def held() -> str:
            started.set()
            await gate.wait()
            return "held"

        running = [ex.submit(held) for _ in range(n)]
        queued = [ex.submit(double, i) for i in range(n)]
        every += running + queued
        await started.wait()
        await until(lambda: all(f.running() for f in running), "every worker busy")
        cancel_workers()
        await until(lambda: all(f.done() for f in running + queued), "all settled")
        assert all(f.cancelled() for f in running)  # a cancelled worker cancels its call
        assert [await f for f in queued] == [2 * i for i in range(n)]

        # 3. while idle, with submits in the same loop iteration
        await until(lambda: ex._busy == 0, "the workers idle")
        cancel_workers()
        late = [ex.submit(double, i) for i in range(n)]
        every += late
        assert await asyncio.gather(*late) == [2 * i for i in range(n)]

        await assert_capacity(ex, n)
        await ex.shutdown()
        assert all(f.done() for f in every) and not ex._workers

    run(main)


def test_workers_cancelled_after_shutdown_without_wait_settle_the_queue() -> None:
    async def main() -> None:
        gate = asyncio.Event()
        ex = AsyncExecutor(1)
        running = ex.submit(gate.wait)
        queued = ex.submit(double, 1)
        await until(running.running, "the first call running")
        await ex.shutdown(wait=False)
        for worker in list(ex._workers):
            worker.cancel()
        await until(lambda: running.done() and queued.done(), "both settled")
        assert running.cancelled() and queued.cancelled()
        with pytest.raises(ExecutorShutdownError):
            ex.submit(double, 2)

    run(main)


# -- loop shutdown ------------------------------------------------------------------------


def test_asyncio_run_ending_with_work_queued_settles_every_future_and_starts_none() -> None:
    futures: list[AsyncFuture[Any]] = []
    started: list[int] = []
    reports: list[dict[str, Any]] = []

    async def hang(i: int) -> None:
        started.append(i)
        await asyncio.Event().wait()

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: reports.append(ctx))
        ex = AsyncExecutor(2)
        futures.extend(ex.submit(hang, i) for i in range(6))
        await until(lambda: len(started) == 2, "two calls started")
        # return without shutdown: asyncio.run() cancels every task on its way out

    asyncio.run(main())
    gc.collect()  # a task destroyed while pending is reported from its __del__
    assert sorted(started) == [0, 1]  # no queued call started while the loop was ending
    assert all(f.done() for f in futures), [f for f in futures if not f.done()]
    assert all(f.cancelled() for f in futures)
    assert not reports, reports


def test_asyncio_run_ending_while_another_task_cleans_up_settles_every_future() -> None:
    """Another task still awaiting in its ``finally`` when asyncio.run() ends looks alive
    before 3.11 (no ``Task.cancelling()``): the cancelled workers are replaced then, and the
    loop's async-generator shutdown cancels what they started.  From 3.11 nothing starts."""
    futures: list[AsyncFuture[Any]] = []
    started: list[int] = []
    reports: list[dict[str, Any]] = []
    keep: list[asyncio.Task[None]] = []

    async def hang(i: int) -> None:
        started.append(i)
        await asyncio.Event().wait()

    async def cleans_up_slowly() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            for _ in range(20):
                await asyncio.sleep(0)

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: reports.append(ctx))
        keep.append(asyncio.ensure_future(cleans_up_slowly()))
        ex = AsyncExecutor(2)
        futures.extend(ex.submit(hang, i) for i in range(6))
        await until(lambda: len(started) == 2, "two calls started")

    asyncio.run(main())
    gc.collect()
    assert all(f.done() for f in futures), [f for f in futures if not f.done()]
    assert all(f.cancelled() for f in futures)
    assert not reports, reports
    if sys.version_info >= (3, 11):
        assert sorted(started) == [0, 1]


# -- failures of the machinery --------------------------------------------------------------


def _is_call_coroutine(coro: Any) -> bool:
    return str(getattr(coro, "__qualname__", "")).endswith("_WorkItem.run")


def _is_worker_coroutine(coro: Any) -> bool:
    return str(getattr(coro, "__qualname__", "")).endswith("AsyncExecutor._worker")


def failing_factory(refuse: Callable[[Any], bool], error: BaseException) -> Any:
    """A task factory refusing the tasks ``refuse`` picks (once), as a broken one would."""
    refused: list[Any] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        if not refused and refuse(coro):
            refused.append(coro)
            raise error
        return asyncio.Task(coro, loop=loop, **kwargs)

    return factory


def test_a_call_whose_task_cannot_be_created_fails_and_is_reported() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        reports = record_reports(loop)
        error = RuntimeError("no task for this call")
        loop.set_task_factory(failing_factory(_is_call_coroutine, error))
        ex = AsyncExecutor(1)
        bad = ex.submit(double, 1)
        await until(bad.done, "the call whose task failed settled")
        with pytest.raises(RuntimeError, match="no task for this call"):
            await bad
        assert [r["exception"] for r in reports] == [error]
        assert "AsyncExecutor" in reports[0]["message"]
        assert await ex.submit(double, 2) == 4  # the worker survived
        assert len(ex._workers) == 1
        await ex.shutdown()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(main)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_a_worker_that_cannot_be_created_makes_submit_raise_and_runs_nothing() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ran: list[int] = []

        async def call(i: int) -> int:
            ran.append(i)
            return i

        loop.set_task_factory(failing_factory(_is_worker_coroutine, MemoryError("no worker")))
        ex = AsyncExecutor(2)
        with pytest.raises(MemoryError, match="no worker"):
            ex.submit(call, 1)
        await until(lambda: not ex._outstanding, "the refused call settled")
        assert await ex.submit(call, 2) == 2
        await ex.shutdown()
        assert ran == [2]  # the call whose submit raised never ran

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(main)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_a_replacement_that_cannot_be_started_is_reported_and_fails_the_queue() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        reports = record_reports(loop)
        ex = AsyncExecutor(1)
        assert await ex.submit(double, 1) == 2  # the worker is now idle
        error = MemoryError("no replacement")
        loop.set_task_factory(failing_factory(_is_worker_coroutine, error))
        (worker,) = ex._workers
        worker.cancel()
        fut = ex.submit(double, 2)  # the dying worker still counts: no new one yet
        await until(fut.done, "the call left without a worker settled")
        with pytest.raises(MemoryError, match="no replacement"):
            await fut
        assert [r["exception"] for r in reports] == [error]
        loop.set_task_factory(None)
        assert await ex.submit(double, 3) == 6
        await ex.shutdown()

    run(main)


def test_a_worker_failing_outside_a_call_is_reported_and_fails_what_it_left() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        reports = record_reports(loop)
        ex = AsyncExecutor(1)
        queue = ex._bind()
        real_get = queue.get
        error = RuntimeError("queue broke")
        broken = [True]

        async def get() -> Any:
            if broken.pop() if broken else False:
                raise error
            return await real_get()

        queue.get = get  # type: ignore[method-assign]
        fut = ex.submit(double, 1)
        await until(fut.done, "the call left by the failed worker settled")
        with pytest.raises(RuntimeError, match="queue broke"):
            await fut
        assert [r["exception"] for r in reports] == [error]
        assert not ex._workers
        assert await ex.submit(double, 3) == 6  # the next submit starts a worker
        await ex.shutdown()

    run(main)


# -- as_completed's deadline ------------------------------------------------------------------


def test_as_completed_counts_its_timeout_from_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(future_module, "_clock", lambda: now[0])

    async def main() -> None:
        gate = asyncio.Event()
        async with AsyncExecutor(2) as ex:
            done = ex.submit(double, 1)
            never = ex.submit(gate.wait)
            await done
            stream = ex.as_completed([done, never], timeout=60)
            now[0] += 120  # the deadline passes before the iteration starts
            got = []
            with pytest.raises(TimeoutError, match="1 \\(of 2\\)"):
                async for fut in stream:
                    got.append(fut)
            assert got == [done]  # the finished one first, then the timeout at once
            gate.set()

    run(main)


# -- argument checks (part 4) ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [2.5, "2", 1.0])
def test_max_workers_must_be_an_int(bad: Any) -> None:
    with pytest.raises(TypeError):
        AsyncExecutor(bad)


def test_max_workers_bounds_and_defaults() -> None:
    for bad in (0, -1):
        with pytest.raises(ValueError):
            AsyncExecutor(bad)
    assert AsyncExecutor().max_workers == 5  # antflow's default
    assert AsyncExecutor(None).max_workers >= 5  # the thread pool's min(32, cpus + 4)


def _blocking(calls: list[str]) -> str:
    calls.append("called")
    return "blocked the loop"


class _SyncCallable:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def __call__(self) -> str:
        return _blocking(self.calls)

    def method(self) -> str:
        return _blocking(self.calls)


class _AsyncCallable:
    async def __call__(self, x: int) -> int:
        return await double(x)


@types.coroutine
def _generator_coroutine(x: int) -> Generator[Any, None, int]:
    yield from asyncio.sleep(0).__await__()
    return 2 * x


def _wrapped_async(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        return fn(*args)

    return wrapper


def test_a_plain_function_is_refused_before_it_is_called() -> None:
    async def main() -> None:
        calls: list[str] = []
        obj = _SyncCallable(calls)
        async with AsyncExecutor(2) as ex:
            for fn in (
                functools.partial(_blocking, calls),
                functools.partial(functools.partial(_blocking), calls),
                obj,
                obj.method,
                functools.partial(obj.method),
            ):
                with pytest.raises(TypeError, match="not a coroutine function"):
                    ex.submit(fn)  # type: ignore[arg-type]
            assert calls == []  # never called: the loop was never blocked
            assert not ex._outstanding

    run(main)


def test_coroutine_functions_in_every_form_are_accepted() -> None:
    async def main() -> None:
        async with AsyncExecutor(2) as ex:
            results = [
                await ex.submit(double, 1),
                await ex.submit(functools.partial(double, 2)),
                await ex.submit(_AsyncCallable(), 3),
                await ex.submit(functools.partial(_AsyncCallable(), 4)),
                await ex.submit(_generator_coroutine, 5),
                await ex.submit(_wrapped_async(double), 6),
                await ex.submit(lambda: double(7)),  # a lambda may return a coroutine
            ]
            assert results == [2, 4, 6, 8, 10, 12, 14]
            with pytest.raises(TypeError, match="not an awaitable"):
                await ex.submit(lambda: 8)  # the fallback: checked when called

    run(main)
