"""The Future, the ways to wait for many of them, and the Executor interface.

Why: every executor hands out Futures, and every caller waits on them. This module is the
only place that knows how a Future changes state, so the thread pool, the process pool and
the asyncio layer never touch a Future's fields except through the methods below.

How, in one picture (the whole state machine; every other transition raises):

    PENDING --set_running_or_notify_cancel()--> RUNNING --set_result/set_exception--> FINISHED
    PENDING --set_result/set_exception--------------------------------------------> FINISHED
    PENDING --cancel()--> CANCELLED --set_running_or_notify_cancel()--> CANCELLED_AND_NOTIFIED
    RUNNING --_cancel_running()--> CANCELLED_AND_NOTIFIED   (process pools with
            cancel_running=True only: the pool has stopped the call, see _process/future.py)

A CANCELLED future is done() but not yet "finished" for wait()/as_completed(): those only
count it once the executor has acknowledged the cancel (CANCELLED_AND_NOTIFIED), exactly as
the stdlib does.

Cost model (the reason this is faster than the stdlib): a Future owns one C-level RLock
and no threading.Condition (a Python object, expensive to build). A thread that must block
in result()/exception() parks on a fresh raw lock (a "gate") that settling releases; the
`_condition` property offers the Condition interface over the same lock and gates for code
that expects one (the stdlib's own wait() and as_completed() among them). wait() and
as_completed() register a small waiter object on each future, without taking its lock;
settling a future tells its waiters, ours and the stdlib's alike.

Re-entry: the lock is reentrant, as the stdlib's Condition (over an RLock) is, so whatever
the stdlib allows under `with f._condition:`, from a callback or from a subclass's
__repr__ (cancel(), set_result(), result(0), ...) works here too.

Signals: a KeyboardInterrupt raised by a signal handler surfaces after a call returns
(3.10+); in `lock.acquire(); try:` that is between the acquire and the try, and the lock
would stay held forever. So the hot paths acquire *inside* the try:

    try:
        lock.acquire()
        ...
    finally:
        try:
            lock.release()
        except RuntimeError:  # the acquire itself was interrupted: nothing to release
            pass

An interrupt after the acquire is inside the try; an interrupted (blocking) acquire holds
nothing, and releasing an RLock this thread does not own raises RuntimeError, swallowed so
that the KeyboardInterrupt goes on. `with lock:` is just as safe, and is used off the hot
paths, but costs 50-85 ns more per use on 3.12/3.13. The locks written this way are
RLocks; a raw lock would let the release free another thread's hold.

Invariant: every field of a Future is written only while holding ``Future._lock``.

Lock order for the whole package (the table, with every lock, is in docs/design.md, "Lock
order"; tests/test_lock_order_doc.py checks that it names every lock the code creates).
A thread holding a lock may take only locks further down this list, never one above:

    _install._lock                         (install()/uninstall(); takes none of ours)
    executor locks: ThreadPoolExecutor._shutdown_lock, _Pool.lock (the process pool)
      exit registries: thread._exit_lock, process._live_lock
      process pool helpers: CallQueue._cond, _ThreadWakeup._lock
    Future._lock                           (its _condition is the same lock)
      _Waiter._lock                        (ours, or a stdlib waiter's)
        leaves, never blocked on while another lock is held: a Future's gates,
        _Waiter._wakeup, _compat._build_lock, _progress.SimpleBar._lock (a bar's
        stream writes; no executor or Future lock is taken under it)

Rule: no future is settled (set_result, set_exception, cancel) and no done-callback runs
while an executor lock is held. The one Future call made under an executor lock is
set_running_or_notify_cancel(), which runs no callback. So a callback may call submit()
or shutdown(): it is refused, never deadlocked. The races these locks close are numbered
in docs/design.md, "Races"; each points at its code and at the test that strikes it.

"Caller holds the lock" has one marker: a name ending in ``_locked`` (``_wake_locked``,
``_Pool.fill_locked``) is called with its object's lock held (the docstring says which
lock where the object has more than one). Names the stdlib's suites reach keep their
names and say it in the docstring (``ThreadPoolExecutor._adjust_thread_count``).

Lock-free paths, and why they are safe under the GIL (the one place this is argued; the
list for free-threaded builds is in docs/design.md):
1. ``_state`` is read without the lock by the fast paths (result()/exception() of a
   finished future, done(), wait()'s and as_completed()'s first pass, repr). A settled
   state never changes again, and setters store ``_result``/``_exception`` before
   ``_state``, so a reader that sees FINISHED sees the outcome (program order, which the
   GIL turns into a total order).
2. _register() appends a waiter to ``_waiters`` and then reads ``_state``; settling writes
   ``_state`` and then copies ``_waiters`` (under the future's lock). list.append and the
   copy are each atomic, so one of the two sees the other (see _register).
3. _unregister() removes a waiter with list.remove() and no lock: atomic, and settling
   iterates over a copy.
"""

from __future__ import annotations

import _thread
import sys
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (slow to import)
if TYPE_CHECKING:
    import logging
    from collections.abc import Iterable, Iterator
    from types import ModuleType
    from typing import Any, Callable, Generic, Literal, TypeVar

    from ._compat import _AcquireFutures as _AcquireFutures
    from ._compat import _FutureCondition

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
"""`wait(return_when=FIRST_COMPLETED)`: return as soon as any future settles."""
FIRST_EXCEPTION = "FIRST_EXCEPTION"
"""`wait(return_when=FIRST_EXCEPTION)`: return when any future finishes by raising (else
when all settle)."""
ALL_COMPLETED = "ALL_COMPLETED"
"""`wait(return_when=ALL_COMPLETED)`, the default: return when every future settles.

The three constants are strings (`"FIRST_COMPLETED"`...); they are also in
`futures_impl.aio`, whose `WaitStrategy` members compare equal to them."""
_AS_COMPLETED = "_AS_COMPLETED"

PENDING = "PENDING"
"""Future state: not started (the transitions: the `Future` class)."""
RUNNING = "RUNNING"
"""Future state: an executor has started the call (`set_running_or_notify_cancel()`)."""
CANCELLED = "CANCELLED"
"""Future state: cancelled, not yet acknowledged by its executor; `done()` is true but
`wait()`/`as_completed()` do not count it yet."""
CANCELLED_AND_NOTIFIED = "CANCELLED_AND_NOTIFIED"
"""Future state: cancelled and acknowledged; `wait()`/`as_completed()` count it as settled."""
FINISHED = "FINISHED"
"""Future state: has a result or an exception."""

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
_new_rlock: Callable[[], Any] = _thread.RLock  # typeshed lacks _release_save & co.
_CANCEL_STATES = frozenset((CANCELLED, CANCELLED_AND_NOTIFIED))
_RETURN_CONDITIONS = (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED)


class Error(Exception):
    """Base class for the errors of this package (`futures_impl._base.Error`)."""


class CancelledError(Error):
    """The Future was cancelled.

    Raised, with an empty message, by `Future.result()` and `Future.exception()` on a
    cancelled future.
    """


if sys.version_info >= (3, 11):
    TimeoutError = TimeoutError  # the builtin, as in the stdlib since 3.11
else:

    class TimeoutError(Error):  # noqa: A001 - mirrors the stdlib name
        """The operation exceeded the given deadline.

        From Python 3.11 on, `futures_impl.TimeoutError` is the builtin `TimeoutError` (an
        `OSError`), as in the stdlib. On 3.9 and 3.10 it is this package's own class, a
        subclass of `futures_impl._base.Error`: it is neither the builtin nor
        `concurrent.futures.TimeoutError` (each library has its own), so catch
        `futures_impl.TimeoutError`.

        Raised with an empty message by `Future.result(timeout)`,
        `Future.exception(timeout)` and `Executor.map(timeout=)`'s iterator; with
        `"<k> (of <n>) futures unfinished"` by `as_completed(timeout=)`.
        """


class InvalidStateError(Error):
    """The Future is in a state that does not allow the operation.

    Raised by `Future.set_result()` and `Future.set_exception()` on a settled or cancelled
    future, as `InvalidStateError("<STATE>: <repr>")`, e.g.
    `InvalidStateError("FINISHED: <Future at 0x... state=finished returned int>")`.
    """


class BrokenExecutor(RuntimeError):
    """An executor can no longer run work (a worker failed to start or died).

    Subclasses: `futures_impl.thread.BrokenThreadPool`,
    `futures_impl.process.BrokenProcessPool` (only in their modules, as in the stdlib).
    """


def _get_logger() -> logging.Logger:
    """Where errors are logged: `_base.LOGGER` if code assigned one (as with the stdlib,
    whose callback, worker and initializer errors all go to `_base.LOGGER`), else the
    "concurrent.futures" logger. `logging` is imported only when a record is due."""
    assigned: logging.Logger | None = globals().get("LOGGER")
    if assigned is not None:
        return assigned
    try:
        import logging
    except ImportError:  # a trimmed stdlib without logging: records go to sys.stderr
        from ._stderr_log import stderr_logger

        return stderr_logger  # type: ignore[return-value]
    return logging.getLogger("concurrent.futures")


def _load_compat() -> ModuleType:
    """futures_impl._compat, the names kept only for the stdlib's suites and user code.

    The one package import not at the top of a module, on purpose: `_compat` is a leaf
    (it imports nothing from this package, so no cycle can hide here), and loading it at
    import time would add about 10% to `import futures_impl` for names most programs
    never touch. It loads on first use of `_condition`, `_AcquireFutures`,
    `_FutureCondition` or `DoneAndNotDoneFutures`.
    """
    from . import _compat

    return _compat


def __getattr__(name: str) -> Any:
    # PEP 562: `_base.LOGGER` exists, but importing this module does not import logging;
    # the compatibility names resolve to `_compat`'s without importing it up front.
    if name == "LOGGER":
        return _get_logger()
    if name == "DoneAndNotDoneFutures":
        return _load_compat().done_and_not_done_class(__name__)
    if name in ("_AcquireFutures", "_FutureCondition"):
        return getattr(_load_compat(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Future._condition builds its view with this: the class itself once `_compat` is loaded.
# (Annotated before the function that rebinds it: PyPy rejects an annotated module-level
# assignment to a name a function above declared `global`.)
_condition_of: Callable[[Future[Any]], _FutureCondition]


def _first_condition(future: Future[Any]) -> _FutureCondition:
    global _condition_of
    _condition_of = _load_compat()._FutureCondition
    return _condition_of(future)


_condition_of = _first_condition


class Future(_GenericBase[_T]):
    """The result of a call that may not have finished yet.

    Executors create them; you may create one yourself (a test, your own executor).
    `Future[int]` is a `types.GenericAlias`, as in the stdlib; instances accept extra
    attributes and weak references.

    The five states and the calls that change them (any other transition raises):

    - `PENDING -> RUNNING -> FINISHED`: `set_running_or_notify_cancel()`, then
      `set_result()`/`set_exception()`;
    - `PENDING -> FINISHED`: `set_result()`/`set_exception()`;
    - `PENDING -> CANCELLED -> CANCELLED_AND_NOTIFIED`: `cancel()`, then the executor's
      `set_running_or_notify_cancel()` (or its shutdown) acknowledges it;
    - `RUNNING -> CANCELLED_AND_NOTIFIED`: only `cancel()` of a
      `ProcessPoolExecutor(cancel_running=True)`'s future, which stops the running call.

    `repr()`: `<Future at 0x... state=pending>`, `state=running`, `state=cancelled` (both
    cancelled states), `state=finished returned <type name>` or
    `state=finished raised <type name>`; a subclass shows its own class name.
    """

    # Fields, all written under self._lock:
    #   _state            one of the five states above
    #   _result           the value set by set_result()
    #   _exception        the exception set by set_exception()
    #   _waiters          wait()/as_completed() waiters to tell on settling (ours, or the
    #                     stdlib's: both speak add_result/add_exception/add_cancelled)
    #   _done_callbacks   callables to run once done (None until the first is added)
    #   _gates            one raw lock per thread blocked in result()/exception(), held
    #                     locked until settling releases it (None while nobody blocks)
    __slots__ = (
        "_lock", "_state", "_result", "_exception", "_waiters", "_done_callbacks", "_gates",
        "__dict__", "__weakref__",
    )

    def __init__(self) -> None:
        self._lock = _new_rlock()
        self._state = PENDING
        self._result: Any = None
        self._exception: BaseException | None = None
        self._waiters: list[Any] = []
        self._done_callbacks: list[Callable[[Future[Any]], object]] | None = None
        self._gates: list[_thread.LockType] | None = None

    # -- compatibility surface ------------------------------------------------------------
    # Names kept only because CPython's suites or user code reach them (the table in
    # docs/conformance.md says who and why). The fields `_state`, `_result`, `_exception`
    # and `_waiters` are also in that table: the suites write the first three under
    # `with f._condition:`, the stdlib's wait() appends to `_waiters`; ours use them too.
    @property
    def _condition(self) -> _FutureCondition:
        """A threading.Condition look-alike over this future's lock (the stdlib's suites
        set a state under `with f._condition:` and call `notify_all()`; the stdlib's
        wait() and as_completed() lock futures through it)."""
        return _condition_of(self)

    def _get_snapshot(self) -> tuple[bool, bool, Any, BaseException | None]:
        """(done, cancelled, result, exception) read together under the lock: CPython
        main's private helper for code that needs one consistent view (its tests use it)."""
        with self._lock:
            state = self._state
            return (state in _DONE_STATES, state in _CANCEL_STATES, self._result,
                    self._exception)

    # -- blocking -------------------------------------------------------------------------
    def _add_gate_locked(self) -> _thread.LockType:
        # Caller holds self._lock.
        gate = _new_lock()
        gate.acquire()
        if self._gates is None:
            self._gates = [gate]
        else:
            self._gates.append(gate)
        return gate

    def _drop_gate_locked(self, gate: _thread.LockType) -> None:
        # A sleeper that was not woken takes its gate back. Caller holds self._lock.
        if self._gates is not None and gate in self._gates:
            self._gates.remove(gate)

    def _wake_locked(self, count: int = -1) -> None:
        # Caller holds self._lock.
        gates = self._gates
        if gates:
            if count < 0 or count >= len(gates):
                self._gates = None
            else:
                self._gates, gates = gates[count:], gates[:count]
            for gate in gates:
                gate.release()

    def _wait_done(self, timeout: float | None) -> None:
        """Return once the future is done; raise TimeoutError if it is still not done when
        the sleep ends (time is up, or a bare notify() woke it, as with the stdlib).

        The sleep happens outside `with self._lock:`, so on the usual path nothing is
        released by hand. A caller that already holds the lock (`with f._condition:
        f.result()`, allowed by the stdlib) has every level of it released for the sleep,
        as threading.Condition.wait() does (see _sleep_unlocked).
        """
        lock = self._lock
        with lock:
            if self._state in _DONE_STATES:
                return
            gate = self._add_gate_locked()
        self._park(gate, timeout)
        if self._state not in _DONE_STATES:
            raise TimeoutError()

    def _park(self, gate: _thread.LockType, timeout: float | None) -> bool:
        """Sleep on `gate` (from _add_gate_locked) until settling or a notify releases it (True)
        or `timeout` passes (False: the gate is taken back). Every level of the future's
        lock this thread holds is released for the sleep and re-taken after, as
        threading.Condition.wait() does (see _sleep_unlocked)."""
        woken = False
        try:
            woken = _sleep_unlocked(self._lock, gate, timeout)
        finally:
            if not woken:
                with self._lock:
                    self._drop_gate_locked(gate)
        return woken

    # -- reading --------------------------------------------------------------------------
    # These read `_state` (and, once it is FINISHED, the outcome) without the lock:
    # "Lock-free paths" 1 at the top (a settled state never changes; the outcome is
    # stored before the state).
    def __repr__(self) -> str:
        state = self._state
        where = f"<{type(self).__name__} at {id(self):#x} state={_STATE_TO_DESCRIPTION_MAP[state]}"
        if state == FINISHED:
            if self._exception is not None:
                return f"{where} raised {type(self._exception).__name__}>"
            return f"{where} returned {type(self._result).__name__}>"
        return where + ">"

    def cancelled(self) -> bool:
        """True if the state is `CANCELLED` or `CANCELLED_AND_NOTIFIED`."""
        return self._state in _CANCEL_STATES

    def running(self) -> bool:
        """True if the state is `RUNNING`."""
        return self._state == RUNNING

    def done(self) -> bool:
        """True if cancelled or `FINISHED`."""
        return self._state in _DONE_STATES

    def result(self, timeout: float | None = None) -> _T:
        """Return the call's value; raise its exception, CancelledError or TimeoutError.

        Args:
            timeout: Seconds to wait for the future to be done; `None` waits forever,
                `<= 0` does not wait.

        Returns:
            The value the call returned.

        Raises:
            BaseException: The call's exception, re-raised; also a *falsy* one (whose
                `__bool__` returns False), which older stdlibs turn into a `None` result.
            CancelledError: The future was cancelled (empty message).
            TimeoutError: Not done within `timeout` seconds (empty message).
        """
        if self._state != FINISHED:  # a finished future never changes again: no lock
            self._wait_done(timeout)
            if self._state in _CANCEL_STATES:
                raise CancelledError()
        exc = self._exception
        if exc is None:
            return self._result  # type: ignore[no-any-return]
        try:
            raise exc
        finally:
            # The traceback holds this frame: without the del, exception -> traceback ->
            # frame -> self -> exception would keep the future alive until a gc pass.
            del exc, self

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Return the call's exception (None if it returned).

        Args:
            timeout: As for `result()`.

        Returns:
            The exception the call raised, or `None` if it returned.

        Raises:
            CancelledError: The future was cancelled.
            TimeoutError: Not done within `timeout` seconds.
        """
        if self._state != FINISHED:
            self._wait_done(timeout)
            if self._state in _CANCEL_STATES:
                raise CancelledError()
        return self._exception

    # -- callbacks ------------------------------------------------------------------------
    def add_done_callback(self, fn: Callable[[Future[_T]], object]) -> None:
        """Call fn(future) once the future is done (at once if it already is).

        `fn` runs in the thread that settles or cancels the future; if the future is
        already done, at once in the caller's thread. An `Exception` raised by `fn` is
        logged (`exception calling callback for <Future ...>`, ERROR, on the logger
        `"concurrent.futures"`) and ignored; a `BaseException` propagates.
        """
        lock = self._lock
        try:
            lock.acquire()
            if self._state not in _DONE_STATES:
                if self._done_callbacks is None:
                    self._done_callbacks = [fn]
                else:
                    self._done_callbacks.append(fn)
                return
        finally:
            try:
                lock.release()
            except RuntimeError:  # the acquire itself was interrupted: nothing to release
                pass
        _run_callbacks((fn,), self)

    # -- transitions ----------------------------------------------------------------------
    def cancel(self) -> bool:
        """Cancel a pending call. False if it is running or finished, else True.

        Returns `True` if the future is now or was already cancelled. On
        `PENDING -> CANCELLED` it wakes the threads blocked in `result()`/`exception()` and
        runs the done-callbacks; `wait()`/`as_completed()` count it once its executor
        acknowledges the cancel (`CANCELLED_AND_NOTIFIED`).
        """
        lock = self._lock
        try:
            lock.acquire()
            state = self._state
            if state != PENDING:
                return state in _CANCEL_STATES
            self._state = CANCELLED
            self._wake_locked()
            callbacks, self._done_callbacks = self._done_callbacks, None
        finally:
            try:
                lock.release()
            except RuntimeError:  # the acquire itself was interrupted: nothing to release
                pass
        if callbacks:
            _run_callbacks(callbacks, self)
        return True

    def set_running_or_notify_cancel(self) -> bool:
        """For executors: PENDING -> RUNNING (True), or acknowledge a cancel (False).

        Returns:
            `True` after `PENDING -> RUNNING`; `False` after
            `CANCELLED -> CANCELLED_AND_NOTIFIED`, which wakes `wait()`/`as_completed()`.

        Raises:
            RuntimeError: `"Future in unexpected state"`, in any other state, after logging
                CRITICAL `Future <id> in unexpected state: <STATE>`.
        """
        lock = self._lock
        try:
            lock.acquire()
            state = self._state
            if state == PENDING:
                self._state = RUNNING
                return True
            if state == CANCELLED:
                self._state = CANCELLED_AND_NOTIFIED
                for waiter in tuple(self._waiters):  # a copy: see _unregister
                    waiter.add_cancelled(self)
                return False
        finally:
            try:
                lock.release()
            except RuntimeError:  # the acquire itself was interrupted: nothing to release
                pass
        _get_logger().critical("Future %s in unexpected state: %s", id(self), state)
        raise RuntimeError("Future in unexpected state")

    # set_result and set_exception are one body written twice (they differ in what they
    # store and in what waiters are told): a shared helper costs a call per task.
    def set_result(self, result: _T) -> None:
        """For executors: the call returned `result`.

        Allowed from `PENDING` or `RUNNING` (-> `FINISHED`); wakes the waiters and runs
        the done-callbacks.

        Raises:
            InvalidStateError: `"<STATE>: <repr>"` if the future is already settled or
                cancelled, e.g. `"CANCELLED: <Future at 0x... state=cancelled>"`.
        """
        lock = self._lock
        try:
            lock.acquire()
            if self._state not in _SETTABLE:
                raise InvalidStateError(f"{self._state}: {self!r}")
            self._result = result
            self._state = FINISHED
            if self._waiters:
                for waiter in tuple(self._waiters):  # a copy: see _unregister
                    waiter.add_result(self)
            if self._gates:
                self._wake_locked()
            callbacks, self._done_callbacks = self._done_callbacks, None
        finally:
            try:
                lock.release()
            except RuntimeError:  # the acquire itself was interrupted: nothing to release
                pass
        if callbacks:
            _run_callbacks(callbacks, self)

    def set_exception(self, exception: BaseException | None) -> None:
        """For executors: the call raised `exception`.

        Same rules and errors as `set_result()`. `set_exception(None)` leaves the future
        finished with the result `None`, as in the stdlib.

        Raises:
            InvalidStateError: As for `set_result()`.
        """
        lock = self._lock
        try:
            lock.acquire()
            if self._state not in _SETTABLE:
                raise InvalidStateError(f"{self._state}: {self!r}")
            self._exception = exception
            self._state = FINISHED
            if self._waiters:
                # add_exception even for None: a FIRST_EXCEPTION wait() then returns, as
                # the stdlib's does.
                for waiter in tuple(self._waiters):  # a copy: see _unregister
                    waiter.add_exception(self)
            if self._gates:
                self._wake_locked()
            callbacks, self._done_callbacks = self._done_callbacks, None
        finally:
            try:
                lock.release()
            except RuntimeError:  # the acquire itself was interrupted: nothing to release
                pass
        if callbacks:
            _run_callbacks(callbacks, self)


_DONE_STATES = frozenset((CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED))
_SETTABLE = frozenset((PENDING, RUNNING))


def _sleep(gate: _thread.LockType, timeout: float | None) -> bool:
    """Sleep on `gate` until it is released (True) or `timeout` passes (False)."""
    if timeout is None:
        return gate.acquire()
    if timeout > 0:
        return gate.acquire(True, timeout)
    return gate.acquire(False)


def _sleep_unlocked(lock: Any, gate: _thread.LockType, timeout: float | None) -> bool:
    """_sleep() with every level of `lock` this thread holds released meanwhile (as
    threading.Condition.wait() does), all re-taken after."""
    saved: list[Any] = []
    try:
        if lock._is_owned():
            # One C call releases every level and stores the count in `saved`: with
            # `saved = lock._release_save()`, a signal landing after the call would lose it.
            saved.extend(map(_rlock_release_save, (lock,)))
        return _sleep(gate, timeout)
    finally:
        if saved:
            lock._acquire_restore(saved[0])  # one C call, which no signal interrupts


_rlock_release_save: Callable[[Any], Any] = _thread.RLock._release_save  # type: ignore[attr-defined]


def _run_callbacks(
    callbacks: Iterable[Callable[[Future[Any]], object]], future: Future[Any]
) -> None:
    for fn in callbacks:
        try:
            fn(future)
        except Exception:
            _get_logger().exception("exception calling callback for %r", future)


def _cancel_and_notify(future: Future[Any]) -> None:
    """Settle a future its executor drops unrun (shutdown(cancel_futures=True), a drained
    queue): cancel it and acknowledge the cancel, so that wait() and as_completed() count
    it. Idempotent; a future already running or settled is left alone. Runs the future's
    done-callbacks: call it with no executor lock held."""
    if future.cancel() and future._state == CANCELLED:
        future.set_running_or_notify_cancel()  # CANCELLED -> CANCELLED_AND_NOTIFIED


def _cancel_running(future: Future[Any]) -> bool:
    """RUNNING -> CANCELLED_AND_NOTIFIED, for an executor that has stopped the call (a
    process pool created with cancel_running=True kills the worker running it). The
    executor acknowledges the cancel at once, so wait() and as_completed() count it.
    False if the future was no longer RUNNING. Runs the done-callbacks: call it with no
    executor lock held."""
    with future._lock:
        if future._state != RUNNING:
            return False
        future._state = CANCELLED_AND_NOTIFIED
        for waiter in tuple(future._waiters):  # a copy: see _unregister
            waiter.add_cancelled(future)
        future._wake_locked()
        callbacks, future._done_callbacks = future._done_callbacks, None
    if callbacks:
        _run_callbacks(callbacks, future)
    return True


def _failed(future: Future[Any]) -> bool:
    return future._state == FINISHED and future._exception is not None


# -- waiting on many futures ------------------------------------------------------------
class _Waiter:
    """Collects the futures that settle while a wait()/as_completed() is blocked.

    It speaks the stdlib's waiter protocol (add_result, add_exception, add_cancelled), so
    a future of either kind can tell it, and ours can tell the stdlib's waiters the same
    way. A future calls these under its own lock. The waiter's fields are guarded by its
    own `_lock`, except `installed` and `foreign`, written by the waiting thread before
    arm(). `_wakeup` is a raw lock, held while the blocked thread must sleep and released
    to wake it.
    """

    __slots__ = (
        "_lock", "_wakeup", "on_any", "on_failure", "installed", "armed", "finished",
        "claimed", "reported", "foreign",
    )

    def __init__(self, return_when: str) -> None:
        self._lock = _new_rlock()
        self._wakeup = _new_lock()
        self._wakeup.acquire()
        self.on_any = return_when in (FIRST_COMPLETED, _AS_COMPLETED)
        self.on_failure = return_when == FIRST_EXCEPTION
        self.installed = 0  # futures it is registered on (written before arm())
        self.armed = False  # set once registration is complete
        self.finished: list[Future[Any]] = []
        # Futures the registering thread found settled after adding the waiter: they
        # count as settled before registration, so a late report of one is ignored.
        # `reported` (what reported so far) is kept only once a claim happened.
        self.claimed: set[Future[Any]] | None = None
        self.reported: set[Future[Any]] | None = None
        # Foreign (stdlib) futures it is registered on: unregistered under their lock.
        self.foreign: set[Future[Any]] | None = None

    def __repr__(self) -> str:
        # Read without the lock: each field is one load, and a repr is a glance.
        until = "any" if self.on_any else "first failure" if self.on_failure else "all"
        return (
            f"<{type(self).__name__} at {id(self):#x} until={until}"
            f" registered={self.installed} settled={len(self.finished)}"
            f" armed={self.armed}>"
        )

    def add_result(self, future: Future[Any]) -> None:
        lock = self._lock
        try:
            lock.acquire()
            if self.claimed is not None:
                if future in self.claimed:
                    return
                self.reported.add(future)  # type: ignore[union-attr]
            self.finished.append(future)
            if self.on_any or (self.armed and len(self.finished) >= self.installed):
                if self._wakeup.locked():
                    self._wakeup.release()
        finally:
            try:
                lock.release()
            except RuntimeError:  # the acquire itself was interrupted: nothing to release
                pass

    add_cancelled = add_result

    def add_exception(self, future: Future[Any]) -> None:
        lock = self._lock
        try:
            lock.acquire()
            if self.claimed is not None:
                if future in self.claimed:
                    return
                self.reported.add(future)  # type: ignore[union-attr]
            self.finished.append(future)
            if (
                self.on_any
                or self.on_failure
                or (self.armed and len(self.finished) >= self.installed)
            ):
                if self._wakeup.locked():
                    self._wakeup.release()
        finally:
            try:
                lock.release()
            except RuntimeError:  # the acquire itself was interrupted: nothing to release
                pass

    def claim(self, future: Future[Any]) -> bool:
        """`future` settled while being registered: take it as settled before (True),
        unless it already reported here (False: it counts as registered)."""
        with self._lock:
            if self.claimed is None or self.reported is None:
                self.claimed, self.reported = set(), set(self.finished)
            if future in self.reported:
                return False
            self.claimed.add(future)
            return True

    def arm(self) -> None:
        """Registration is complete: ALL_COMPLETED may now count to `installed`."""
        with self._lock:
            self.armed = True
            if self.finished and len(self.finished) >= self.installed and self._wakeup.locked():
                self._wakeup.release()

    def block(self, timeout: float | None) -> None:
        _sleep(self._wakeup, timeout)

    def take_finished(self) -> list[Future[Any]]:
        """Hand over what settled so far and re-arm the wake-up (as_completed)."""
        with self._lock:
            got, self.finished = self.finished, []
            self._wakeup.acquire(False)
            return got


def _register(
    waiter: _Waiter, futures: Iterable[Future[Any]], settled: list[Future[Any]] | set[Future[Any]]
) -> list[Future[Any]]:
    """Register `waiter` on each unsettled future; return those it was registered on.

    Futures found settled go to `settled`. Ours take no lock (see "Lock-free paths" at the
    top): the waiter is appended first, then the state is read. A settling future changes
    its state first, then copies its waiter list. So either the copy holds the waiter (the
    future will report) or the read sees the settled state; when both happen, claim()
    decides once, under the waiter's lock, which way the future counts.
    A foreign (stdlib) future is checked and registered under its own Condition.
    """
    registered = []
    add_settled = settled.append if isinstance(settled, list) else settled.add
    for future in futures:
        if isinstance(future, Future):
            # Unlocked append, then read ("Lock-free paths" 2; race 2 in docs/design.md).
            future._waiters.append(waiter)
            if future._state not in _SETTLED:
                registered.append(future)
            elif waiter.claim(future):
                future._waiters.remove(waiter)
                add_settled(future)
            else:
                registered.append(future)
        else:
            with future._condition:
                if future._state in _SETTLED:
                    add_settled(future)
                    continue
                future._waiters.append(waiter)
            registered.append(future)
            if waiter.foreign is None:
                waiter.foreign = set()
            waiter.foreign.add(future)
    waiter.installed = len(registered)
    return registered


def _unregister(waiter: _Waiter, futures: Iterable[Future[Any]]) -> None:
    """Take `waiter` off each future's list.

    Ours without their lock: list.remove() is atomic, and a settling future iterates over
    a copy of its list, so a removal can neither be lost nor make it skip another waiter.
    A waiter told about a future after its wait() returned simply goes unread. A foreign
    future's list is changed only under its own Condition.
    """
    foreign = waiter.foreign
    for future in futures:
        if foreign is not None and future in foreign:
            with future._condition:
                if waiter in future._waiters:
                    future._waiters.remove(waiter)
            continue
        try:
            future._waiters.remove(waiter)  # unlocked: "Lock-free paths" 3 at the top
        except ValueError:
            pass


if TYPE_CHECKING:
    from typing import NamedTuple

    class DoneAndNotDoneFutures(NamedTuple):
        done: set[Future[Any]]
        not_done: set[Future[Any]]


# wait() builds its answer with this: the class itself once it exists (built on first use).
# (Annotated before the function that rebinds it: see _condition_of.)
_done_and_not_done: Callable[[set[Future[Any]], set[Future[Any]]], DoneAndNotDoneFutures]


def _first_done_and_not_done(
    done: set[Future[Any]], not_done: set[Future[Any]]
) -> DoneAndNotDoneFutures:
    global _done_and_not_done
    _done_and_not_done = _load_compat().done_and_not_done_class(__name__)
    return _done_and_not_done(done, not_done)


_done_and_not_done = _first_done_and_not_done


def wait(
    fs: Iterable[Future[Any]], timeout: float | None = None, return_when: str = ALL_COMPLETED
) -> DoneAndNotDoneFutures:
    """Wait until `return_when` holds for the futures `fs`, or `timeout` seconds pass.

    Returns (done, not_done). Duplicates in `fs` count once.

    A future is in `done` when it is `FINISHED` or `CANCELLED_AND_NOTIFIED`: a cancelled
    future its executor has not acknowledged yet is still in `not_done`. A timeout is not
    an error.

    Args:
        fs: The futures (any iterable).
        timeout: Seconds to wait at most; `None` waits forever.
        return_when: `FIRST_COMPLETED`, `FIRST_EXCEPTION` or `ALL_COMPLETED` (or a
            `futures_impl.aio.WaitStrategy` member, which compares equal to them).

    Returns:
        `DoneAndNotDoneFutures(done, not_done)`, a namedtuple of two sets (the stdlib's
        `collections.namedtuple`, built on the first `wait()`, not at import).

    Raises:
        ValueError: `"Invalid return condition: <return_when!r>"`, but only when the
            condition is not already met on entry, as in the stdlib (`wait([],
            return_when="BOGUS")` returns).
    """
    futures = set(fs)
    # Unlocked reads ("Lock-free paths" 1): a settled future stays settled; the others
    # are registered below, where a future settling meanwhile is caught (race 2).
    done = {f for f in futures if f._state in _SETTLED}
    if _satisfied(return_when, done, len(futures)):
        return _done_and_not_done(done, futures - done)
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
    return _done_and_not_done(done, futures - done)


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

    Each distinct future is yielded once.

    Args:
        fs: The futures (any iterable; a non-iterable raises `TypeError` at the first
            `next()`).
        timeout: Seconds, counted from the first `next()`; `None` waits forever.

    Yields:
        Each future of `fs`, once settled (`FINISHED` or `CANCELLED_AND_NOTIFIED`).

    Raises:
        TimeoutError: `"<k> (of <n>) futures unfinished"`: `k` of the `n` distinct
            futures were still pending at the deadline.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    futures = set(fs)
    del fs
    total = len(futures)
    ready = [f for f in futures if f._state in _SETTLED]  # unlocked, as in wait()
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


if sys.version_info >= (3, 10):

    def _result_then_forget(future: Future[_T], deadline: float | None) -> _T:
        """The future's result; on timeout (or any other way out) the future is cancelled."""
        try:
            if deadline is None:
                return future.result()
            return future.result(deadline - time.monotonic())
        finally:
            future.cancel()
            del future  # a raised exception's traceback holds this frame

else:

    def _result_then_forget(future: Future[_T], deadline: float | None) -> _T:
        """The future's result. 3.9's stdlib leaves the future it timed out on pending."""
        try:
            if deadline is None:
                return future.result()
            return future.result(deadline - time.monotonic())
        finally:
            del future  # a raised exception's traceback holds this frame


class Executor:
    """The interface every executor offers: submit(), map(), shutdown(), `with`.

    The abstract base class: subclasses implement `submit()`; `map()` is generic (it calls
    `self.submit` once per item). `with executor:` returns the executor; leaving the block
    calls `shutdown(wait=True)` and lets exceptions propagate.
    """

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Schedule fn(*args, **kwargs) and return a Future for its outcome.

        Raises:
            NotImplementedError: In this base class.
        """
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

        The arguments are `zip(*iterables)`; with no iterables the iterator yields
        nothing.

        - `buffersize=None` (the default): every input is read and submitted during this
          call. `buffersize=N`: this call submits the first `N`; each `next()` submits one
          more (while the executor is alive) before waiting for the oldest, so at most
          `N + 1` calls are outstanding. On every Python version (the stdlib's from 3.14).
        - When `timeout` passes, `next()` raises `TimeoutError()`; the call waited for
          and every outstanding one are cancelled (a call already running cannot be: it
          finishes).
        - A call's exception propagates from `next()`; the iterator then ends (the next
          `next()` raises `StopIteration`) and the outstanding calls are cancelled: the
          stdlib's behaviour up to 3.15, not 3.16's "continue after an error".
        - Closing the iterator (`close()`, or its garbage collection) after iteration has
          started (a first `next()`) cancels the calls submitted and not yet yielded (a
          running call cannot be cancelled and finishes). An iterator never started is a
          generator whose body never ran: closing it cancels nothing, and every call
          already submitted (all the inputs; with `buffersize=N`, the first `N`) runs to
          the end, as in the stdlib.
        - `chunksize` is ignored, except by `ProcessPoolExecutor`.

        Args:
            fn: The callable, called as `fn(*args)` for each tuple of arguments.
            *iterables: One iterable per positional argument of `fn`.
            timeout: Seconds from this call for the whole iteration; `None`: no limit.
            chunksize: Ignored here (see `ProcessPoolExecutor.map`).
            buffersize: The number of calls submitted ahead of the consumer, or `None`.

        Returns:
            An iterator (a generator) of the results, in input order.

        Raises:
            TypeError: `"buffersize must be an integer or None"` (a `bool` passes), at
                this call.
            ValueError: `"buffersize must be None or > 0"`, at this call.
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
        """Release the executor's resources; with wait, after the submitted calls finish.

        Does nothing in this base class. The pools' versions refuse new work, cancel the
        queued calls with `cancel_futures=True`, and join their workers with `wait=True`;
        calling it again is harmless.
        """

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
