"""Ctrl-C and errors for process pools: stop_on_interrupt=True, cancel_on_error=True.

Why (gh-125886): a terminal's Ctrl-C sends SIGINT to the whole process group. In the
stdlib, each worker then raises KeyboardInterrupt inside the call it runs (that call's
future fails with it) or prints a traceback if idle, and goes on with the next calls;
the main program's KeyboardInterrupt leaves the `with` block, whose shutdown(wait=True)
waits for every queued call: one Ctrl-C does not stop the program, and a second one
leaves workers running. With `stop_on_interrupt=True`:

- the workers ignore SIGINT (`IgnoreSigint` wraps the pool's initializer, so it runs
  first in each worker): no worker prints a traceback or loses its call to a Ctrl-C;
- a KeyboardInterrupt raised in result()/exception() of one of the pool's futures
  (`StoppingFuture`), in map() or its iteration (`stopping_map`), or leaving or inside a
  `with` block's exit (`exit_pool`) calls `stop(pool)` and propagates: every unsettled
  future is cancelled (it ends CANCELLED_AND_NOTIFIED, so wait() and as_completed()
  return), every worker is SIGKILLed, and the pool is shut down (submit() refuses).

`cancel_on_error=True` (gh-130975): an exception leaving a `with` block cancels the
queued calls (shutdown(cancel_futures=True)) before waiting for the running ones.

How stop() works on the pool (`pool.py`'s fields, under `pool.lock`): it sets `shutdown`
and `forced` (nothing more is started or sent), takes every future out of `pending`,
clears `backlog` and each worker's `queued` (so the manager expects the workers' exits
and has nothing to settle: a late result finds no future), and collects the processes.
Outside the lock (no future is settled under an executor lock) it kills the processes,
settles the futures, and wakes the manager, which reaps the workers and ends. It is
idempotent: a second call finds nothing pending. A second Ctrl-C landing inside it is
held back until every future is settled, then re-raised.

Imports stay light: a spawned worker imports this module to unpickle `IgnoreSigint`.
"""

from __future__ import annotations

from .. import _base
from .future import PoolFuture

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeVar

    from .pool import _Pool

    _T = TypeVar("_T")
else:
    _T = "_T"  # as in _base: typing stays unimported at run time


class IgnoreSigint:
    """A stop_on_interrupt pool's worker initializer: ignore SIGINT, then run the user's
    initializer (if any) with the pool's initargs. Pickled by reference (spawn)."""

    __slots__ = ("initializer",)

    def __init__(self, initializer: Callable[..., object] | None) -> None:
        self.initializer = initializer

    def __reduce__(self) -> tuple[Any, ...]:
        return (IgnoreSigint, (self.initializer,))

    def __call__(self, *initargs: Any) -> None:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if self.initializer is not None:
            self.initializer(*initargs)


def stop(pool: _Pool) -> None:
    """Cancel every unsettled call of `pool`, SIGKILL its workers, shut it down."""
    with pool.lock:
        pool.shutdown = True
        pool.forced = True  # no worker is started any more; the killed ones' exits expected
        futures = list(pool.pending.values())
        pool.pending.clear()
        pool.backlog.clear()
        processes = []
        for w in pool.workers:
            w.queued.clear()
            w.nbytes = 0
            processes.append(w.process)
    interrupted: BaseException | None = None
    done = 0
    while done < len(processes) + len(futures):
        try:
            # Each step is idempotent: one cut short by an interrupt is simply redone.
            while done < len(processes):
                try:
                    processes[done].kill()
                except (OSError, ValueError, AttributeError):
                    pass  # already gone (reaped: the Process is closed)
                done += 1
            while done < len(processes) + len(futures):
                future = futures[done - len(processes)]
                if not _base._cancel_running(future):  # RUNNING -> cancelled
                    _base._cancel_and_notify(future)  # PENDING/CANCELLED -> cancelled
                done += 1
        except BaseException as exc:  # noqa: BLE001 - a second Ctrl-C (callbacks' errors
            if interrupted is None:  # are logged by _base): finish first, re-raise after
                interrupted = exc
    pool.wakeup.wakeup()
    if interrupted is not None:
        raise interrupted


def _interrupted(future: StoppingFuture[Any], exc: KeyboardInterrupt) -> None:
    # A KeyboardInterrupt that is the call's own outcome (the function raised it in its
    # worker) is a result like any other: only one raised while waiting stops the pool.
    if exc is not future._exception:
        stop(future._pool)


class StoppingFuture(_base.Future[_T]):
    """The future of a stop_on_interrupt pool: a KeyboardInterrupt while waiting in
    result() or exception() stops the pool, then propagates."""

    # Written once by the pool before the future is handed out; read-only after.
    _pool: _Pool
    _work_id: int

    def result(self, timeout: float | None = None) -> _T:
        try:
            return super().result(timeout)
        except KeyboardInterrupt as exc:
            _interrupted(self, exc)
            raise

    def exception(self, timeout: float | None = None) -> BaseException | None:
        try:
            return super().exception(timeout)
        except KeyboardInterrupt as exc:
            _interrupted(self, exc)
            raise


class StoppingPoolFuture(StoppingFuture[_T], PoolFuture[_T]):
    """Both stop_on_interrupt and cancel_running (PoolFuture's cancel())."""


def _new_stopping(pool: _Pool, work_id: int) -> _base.Future[Any]:
    future: StoppingFuture[Any] = StoppingFuture()
    future._pool = pool
    future._work_id = work_id
    return future


def _new_stopping_pool(pool: _Pool, work_id: int) -> _base.Future[Any]:
    future: StoppingPoolFuture[Any] = StoppingPoolFuture()
    future._pool = pool
    future._work_id = work_id
    return future


def future_factory(cancel_running: bool) -> Callable[[_Pool, int], _base.Future[Any]]:
    """The futures of a stop_on_interrupt pool (with cancel_running's cancel() or not)."""
    return _new_stopping_pool if cancel_running else _new_stopping


def stopping_map(pool: _Pool, start: Callable[[], Iterator[_T]]) -> Iterator[_T]:
    """map() of a stop_on_interrupt pool: `start()` submits (the base map), and a
    KeyboardInterrupt there or while iterating the results stops the pool."""
    try:
        results = start()
    except KeyboardInterrupt:
        stop(pool)
        raise
    return _guarded(pool, results)


def _guarded(pool: _Pool, results: Iterator[_T]) -> Iterator[_T]:
    try:
        yield from results
    except KeyboardInterrupt:
        stop(pool)
        raise


def exit_pool(executor: Any, pool: _Pool, error: object, stop_on_interrupt: bool,
              cancel_on_error: bool) -> None:
    """ProcessPoolExecutor.__exit__ with either option; `error`: the exception type
    leaving the `with` body, or None."""
    if stop_on_interrupt and isinstance(error, type) and issubclass(error, KeyboardInterrupt):
        stop(pool)
        executor.shutdown(wait=False)  # the workers are dead: nothing to wait for
        return
    try:
        if cancel_on_error and error is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        else:
            executor.shutdown(wait=True)  # as the stdlib calls it (subclasses override)
    except KeyboardInterrupt:
        if stop_on_interrupt:
            stop(pool)
        raise
