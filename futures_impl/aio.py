"""AsyncExecutor: the concurrent.futures shape for coroutine functions, plus asyncio interop.

Why: asyncio code wants what ThreadPoolExecutor gives thread code: a bounded
number of calls at a time, ``submit``/``map``/``as_completed``/``wait``,
clean shutdown; and what people add by hand: retries with backoff, a shared
semaphore for a rate-limited service, bounded streaming over huge or infinite
inputs.  And asyncio's own ``wrap_future``/``run_in_executor`` reject
futures_impl futures (they assert a ``concurrent.futures.Future``):
:func:`wrap_future` and :func:`run_in_executor` here accept both kinds.

How: ``submit`` puts a work item on an ``asyncio.Queue`` and returns an
:class:`AsyncFuture`.  Up to ``max_workers`` worker tasks take items off the
queue; they are started lazily by ``submit`` (one more whenever the queue
holds more items than there are idle workers), so an executor works without
``async with``.  A worker never runs user code itself: each call runs in a
task of its own, whose outcome (result, any exception including
BaseExceptions, or cancellation) is copied to the future by a done callback.
So a failing call can't kill a worker, ``AsyncFuture.cancel()`` can stop a
running call, and if a worker task is cancelled from outside it cancels its
call and the next ``submit`` starts a replacement: capacity never silently
shrinks.  (Not at once: ``asyncio.run()`` cancels every task on its way out,
and a worker started then would be left pending when the loop closes.)

Shared state (``_queue``, ``_workers``, ``_idle``, ``_outstanding``,
``_shutdown``) lives on the event loop's thread and is only touched there;
the loop is the lock.  An executor is bound to the loop of its first submit.

Retries: a call that raises an ``Exception`` is retried ``retries`` times,
sleeping ``retry_delay * 2**attempt`` before attempt ``attempt + 1``
(cancellation and other BaseExceptions are never retried).  The semaphore, if
any, is held for one attempt at a time, not during the backoff sleep.

Timeouts: ``result(timeout)`` and ``as_completed(timeout)`` bound the wait
only (as in concurrent.futures); ``map``/``map_iter(timeout=)`` cancel what is
still outstanding when the deadline passes; ``attempt_timeout=`` cancels one
attempt (it then counts as a failure and may be retried).  All raise
:data:`TimeoutError` (see :mod:`futures_impl._aio.future` for <3.11).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import (
    Any,
    Callable,
    TypeVar,
)

from ._aio.future import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    AsyncFuture,
    DoneAndNotDone,
    TimeoutError,
    WaitStrategy,
    as_completed,
    wait,
)
from ._aio.interop import run_in_executor, wrap_future
from ._aio.work import DEFAULT_RETRY_DELAY, _AsyncZip, _head_or_first_failure, _WorkItem
from ._defaults import default_max_workers

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "AsyncExecutor",
    "AsyncFuture",
    "DoneAndNotDone",
    "TimeoutError",
    "WaitStrategy",
    "as_completed",
    "run_in_executor",
    "wait",
    "wrap_future",
]

_T = TypeVar("_T")

_STOP = None  # queue sentinel: one per worker at shutdown


class AsyncExecutor:
    """Run coroutine functions on at most ``max_workers`` worker tasks.

    Usable as ``async with AsyncExecutor(8) as ex:`` (leaving the block waits
    for the submitted work; leaving it by an exception cancels that work) or
    without: workers start on the first ``submit`` and ``await
    ex.shutdown()`` stops them.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is None:
            max_workers = default_max_workers()  # the thread pool's default
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._max_workers = max_workers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_WorkItem | None] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._idle = 0  # workers waiting on the queue (or started and about to)
        self._outstanding: set[AsyncFuture[Any]] = set()  # submitted, not done
        self._shutdown = False
        self._stopping = False  # stop sentinels queued

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def _bind(self) -> asyncio.Queue[_WorkItem | None]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("AsyncExecutor must be used from a running event loop") from None
        if self._loop is None:
            self._loop = loop
            self._queue = asyncio.Queue()
        elif self._loop is not loop:
            raise RuntimeError("this AsyncExecutor is bound to another event loop")
        assert self._queue is not None
        return self._queue

    # -- submitting ------------------------------------------------------------------
    def submit(
        self,
        fn: Callable[..., Awaitable[_T]],
        /,
        *args: Any,
        semaphore: AbstractAsyncContextManager[Any] | None = None,
        retries: int = 0,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        attempt_timeout: float | None = None,
        **kwargs: Any,
    ) -> AsyncFuture[_T]:
        """Schedule ``await fn(*args, **kwargs)``; return its AsyncFuture at once.

        ``semaphore``: any async context manager (an ``asyncio.Semaphore``
        shared by a group of calls) held around each attempt.  ``retries``,
        ``retry_delay``: see the module doc.  ``attempt_timeout``: seconds
        allowed per attempt.
        """
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        if not callable(fn):
            raise TypeError(f"{fn!r} is not callable")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if retry_delay < 0:
            raise ValueError("retry_delay must be >= 0")
        queue = self._bind()
        fut: AsyncFuture[_T] = AsyncFuture(self._loop)
        item = _WorkItem(fut, fn, args, kwargs, semaphore, retries, retry_delay, attempt_timeout)
        self._outstanding.add(fut)
        fut.future.add_done_callback(lambda _inner: self._outstanding.discard(fut))
        queue.put_nowait(item)
        self._adjust_workers()
        return fut

    def _adjust_workers(self) -> None:
        assert self._loop is not None and self._queue is not None
        while (
            not self._stopping
            and self._queue.qsize() > self._idle
            and len(self._workers) < self._max_workers
        ):
            task = self._loop.create_task(self._worker())
            self._idle += 1
            self._workers.add(task)
            task.add_done_callback(self._worker_done)

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        if task.cancelled():
            # Cancelled from outside: the next submit() starts a replacement.  Not
            # now: asyncio.run() cancels every task at exit, and a worker started
            # then would still be pending when the loop closes.
            return
        task.exception()  # retrieve it: a worker bug must not be logged as never retrieved
        if not self._shutdown and self._queue is not None and not self._queue.empty():
            self._adjust_workers()

    async def _worker(self) -> None:
        queue = self._queue
        assert queue is not None
        idle = True
        try:
            while True:
                item = await queue.get()
                if item is _STOP:
                    return
                self._idle -= 1
                idle = False
                try:
                    await self._execute(item)
                finally:
                    self._idle += 1
                    idle = True
        finally:
            if idle:
                self._idle -= 1

    async def _execute(self, item: _WorkItem) -> None:
        fut = item.future
        if not fut._set_running():
            return  # cancelled while queued
        assert self._loop is not None
        task = self._loop.create_task(item.run())
        fut._task = task
        task.add_done_callback(fut._settle_from)
        try:
            await asyncio.wait({task})
        except BaseException:
            # This worker is being cancelled: take the call down with it.
            task.cancel()
            raise

    # -- many calls ------------------------------------------------------------------
    async def map(
        self,
        fn: Callable[..., Awaitable[_T]],
        *iterables: Iterable[Any] | AsyncIterable[Any],
        timeout: float | None = None,
        retries: int = 0,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        semaphore: AbstractAsyncContextManager[Any] | None = None,
        buffersize: int | None = None,
    ) -> list[_T]:
        """``await fn(*args)`` for each tuple of ``zip(*iterables)``; results in input order.

        The first failure (after its retries) is raised and the calls still
        outstanding are cancelled; so is everything when ``timeout`` (seconds
        from this call) passes.  At most ``buffersize`` (default
        ``max_workers``) calls are submitted ahead of the result awaited.
        """
        return [
            result
            async for result in self.map_iter(
                fn,
                *iterables,
                timeout=timeout,
                retries=retries,
                retry_delay=retry_delay,
                semaphore=semaphore,
                buffersize=buffersize,
            )
        ]

    async def map_iter(
        self,
        fn: Callable[..., Awaitable[_T]],
        *iterables: Iterable[Any] | AsyncIterable[Any],
        timeout: float | None = None,
        retries: int = 0,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        semaphore: AbstractAsyncContextManager[Any] | None = None,
        buffersize: int | None = None,
    ) -> AsyncIterator[_T]:
        """Stream ``map``'s results in input order, reading the inputs lazily.

        Sync and async iterables (also infinite ones) are accepted.  At most
        ``buffersize`` (default ``max_workers``) inputs are submitted and not
        yet yielded.  Closing the iterator (``aclose()``, or the loop's async
        generator cleanup after a ``break``) cancels those calls.
        """
        if not iterables:
            raise TypeError("map_iter() needs at least one iterable")
        window = self._max_workers if buffersize is None else buffersize
        if window < 1:
            raise ValueError("buffersize must be >= 1")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        rows = _AsyncZip(iterables)
        inflight: collections.deque[AsyncFuture[_T]] = collections.deque()
        exhausted = False
        try:
            while True:
                while not exhausted and len(inflight) < window:
                    try:
                        args = await rows.__anext__()
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    inflight.append(
                        self.submit(
                            fn,
                            *args,
                            semaphore=semaphore,
                            retries=retries,
                            retry_delay=retry_delay,
                        )
                    )
                if not inflight:
                    return
                head = inflight.popleft()
                try:
                    await _head_or_first_failure(head, inflight, deadline, loop)
                    result = await head.result()
                except BaseException:
                    head.cancel()
                    raise
                yield result
        finally:
            for fut in inflight:
                if not fut.cancel() and not fut.cancelled():
                    fut.exception()  # failed siblings: read it, so asyncio does not log it
            await rows.aclose()

    def as_completed(
        self, futures: Iterable[Any], timeout: float | None = None
    ) -> AsyncIterator[Any]:
        """``async for fut in ex.as_completed(futures)``: see :func:`as_completed`."""
        return as_completed(futures, timeout)

    async def wait(
        self,
        futures: Iterable[Any],
        timeout: float | None = None,
        return_when: str | WaitStrategy = ALL_COMPLETED,
    ) -> DoneAndNotDone:
        """See :func:`wait`."""
        return await wait(futures, timeout, return_when)

    # -- shutting down -----------------------------------------------------------------
    async def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new work; the workers finish the queue, then stop.

        ``cancel_futures``: cancel the calls still queued.  ``wait``: return
        only once every worker has stopped (calls still running finish first).
        """
        self._shutdown = True
        queue = self._queue
        if queue is None:
            return
        if cancel_futures:
            self._cancel_queued()
        if not self._stopping:
            self._stopping = True
            for _ in range(len(self._workers)):
                queue.put_nowait(_STOP)
        if wait:
            while self._workers:
                await asyncio.wait(set(self._workers))
            self._cancel_queued()  # left behind only if workers were killed from outside

    def _cancel_queued(self) -> None:
        assert self._queue is not None
        stops = 0
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is _STOP:
                stops += 1
            else:
                item.future.cancel()
        for _ in range(stops):
            self._queue.put_nowait(_STOP)

    def cancel_all(self) -> int:
        """Cancel every call submitted and not done, queued or running; return how many."""
        futures = list(self._outstanding)
        return sum(1 for fut in futures if fut.cancel())

    async def __aenter__(self) -> AsyncExecutor:
        return self

    async def __aexit__(self, exc_type: type | None, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.cancel_all()
        await self.shutdown(wait=True)

    def __repr__(self) -> str:
        state = "shutdown" if self._shutdown else "open"
        return (
            f"<AsyncExecutor max_workers={self._max_workers} workers={len(self._workers)} "
            f"outstanding={len(self._outstanding)} {state}>"
        )
