"""Awaiting executor futures from asyncio: ``wrap_future`` and ``run_in_executor``.

Why: ``asyncio.wrap_future()`` and ``loop.run_in_executor()`` assert that they
were handed a ``concurrent.futures.Future``, so a futures_impl Future (a
different class with the same behaviour) is refused.  These two functions do
the same job for any object with the Future protocol: futures_impl's,
the stdlib's, or anything else with ``add_done_callback``/``cancel``/
``cancelled``/``exception``/``result``.

How: the executor future (the *source*) and a new ``asyncio.Future`` on the
loop (the *destination*) are chained both ways:

* source done (on whatever thread finished it) -> ``loop.call_soon_threadsafe``
  copies its result, exception or cancellation to the destination;
* destination cancelled (on the loop) -> ``source.cancel()``: a call that has
  not started never runs; a running call can't be interrupted by a thread
  pool, so it finishes and its outcome is dropped.

If the loop is closed by the time the source finishes, nothing is copied.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, TypeVar

from .future import AsyncFuture

__all__ = ["run_in_executor", "wrap_future"]

_T = TypeVar("_T")


def _running_loop(loop: asyncio.AbstractEventLoop | None) -> asyncio.AbstractEventLoop:
    if loop is not None:
        return loop
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError("no running event loop: call from a coroutine or pass loop=") from None


def _copy_outcome(source: Any, dest: asyncio.Future[Any]) -> None:
    """On the loop: give ``dest`` the outcome of the finished ``source``."""
    if dest.done():  # cancelled from the asyncio side meanwhile
        return
    if source.cancelled():
        dest.cancel()
        return
    exc = source.exception()
    if exc is not None:
        dest.set_exception(exc)
    else:
        dest.set_result(source.result())


def wrap_future(
    future: Any, loop: asyncio.AbstractEventLoop | None = None
) -> asyncio.Future[Any]:
    """Return an ``asyncio.Future`` on ``loop`` (default: the running one) tracking ``future``.

    ``future`` may be a futures_impl or a ``concurrent.futures`` Future (or an
    asyncio future or AsyncFuture, returned as their asyncio future).
    Cancelling either side cancels the other (see the module doc).
    """
    if isinstance(future, AsyncFuture):
        return future.future
    if asyncio.isfuture(future):
        return future
    for name in ("add_done_callback", "cancel", "cancelled", "exception", "result"):
        if not callable(getattr(future, name, None)):
            raise TypeError(f"{future!r} is not a Future (no {name}())")
    loop = _running_loop(loop)
    dest: asyncio.Future[Any] = loop.create_future()

    def source_done(source: Any) -> None:
        # Runs on the thread that finished `source` (or here, if it is already done).
        if loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(_copy_outcome, source, dest)
        except RuntimeError:  # the loop closed in between
            pass

    def dest_done(d: asyncio.Future[Any]) -> None:
        if d.cancelled():
            future.cancel()

    dest.add_done_callback(dest_done)
    future.add_done_callback(source_done)
    return dest


def run_in_executor(executor: Any, fn: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
    """``executor.submit(fn, *args)``, awaitable on the running loop.

    Works with futures_impl and ``concurrent.futures`` executors alike;
    ``executor=None`` means the loop's default executor.  Cancelling the
    returned future cancels the submitted call if it hasn't started.  Must be
    called on the loop's thread (from a coroutine or a loop callback).
    """
    loop = _running_loop(None)
    if executor is None:
        return loop.run_in_executor(None, fn, *args)
    return wrap_future(executor.submit(fn, *args), loop)
