"""Tests for futures_impl.aio.AsyncExecutor, AsyncFuture, wait and as_completed.

Each test runs its own event loop (asyncio.run) under an overall 30 s
wait_for; orderings are forced with asyncio Events, never with sleeps.
"""

from __future__ import annotations

import asyncio
import builtins
import itertools
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Callable

import pytest

import futures_impl
from futures_impl import aio
from futures_impl._aio import work
from futures_impl.aio import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    AsyncExecutor,
    AsyncFuture,
    WaitStrategy,
)

pytestmark = pytest.mark.timeout(60)
WAIT = 30.0


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(main(), WAIT)

    return asyncio.run(bounded())


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


async def fail(msg: str) -> None:
    await asyncio.sleep(0)
    raise ValueError(msg)


class Gauge:
    """Counts calls in progress and remembers the maximum."""

    def __init__(self) -> None:
        self.now = 0
        self.max = 0
        self.calls = 0

    def enter(self) -> None:
        self.now += 1
        self.calls += 1
        self.max = max(self.max, self.now)

    def leave(self) -> None:
        self.now -= 1


# -- submit / AsyncFuture -----------------------------------------------------------------


def test_submit_result_and_exception() -> None:
    async def main() -> None:
        async with AsyncExecutor(max_workers=2) as ex:
            ok = ex.submit(double, 21)
            bad = ex.submit(fail, "nope")
            assert await ok.result() == 42
            assert await ok == 42  # AsyncFuture is awaitable
            with pytest.raises(ValueError, match="nope"):
                await bad.result()
            assert ok.done() and bad.done() and not ok.cancelled()
            exc = bad.exception()
            assert isinstance(exc, ValueError)
            assert ok.exception() is None
            assert "raised ValueError" in repr(bad) and "finished" in repr(ok)

    run(main)


def test_kwargs_are_passed_through() -> None:
    async def call(a: int, *, b: int) -> int:
        return a - b

    async def main() -> None:
        async with AsyncExecutor(1) as ex:
            assert await ex.submit(call, 10, b=3).result() == 7

    run(main)


def test_workers_start_on_first_submit_without_async_with() -> None:
    async def main() -> None:
        ex = AsyncExecutor(max_workers=4)
        assert len(ex._workers) == 0
        fut = ex.submit(double, 5)
        assert len(ex._workers) == 1  # lazily, one per queued item
        assert await fut.result() == 10
        await ex.shutdown()
        assert len(ex._workers) == 0
        with pytest.raises(RuntimeError, match="after shutdown"):
            ex.submit(double, 1)

    run(main)


def test_submit_outside_a_loop_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="running event loop"):
        AsyncExecutor(1).submit(double, 1)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        AsyncExecutor(0)

    async def main() -> None:
        ex = AsyncExecutor(1)
        with pytest.raises(ValueError):
            ex.submit(double, 1, retries=-1)
        with pytest.raises(TypeError):
            ex.submit(42)  # type: ignore[arg-type]
        await ex.shutdown()

    run(main)


def test_a_sync_function_is_reported_at_result() -> None:
    async def main() -> None:
        async with AsyncExecutor(1) as ex:
            with pytest.raises(TypeError, match="not an awaitable"):
                await ex.submit(abs, -1).result()  # type: ignore[arg-type, unused-ignore]

    run(main)


def test_exception_before_done_and_done_callback() -> None:
    async def main() -> None:
        gate = asyncio.Event()
        seen: list[AsyncFuture[Any]] = []
        called = asyncio.Event()

        async def wait_gate() -> str:
            await gate.wait()
            return "ok"

        async with AsyncExecutor(1) as ex:
            fut = ex.submit(wait_gate)
            assert fut.exception() is None  # not done yet: None, as antflow's

            def cb(f: AsyncFuture[Any]) -> None:
                seen.append(f)
                called.set()

            fut.add_done_callback(cb)
            gate.set()
            await called.wait()
            assert seen == [fut]

    run(main)


def test_gather_accepts_async_futures() -> None:
    async def main() -> None:
        async with AsyncExecutor(3) as ex:
            futs = [ex.submit(double, i) for i in range(5)]
            assert await asyncio.gather(*futs) == [0, 2, 4, 6, 8]
            assert await asyncio.gather(*(f.future for f in futs)) == [0, 2, 4, 6, 8]

    run(main)


# -- bounds: max_workers and semaphore ----------------------------------------------------


@pytest.mark.parametrize("max_workers,sem_value,expected", [(3, None, 3), (10, 2, 2)])
def test_concurrency_bounded_by_workers_and_semaphore(
    max_workers: int, sem_value: int | None, expected: int
) -> None:
    async def main() -> None:
        gauge = Gauge()
        full = asyncio.Event()

        async def task(i: int) -> int:
            gauge.enter()
            if gauge.now == expected:
                full.set()
            await full.wait()  # hold until the bound is reached, then drain
            await asyncio.sleep(0)
            gauge.leave()
            return i

        sem = asyncio.Semaphore(sem_value) if sem_value else None
        async with AsyncExecutor(max_workers) as ex:
            futs = [ex.submit(task, i, semaphore=sem) for i in range(12)]
            assert [await f for f in futs] == list(range(12))
        assert gauge.max == expected and gauge.calls == 12

    run(main)


def test_shared_semaphore_across_groups() -> None:
    async def main() -> None:
        gauge = Gauge()
        limit = asyncio.Semaphore(1)

        async def task() -> None:
            gauge.enter()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            gauge.leave()

        async with AsyncExecutor(8) as ex:
            futs = [ex.submit(task, semaphore=limit) for _ in range(6)]
            results = await ex.map(lambda _i: task(), range(6), semaphore=limit)
            await asyncio.gather(*futs)
        assert gauge.max == 1 and results == [None] * 6

    run(main)


# -- retries --------------------------------------------------------------------------------


def test_retry_succeeds_on_the_third_try_with_exponential_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(work, "_backoff_sleep", fake_sleep)
    attempts: list[int] = []

    async def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise ConnectionError(f"attempt {len(attempts)}")
        return x * 10

    async def main() -> None:
        async with AsyncExecutor(2) as ex:
            fut = ex.submit(flaky, 7, retries=3, retry_delay=0.5)
            assert await fut.result() == 70

    run(main)
    assert attempts == [7, 7, 7]
    assert delays == [0.5, 1.0]  # 0.5 * 2**0, 0.5 * 2**1


def test_retries_exhausted_raise_the_last_error() -> None:
    calls = itertools.count(1)

    async def always(x: int) -> None:
        raise OSError(f"failure {next(calls)}")

    async def main() -> None:
        async with AsyncExecutor(1) as ex:
            with pytest.raises(OSError, match="failure 3"):
                await ex.submit(always, 1, retries=2, retry_delay=0).result()

    run(main)


def test_map_retries_each_item() -> None:
    seen: dict[int, int] = {}

    async def flaky(x: int) -> int:
        seen[x] = seen.get(x, 0) + 1
        if seen[x] < 2:
            raise RuntimeError("first try fails")
        return x

    async def main() -> None:
        async with AsyncExecutor(3) as ex:
            assert await ex.map(flaky, range(5), retries=1, retry_delay=0) == list(range(5))

    run(main)
    assert seen == {i: 2 for i in range(5)}


def test_cancellation_is_not_retried() -> None:
    async def main() -> None:
        started = asyncio.Event()
        runs = []

        async def slow() -> None:
            runs.append(1)
            started.set()
            await asyncio.Event().wait()

        async with AsyncExecutor(1) as ex:
            fut = ex.submit(slow, retries=5, retry_delay=0)
            await started.wait()
            assert fut.cancel()
            with pytest.raises(asyncio.CancelledError):
                await fut.result()
        assert runs == [1]

    run(main)


def test_attempt_timeout_cancels_the_attempt_and_retries() -> None:
    attempts = []

    async def hangs_once() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            await asyncio.Event().wait()
        return "second"

    async def main() -> None:
        async with AsyncExecutor(1) as ex:
            fut = ex.submit(hangs_once, retries=1, retry_delay=0, attempt_timeout=0.05)
            assert await fut.result() == "second"
            never = ex.submit(asyncio.Event().wait, attempt_timeout=0.01)
            with pytest.raises(TimeoutError):
                await never.result()

    run(main)


# -- timeouts ---------------------------------------------------------------------------------


def test_timeout_error_is_every_timeout_class() -> None:
    err = aio.TimeoutError("x")
    assert isinstance(err, builtins.TimeoutError)
    assert isinstance(err, asyncio.TimeoutError)
    assert isinstance(err, futures_impl.TimeoutError)


def test_result_timeout_raises_and_leaves_the_call_running() -> None:
    async def main() -> None:
        gate = asyncio.Event()

        async def wait_gate() -> int:
            await gate.wait()
            return 1

        async with AsyncExecutor(1) as ex:
            fut = ex.submit(wait_gate)
            with pytest.raises(TimeoutError):
                await fut.result(timeout=0.01)
            with pytest.raises(asyncio.TimeoutError):
                await fut.result(timeout=0)
            assert not fut.done() and fut.running()
            gate.set()
            assert await fut.result() == 1

    run(main)


def test_map_timeout_raises_and_cancels_outstanding_calls() -> None:
    async def main() -> None:
        cancelled = []

        async def forever(i: int) -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(i)
                raise

        async with AsyncExecutor(3) as ex:
            with pytest.raises(TimeoutError):
                await ex.map(forever, range(3), timeout=0.05)
            assert all(f.cancelled() for f in ex._outstanding)  # cancelled at once
        assert sorted(cancelled) == [0, 1, 2]  # the calls unwound before shutdown returned

    run(main)


# -- map / map_iter ------------------------------------------------------------------------


def test_map_returns_input_order_when_completion_order_is_reversed() -> None:
    async def main() -> None:
        n = 6
        finished = [asyncio.Event() for _ in range(n + 1)]
        finished[n].set()
        completion: list[int] = []

        async def task(i: int) -> int:
            await finished[i + 1].wait()  # i finishes only after i + 1
            completion.append(i)
            finished[i].set()
            return i * i

        async with AsyncExecutor(n) as ex:
            assert await ex.map(task, range(n)) == [i * i for i in range(n)]
        assert completion == list(reversed(range(n)))

    run(main)


def test_map_with_several_iterables_stops_at_the_shortest() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    async def main() -> None:
        async with AsyncExecutor(2) as ex:
            assert await ex.map(add, [1, 2, 3], [10, 20]) == [11, 22]
            assert await ex.map(add, [], []) == []
            assert await ex.map(add) == []  # zip() of nothing, as concurrent.futures and antflow

    run(main)


def test_map_raises_the_first_failure_and_cancels_the_rest() -> None:
    async def main() -> None:
        cancelled = []

        async def task(i: int) -> int:
            if i == 1:
                raise KeyError(i)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(i)
                raise
            return i

        async with AsyncExecutor(4) as ex:
            with pytest.raises(KeyError):
                await ex.map(task, range(4))
        assert sorted(cancelled) == [0, 2, 3]

    run(main)


@pytest.mark.parametrize("source", ["sync", "async"])
def test_map_iter_over_infinite_input_bounds_calls_in_flight(source: str) -> None:
    max_workers = 3
    gauge = Gauge()  # calls started and not yet consumed by the loop below

    async def task(i: int) -> int:
        gauge.enter()
        await asyncio.sleep(0)
        return i

    async def naturals() -> AsyncIterator[int]:
        for i in itertools.count():
            yield i

    async def main() -> None:
        inputs: Any = itertools.count() if source == "sync" else naturals()
        results = []
        async with AsyncExecutor(max_workers) as ex:
            stream = ex.map_iter(task, inputs)
            async for value in stream:
                gauge.leave()
                results.append(value)
                if len(results) == 10:
                    break
            await stream.aclose()  # type: ignore[attr-defined]
        assert results == list(range(10))
        assert gauge.max <= max_workers
        assert gauge.calls <= 10 + max_workers

    run(main)


def test_map_iter_buffersize_and_closing_cancels_in_flight() -> None:
    async def main() -> None:
        gauge = Gauge()
        cancelled = []
        gate = asyncio.Event()

        async def task(i: int) -> int:
            gauge.enter()
            if i > 0:
                try:
                    await gate.wait()
                except asyncio.CancelledError:
                    cancelled.append(i)
                    raise
            return i

        async with AsyncExecutor(8) as ex:
            stream = ex.map_iter(task, range(100), buffersize=2)
            assert await stream.__anext__() == 0
            await stream.aclose()  # type: ignore[attr-defined]
        assert gauge.max <= 2 + 1 and gauge.calls <= 3
        assert cancelled and set(cancelled) <= {1, 2}
        with pytest.raises(ValueError):
            async with AsyncExecutor(1) as ex2:
                await ex2.map(task, [1], buffersize=0)

    run(main)


# -- as_completed / wait -----------------------------------------------------------------------


def test_as_completed_yields_in_completion_order() -> None:
    async def main() -> None:
        gates = [asyncio.Event() for _ in range(3)]

        async def task(i: int) -> int:
            await gates[i].wait()
            return i

        async with AsyncExecutor(3) as ex:
            futs = [ex.submit(task, i) for i in range(3)]
            order = []
            gates[2].set()
            async for fut in ex.as_completed(futs + futs[:1]):  # duplicates once
                value = await fut.result()
                order.append(value)
                if value == 2:
                    gates[0].set()
                elif value == 0:
                    gates[1].set()
            assert order == [2, 0, 1]

    run(main)


def test_as_completed_timeout() -> None:
    async def main() -> None:
        async with AsyncExecutor(2) as ex:
            done = ex.submit(double, 1)
            never = ex.submit(asyncio.Event().wait)
            got = []
            with pytest.raises(TimeoutError, match="1 \\(of 2\\)"):
                async for fut in aio.as_completed([done, never], timeout=0.05):
                    got.append(fut)
            assert got == [done]
            never.cancel()

    run(main)


@pytest.mark.parametrize("strategy", [ALL_COMPLETED, WaitStrategy.ALL_COMPLETED])
def test_wait_all_completed(strategy: Any) -> None:
    async def main() -> None:
        async with AsyncExecutor(2) as ex:
            futs = [ex.submit(double, i) for i in range(4)]
            done, not_done = await ex.wait(futs, return_when=strategy)
            assert done == set(futs) and not_done == set()

    run(main)


@pytest.mark.parametrize("strategy", [FIRST_COMPLETED, WaitStrategy.FIRST_COMPLETED])
def test_wait_first_completed(strategy: Any) -> None:
    async def main() -> None:
        gate = asyncio.Event()
        async with AsyncExecutor(3) as ex:
            slow = ex.submit(gate.wait)
            fast = ex.submit(double, 2)
            done, not_done = await ex.wait([slow, fast], return_when=strategy)
            assert done == {fast} and not_done == {slow}
            gate.set()

    run(main)


@pytest.mark.parametrize("strategy", [FIRST_EXCEPTION, WaitStrategy.FIRST_EXCEPTION])
def test_wait_first_exception(strategy: Any) -> None:
    async def main() -> None:
        gate = asyncio.Event()
        async with AsyncExecutor(3) as ex:
            slow = ex.submit(gate.wait)
            ok = ex.submit(double, 2)
            assert await ok == 4
            done, not_done = await ex.wait([slow, ok], timeout=0.01, return_when=strategy)
            assert done == {ok} and not_done == {slow}  # a success doesn't end the wait
            bad = ex.submit(fail, "x")
            done, not_done = await ex.wait([slow, ok, bad], return_when=strategy)
            assert done == {ok, bad} and not_done == {slow}
            gate.set()

    run(main)


def test_wait_edge_cases() -> None:
    async def main() -> None:
        assert await aio.wait([]) == (set(), set())
        with pytest.raises(ValueError):
            await aio.wait([], return_when="SOMETIMES")
        assert WaitStrategy.FIRST_COMPLETED == futures_impl.FIRST_COMPLETED
        assert WaitStrategy(futures_impl.FIRST_EXCEPTION) is WaitStrategy.FIRST_EXCEPTION
        async with AsyncExecutor(1) as ex:
            fut = ex.submit(double, 3)
            plain = asyncio.ensure_future(double(4))
            done, _ = await aio.wait([fut, plain])
            assert done == {fut, plain}
            with pytest.raises(TypeError):
                await aio.wait([object()])  # type: ignore[list-item]

    run(main)


# -- cancel and shutdown --------------------------------------------------------------


def test_cancel_queued_and_running() -> None:
    async def main() -> None:
        started = asyncio.Event()
        ran = []
        cancelled_inside = []

        async def blocker() -> None:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled_inside.append(True)
                raise

        async def never() -> None:
            ran.append(True)

        async with AsyncExecutor(1) as ex:
            running = ex.submit(blocker)
            queued = ex.submit(never)
            await started.wait()
            assert running.running() and not queued.running()
            assert queued.cancel() and running.cancel()
            assert not running.cancel()  # already done
            assert queued.cancelled() and running.cancelled()
            with pytest.raises(asyncio.CancelledError):
                await running.result()
            assert await ex.submit(double, 1) == 2  # the worker is still there
        assert ran == [] and cancelled_inside == [True]

    run(main)


def test_shutdown_waits_for_queued_work_or_cancels_it() -> None:
    async def main() -> None:
        ex = AsyncExecutor(1)
        futs = [ex.submit(double, i) for i in range(5)]
        await ex.shutdown(wait=True)
        assert [f.result for f in futs] and all(f.done() for f in futs)
        assert [await f for f in futs] == [0, 2, 4, 6, 8]

        gate = asyncio.Event()
        ex = AsyncExecutor(1)
        first = ex.submit(gate.wait)
        rest = [ex.submit(double, i) for i in range(3)]
        await asyncio.sleep(0)  # let the worker take `first`
        await ex.shutdown(wait=False, cancel_futures=True)
        assert all(f.cancelled() for f in rest) and not first.done()
        gate.set()
        assert await first.result() is True
        await ex.shutdown(wait=True)
        assert not ex._workers

    run(main)


def test_leaving_the_block_by_an_error_cancels_the_work() -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def blocker() -> None:
            started.set()
            await asyncio.Event().wait()

        with pytest.raises(KeyError):
            async with AsyncExecutor(2) as ex:
                futs = [ex.submit(blocker) for _ in range(4)]
                await started.wait()
                raise KeyError("body failed")
        assert all(f.cancelled() for f in futs)
        assert not ex._workers

    run(main)


# -- worker robustness ----------------------------------------------------------------


class Fatal(BaseException):
    pass


def test_base_exception_in_a_call_is_reraised_and_the_worker_survives() -> None:
    async def boom() -> None:
        raise Fatal("deep")

    async def main() -> None:
        async with AsyncExecutor(1) as ex:
            with pytest.raises(Fatal):
                await ex.submit(boom).result()
            assert await ex.submit(double, 4).result() == 8
            assert len(ex._workers) == 1

    run(main)


def test_a_worker_killed_from_outside_is_replaced() -> None:
    async def main() -> None:
        gauge = Gauge()
        full = asyncio.Event()
        first_started = asyncio.Event()
        gate = asyncio.Event()

        async def held() -> None:
            first_started.set()
            await gate.wait()

        async def task(i: int) -> int:
            gauge.enter()
            if gauge.now == 2:
                full.set()
            await full.wait()
            gauge.leave()
            return i

        async with AsyncExecutor(2) as ex:
            victim_fut = ex.submit(held)
            await first_started.wait()
            victim = next(iter(ex._workers))
            victim.cancel()  # e.g. a careless "cancel all tasks"
            with pytest.raises(asyncio.CancelledError):
                await victim_fut.result()
            futs = [ex.submit(task, i) for i in range(6)]
            assert await asyncio.gather(*futs) == list(range(6))
            assert gauge.max == 2  # capacity is back to max_workers
            assert len(ex._workers) <= 2

    run(main)


def test_executor_is_bound_to_one_loop() -> None:
    ex = AsyncExecutor(1)

    async def use() -> int:
        return await ex.submit(double, 1)

    assert asyncio.run(use()) == 2
    with pytest.raises(RuntimeError, match="another event loop"):
        asyncio.run(use())


def test_repr() -> None:
    async def main() -> None:
        async with AsyncExecutor(3) as ex:
            assert "max_workers=3" in repr(ex) and "open" in repr(ex)
            fut = ex.submit(double, 1)
            assert "pending" in repr(fut)
            await fut
        assert "shutdown" in repr(ex)

    run(main)


def test_import_does_not_load_the_executors() -> None:
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = (
        "import sys, futures_impl.aio\n"
        "print([m for m in ('futures_impl.thread', 'futures_impl.process', 'multiprocessing',"
        " 'futures_impl.parallel', 'tqdm') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_an_unretrieved_failure_is_reported_not_swallowed() -> None:
    import gc

    async def main() -> list[dict[str, Any]]:
        reports: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: reports.append(ctx))
        async with AsyncExecutor(1) as ex:
            fut = ex.submit(fail, "nobody looks")
            await ex.wait([fut])  # waits, doesn't retrieve the exception
        del fut
        gc.collect()
        return reports

    reports = run(main)
    assert any(isinstance(r.get("exception"), ValueError) for r in reports), reports


def test_wait_strategy_works_with_the_thread_pool_wait_too() -> None:
    with futures_impl.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(pow, 2, i) for i in range(3)]
        done, not_done = futures_impl.wait(futures, return_when=WaitStrategy.ALL_COMPLETED)
        assert len(done) == 3 and not not_done


def test_loop_exit_with_work_left_and_no_shutdown_is_quiet() -> None:
    """asyncio.run() cancels the workers on its way out: nothing may outlive the loop."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = (
        "import asyncio\n"
        "from futures_impl.aio import AsyncExecutor\n"
        "async def main():\n"
        "    ex = AsyncExecutor(2)\n"
        "    started = asyncio.Event()\n"
        "    async def hang():\n"
        "        started.set()\n"
        "        await asyncio.Event().wait()\n"
        "    futs = [ex.submit(hang) for _ in range(6)]\n"
        "    await started.wait()\n"
        "asyncio.run(main())\n"
        "print('clean exit')\n"
    )
    out = subprocess.run(
        [sys.executable, "-X", "dev", "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean exit"
    assert "destroyed but it is pending" not in out.stderr
    assert "Event loop is closed" not in out.stderr


def test_queued_work_is_cancelled_by_shutdown_when_every_worker_was_killed() -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def hang() -> None:
            started.set()
            await asyncio.Event().wait()

        ex = AsyncExecutor(1)
        running = ex.submit(hang)
        queued = ex.submit(double, 1)
        await started.wait()
        for worker in list(ex._workers):
            worker.cancel()
        await ex.shutdown(wait=True)
        assert running.cancelled() and queued.cancelled()

    run(main)
