"""futures_impl.aio.wrap_future / run_in_executor with futures_impl and stdlib executors.

Cancellation is checked from each side: cancelling the asyncio future cancels
a call that hasn't started (it never runs), and cancelling the executor's
future cancels the asyncio one.  A one-worker pool kept busy by a blocker
guarantees the second call is still queued; Events bound every wait.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Iterator
from typing import Any, Callable

import pytest

import futures_impl
from futures_impl.aio import AsyncExecutor, run_in_executor, wrap_future

pytestmark = pytest.mark.timeout(60)
WAIT = 30.0

EXECUTORS: dict[str, Callable[[], Any]] = {
    "futures_impl": lambda: futures_impl.ThreadPoolExecutor(max_workers=1),
    "stdlib": lambda: concurrent.futures.ThreadPoolExecutor(max_workers=1),
}


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request: pytest.FixtureRequest) -> Iterator[Any]:
    ex = EXECUTORS[request.param]()
    yield ex
    ex.shutdown(wait=True)


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(main(), WAIT)

    return asyncio.run(bounded())


def divide(a: int, b: int) -> float:
    return a / b


def test_run_in_executor_result_and_exception(executor: Any) -> None:
    async def main() -> None:
        assert await run_in_executor(executor, divide, 6, 3) == 2.0
        with pytest.raises(ZeroDivisionError):
            await run_in_executor(executor, divide, 1, 0)
        assert await run_in_executor(None, divide, 9, 3) == 3.0  # the loop's default

    run(main)


def test_wrap_future_result_set_from_another_thread(executor: Any) -> None:
    async def main() -> None:
        fut = executor.submit(threading.get_ident)
        ident = await wrap_future(fut)
        assert ident != threading.get_ident()
        assert await wrap_future(executor.submit(divide, 1, 4), asyncio.get_running_loop()) == 0.25

    run(main)


def _busy(executor: Any) -> tuple[threading.Event, threading.Event, Any]:
    started, release = threading.Event(), threading.Event()

    def blocker() -> str:
        started.set()
        release.wait(WAIT)
        return "blocker done"

    fut = executor.submit(blocker)
    assert started.wait(WAIT)
    return started, release, fut


def test_cancel_from_the_asyncio_side_cancels_a_queued_call(executor: Any) -> None:
    ran: list[bool] = []

    async def main() -> None:
        _, release, blocker = _busy(executor)
        try:
            source = executor.submit(ran.append, True)  # queued behind the blocker
            dest = wrap_future(source)
            seen = asyncio.get_running_loop().create_future()
            dest.add_done_callback(lambda d: seen.set_result(None))  # runs after ours
            dest.cancel()
            await seen
            assert source.cancelled()
            with pytest.raises(asyncio.CancelledError):
                await dest
        finally:
            release.set()
        assert await wrap_future(blocker) == "blocker done"

    run(main)
    executor.shutdown(wait=True)
    assert ran == []


def test_run_in_executor_cancelled_while_awaited(executor: Any) -> None:
    ran: list[bool] = []

    async def main() -> None:
        _, release, blocker = _busy(executor)
        try:
            awaiting = asyncio.Event()
            call = run_in_executor(executor, ran.append, True)

            async def waiter() -> None:
                awaiting.set()
                await call  # suspended here, in the same step as the set()

            task = asyncio.ensure_future(waiter())
            await awaiting.wait()
            task.cancel()  # cancels the awaited future, hence the queued call
            with pytest.raises(asyncio.CancelledError):
                await task
            assert call.cancelled()
        finally:
            release.set()
        await wrap_future(blocker)

    run(main)
    executor.shutdown(wait=True)
    assert ran == []


def test_cancel_from_the_executor_side_cancels_the_asyncio_future(executor: Any) -> None:
    async def main() -> None:
        _, release, blocker = _busy(executor)
        try:
            source = executor.submit(divide, 1, 1)
            dest = wrap_future(source)
            assert source.cancel()
            with pytest.raises(asyncio.CancelledError):
                await dest
            assert dest.cancelled()
        finally:
            release.set()
        await wrap_future(blocker)

    run(main)


def test_cancelling_a_running_call_cancels_only_the_asyncio_side(executor: Any) -> None:
    async def main() -> None:
        started, release, blocker = _busy(executor)
        dest = wrap_future(blocker)
        dest.cancel()
        with pytest.raises(asyncio.CancelledError):
            await dest
        assert not blocker.cancelled()  # a running thread can't be cancelled
        release.set()
        assert await wrap_future(blocker) == "blocker done"

    run(main)


def test_source_finishing_after_the_loop_closed_is_harmless() -> None:
    release = threading.Event()
    with futures_impl.ThreadPoolExecutor(max_workers=1) as ex:
        fut = ex.submit(release.wait, WAIT)

        async def main() -> None:
            wrap_future(fut)

        asyncio.run(main())
        release.set()
        assert fut.result(WAIT) is True


def test_wrap_future_passes_asyncio_futures_through_and_rejects_others() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        plain = loop.create_future()
        assert wrap_future(plain) is plain
        async with AsyncExecutor(1) as ex:
            afut = ex.submit(asyncio.sleep, 0, "x")
            assert wrap_future(afut) is afut.future
            assert await wrap_future(afut) == "x"
        with pytest.raises(TypeError, match="not a Future"):
            wrap_future(object())

    run(main)


def test_wrap_future_outside_a_loop_needs_loop_argument() -> None:
    fut: futures_impl.Future[int] = futures_impl.Future()
    with pytest.raises(RuntimeError, match="no running event loop"):
        wrap_future(fut)
    loop = asyncio.new_event_loop()
    try:
        dest = wrap_future(fut, loop=loop)
        fut.set_result(5)
        assert loop.run_until_complete(asyncio.wait_for(dest, WAIT)) == 5
    finally:
        loop.close()


def test_stdlib_asyncio_rejects_futures_impl_futures() -> None:
    """The limitation the docs describe (and the reason wrap_future exists)."""

    async def main() -> None:
        with futures_impl.ThreadPoolExecutor(max_workers=1) as ex:
            fut = ex.submit(divide, 1, 1)
            with pytest.raises((AssertionError, TypeError)):
                await asyncio.wrap_future(fut)  # type: ignore[arg-type]
            assert await wrap_future(fut) == 1.0

    run(main)
