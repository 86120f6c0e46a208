"""The pieces of AsyncExecutor's machinery that don't need the executor.

* :class:`_WorkItem` runs one submitted call: the attempts, the semaphore
  around each attempt, the exponential backoff between attempts, the
  per-attempt timeout.  It runs inside a task of its own (see
  :mod:`futures_impl.aio`), so whatever it raises ends up in the future.
* :func:`in_input_order` is ``map_iter``'s stream: a bounded window of calls
  ahead of the consumer, results in input order, a per-result timeout;
  :func:`_head_or_first_failure` is how it waits for the next result while
  still failing fast on a later call's exception.
* :class:`_AsyncZip` reads sync and async iterables row by row, lazily, so
  ``map_iter`` can consume infinite inputs.
* :func:`refuse_plain_function` is ``submit``'s check, before anything is
  called, that ``fn`` is not a plain ``def`` (which would block the loop).

Everything here runs on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import (
    Any,
    Callable,
    TypeVar,
)

from .future import FIRST_COMPLETED, AsyncFuture, TimeoutError, failed

_T = TypeVar("_T")
DEFAULT_RETRY_DELAY = 0.1
_backoff_sleep = asyncio.sleep  # the backoff's sleep (a seam for tests)


class _WorkItem:
    __slots__ = (
        "future",
        "fn",
        "args",
        "kwargs",
        "semaphore",
        "retries",
        "retry_delay",
        "attempt_timeout",
    )

    def __init__(
        self,
        future: AsyncFuture[Any],
        fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        semaphore: AbstractAsyncContextManager[Any] | None,
        retries: int,
        retry_delay: float,
        attempt_timeout: float | None,
    ) -> None:
        self.future = future
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.semaphore = semaphore
        self.retries = retries
        self.retry_delay = retry_delay
        self.attempt_timeout = attempt_timeout

    async def run(self) -> Any:
        attempt = 0
        while True:
            try:
                return await self._attempt()
            except Exception as exc:
                if attempt >= self.retries:
                    if attempt:
                        note = getattr(exc, "add_note", None)
                        if note is not None:
                            note(f"(failed {attempt + 1} attempts)")
                    raise
            await _backoff_sleep(self.retry_delay * (2**attempt))
            attempt += 1

    async def _attempt(self) -> Any:
        if self.semaphore is None:
            return await self._call()
        async with self.semaphore:
            return await self._call()

    async def _call(self) -> Any:
        awaitable = self.fn(*self.args, **self.kwargs)
        if not inspect.isawaitable(awaitable):
            raise TypeError(
                f"{getattr(self.fn, '__qualname__', self.fn)!r} returned "
                f"{type(awaitable).__name__}, not an awaitable: AsyncExecutor runs "
                "coroutine functions (use run_in_executor for blocking functions)"
            )
        if self.attempt_timeout is None:
            return await awaitable
        try:
            return await asyncio.wait_for(awaitable, self.attempt_timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"attempt took more than {self.attempt_timeout} s") from None


def refuse_plain_function(fn: Callable[..., Any]) -> None:
    """Raise TypeError, without calling ``fn``, if it is known to be a plain function.

    Known: a ``def`` function (not ``async def``) or method, a
    ``functools.partial`` of one, or an object whose ``__call__`` is one.  A
    ``def`` decorated with ``functools.wraps`` around an ``async def`` counts
    as async.  Lambdas (``lambda: fetch(url)`` returns a coroutine), builtins
    and other callables can't be classified: what they return is checked when
    they are called (``_WorkItem._call``).
    """
    target: Any = fn
    for _ in range(32):  # partials of bound methods of callables...: bounded
        if _is_async(target):
            return
        if isinstance(target, functools.partial):
            target = target.func
        elif inspect.ismethod(target):
            target = target.__func__
        elif inspect.isfunction(target):
            if target.__name__ == "<lambda>" or _wraps_async(target):
                return
            name = getattr(fn, "__qualname__", None) or repr(fn)
            raise TypeError(
                f"{name} is not a coroutine function: AsyncExecutor awaits what fn "
                "returns, and a plain function would block the event loop while it runs "
                "(use run_in_executor for blocking functions, async def for the rest)"
            )
        elif inspect.isroutine(target) or inspect.isclass(target):
            return  # builtins, C methods, classes: checked when called
        else:
            target = inspect.getattr_static(type(target), "__call__", None)
            if target is None:
                return
    return


def _is_async(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    if not inspect.isfunction(fn):
        return False
    # A generator made awaitable by types.coroutine, or asyncio.coroutine (3.9, 3.10).
    return bool(fn.__code__.co_flags & inspect.CO_ITERABLE_COROUTINE) or (
        getattr(fn, "_is_coroutine", None) is not None
    )


def _wraps_async(fn: Any) -> bool:
    try:
        inner = inspect.unwrap(fn)
    except ValueError:  # a __wrapped__ cycle
        return False
    return inner is not fn and _is_async(inner)


async def in_input_order(
    submit: Callable[[tuple[Any, ...]], AsyncFuture[_T]],
    iterables: tuple[Iterable[Any] | AsyncIterable[Any], ...],
    window: int,
    timeout: float | None,
) -> AsyncIterator[_T]:
    """``map_iter``'s stream: ``submit(row)`` for each row of ``zip(*iterables)``, at most
    ``window`` ahead of the result yielded; each result awaited at most ``timeout`` s.

    The first failure is raised at once (even before earlier results); then, as when the
    stream is closed, the calls still in flight are cancelled.  No iterables: nothing.
    """
    if not iterables:
        return  # zip() of nothing, as concurrent.futures' map and antflow's
    loop = asyncio.get_running_loop()
    rows = _AsyncZip(iterables)
    inflight: deque[AsyncFuture[_T]] = deque()
    exhausted = False
    try:
        while True:
            while not exhausted and len(inflight) < window:
                try:
                    args = await rows.__anext__()
                except StopAsyncIteration:
                    exhausted = True
                    break
                inflight.append(submit(args))
            if not inflight:
                return
            head = inflight.popleft()
            deadline = None if timeout is None else loop.time() + timeout
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


async def _head_or_first_failure(
    head: AsyncFuture[Any],
    others: deque[AsyncFuture[Any]],
    deadline: float | None,
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Wait until ``head`` is done; raise at once if one of ``others`` fails first."""
    while not head.done():
        for fut in others:
            if failed(fut.future):
                await fut.result()  # raises the failure
        remaining = None if deadline is None else max(0.0, deadline - loop.time())
        watched = {head.future}
        watched.update(fut.future for fut in others if not fut.done())
        done, _ = await asyncio.wait(watched, timeout=remaining, return_when=FIRST_COMPLETED)
        if not done:
            raise TimeoutError("map(): the next result took longer than its timeout")


class _AsyncZip:
    """``zip`` over sync and async iterables, pulled one row at a time."""

    def __init__(self, iterables: tuple[Iterable[Any] | AsyncIterable[Any], ...]) -> None:
        self._its: list[Any] = []
        for iterable in iterables:
            if hasattr(iterable, "__aiter__"):
                self._its.append(iterable.__aiter__())
            else:
                self._its.append(iter(iterable))

    async def __anext__(self) -> tuple[Any, ...]:
        row = []
        for it in self._its:
            if hasattr(it, "__anext__"):
                row.append(await it.__anext__())
            else:
                try:
                    row.append(next(it))
                except StopIteration:
                    raise StopAsyncIteration from None
        return tuple(row)

    async def aclose(self) -> None:
        for it in self._its:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()
