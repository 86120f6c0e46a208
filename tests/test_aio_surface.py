"""futures_impl.aio's antflow-0.10 surface, checked without antflow (issue 15, part 3).

tests/test_aio_antflow.py compares with antflow itself where it is installed; these pin the
same behaviour everywhere: ``ExecutorShutdownError`` (a RuntimeError) after shutdown,
``exception()`` is None while a call runs, ``ex.wait(ALL_COMPLETED, timeout=)`` raises
TimeoutError when it passes (the module function ``wait`` returns, as concurrent.futures),
``map``'s timeout bounds each result, ``shutdown``'s arguments by position, ``map()`` of no
iterables is empty, the default ``max_workers`` is 5, ``set_result``/``set_exception``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Callable

import pytest

from futures_impl import aio
from futures_impl.aio import ALL_COMPLETED, AsyncExecutor, ExecutorShutdownError, WaitStrategy

pytestmark = pytest.mark.timeout(60)
BOUND = 20.0  # seconds: a hang detector, never an expected duration


def run(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(main(), BOUND))


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def test_submit_and_map_after_shutdown_raise_executor_shutdown_error() -> None:
    async def main() -> None:
        ex = AsyncExecutor(2)
        await ex.shutdown()
        with pytest.raises(ExecutorShutdownError, match="after shutdown"):
            ex.submit(double, 1)
        with pytest.raises(RuntimeError):  # what concurrent.futures users catch
            await ex.map(double, [])  # refused even with nothing to map

    run(main)
    assert issubclass(ExecutorShutdownError, RuntimeError)


def test_exception_is_none_while_running_and_set_result_settles() -> None:
    async def main() -> None:
        gate = asyncio.Event()
        async with AsyncExecutor(2) as ex:
            fut = ex.submit(gate.wait)
            assert fut.exception() is None and not fut.done()
            other = ex.submit(gate.wait)
            other.set_result(True)  # settled from outside: the call goes on, its outcome dropped
            assert await other is True
            failed = ex.submit(gate.wait)
            failed.set_exception(KeyError("set"))
            assert isinstance(failed.exception(), KeyError)
            gate.set()
            assert await fut is True and fut.exception() is None
            cancelled = ex.submit(gate.wait)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                cancelled.exception()  # as asyncio's

    run(main)


@pytest.mark.parametrize("return_when", [ALL_COMPLETED, WaitStrategy.ALL_COMPLETED])
def test_executor_wait_all_completed_raises_when_the_timeout_passes(return_when: Any) -> None:
    async def main() -> None:
        never = asyncio.Event()
        async with AsyncExecutor(2) as ex:
            done = ex.submit(double, 1)
            pending = ex.submit(never.wait)
            await done
            with pytest.raises(TimeoutError, match="1 \\(of 2\\)"):
                await ex.wait([done, pending], timeout=0.01, return_when=return_when)
            with pytest.raises(asyncio.TimeoutError):  # antflow's documented type
                await ex.wait([done, pending], timeout=0)
            # everything done: no timeout to report, even with timeout=0
            assert await ex.wait([done], timeout=0) == ({done}, set())
            # the other strategies, and the module function, return (done, not_done)
            for strategy in (WaitStrategy.FIRST_COMPLETED, WaitStrategy.FIRST_EXCEPTION):
                got = await ex.wait([done, pending], timeout=0.01, return_when=strategy)
                assert got == ({done}, {pending})
            assert await aio.wait([done, pending], timeout=0.01) == ({done}, {pending})
            never.set()

    run(main)


def test_map_timeout_bounds_each_result_not_the_whole_map() -> None:
    """Ten 0.05 s calls one after another take 0.5 s, more than the 0.3 s timeout; no single
    result takes more than 0.05 s to come (margins 6x on a loaded machine)."""

    async def step(i: int) -> int:
        await asyncio.sleep(0.05)
        return i

    async def main() -> None:
        async with AsyncExecutor(1) as ex:
            assert await ex.map(step, range(10), timeout=0.3) == list(range(10))

    run(main)


def test_shutdown_arguments_by_position_and_map_of_nothing() -> None:
    async def main() -> None:
        ex = AsyncExecutor(1)
        gate = asyncio.Event()
        running = ex.submit(gate.wait)
        queued = ex.submit(double, 1)
        while not running.running():  # the worker takes the first call in its first step
            await asyncio.sleep(0)
        assert await ex.map(double) == []
        asyncio.get_running_loop().call_soon(gate.set)
        await ex.shutdown(True, True)  # wait, cancel_futures
        assert await running is True and queued.cancelled()

    run(main)


def test_default_max_workers_is_antflows() -> None:
    assert AsyncExecutor().max_workers == 5
    order = [m.value for m in WaitStrategy]
    assert order == ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"]
