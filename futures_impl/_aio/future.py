"""AsyncFuture and the ways to wait for many of them (``wait``, ``as_completed``).

Why: :class:`futures_impl.aio.AsyncExecutor` hands out futures with the
concurrent.futures shape (``done()``, ``cancel()``, ``add_done_callback()``)
whose ``result()`` is awaited instead of blocking.  Other async executors make
such a future a class of its own that asyncio can't use; here an AsyncFuture
is a thin face on a real ``asyncio.Future`` (``.future``), and is itself
awaitable, so ``asyncio.gather(*futures)`` and ``asyncio.wait`` accept it.

How: the executor's worker owns the transitions (``_set_running``, then
``_set_result``/``_set_exception`` or a cancel); everybody else only reads.
``cancel()`` works in both states: a queued call never starts, a running call
has its asyncio task cancelled.  Everything here runs on the event loop's
thread; no locks (the loop is the lock).

Timeouts raise :data:`TimeoutError`.  From 3.11 on that is the builtin, which
is also ``asyncio.TimeoutError`` and ``futures_impl.TimeoutError``.  Before
3.11 those are three different classes, so this module defines one class
deriving from all three: ``except TimeoutError``, ``except
asyncio.TimeoutError`` and ``except futures_impl.TimeoutError`` all catch it.
"""

from __future__ import annotations

import asyncio
import builtins
import enum
import sys
import time
from collections.abc import AsyncIterator, Generator, Iterable
from typing import (
    Any,
    Callable,
    Generic,
    NamedTuple,
    TypeVar,
    Union,
)

from .. import _base

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "AsyncFuture",
    "DoneAndNotDone",
    "TimeoutError",
    "WaitStrategy",
    "as_completed",
    "wait",
]

_T = TypeVar("_T")
_clock = time.monotonic  # as_completed's deadline clock (a seam for tests)

FIRST_COMPLETED = _base.FIRST_COMPLETED
FIRST_EXCEPTION = _base.FIRST_EXCEPTION
ALL_COMPLETED = _base.ALL_COMPLETED

if sys.version_info >= (3, 11):
    TimeoutError = builtins.TimeoutError
else:

    class TimeoutError(  # noqa: A001 - deliberately the builtin's name
        builtins.TimeoutError, asyncio.TimeoutError, _base.TimeoutError
    ):
        """A deadline passed (catchable as the builtin, asyncio's and futures_impl's)."""


class WaitStrategy(str, enum.Enum):
    """When :func:`wait` returns; equal to the module constants of the same name."""

    FIRST_COMPLETED = FIRST_COMPLETED  # antflow's order
    FIRST_EXCEPTION = FIRST_EXCEPTION
    ALL_COMPLETED = ALL_COMPLETED

    def __str__(self) -> str:
        return str(self.value)


def _strategy(return_when: str | WaitStrategy) -> WaitStrategy:
    try:
        return WaitStrategy(return_when)
    except ValueError:
        raise ValueError(f"Invalid return condition: {return_when!r}") from None


class AsyncFuture(Generic[_T]):
    """The eventual outcome of one call submitted to an AsyncExecutor.

    ``await fut`` or ``await fut.result(timeout)`` gives the result or raises
    the call's exception (``asyncio.CancelledError`` if it was cancelled).
    ``done()``, ``cancelled()``, ``running()`` and ``exception()`` don't wait;
    ``exception()`` returns None while the call isn't finished (as antflow's
    AsyncFuture does; ``asyncio.Future.exception()`` would raise).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if loop is None:
            loop = asyncio.get_running_loop()
        self._loop = loop
        self._fut: asyncio.Future[_T] = loop.create_future()
        self._running = False
        self._task: asyncio.Task[_T] | None = None  # set by the worker while running

    @property
    def future(self) -> asyncio.Future[_T]:
        """The underlying ``asyncio.Future`` (done when this future is done)."""
        return self._fut

    def done(self) -> bool:
        """True once the call finished, failed or was cancelled (does not wait)."""
        return self._fut.done()

    def cancelled(self) -> bool:
        """True if the future was cancelled (does not wait)."""
        return self._fut.cancelled()

    def running(self) -> bool:
        """True while a worker runs the call (does not wait)."""
        return self._running and not self._fut.done()

    def cancel(self) -> bool:
        """Cancel the call: a queued one never starts, a running one is cancelled.

        Returns False if the future was already done.
        """
        if self._fut.done():
            return False
        self._fut.cancel()
        if self._task is not None:
            self._task.cancel()
        return True

    def exception(self) -> BaseException | None:
        """The call's exception, or None: also while it is not done (as antflow's).

        Raises ``asyncio.CancelledError`` if the future was cancelled.
        """
        if not self._fut.done():
            return None
        return self._fut.exception()

    def set_result(self, result: _T) -> None:
        """Settle the future now (a running call goes on; its outcome is dropped)."""
        self._fut.set_result(result)

    def set_exception(self, exception: BaseException) -> None:
        """Fail the future now (a running call goes on; its outcome is dropped)."""
        self._fut.set_exception(exception)

    async def result(self, timeout: float | None = None) -> _T:
        """Wait at most ``timeout`` seconds for the outcome; never cancels the call.

        ``await fut`` is ``await fut.result()``.

        Raises:
            BaseException: The call's exception, re-raised.
            asyncio.CancelledError: The future was cancelled.
            TimeoutError: ``"future not done after <timeout> seconds"``; the call keeps
                running.
        """
        if not self._fut.done():
            await _wait_one(self._fut, timeout)
        return self._fut.result()

    def add_done_callback(self, fn: Callable[[AsyncFuture[_T]], object]) -> None:
        """Call ``fn(self)`` (soon, on the loop) once the future is done."""
        self._fut.add_done_callback(lambda _inner: fn(self))

    def __await__(self) -> Generator[Any, None, _T]:
        return self.result().__await__()

    def __repr__(self) -> str:
        if self._fut.cancelled():
            state = "cancelled"
        elif self._fut.done():
            exc = self._fut.exception()
            state = f"raised {type(exc).__name__}" if exc is not None else "finished"
        else:
            state = "running" if self._running else "pending"
        return f"<AsyncFuture at {id(self):#x} state={state}>"

    # -- used by the executor's workers only --------------------------------------
    def _fail(self, exc: BaseException) -> None:
        """The executor's machinery failed for this call: stop it, fail the future."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        if not self._fut.done():
            self._fut.set_exception(exc)

    def _set_running(self) -> bool:
        """PENDING -> RUNNING; False if the future was cancelled while queued."""
        if self._fut.done():
            return False
        self._running = True
        return True

    def _settle_from(self, task: asyncio.Task[_T]) -> None:
        """Copy a finished task's outcome (done callback of the call's task)."""
        self._task = None
        if task.cancelled():
            self._fut.cancel()
            return
        exc = task.exception()  # also marks it retrieved when we were cancelled
        if self._fut.done():
            return
        if exc is not None:
            self._fut.set_exception(exc)
        else:
            self._fut.set_result(task.result())


AnyFuture = Union["AsyncFuture[Any]", "asyncio.Future[Any]"]


def _inner(fut: AnyFuture) -> asyncio.Future[Any]:
    if isinstance(fut, AsyncFuture):
        return fut.future
    if asyncio.isfuture(fut):
        return fut
    raise TypeError(f"expected an AsyncFuture or an asyncio future, got {type(fut).__name__}")


async def _wait_one(fut: asyncio.Future[Any], timeout: float | None) -> None:
    if timeout is not None:
        timeout = max(0.0, timeout)
    done, _ = await asyncio.wait({fut}, timeout=timeout)
    if not done:
        raise TimeoutError(f"future not done after {timeout} seconds")


def failed(fut: asyncio.Future[Any]) -> bool:
    """Done with an exception (not cancelled)."""
    return fut.done() and not fut.cancelled() and fut.exception() is not None


class DoneAndNotDone(NamedTuple):
    """What ``wait()`` returns: the ``done`` futures and the ``not_done`` ones (two sets)."""

    done: set[Any]
    not_done: set[Any]


async def wait(
    fs: Iterable[AnyFuture],
    timeout: float | None = None,
    return_when: str | WaitStrategy = ALL_COMPLETED,
) -> DoneAndNotDone:
    """Wait for futures like ``futures_impl.wait``; returns ``(done, not_done)`` sets.

    ``return_when`` is a module constant or a :class:`WaitStrategy`.  On
    timeout nothing is raised: the unfinished futures are in ``not_done``.
    """
    strategy = _strategy(return_when)
    futures = set(fs)

    def split() -> DoneAndNotDone:
        done = {f for f in futures if _inner(f).done()}
        return DoneAndNotDone(done, futures - done)

    result = split()
    if not result.not_done:
        return result
    if strategy is WaitStrategy.FIRST_COMPLETED and result.done:
        return result
    if strategy is WaitStrategy.FIRST_EXCEPTION and any(failed(_inner(f)) for f in result.done):
        return result
    pending = {_inner(f) for f in result.not_done}
    await asyncio.wait(pending, timeout=timeout, return_when=strategy.value)
    return split()


def as_completed(
    fs: Iterable[AnyFuture], timeout: float | None = None
) -> AsyncIterator[Any]:
    """Yield the given futures as they finish (the finished ones first).

    ``timeout`` bounds the whole iteration and is counted from this call (as
    in concurrent.futures), not from the first ``__anext__``: when it passes,
    :data:`TimeoutError` is raised.  Duplicates are yielded once.
    """
    deadline = None if timeout is None else _clock() + timeout
    return _as_completed(list(dict.fromkeys(fs)), deadline)


async def _as_completed(futures: list[AnyFuture], deadline: float | None) -> AsyncIterator[Any]:
    ready: asyncio.Queue[Any] = asyncio.Queue()
    hooks = []
    for fut in futures:
        inner = _inner(fut)

        def hook(_inner: asyncio.Future[Any], fut: Any = fut) -> None:
            ready.put_nowait(fut)

        inner.add_done_callback(hook)
        hooks.append((inner, hook))
    try:
        for left in range(len(futures), 0, -1):
            if ready.empty():
                remaining = None if deadline is None else deadline - _clock()
                getter = asyncio.ensure_future(ready.get())
                done, _ = await asyncio.wait({getter}, timeout=remaining)
                if not done:
                    getter.cancel()
                    raise TimeoutError(f"{left} (of {len(futures)}) futures unfinished")
                yield getter.result()
            else:
                yield ready.get_nowait()
    finally:
        for inner, hook in hooks:
            inner.remove_done_callback(hook)
