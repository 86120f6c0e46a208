"""Opt-in submit() options of the pools: copy_context=True and max_pending=N.

Why. `copy_context=True` (thread pools): a task sees the submitter's contextvars, as
asyncio's run_in_executor users expect, instead of the worker thread's own context.
`max_pending=N` (thread and process pools): a producer that submits faster than the
pool runs would otherwise grow the pool's queue without bound; with it submit() waits
while N calls wait in the pool (PENDING: submitted, not started), so memory stays bounded
by N calls plus the running ones. N counts waiting calls, not unfinished ones, so that N
means the same for any max_workers (the running calls are bounded by max_workers anyway)
and matches what statistics() reports as queued (thread) or waiting (process).

How. Nothing here costs the default path: the pool's constructor installs these only
when asked. A thread pool gets an instance attribute `submit` (a function made here, over
a weak reference so the executor stays collectable) that wraps the class's submit(): the
call runs through `contextvars.Context.run` of a copy taken at submit(), and/or through
`_started`, which gives the call's slot back when a worker starts it. A process pool's
`_place` tests its executor's `_pending_limit` (one attribute test: the wait must sit
inside _place's own hold of the pool's lock, after the call is pickled and before it is
queued, so the check and the queuing are one step and the backlog never exceeds N).

The wait is `PendingLimit.room`, a Condition over the pool's own lock (no new lock:
docs/design.md §7). It ends when there is room, when the pool refuses new work (shut
down, broken, interpreter exiting: submit() then raises the usual error), or after
`submit_timeout` seconds (SubmitTimeoutError, a TimeoutError). The pool's own threads
never wait (see wait_locked). Who wakes it: the thread
pool's slot release (a worker starting the call, or the future settling first: a cancel,
shutdown(cancel_futures=True), a broken pool), shutdown(); in a process pool, each
bounded future's done-callback (a result settles after the manager refilled the workers
from the backlog; a cancelled call is taken out of the backlog there) and shutdown().
Done-callbacks run with no executor lock held (§7's rule), so they may take the pool lock.
"""

from __future__ import annotations

import threading
import time
import weakref
from functools import partial

from . import _base

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from ._process.pool import _Pool


class SubmitTimeoutError(_base.TimeoutError):
    """submit() of a pool made with max_pending= waited submit_timeout seconds for room.

    A subclass of `futures_impl.TimeoutError`; nothing was queued. In
    `futures_impl.thread` and `futures_impl.process`.
    """


def checked_limit(max_pending: int | None, submit_timeout: float | None) -> None:
    if max_pending is None:
        if submit_timeout is not None:
            raise ValueError("submit_timeout needs max_pending")
        return
    if isinstance(max_pending, bool) or not isinstance(max_pending, int):
        raise TypeError("max_pending must be an int or None")
    if max_pending < 1:
        raise ValueError("max_pending must be at least 1")
    if submit_timeout is not None and not submit_timeout >= 0:
        raise ValueError("submit_timeout must be None or a number >= 0")


class PendingLimit:
    """max_pending's state; every field under the pool's lock (`room`'s lock)."""

    __slots__ = ("limit", "timeout", "room", "held", "on_block")

    def __init__(self, lock: threading.RLock, limit: int, timeout: float | None) -> None:
        self.limit = limit
        self.timeout = timeout
        self.room = threading.Condition(lock)  # the pool's lock: see the module header
        self.held = 0  # thread pools: calls holding a slot (queued, not yet started)
        # Tests: called (lock held) each time a submit() is about to wait.
        self.on_block: Callable[[], object] | None = None

    def wait_locked(self, used: Callable[[], int], refused: Callable[[], bool]) -> None:
        """Return once used() < limit or refused(); caller holds the pool's lock.

        `refused()` is also true in the pool's own threads (a thread pool's workers, a
        process pool's manager: done-callbacks run there): they make the room, so one
        that waited for it could wait forever. They go over the limit instead."""
        if used() < self.limit or refused():
            return
        timeout = self.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.on_block is not None:
                self.on_block()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise SubmitTimeoutError(
                    f"submit() waited {timeout} s: {self.limit} calls are waiting in the"
                    " pool (max_pending)"
                )
            self.room.wait(remaining)
            if used() < self.limit or refused():
                return

    def release(self, token: list[None], *_: object) -> None:
        """Give a thread pool call's slot back, once (the token empties): its worker
        started it, or its future settled before that (a done-callback)."""
        with self.room:
            if token:
                token.clear()
                self.held -= 1
                self.room.notify()

    def wake_all_locked(self) -> None:
        """The pool refuses new work now (shutdown): every waiting submit() re-checks."""
        self.room.notify_all()


def _started(release: Callable[[], None], fn: Callable[..., Any], /, *args: Any,
             **kwargs: Any) -> Any:
    release()  # the call left the queue: its slot is free
    return fn(*args, **kwargs)


def _alive(ref: weakref.ref[Any]) -> Any:
    executor = ref()
    if executor is None:  # only a saved `ex.submit` outliving its executor gets here
        raise RuntimeError("cannot schedule new futures after shutdown")
    return executor


def thread_submit(
    executor: Any,  # a ThreadPoolExecutor (not imported: thread imports this module)
    copy_context: bool,
    limit: PendingLimit | None,
    refused: Callable[[Any], bool],
) -> Callable[..., _base.Future[Any]]:
    """The submit() of a thread pool made with copy_context=True and/or max_pending."""
    import contextvars  # here: importing the thread module must not load it

    plain: Callable[..., _base.Future[Any]] = type(executor).submit
    ref = weakref.ref(executor)
    copy = contextvars.copy_context
    if limit is None:

        def submit_in_context(fn: Callable[..., Any], /, *args: Any,
                              **kwargs: Any) -> _base.Future[Any]:
            return plain(_alive(ref), copy().run, fn, *args, **kwargs)

        return submit_in_context

    def submit_bounded(fn: Callable[..., Any], /, *args: Any,
                       **kwargs: Any) -> _base.Future[Any]:
        executor = _alive(ref)
        token = [None]
        release = partial(limit.release, token)
        if copy_context:
            fn, args = copy().run, (fn, *args)
        with executor._shutdown_lock:
            limit.wait_locked(lambda: limit.held, partial(refused, executor))
            # Still under the lock: a worker starting the call waits for it to count.
            future = plain(executor, _started, release, fn, *args, **kwargs)
            limit.held += 1
        future.add_done_callback(release)
        return future

    return submit_bounded


# -- process pools ------------------------------------------------------------------


def process_done(limit: PendingLimit, pool: _Pool, work_id: int,
                 future: _base.Future[Any]) -> None:
    """Done-callback of a bounded process pool's future: wake waiting submitters; a
    cancelled call still in the backlog leaves it now (the manager would drop it only
    when it reached the head), so its room is free at once."""
    with pool.lock:
        if future._state == _base.CANCELLED and pool.pending.get(work_id) is future:
            backlog = pool.backlog
            for index, (queued_id, _) in enumerate(backlog):
                if queued_id == work_id:
                    del backlog[index]
                    del pool.pending[work_id]
                    pool.timeouts.pop(work_id, None)
                    future.set_running_or_notify_cancel()  # CANCELLED -> ..._AND_NOTIFIED
                    break
        limit.room.notify_all()
