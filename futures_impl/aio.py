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
So a failing call can't kill a worker, and ``AsyncFuture.cancel()`` can stop a
running call.

Capacity never silently shrinks: a worker's end is seen by its done callback
(``_worker_done``), which runs even for a task cancelled before its first
step; idle workers are counted as ``len(_workers) - _busy``, so nothing the
worker body would have to undo is lost.  A worker cancelled from outside
cancels its call; if work is still queued and no worker is left to take it,
a replacement starts at once, unless nothing but this executor's own tasks is
still alive (``asyncio.run()`` cancels every task on its way out: a worker
started then would outlive the loop), in which case the queued calls are
cancelled; once a worker has been replaced, an async generator closed by the
loop's ``shutdown_asyncgens()`` (``_until_loop_shutdown``) is the safety net
for what that test can't see.  A failure of the machinery itself (not of a call) is reported to
the loop's exception handler and fails the affected future; no future is
left unsettled.

Shared state (``_queue``, ``_workers``, ``_busy``, ``_outstanding``,
``_shutdown``, ``_stopping``) lives on the event loop's thread and is only
touched there; the loop is the lock.  ``_busy`` is written by the workers
only.  An executor is bound to the loop of its first submit.

Retries: a call that raises an ``Exception`` is retried ``retries`` times,
sleeping ``retry_delay * 2**attempt`` before attempt ``attempt + 1``
(cancellation and other BaseExceptions are never retried).  The semaphore, if
any, is held for one attempt at a time, not during the backoff sleep.

Timeouts: ``result(timeout)`` and ``as_completed(timeout)`` bound the wait
only (as in concurrent.futures); ``wait(timeout=)`` with ALL_COMPLETED raises
when it passes (antflow's API; the module function ``wait`` returns);
``map``/``map_iter(timeout=)`` bound the wait for each result (as antflow's)
and cancel what is still outstanding when one takes longer;
``attempt_timeout=`` cancels one attempt (it then counts as a failure and may
be retried).  All raise :data:`TimeoutError` (see
:mod:`futures_impl._aio.future` for <3.11).

The public names, parameters and defaults are antflow 0.10's (``AsyncExecutor``,
``AsyncFuture``, ``WaitStrategy``, ``ExecutorShutdownError``): docs/aio.md
lists the differences kept on purpose; tests/test_aio_antflow.py compares.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Coroutine,
    Iterable,
)
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
    _strategy,
    as_completed,
    wait,
)
from ._aio.interop import run_in_executor, wrap_future
from ._aio.work import DEFAULT_RETRY_DELAY, _WorkItem, in_input_order, refuse_plain_function
from ._defaults import default_max_workers

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "AsyncExecutor",
    "AsyncFuture",
    "DoneAndNotDone",
    "ExecutorShutdownError",
    "TimeoutError",
    "WaitStrategy",
    "as_completed",
    "run_in_executor",
    "wait",
    "wrap_future",
]

_T = TypeVar("_T")

_STOP = None  # queue sentinel: one per worker at shutdown
DEFAULT_MAX_WORKERS = 5  # antflow's default


class ExecutorShutdownError(RuntimeError):
    """``submit``/``map`` after ``shutdown()`` (antflow's name; a RuntimeError as in
    concurrent.futures)."""


async def _first_step(agen: AsyncGenerator[None, None]) -> None:
    await agen.__anext__()  # the loop's shutdown_asyncgens() now knows it


def _cancel_requested(task: asyncio.Task[Any]) -> bool:
    cancelling = getattr(task, "cancelling", None)  # 3.11+
    if cancelling is not None:
        return bool(cancelling())
    return bool(getattr(task, "_must_cancel", False))  # 3.9, 3.10: until the next step



def _create_task(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, _T]
) -> asyncio.Task[_T]:
    """loop.create_task(coro); a coroutine that could not be scheduled is closed (it never
    started: no "coroutine was never awaited" warning) and the error goes on."""
    try:
        return loop.create_task(coro)
    except BaseException:
        coro.close()
        raise

class AsyncExecutor:
    """Run coroutine functions on at most ``max_workers`` worker tasks.

    Usable as ``async with AsyncExecutor(8) as ex:`` (leaving the block waits
    for the submitted work; leaving it by an exception cancels that work) or
    without: workers start on the first ``submit`` and ``await
    ex.shutdown()`` stops them.

    The executor binds to the event loop of its first ``submit()``. ``repr()``:
    ``<AsyncExecutor max_workers=<n> workers=<n> outstanding=<n> open|shutdown>``.

    Args:
        max_workers: The most calls running at once (default 5, antflow's); ``None``:
            the thread pool's default, ``min(32, cpus + 4)``. Readable as the property
            ``max_workers``.

    Raises:
        ValueError: ``"max_workers must be greater than 0"``.
        TypeError: ``max_workers`` is not an integer (e.g. 2.5).
    """

    def __init__(self, max_workers: int | None = DEFAULT_MAX_WORKERS) -> None:
        if max_workers is None:
            max_workers = default_max_workers()  # the thread pool's default
        max_workers = operator.index(max_workers)  # 2.5 is refused (TypeError)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._max_workers = max_workers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_WorkItem | None] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._busy = 0  # workers running a call; the others are idle (or about to be)
        self._outstanding: set[AsyncFuture[Any]] = set()  # submitted, not done
        self._shutdown = False
        self._stopping = False  # stop sentinels queued
        self._guard: AsyncGenerator[None, None] | None = None  # see _until_loop_shutdown

    @property
    def max_workers(self) -> int:
        """The most calls running at once."""
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

        Synchronous: call it on the loop. An ``Exception`` is retried up to ``retries``
        times, sleeping ``retry_delay * 2**attempt`` between tries; on 3.11+ the final
        error gets the note ``(failed <n> attempts)``. An attempt over ``attempt_timeout``
        raises ``TimeoutError("attempt took more than <s> s")``, which may be retried. A
        ``fn`` whose return value is not awaitable fails its future with a ``TypeError``
        (``"... not an awaitable: AsyncExecutor runs coroutine functions (use
        run_in_executor for blocking functions)"``).

        Raises:
            ExecutorShutdownError: ``"cannot schedule new futures after shutdown"``.
            TypeError: ``"<fn!r> is not callable"``; ``fn`` is known to be a plain
                (not async) function (the message suggests ``run_in_executor``).
            ValueError: ``"retries must be >= 0"``, ``"retry_delay must be >= 0"``.
            RuntimeError: ``"AsyncExecutor must be used from a running event loop"``;
                ``"this AsyncExecutor is bound to another event loop"``.
        """
        if self._shutdown:
            raise ExecutorShutdownError("cannot schedule new futures after shutdown")
        if not callable(fn):
            raise TypeError(f"{fn!r} is not callable")
        refuse_plain_function(fn)
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
        try:
            self._adjust_workers()
        except BaseException:
            fut.cancel()  # not submitted after all: a worker skips it
            raise
        return fut

    def _adjust_workers(self) -> None:
        assert self._loop is not None and self._queue is not None
        while (
            not self._stopping
            and self._queue.qsize() > len(self._workers) - self._busy
            and len(self._workers) < self._max_workers
        ):
            task = _create_task(self._loop, self._worker())
            self._workers.add(task)
            task.add_done_callback(self._worker_done)

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        """A worker ended (its STOP, an outside cancel, or a bug): keep the queue served."""
        self._workers.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self._report("a worker task failed", error)
        queue = self._queue
        if queue is None or queue.empty() or len(self._workers) > self._busy:
            return  # nothing queued, or an idle worker will take it
        if self._stopping or error is not None or self._loop_is_ending():
            if not self._workers:
                self._settle_queued(error)
            return  # a worker still running drains the queue; if none, it was settled
        try:
            self._adjust_workers()  # replace the cancelled worker
            if self._guard is None and self._loop is not None:
                self._guard = self._until_loop_shutdown()
                self._loop.create_task(_first_step(self._guard))
        except Exception as exc:
            self._report("could not start a worker", exc)
            if not self._workers:
                self._settle_queued(exc)

    async def _until_loop_shutdown(self) -> AsyncGenerator[None, None]:
        """A safety net once a worker has been replaced: closed by the loop's
        ``shutdown_asyncgens()`` (asyncio.run()'s last step), it cancels what is queued and
        the workers, so nothing outlives the loop.  Needed where ``_loop_is_ending`` can't
        see that the loop is ending: before 3.11, a task still awaiting in its cleanup
        looks alive."""
        try:
            yield
        finally:
            self._shutdown = self._stopping = True
            if self._queue is not None:
                self._settle_queued(None)
            for worker in list(self._workers):
                worker.cancel()
            while self._workers:
                await asyncio.wait(set(self._workers))

    def _loop_is_ending(self) -> bool:
        """Nothing but this executor's own tasks is alive and not being cancelled."""
        assert self._loop is not None
        own = {fut._task for fut in self._outstanding}
        own.update(self._workers)
        return all(
            t in own or _cancel_requested(t) for t in asyncio.all_tasks(self._loop)
        )

    def _settle_queued(self, error: BaseException | None) -> None:
        """No worker is left to run the queue: cancel (or fail) what is in it."""
        assert self._queue is not None
        stops = 0
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is _STOP:
                stops += 1
            elif error is None:
                item.future.cancel()
            else:
                item.future._fail(error)
        for _ in range(stops):
            self._queue.put_nowait(_STOP)

    def _report(
        self, message: str, exc: BaseException, fut: AsyncFuture[Any] | None = None
    ) -> None:
        assert self._loop is not None
        context: dict[str, Any] = {"message": f"AsyncExecutor: {message}", "exception": exc}
        if fut is not None:
            context["future"] = fut.future
        self._loop.call_exception_handler(context)

    async def _worker(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            item = await queue.get()
            if item is _STOP:
                return
            self._busy += 1
            try:
                await self._execute(item)
            except Exception as exc:  # the machinery's, not the call's (that is in its task)
                self._report("running a call failed", exc, item.future)
                item.future._fail(exc)
            finally:
                self._busy -= 1

    async def _execute(self, item: _WorkItem) -> None:
        fut = item.future
        if not fut._set_running():
            return  # cancelled while queued
        assert self._loop is not None
        task = _create_task(self._loop, item.run())
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
        outstanding are cancelled; so is everything when a result takes longer
        than ``timeout`` seconds to come (counted for each result, as
        antflow's; concurrent.futures counts from the call).  At most ``buffersize`` (default
        ``max_workers``) calls are submitted ahead of the result awaited.

        Raises:
            TimeoutError: ``"map(): the next result took longer than its timeout"``.
            ValueError: ``"buffersize must be >= 1"``.
            ExecutorShutdownError: After ``shutdown()``.
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

    def map_iter(
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
        yet yielded.  ``timeout``: seconds to wait for each result.  Closing
        the iterator (``aclose()``, or the loop's async generator cleanup after
        a ``break``) cancels those calls.  Arguments are checked at this call.
        """
        if self._shutdown:
            raise ExecutorShutdownError("cannot schedule new futures after shutdown")
        window = self._max_workers if buffersize is None else buffersize
        if window < 1:
            raise ValueError("buffersize must be >= 1")

        def submit(args: tuple[Any, ...]) -> AsyncFuture[_T]:
            return self.submit(
                fn, *args, semaphore=semaphore, retries=retries, retry_delay=retry_delay
            )

        return in_input_order(submit, iterables, window, timeout)

    def as_completed(
        self, futures: Iterable[Any], timeout: float | None = None
    ) -> AsyncIterator[Any]:
        """``async for fut in ex.as_completed(futures)``: see :func:`as_completed`."""
        return as_completed(futures, timeout)

    async def wait(
        self,
        futures: Iterable[Any],
        timeout: float | None = None,
        return_when: str | WaitStrategy = WaitStrategy.ALL_COMPLETED,
    ) -> DoneAndNotDone:
        """See :func:`wait`; but with ALL_COMPLETED a ``timeout`` that passes raises
        :data:`TimeoutError` (antflow's API); the other two return ``(done, not_done)``."""
        strategy = _strategy(return_when)
        done, not_done = await wait(futures, timeout, strategy)
        if not_done and timeout is not None and strategy is WaitStrategy.ALL_COMPLETED:
            total = len(done) + len(not_done)
            raise TimeoutError(f"{len(not_done)} (of {total}) futures unfinished")
        return DoneAndNotDone(done, not_done)

    # -- shutting down -----------------------------------------------------------------
    async def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Refuse new work; the workers finish the queue, then stop.

        ``cancel_futures``: cancel the calls still queued.  ``wait``: return
        only once every worker has stopped (calls still running finish first).
        Both may be given by position, as antflow's.
        """
        self._shutdown = True
        queue = self._queue
        if queue is None:
            return
        if cancel_futures:
            self._settle_queued(None)
        if not self._stopping:
            self._stopping = True
            for _ in range(len(self._workers)):
                queue.put_nowait(_STOP)
        if wait:
            while self._workers:
                await asyncio.wait(set(self._workers))
            self._settle_queued(None)  # left behind only if workers were killed from outside
            if self._guard is not None:
                await self._guard.aclose()

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
