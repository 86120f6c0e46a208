"""futures_impl.aio: AsyncFuture's states and repr, and wait()/as_completed() on futures that
are already settled.

What a user relies on: wait(FIRST_COMPLETED) and wait(FIRST_EXCEPTION) return at once when
the condition already holds, even if the other futures never finish (each such call is
bounded here: a regression fails, it does not hang); as_completed() yields the finished
futures first, each once; repr() names the state; str() of a WaitStrategy is the module
constant's text; a cancel() that returned True wins over an outcome not yet copied.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Callable

import pytest

import futures_impl
from futures_impl import aio
from futures_impl.aio import AsyncFuture, WaitStrategy

BOUND = 30.0  # seconds: a hang detector for awaited calls, never an expected duration


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), BOUND))


def test_wait_first_completed_returns_at_once_if_one_is_done() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        done_one, never = loop.create_future(), loop.create_future()
        done_one.set_result(1)
        done, not_done = await aio.wait([done_one, never], return_when=aio.FIRST_COMPLETED)
        assert done == {done_one} and not_done == {never}

    run(main)


def test_wait_first_exception_returns_at_once_only_for_a_failure() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        failed, ok, never = loop.create_future(), loop.create_future(), loop.create_future()
        failed.set_exception(ValueError("x"))
        ok.set_result(1)
        done, not_done = await aio.wait([failed, ok, never], return_when="FIRST_EXCEPTION")
        assert done == {failed, ok} and not_done == {never}
        # A finished future that did not fail is no reason to return: it waits (bounded).
        done, not_done = await aio.wait([ok, never], timeout=0.01,
                                        return_when=WaitStrategy.FIRST_EXCEPTION)
        assert done == {ok} and not_done == {never}

    run(main)


def test_as_completed_yields_settled_futures_first_and_each_once() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        a, b, later = loop.create_future(), loop.create_future(), loop.create_future()
        b.set_result("b")
        a.set_result("a")
        seen = []
        async for fut in aio.as_completed([a, b, a, later], timeout=BOUND):
            seen.append(fut)
            if len(seen) == 2:
                later.set_result("later")
        assert seen[:2] in ([a, b], [b, a]) and seen[2] is later and len(seen) == 3

    run(main)


def test_repr_names_each_state() -> None:
    async def main() -> None:
        fut: AsyncFuture[int] = AsyncFuture()  # bound to the running loop
        assert "state=pending" in repr(fut) and not fut.running()
        assert fut._set_running() and fut.running()
        assert "state=running" in repr(fut)
        fut.future.set_result(1)
        assert "state=finished" in repr(fut) and not fut.running()
        failed: AsyncFuture[int] = AsyncFuture(asyncio.get_running_loop())
        failed.future.set_exception(KeyError("k"))
        assert "state=raised KeyError" in repr(failed)
        cancelled: AsyncFuture[int] = AsyncFuture()
        assert cancelled.cancel() and not cancelled.cancel()
        assert "state=cancelled" in repr(cancelled)
        assert not cancelled._set_running()  # a cancelled queued call never starts

    run(main)


def test_a_cancel_before_the_outcome_is_copied_wins() -> None:
    """The call's task has finished, but its outcome is not yet copied when cancel() runs:
    cancel() returns True, so the future must end cancelled (no InvalidStateError)."""

    async def main() -> None:
        loop_errors: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: loop_errors.append(ctx))
        fut: AsyncFuture[int] = AsyncFuture()

        async def call() -> int:
            return 5

        task = asyncio.get_running_loop().create_task(call())
        fut._task = task
        answers: list[bool] = []
        task.add_done_callback(lambda _t: answers.append(fut.cancel()))  # runs first
        task.add_done_callback(fut._settle_from)
        await asyncio.wait({task}, timeout=BOUND)
        await asyncio.sleep(0)  # let the callbacks run
        assert answers == [True] and fut.cancelled() and fut.done()
        assert loop_errors == []  # copying the outcome did not raise in a callback
        with pytest.raises(asyncio.CancelledError):
            await fut.result(timeout=BOUND)

    run(main)


def test_wait_strategy_text_is_the_module_constant() -> None:
    for strategy, constant in [(WaitStrategy.ALL_COMPLETED, futures_impl.ALL_COMPLETED),
                               (WaitStrategy.FIRST_COMPLETED, futures_impl.FIRST_COMPLETED),
                               (WaitStrategy.FIRST_EXCEPTION, futures_impl.FIRST_EXCEPTION)]:
        assert str(strategy) == constant and f"{strategy}" == constant
