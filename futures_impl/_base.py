"""The Future, the ways to wait for many of them, and the Executor interface.

Why: every executor hands out Futures, and every caller waits on them. This module is the
only place that knows how a Future changes state, so the thread pool, the process pool and
the asyncio layer never touch a Future's fields except through the methods below.

How, in one picture (the whole state machine; every other transition raises):

    PENDING --set_running_or_notify_cancel()--> RUNNING --set_result/set_exception--> FINISHED
    PENDING --set_result/set_exception--------------------------------------------> FINISHED
    PENDING --cancel()--> CANCELLED --set_running_or_notify_cancel()--> CANCELLED_AND_NOTIFIED

A CANCELLED future is done() but not yet "finished" for wait()/as_completed(): those only
count it once the executor has acknowledged the cancel (CANCELLED_AND_NOTIFIED), exactly as
the stdlib does.

Cost model (the reason this is faster than the stdlib): a Future owns one C-level Lock and
no threading.Condition (a Python object, expensive to build). A thread that must block in
result()/exception() parks on a fresh raw lock (a "gate") that settling releases; the
`_condition` property offers the Condition interface over the same lock and gates for code
that expects one. wait() and as_completed() register a small waiter object on each
future; settling a future tells its waiters.

Hot paths take locks as `lock.acquire(); try: ... finally: lock.release()` rather than
`with lock:`, which costs about twice as much on CPython 3.9-3.13 (measured in
benchmarks/); the meaning is the same.

Invariant: every field of a Future is written only while holding ``Future._lock``.  Reads of
``_state`` without the lock are allowed where a stale answer is harmless (the fast paths
re-check under the lock).
"""

from __future__ import annotations

import _thread
import sys
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (slow to import)
if TYPE_CHECKING:
    import logging
    from typing import Any, Callable, Generic, Iterable, Iterator, Literal, TypeVar

    _T = TypeVar("_T")

    class _GenericBase(Generic[_T]):
        __slots__ = ()

else:
    # At run time Future[int] is a types.GenericAlias, like the stdlib's; typing stays unimported.
    _T = "_T"

    class _GenericBase:
        __slots__ = ()
        __class_getitem__ = classmethod(type(list[int]))


FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"
_AS_COMPLETED = "_AS_COMPLETED"

PENDING = "PENDING"
RUNNING = "RUNNING"
CANCELLED = "CANCELLED"
CANCELLED_AND_NOTIFIED = "CANCELLED_AND_NOTIFIED"
FINISHED = "FINISHED"

_FUTURE_STATES = [PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED]
_STATE_TO_DESCRIPTION_MAP = {
    PENDING: "pending",
    RUNNING: "running",
    CANCELLED: "cancelled",
    CANCELLED_AND_NOTIFIED: "cancelled",
    FINISHED: "finished",
}
# States in which wait() and as_completed() count a future as settled.
_SETTLED = frozenset((CANCELLED_AND_NOTIFIED, FINISHED))
_new_lock = _thread.allocate_lock
_CANCEL_STATES = frozenset((CANCELLED, CANCELLED_AND_NOTIFIED))
_RETURN_CONDITIONS = (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED)


class Error(Exception):
    """Base class for the errors of this package."""


class CancelledError(Error):
    """The Future was cancelled."""


if sys.version_info >= (3, 11):
    TimeoutError = TimeoutError  # the builtin, as in the stdlib since 3.11
else:

    class TimeoutError(Error):  # noqa: A001 - mirrors the stdlib name
        """The operation exceeded the given deadline."""


class InvalidStateError(Error):
    """The Future is in a state that does not allow the operation."""


class BrokenExecutor(RuntimeError):
    """An executor can no longer run work (a worker failed to start or died)."""


def _get_logger() -> logging.Logger:
    """The "concurrent.futures" logger; `logging` is imported only when a record is due."""
    import logging

    return logging.getLogger("concurrent.futures")


def __getattr__(name: str) -> Any:
    # PEP 562: `_base.LOGGER` exists, but importing this module does not import logging.
    if name == "LOGGER":
        return _get_logger()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Future(_GenericBase[_T]):
    """The result of a call that may not have finished yet."""

    # Fields, all written under self._lock:
    #   _state            one of the five states above
    #   _result           the value set by set_result()
    #   _exception        the exception set by set_exception()
    #   _waiters          wait()/as_completed() waiters to tell on settling
    #   _done_callbacks   callables to run once done (None until the first is added)
    #   _gates            one raw lock per thread blocked in result()/exception(), held
    #                     locked until settling releases it (None while nobody blocks)
    __slots__ = (
        "_lock", "_state", "_result", "_exception", "_waiters", "_done_callbacks", "_gates",
        "__dict__", "__weakref__",
    )

    def __init__(self) -> None:
        self._lock = _new_lock()
        self._state = PENDING
        self._result: Any = None
        self._exception: BaseException | None = None
        self._waiters: list[_Waiter] = []
        self._done_callbacks: list[Callable[[Future[Any]], object]] | None = None
        self._gates: list[_thread.LockType] | None = None

    @property
    def _condition(self) -> _FutureCondition:
        """A threading.Condition look-alike over this future's lock (the stdlib's suites
        set a state under `with f._condition:` and call `notify_all()`)."""
        return _FutureCondition(self)

    # -- blocking (caller holds self._lock) -----------------------------------------------
    def _block(self, timeout: float | None) -> bool:
        """Release the lock, sleep until woken or timed out, re-take the lock."""
        gate = _thread.allocate_lock()
        gate.acquire()
        if self._gates is None:
            self._gates = []
        self._gates.append(gate)
        woken = False
        self._lock.release()
        try:
            if timeout is None:
                woken = gate.acquire()
            elif timeout > 0:
                woken = gate.acquire(True, timeout)
            else:
                woken = gate.acquire(False)
        finally:
            self._lock.acquire()
            if not woken and self._gates is not None and gate in self._gates:
                self._gates.remove(gate)
        return woken

    def _wake(self, count: int = -1) -> None:
        gates = self._gates
        if gates:
            if count < 0 or count >= len(gates):
                self._gates = None
            else:
                self._gates, gates = gates[count:], gates[:count]
            for gate in gates:
                gate.release()

    def _wait_until_done(self, timeout: float | None) -> None:
        """Block until the future is done, or raise TimeoutError. Caller holds self._lock."""
        if self._state not in _DONE_STATES:
            self._block(timeout)
            if self._state not in _DONE_STATES:
                raise TimeoutError()

    # -- reading ------------------------------------------------------------------------
    def __repr__(self) -> str:
        state = self._state
        where = f"<{type(self).__name__} at {id(self):#x} state={_STATE_TO_DESCRIPTION_MAP[state]}"
        if state == FINISHED:
            if self._exception is not None:
                return f"{where} raised {type(self._exception).__name__}>"
            return f"{where} returned {type(self._result).__name__}>"
        return where + ">"

    def cancelled(self) -> bool:
        return self._state in _CANCEL_STATES

    def running(self) -> bool:
        return self._state == RUNNING

    def done(self) -> bool:
        return self._state in _DONE_STATES

    def _outcome(self) -> _T:
        # Caller knows the state is FINISHED.
        exc = self._exception
        if exc is not None:
            try:
                raise exc
            finally:
                # Do not keep this frame (and so the exception) alive through a cycle.
                del exc, self
        return self._result  # type: ignore[no-any-return]

    def result(self, timeout: float | None = None) -> _T:
        """Return the call's value; raise its exception, CancelledError or TimeoutError."""
        if self._state == FINISHED:  # fast path: a finished future never changes again
            return self._outcome()
        with self._lock:
            self._wait_until_done(timeout)
            if self._state in _CANCEL_STATES:
                raise CancelledError()
        return self._outcome()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Return the call's exception (None if it returned).

        Raises CancelledError or TimeoutError like result().
        """
        if self._state == FINISHED:
            return self._exception
        with self._lock:
            self._wait_until_done(timeout)
            if self._state in _CANCEL_STATES:
                raise CancelledError()
            return self._exception

    # -- callbacks ----------------------------------------------------------------------
    def add_done_callback(self, fn: Callable[[Future[_T]], object]) -> None:
        """Call fn(future) once the future is done (at once if it already is)."""
        lock = self._lock
        lock.acquire()
        try:
            if self._state not in _DONE_STATES:
                if self._done_callbacks is None:
                    self._done_callbacks = [fn]
                else:
                    self._done_callbacks.append(fn)
                return
        finally:
            lock.release()
        _run_callbacks((fn,), self)

    # -- transitions --------------------------------------------------------------------
    def cancel(self) -> bool:
        """Cancel a pending call. False if it is running or finished, else True."""
        self._lock.acquire()
        try:
            state = self._state
            if state != PENDING:
                return state in _CANCEL_STATES
            self._state = CANCELLED
            self._wake()
            callbacks, self._done_callbacks = self._done_callbacks, None
        finally:
            self._lock.release()
        if callbacks:
            _run_callbacks(callbacks, self)
        return True

    def set_running_or_notify_cancel(self) -> bool:
        """For executors: PENDING -> RUNNING (True), or acknowledge a cancel (False)."""
        self._lock.acquire()
        try:
            state = self._state
            if state == PENDING:
                self._state = RUNNING
                return True
            if state == CANCELLED:
                self._state = CANCELLED_AND_NOTIFIED
                for waiter in tuple(self._waiters):  # a copy: see _unregister
                    waiter.future_settled(self)
                return False
        finally:
            self._lock.release()
        _get_logger().critical("Future %s in unexpected state: %s", id(self), state)
        raise RuntimeError("Future in unexpected state")

    def _settle(self, result: Any, exception: BaseException | None) -> None:
        lock = self._lock
        lock.acquire()
        try:
            if self._state not in _SETTABLE:
                raise InvalidStateError(f"{self._state}: {self!r}")
            self._result = result
            self._exception = exception
            self._state = FINISHED
            if self._waiters:
                for waiter in tuple(self._waiters):  # a copy: see _unregister
                    waiter.future_settled(self)
            if self._gates:
                self._wake()
            callbacks, self._done_callbacks = self._done_callbacks, None
        finally:
            lock.release()
        if callbacks:
            _run_callbacks(callbacks, self)

    def set_result(self, result: _T) -> None:
        """For executors: the call returned `result`."""
        self._settle(result, None)

    def set_exception(self, exception: BaseException | None) -> None:
        """For executors: the call raised `exception`."""
        self._settle(None, exception)


_DONE_STATES = frozenset((CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED))
_SETTABLE = frozenset((PENDING, RUNNING))


class _FutureCondition:
    """The threading.Condition interface, over a Future's own lock and gates.

    Stateless: every instance for the same future behaves as the same condition.
    """

    __slots__ = ("_future",)

    def __init__(self, future: Future[Any]) -> None:
        self._future = future

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._future._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._future._lock.release()

    def __enter__(self) -> bool:
        return self._future._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._future._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        return self._future._block(timeout)

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            self.wait(left)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        self._future._wake(n)

    def notify_all(self) -> None:
        self._future._wake()


def _run_callbacks(
    callbacks: Iterable[Callable[[Future[Any]], object]], future: Future[Any]
) -> None:
    for fn in callbacks:
        try:
            fn(future)
        except Exception:
            _get_logger().exception("exception calling callback for %r", future)


def _failed(future: Future[Any]) -> bool:
    return future._state == FINISHED and future._exception is not None


# -- waiting on many futures ------------------------------------------------------------
class _Waiter:
    """Collects the futures that settle while a wait()/as_completed() is blocked.

    A future calls future_settled() under its own lock. The waiter's fields are guarded by
    its own `_lock`. `_wakeup` is a raw lock, held while the blocked thread must sleep and
    released to wake it.
    """

    __slots__ = ("_lock", "_wakeup", "return_when", "installed", "armed", "finished")

    def __init__(self, return_when: str) -> None:
        self._lock = _thread.allocate_lock()
        self._wakeup = _thread.allocate_lock()
        self._wakeup.acquire()
        self.return_when = return_when
        self.installed = 0  # futures it is registered on (written before arm())
        self.armed = False  # set once registration is complete
        self.finished: list[Future[Any]] = []

    def _wake_if_satisfied(self, latest: Future[Any] | None) -> None:
        # Caller holds self._lock.
        if (
            self.return_when in (FIRST_COMPLETED, _AS_COMPLETED)
            or (self.armed and len(self.finished) >= self.installed)
            or (latest is not None and self.return_when == FIRST_EXCEPTION and _failed(latest))
        ) and self.finished and self._wakeup.locked():
            self._wakeup.release()

    def future_settled(self, future: Future[Any]) -> None:
        self._lock.acquire()
        try:
            self.finished.append(future)
            self._wake_if_satisfied(future)
        finally:
            self._lock.release()

    def arm(self) -> None:
        """Registration is complete: ALL_COMPLETED may now count to `installed`."""
        with self._lock:
            self.armed = True
            self._wake_if_satisfied(None)

    def block(self, timeout: float | None) -> None:
        if timeout is None:
            self._wakeup.acquire()
        elif timeout > 0:
            self._wakeup.acquire(True, timeout)
        else:
            self._wakeup.acquire(False)

    def take_finished(self) -> list[Future[Any]]:
        """Hand over what settled so far and re-arm the wake-up (as_completed)."""
        with self._lock:
            got, self.finished = self.finished, []
            self._wakeup.acquire(False)
            return got


class _AcquireFutures:
    """Hold the locks of several futures at once, always taken in the same global order
    (by id) so that two threads locking overlapping sets cannot deadlock.

    For code that needs one consistent view of many futures. wait() and as_completed() do
    not: they register on one future at a time (see _register).
    """

    def __init__(self, futures: Iterable[Future[Any]]) -> None:
        self.futures = sorted(futures, key=id)

    def __enter__(self) -> None:
        for future in self.futures:
            future._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        for future in self.futures:
            future._lock.release()


def _register(
    waiter: _Waiter, futures: Iterable[Future[Any]], settled: list[Future[Any]] | set[Future[Any]]
) -> list[Future[Any]]:
    """Register `waiter` on each unsettled future; return those it was registered on.

    Futures found settled go to `settled`. One lock at a time is enough: a future checked
    and registered under its lock either settled before (and is in `settled`) or will tell
    the waiter when it does; a settled future never changes again, so the first, lock-free
    look at `_state` is safe when it says "settled".
    """
    registered = []
    add_settled = settled.append if isinstance(settled, list) else settled.add
    for future in futures:
        lock = future._lock
        lock.acquire()
        try:
            if future._state in _SETTLED:
                add_settled(future)
            else:
                future._waiters.append(waiter)
                registered.append(future)
        finally:
            lock.release()
    waiter.installed = len(registered)
    return registered


def _unregister(waiter: _Waiter, futures: Iterable[Future[Any]]) -> None:
    """Take `waiter` off each future's list.

    Without the future's lock: list.remove() is atomic (under the GIL, and under a
    per-object lock in free-threaded builds), and a settling future iterates over a copy
    of its list, so a removal can neither be lost nor make it skip another waiter. A
    waiter told about a future after its wait() returned simply goes unread.
    """
    for future in futures:
        try:
            future._waiters.remove(waiter)
        except ValueError:
            pass


class DoneAndNotDoneFutures(tuple):  # type: ignore[type-arg]
    """wait()'s answer: (done, not_done), two sets. Built as a plain tuple subclass so that
    importing the package does not build a namedtuple class."""

    __slots__ = ()
    _fields = ("done", "not_done")

    def __new__(cls, done: set[Future[Any]], not_done: set[Future[Any]]) -> DoneAndNotDoneFutures:
        return tuple.__new__(cls, (done, not_done))

    @property
    def done(self) -> set[Future[Any]]:
        return self[0]  # type: ignore[no-any-return]

    @property
    def not_done(self) -> set[Future[Any]]:
        return self[1]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"DoneAndNotDoneFutures(done={self[0]!r}, not_done={self[1]!r})"

    def __getnewargs__(self) -> tuple[set[Future[Any]], set[Future[Any]]]:
        return (self[0], self[1])  # so that copy and pickle rebuild it

    def _asdict(self) -> dict[str, set[Future[Any]]]:
        return {"done": self[0], "not_done": self[1]}

    @classmethod
    def _make(cls, iterable: Iterable[set[Future[Any]]]) -> DoneAndNotDoneFutures:
        done, not_done = iterable
        return cls(done, not_done)

    def _replace(self, **changes: set[Future[Any]]) -> DoneAndNotDoneFutures:
        fields = self._asdict()
        unknown = set(changes) - set(fields)
        if unknown:
            raise ValueError(f"Got unexpected field names: {sorted(unknown)!r}")
        fields.update(changes)
        return DoneAndNotDoneFutures(fields["done"], fields["not_done"])



def wait(
    fs: Iterable[Future[Any]], timeout: float | None = None, return_when: str = ALL_COMPLETED
) -> DoneAndNotDoneFutures:
    """Wait until `return_when` holds for the futures `fs`, or `timeout` seconds pass.

    Returns (done, not_done). Duplicates in `fs` count once.
    """
    futures = set(fs)
    done = {f for f in futures if f._state in _SETTLED}
    if _satisfied(return_when, done, len(futures)):
        return DoneAndNotDoneFutures(done, futures - done)
    if return_when not in _RETURN_CONDITIONS:
        raise ValueError(f"Invalid return condition: {return_when!r}")
    waiter = _Waiter(return_when)
    registered = _register(waiter, futures - done, done)
    try:
        if not _satisfied(return_when, done, len(futures)):
            waiter.arm()
            waiter.block(timeout)
    finally:
        _unregister(waiter, registered)
    with waiter._lock:
        done.update(waiter.finished)
    return DoneAndNotDoneFutures(done, futures - done)


def _satisfied(return_when: str, done: set[Future[Any]], total: int) -> bool:
    return (
        len(done) == total
        or (return_when == FIRST_COMPLETED and bool(done))
        or (return_when == FIRST_EXCEPTION and any(map(_failed, done)))
    )


def as_completed(fs: Iterable[Future[_T]], timeout: float | None = None) -> Iterator[Future[_T]]:
    """Yield the futures of `fs` as they settle (the already settled ones first).

    Raises TimeoutError if some are still unsettled `timeout` seconds after iteration
    starts (the first next(), as in the stdlib).
    The generator keeps no reference to a future it has yielded.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    futures = set(fs)
    del fs
    total = len(futures)
    ready = [f for f in futures if f._state in _SETTLED]
    waiter = _Waiter(_AS_COMPLETED)
    pending = set(_register(waiter, futures.difference(ready), ready) if len(ready) < total else ())
    del futures
    try:
        ready.reverse()
        while ready:
            yield ready.pop()
        while pending:
            if deadline is None:
                waiter.block(None)
            else:
                left = deadline - time.monotonic()
                if left < 0:
                    raise TimeoutError(f"{len(pending)} (of {total}) futures unfinished")
                waiter.block(left)
            ready = waiter.take_finished()
            # They settled, so they will not call the waiter again: detach it now rather
            # than keep them referenced until the generator ends.
            _unregister(waiter, ready)
            ready.reverse()
            while ready:
                pending.discard(ready[-1])
                yield ready.pop()
    finally:
        _unregister(waiter, pending)


# -- executors ----------------------------------------------------------------------------
def _check_buffersize(buffersize: object) -> None:
    if buffersize is None:
        return
    if not isinstance(buffersize, int):
        raise TypeError("buffersize must be an integer or None")
    if buffersize < 1:
        raise ValueError("buffersize must be None or > 0")


def _result_then_forget(future: Future[_T], deadline: float | None) -> _T:
    """The future's result; on timeout (or any other way out) the future is cancelled."""
    try:
        if deadline is None:
            return future.result()
        return future.result(deadline - time.monotonic())
    finally:
        future.cancel()
        del future


class Executor:
    """The interface every executor offers: submit(), map(), shutdown(), `with`."""

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Schedule fn(*args, **kwargs) and return a Future for its outcome."""
        raise NotImplementedError()

    def map(
        self,
        fn: Callable[..., _T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
        buffersize: int | None = None,
    ) -> Iterator[_T]:
        """Like map(fn, *iterables), calls run concurrently; results come in input order.

        `timeout` counts from this call. With `buffersize`, at most that many calls are
        submitted ahead of the consumer, so the input is read lazily (may be infinite).
        """
        _check_buffersize(buffersize)
        deadline = None if timeout is None else time.monotonic() + timeout
        arguments = zip(*iterables)
        if buffersize is None:
            queued = [self.submit(fn, *args) for args in arguments]
        else:
            queued = []
            for args in arguments:
                queued.append(self.submit(fn, *args))
                if len(queued) >= buffersize:
                    break
        lazy_input = arguments if buffersize else None
        return _ordered_results(queued, deadline, fn, lazy_input, _weak(self))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Release the executor's resources; with wait, after the submitted calls finish."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> Literal[False]:
        self.shutdown(wait=True)
        return False


def _weak(executor: Executor) -> Callable[[], Executor | None]:
    import weakref

    return weakref.ref(executor)


def _ordered_results(
    queued: list[Future[_T]],
    deadline: float | None,
    fn: Callable[..., _T],
    more_arguments: Iterator[tuple[Any, ...]] | None,
    executor_ref: Callable[[], Executor | None],
) -> Iterator[_T]:
    # `queued` holds futures oldest last, so pop() is O(1); with a buffer, each step
    # submits one more call (while the executor lives) before waiting on the oldest.
    queued.reverse()
    try:
        while queued:
            if more_arguments is not None:
                executor = executor_ref()
                args = next(more_arguments, None) if executor is not None else None
                if args is not None and executor is not None:
                    try:
                        queued.insert(0, executor.submit(fn, *args))
                    except BrokenExecutor:
                        raise
                    except RuntimeError:  # shut down: yield what was submitted, then stop
                        more_arguments = None  # (3.14's behaviour, cpython#146392)
                del executor
            yield _result_then_forget(queued.pop(), deadline)
    finally:
        for future in queued:
            future.cancel()
