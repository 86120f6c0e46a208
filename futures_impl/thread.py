"""ThreadPoolExecutor: calls run on a pool of worker threads of this process.

How it works. submit() wraps the call in a _WorkItem and puts it on `_work_queue`, a
C-level SimpleQueue that every worker blocks on. A worker that finishes an item drops a
token into `_idle_semaphore` ("one worker is idle"); submit() takes a token if there is one
and otherwise starts a new thread, until `_max_workers` threads exist. So threads are made
on demand and idle ones are reused.

Stopping: `None` on the queue is the stop signal. A worker that reads it re-posts it (so
every sibling sees it too) and leaves, but only once the pool is shut down, garbage
collected, or the interpreter is exiting; otherwise it was only a wake-up.

Interpreter exit: the `_python_exit` hook (registered with threading._register_atexit,
which runs before non-daemon threads are joined) refuses new work, wakes every worker and
joins it, so submitted work still finishes. Embedded interpreters whose threading module
lacks that hook get daemon workers and a plain atexit hook instead; without a hook a
non-daemon worker blocked on its queue would hang the interpreter's exit.
Opt-in `wait_at_exit=False` (gh-80961, gh-86575): the pool's workers are daemon threads
registered in `_detached_queues` instead of `_threads_queues`; the exit hook drains such a
pool's queue and cancels what it held (those calls would never run), posts its stop
signal under the pool's lock as for the others (race 7), and does not join its workers:
the interpreter exits while their running calls are cut off. Opt-in
`cancel_on_error=True`: an exception leaving a `with` body cancels the queued calls
before waiting for the running ones (gh-130975).
Opt-in `copy_context=True` and `max_pending=N` (futures_impl/_pending.py): the
constructor gives the instance its own `submit` wrapping the class's (calls run in a
copy of the submitter's contextvars context; submit() waits while N calls are queued
and not started); the class's submit(), the default path, is untouched.

Extension points (3.14's, for InterpreterPoolExecutor): `BROKEN` (the broken pool's
error) and `prepare_context`; a subclass overriding the latter runs each call in a
per-worker context (WorkerContext, _context_worker, _submit_in_context). The plain pool
never touches them: its submit() and worker loop are the same code as without them.

Seeing inside: repr() and statistics() show the state, workers, idle credit and queue
length (a `_stats.ThreadPoolStatistics` snapshot). Names kept for code written against
the stdlib's internals sit in the class's "compatibility surface" section (who reaches
each: docs/conformance.md); the package's lock order is at the top of _base.py.

Rules that keep the pool from hanging (each has a regression test):

- submit() checks "shut down? exiting?" and enqueues under the pool's `_shutdown_lock`, and
  the exit hook posts its stop signal under that same lock, so an item is either refused
  (nothing enqueued, nothing runs) or queued ahead of the stop signal (it runs).
- No future is settled, and so no done-callback runs, while an executor lock is held: a
  callback may call submit() (it is refused, not deadlocked).
- A worker survives an error raised outside the user's call (the item's future gets it);
  the pool never silently loses capacity.
- Every lock is taken with `with` (a KeyboardInterrupt cannot land between acquiring and
  arming the release; on 3.9 alone, the interpreter still checks for signals between a
  with block's end and its __exit__ call, a window no Python code can close), except on
  submit()'s hot path, which takes the pool's RLock inside `try:` and ignores the
  RuntimeError of releasing a hold it never got, as _base does. The loops that settle
  drained items finish their work before re-raising a KeyboardInterrupt that landed in
  the middle (see _settle_all). What CPython's own
  Thread.start() does when interrupted is handled in _start_worker_locked.

Lock-free paths and the GIL (the one place this is argued for this module):

1. `_IdleTokens`: workers append without a lock; submit() checks and pops under
   `_shutdown_lock`. deque.append/deque.pop are single C calls, atomic under the GIL
   (and under the deque's own lock on a free-threaded build); since every pop holds
   `_shutdown_lock`, a deque found non-empty stays non-empty until the pop.
2. Workers read `executor._shutdown` and the module's `_exiting` without a lock, after
   taking a stop signal off the queue. Both flags are written before that signal is put,
   so the worker sees them set: the GIL orders the two, and on a free-threaded build the
   queue's own lock (put, then get) does. A stale False would turn the stop signal into
   a mere wake-up and lose it, so this ordering is load-bearing.
3. `_pool_finished` writes `executor._shutdown = True` without the lock: a plain store of
   a bool that only ever goes from False to True.
4. `len(self._threads)` and `self._threads` changes happen under `_shutdown_lock`; the
   join loops iterate over a copy.
"""

from __future__ import annotations

import itertools

try:  # footprint: the stdlib's thread module loads it, via _base
    import logging  # noqa: F401
except ImportError:  # a trimmed stdlib without logging: errors go to stderr (_stderr_log)
    pass
import os
import queue
import threading
import weakref

from . import _base
from ._defaults import AUTO, auto_workers, default_max_workers
from ._pending import SubmitTimeoutError as SubmitTimeoutError
from ._stats import ThreadPoolStatistics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Literal

    from . import _pending

_register_exit_hook = getattr(threading, "_register_atexit", None)
_DAEMON_WORKERS = _register_exit_hook is None

# Module state for interpreter exit. Guarded by _exit_lock; written by submit() (via
# _start_worker_locked) and by _python_exit(). Each live worker maps to its pool's work queue
# (`_threads_queues`: the stdlib's name and meaning, "the workers the exit hook wakes and
# joins"; `_detached_queues` for pools made with wait_at_exit=False: woken, their queue
# cancelled, never joined) and to its pool's `_shutdown_lock` (`_threads_locks`); not to
# the pool itself, which must stay collectable.
_exit_lock = threading.Lock()
_exiting = False
_threads_queues: weakref.WeakKeyDictionary[threading.Thread, queue.SimpleQueue[Any]] = (
    weakref.WeakKeyDictionary()
)
_detached_queues: weakref.WeakKeyDictionary[threading.Thread, queue.SimpleQueue[Any]] = (
    weakref.WeakKeyDictionary()
)
_threads_locks: weakref.WeakKeyDictionary[threading.Thread, threading.RLock] = (
    weakref.WeakKeyDictionary()
)


def __getattr__(name: str) -> Any:
    # Compatibility surface (docs/conformance.md): the stdlib's names for the exit state,
    # read-only here (assigning them changes nothing).
    if name == "_shutdown":
        return _exiting
    if name == "_global_shutdown_lock":
        return _exit_lock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _after_fork_in_child() -> None:
    # The child has only the thread that forked: the parent's workers do not exist here,
    # and a lock one of them held at the fork (the exit lock, a pool's lock) stays held
    # forever. The child's exit hook (multiprocessing runs it too) must not touch them.
    global _exit_lock
    _exit_lock = threading.Lock()
    _threads_queues.clear()
    _detached_queues.clear()
    _threads_locks.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _python_exit() -> None:
    global _exiting
    with _exit_lock:
        _exiting = True
        workers = list(_threads_queues.items())
        locks = [_threads_locks.get(thread) for thread, _ in workers]
        detached = {id(q): (q, _threads_locks.get(t)) for t, q in _detached_queues.items()}
    if detached:
        _cancel_detached(list(detached.values()))
    # One stop signal per pool, posted under the pool's lock (race 7 in docs/design.md): a
    # submit() holding that lock read `_exiting` before it was set and its item goes ahead
    # of the signal (and runs); a submit() taking the lock after us reads `_exiting` and
    # refuses. A worker that user code removed from `_threads_queues` is neither woken
    # nor joined (the stdlib's meaning of that registry).
    pools = {id(work_queue): (work_queue, lock) for (_, work_queue), lock in zip(workers, locks)}
    for work_queue, lock in pools.values():
        if lock is None:
            work_queue.put(None)
            continue
        with lock:
            work_queue.put(None)
    for thread, _ in workers:
        _join(thread)


if _register_exit_hook is not None:
    _register_exit_hook(_python_exit)
else:
    import atexit

    atexit.register(_python_exit)


def _cancel_detached(pools: list[tuple[Any, threading.RLock | None]]) -> None:
    """Exit hook, pools made with wait_at_exit=False: cancel their queued calls (nobody
    will run them) and post each pool's stop signal under its lock, as for the others
    (race 7: a racing submit() is refused, or its item is queued before the drain and
    cancelled here). Their workers are daemon threads and are not joined."""
    items: list[_WorkItem] = []
    for work_queue, lock in pools:
        if lock is None:
            continue  # user code removed its worker from the registry: leave it be
        with lock:
            try:
                items.extend(iter(work_queue.get_nowait, None))
            except queue.Empty:
                pass
            work_queue.put(None)
    _settle_all(items, _cancel_item)


def _join(thread: threading.Thread) -> None:
    """Join a worker. One whose start() was cut short by a KeyboardInterrupt before the
    thread ran cannot be joined, and has nothing to wait for."""
    try:
        thread.join()
    except RuntimeError:
        if thread is threading.current_thread():
            raise  # shutdown(wait=True) from one of the pool's own tasks, as in the stdlib


_Future = _base.Future  # submit() makes one per call: spare it the module lookup


def _refusing(executor: ThreadPoolExecutor) -> bool:
    """max_pending's wait ends: submit() refuses now (it raises), or the caller is one of
    the pool's workers (a call or a done-callback: waiting there could wait forever)."""
    return executor._shutdown or _exiting or threading.current_thread() in executor._threads


class BrokenThreadPool(_base.BrokenExecutor):
    """A worker thread failed its initializer; the pool runs nothing more.

    Message: `"A thread initializer failed, the thread pool is not usable anymore"`. The
    queued futures fail with it, and so does every later `submit()`. The pool's `_broken`
    attribute holds the message (or is `False`).
    """


class _WorkItem(tuple):  # type: ignore[type-arg]
    """One submitted call: the tuple (future, fn, args, kwargs).

    A tuple subclass, so that making one in submit() (a hot path) is a single C-level
    call rather than a Python __init__.
    """

    __slots__ = ()

    @property
    def future(self) -> _base.Future[Any]:
        return self[0]  # type: ignore[no-any-return]

    def run(self) -> None:
        future, fn, args, kwargs = self
        if not future.set_running_or_notify_cancel():
            return
        try:
            outcome = fn(*args, **kwargs)
        except BaseException as exc:
            future.set_exception(exc)
            # The traceback references this frame: drop the frame's references to the
            # future (and so to the exception) and to the call, or frame, future and
            # exception form a cycle that keeps this worker's whole stack, thread object
            # included, alive, and the call's arguments with it.
            del future, self, fn, args, kwargs
        else:
            future.set_result(outcome)


def _cancel_item(item: _WorkItem) -> None:
    """Settle a drained item as cancelled. Idempotent (see _settle_all)."""
    _base._cancel_and_notify(item.future)


def _fail_item(item: _WorkItem, error: BaseException) -> None:
    """Settle a drained (or half-run) item with `error`, unless it is settled. Idempotent."""
    future = item.future
    state = future._state
    if state == _base.PENDING or state == _base.CANCELLED:
        if not future.set_running_or_notify_cancel():
            return
        state = _base.RUNNING
    if state == _base.RUNNING:
        future.set_exception(error)


def _settle_all(items: list[_WorkItem], settle: Callable[[_WorkItem], None]) -> None:
    """settle(item) for every item, then empty the list; no executor lock is held (the
    futures' done-callbacks run here, and may call submit()).

    A KeyboardInterrupt landing in the middle is re-raised only once every item is
    settled: the items were taken off the queue, so nobody else would ever settle them and
    whoever waits on their futures would hang. settle() is idempotent, so an item cut off
    half way is settled again, and a list left non-empty by an interrupt landing after
    the loop is finished by the next call. An ordinary exception from settle() (a future
    put in an impossible state by its user) is logged and skips that item.
    """
    interrupted: BaseException | None = None
    done = 0
    while done < len(items):
        try:
            while done < len(items):
                settle(items[done])
                done += 1
        except BaseException as exc:
            if isinstance(exc, Exception):
                done += 1
                _base._get_logger().critical("Exception settling a work item", exc_info=True)
            elif interrupted is None:
                interrupted = exc
    del items[:done]
    if interrupted is not None:
        raise interrupted


class _IdleTokens:
    """A count of idle workers: a deque of tokens.

    A worker adds one (release, a C-level callable: a partial of deque.append, so a worker
    marks itself idle without a Python frame and without a reference to the pool). Only
    submit() takes them, under the pool's `_shutdown_lock`, inline (`if tokens:
    tokens.pop()`): the pops are serialised by that lock and the appends cannot empty the
    deque, so the pop cannot fail. acquire() is the semaphore-like interface for code
    outside the pool (tests); it takes the same lock.
    """

    __slots__ = ("_tokens", "_lock", "release")

    def __init__(self, lock: threading.RLock) -> None:
        from collections import deque
        from functools import partial

        self._tokens: Any = deque()
        self._lock = lock
        self.release: Callable[[], None] = partial(self._tokens.append, None)

    @property
    def _value(self) -> int:
        """The count, under threading.Semaphore's attribute name (code in the wild reads
        `executor._idle_semaphore._value` to see how many workers are idle)."""
        return len(self._tokens)

    def acquire(self, blocking: bool = False, timeout: float | None = 0) -> bool:
        if blocking and timeout != 0:
            raise ValueError("idle tokens are only ever taken without blocking")
        with self._lock:
            if self._tokens:
                self._tokens.pop()
                return True
        return False


def _checked_max_workers(max_workers: int | str | None) -> int:
    if max_workers is None:
        return default_max_workers()
    if max_workers == AUTO:  # sized by futures_impl.cpu_count(); other strings: below
        return auto_workers(AUTO, threads=True)
    value: Any = max_workers  # another string fails this `<=` with the stdlib's TypeError
    if value <= 0:
        raise ValueError("max_workers must be greater than 0")
    return value  # type: ignore[no-any-return]  # a float is kept, as the stdlib keeps it


def _pool_finished(executor_ref: weakref.ref[ThreadPoolExecutor]) -> bool:
    """Should a worker that read the stop signal leave (rather than treat it as a wake-up)?"""
    executor = executor_ref()
    if executor is None:
        return True
    if _exiting:
        # As in the stdlib: the exiting interpreter shuts the pool down, so a late submit()
        # (from an atexit hook) hears "after shutdown".
        executor._shutdown = True
        return True
    return executor._shutdown


def _run_initializer(
    executor_ref: weakref.ref[ThreadPoolExecutor],
    initializer: Callable[..., object],
    initargs: tuple[Any, ...],
) -> bool:
    try:
        initializer(*initargs)
        return True
    except BaseException:
        _base._get_logger().critical("Exception in initializer:", exc_info=True)
    executor = executor_ref()
    if executor is not None:
        executor._initializer_failed()
    return False


def _worker(
    executor_ref: weakref.ref[ThreadPoolExecutor],
    work_queue: queue.SimpleQueue[_WorkItem | None],
    mark_idle: Callable[[], None],
    initializer: Callable[..., object] | None,
    initargs: tuple[Any, ...],
) -> None:
    if initializer is not None and not _run_initializer(executor_ref, initializer, initargs):
        return
    take = work_queue.get
    item: _WorkItem | None = None
    while True:
        try:
            while True:
                item = take()
                if item is None:
                    if _pool_finished(executor_ref):
                        work_queue.put(None)  # pass the stop signal on to a sibling
                        return
                    continue
                item.run()
                # Drop the item (and so its future) before blocking again, so that results
                # the caller has let go of can be collected.
                item = None
                mark_idle()
        except BaseException as exc:
            # An error outside the user's call (the call's own errors are the future's):
            # log it as the stdlib does, settle the item, and go on serving; a worker
            # that died here would shrink the pool for good and could leave it to hang.
            _base._get_logger().critical("Exception in worker", exc_info=True)
            if item is not None:
                try:
                    _fail_item(item, exc)
                except BaseException:
                    pass  # the future is in a state nobody can settle: nothing to wait on
                item = None


class WorkerContext:
    """Per-worker state of a pool: the 3.14 extension point InterpreterPoolExecutor uses.

    A subclass overriding ThreadPoolExecutor.prepare_context gets one context per worker
    thread: made and initialize()d when the thread starts (the initializer runs there; a
    failure breaks the pool with the class's BROKEN), run(task) for each call, finalize()d
    when the thread leaves, whatever happened. submit() turns (fn, args, kwargs) into a
    task with resolve_task, in the caller's thread. The plain pool does not use contexts:
    its workers call fn(*args, **kwargs) directly, which is what this base class does.
    """

    @classmethod
    def prepare(
        cls, initializer: Callable[..., object] | None, initargs: tuple[Any, ...], **ctxkwargs: Any
    ) -> tuple[Callable[[], WorkerContext], Callable[..., Any]]:
        """(create_context, resolve_task) for a pool; extra keyword arguments are the
        subclass's own (this base class takes none)."""
        if ctxkwargs:
            raise TypeError(f"unexpected context arguments: {', '.join(sorted(ctxkwargs))}")

        def create_context() -> WorkerContext:
            return cls(initializer, initargs)

        def resolve_task(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            return (fn, args, kwargs)

        return create_context, resolve_task

    def __init__(self, initializer: Any, initargs: tuple[Any, ...]) -> None:
        self.initializer = initializer
        self.initargs = initargs

    def initialize(self) -> None:
        """In the worker thread, when it starts: runs the initializer."""
        if self.initializer is not None:
            self.initializer(*self.initargs)

    def finalize(self) -> None:
        """In the worker thread, when it leaves, whatever happened."""

    def run(self, task: Any) -> Any:
        """Run one task (what `resolve_task` made of a call) and return its value."""
        fn, args, kwargs = task
        return fn(*args, **kwargs)


# Written once by each worker of a pool with contexts (_context_worker), read by its calls.
_worker_context = threading.local()


def _run_in_worker_context(task: Any) -> Any:
    return _worker_context.current.run(task)


def _context_worker(
    executor_ref: weakref.ref[ThreadPoolExecutor],
    work_queue: queue.SimpleQueue[_WorkItem | None],
    mark_idle: Callable[[], None],
    create_context: Callable[[], WorkerContext],
    initargs: tuple[Any, ...],
) -> None:
    """The worker of a pool with per-worker contexts (see WorkerContext): _worker's loop,
    between making and initializing this thread's context (a failure is the pool's
    initializer failing) and finalizing it."""
    made: list[WorkerContext] = []

    def set_up() -> None:
        made.append(create_context())
        made[0].initialize()

    try:
        if _run_initializer(executor_ref, set_up, ()):
            _worker_context.current = made[0]
            _worker(executor_ref, work_queue, mark_idle, None, ())
    finally:
        _worker_context.current = None
        for context in made:
            try:
                context.finalize()
            except BaseException:
                _base._get_logger().critical("Exception finalizing a worker:", exc_info=True)


class ThreadPoolExecutor(_base.Executor):
    """An executor that runs each call on one of up to `max_workers` threads.

    Threads start on demand: `submit()` starts a new thread only when no idle thread is
    available and fewer than `max_workers` exist. `map()` is `Executor.map` (`chunksize`
    is ignored).

    At interpreter exit every worker is joined once its queue is drained; a `submit()`
    after that point raises the "interpreter shutdown" `RuntimeError`. In embedded
    interpreters without `threading._register_atexit`, workers are daemon threads and an
    `atexit` hook joins them.

    `repr()` (differs from the stdlib's):
    `<ThreadPoolExecutor at 0x... state=running workers=<n>/<max_workers> idle=<i> queued=<q>>`,
    the fields of `statistics()`; the state is `running`, `shut down` or `broken`.

    Subclasses: an override of `_adjust_thread_count()` is called once per `submit()`,
    after the call is queued, under `_shutdown_lock`; `super()._adjust_thread_count()`
    uses an idle worker or starts one. Replacing `_work_queue` after `__init__` (e.g. a
    bounded `queue.Queue`) takes effect. `prepare_context()` and `BROKEN` are 3.14's
    extension points (see `WorkerContext`).
    """

    # The 3.14 extension points (see WorkerContext): the error of a broken pool, and
    # whether this class runs its calls in per-worker contexts (prepare_context overridden).
    BROKEN: type[BrokenThreadPool] = BrokenThreadPool
    _per_worker_context = False
    _create_context: Callable[[], WorkerContext] | None = None
    _resolve_task: Callable[..., Any]

    _pool_counter = itertools.count().__next__
    # max_pending's state (futures_impl/_pending.py), or None: set once in __init__.
    _pending_limit: _pending.PendingLimit | None = None

    # Fields: _shutdown, _broken and _threads are written under _shutdown_lock by the
    # submitting/shutting-down threads (and _broken by a worker whose initializer failed);
    # workers read _shutdown without the lock (a stale read only delays their exit until
    # the next wake-up). _work_queue and _idle_semaphore are thread-safe by themselves.
    # Most fields carry the stdlib's names because CPython's suites and user code read
    # them: the compatibility surface section below and docs/conformance.md list them.

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass that overrides _adjust_thread_count() expects submit() to call it
        # after queuing each call, under _shutdown_lock, as the stdlib's does. Our submit()
        # does that work inline (no call per task), so such a subclass gets a submit()
        # that calls the hook instead; the base class pays nothing for it.
        super().__init_subclass__(**kwargs)
        if (
            cls._adjust_thread_count is not ThreadPoolExecutor._adjust_thread_count
            and cls.submit is ThreadPoolExecutor.submit
        ):
            cls.submit = ThreadPoolExecutor._submit_adjusting  # type: ignore[method-assign]
        # prepare_context overridden: calls become tasks run by per-worker contexts; the
        # default pool never pays for this.
        prepare = cls.__dict__.get("prepare_context")
        if prepare is not None or cls._per_worker_context:
            cls._per_worker_context = True
            if cls.submit in (ThreadPoolExecutor.submit, ThreadPoolExecutor._submit_adjusting):
                cls._submit_task = cls.submit
                cls.submit = ThreadPoolExecutor._submit_in_context  # type: ignore[method-assign]
            elif cls._adjust_thread_count is not ThreadPoolExecutor._adjust_thread_count:
                cls._submit_task = ThreadPoolExecutor._submit_adjusting

    @classmethod
    def prepare_context(
        cls, initializer: Callable[..., object] | None, initargs: tuple[Any, ...], **ctxkwargs: Any
    ) -> tuple[Callable[[], WorkerContext], Callable[..., Any]]:
        """(create_context, resolve_task): see WorkerContext. Overriding it gives the
        subclass per-worker contexts; extra keyword arguments reach it through
        _set_up_contexts (3.14 passes them from __init__, which the stdlib's earlier
        versions do not take)."""
        return WorkerContext.prepare(initializer, initargs, **ctxkwargs)

    def _set_up_contexts(
        self, initializer: Any, initargs: tuple[Any, ...], **ctxkwargs: Any
    ) -> None:
        self._create_context, self._resolve_task = type(self).prepare_context(
            initializer, initargs, **ctxkwargs
        )

    def __init__(
        self,
        max_workers: int | str | None = None,
        thread_name_prefix: str = "",
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        *,
        wait_at_exit: bool = True,
        cancel_on_error: bool = False,
        copy_context: bool = False,
        max_pending: int | None = None,
        submit_timeout: float | None = None,
        log_unretrieved: bool = False,
    ) -> None:
        """The stdlib's arguments, then futures_impl's own (keyword-only, off by default).

        Args:
            max_workers: The most threads. Default: `min(32, (cpus or 1) + 4)`, where
                `cpus` is `os.process_cpu_count()` if it exists (3.13+), else
                `os.cpu_count()`. `"auto"` (futures_impl only):
                `min(32, futures_impl.cpu_count() + 4)`, which honours the CPU affinity
                and the cgroup CPU quota.
            thread_name_prefix: Threads are named `<prefix>_<n>`. Default prefix:
                `ThreadPoolExecutor-<k>`, `k` counting pools per process from 0.
            initializer: Called as `initializer(*initargs)` first by each worker thread.
                If it raises: CRITICAL `Exception in initializer:` is logged (with the
                traceback), the pool becomes broken and shut down, and the queued futures
                and every later `submit()` fail with `BrokenThreadPool`.
            initargs: The initializer's arguments.
            wait_at_exit: `False` (futures_impl only): the interpreter does not wait at
                exit for this pool's running calls (its workers are daemon threads;
                gh-80961, gh-86575); its queued calls are cancelled at exit.
            cancel_on_error: `True` (futures_impl only): an exception leaving a `with`
                block on the pool cancels the queued calls before `__exit__` waits for the
                running ones (gh-130975).
            copy_context: `True` (futures_impl only): each call runs in a copy of the
                submitter's `contextvars` context, taken at `submit()` (`Context.run`):
                the call sees the submitter's values; what it sets stays in its copy.
                Off: as in the stdlib, a call runs in its worker thread's own context.
            max_pending: `N` (futures_impl only): `submit()` (and so `map()`) waits while
                `N` calls wait in the pool, submitted and not yet started (a call gives its
                room back as its worker starts it, or when its future is cancelled or fails
                first), so memory stays bounded by `N` queued calls. A call or
                done-callback running on one of the pool's own workers never waits (it
                would wait for itself): it goes over the limit. A cancelled call frees its
                room at once but stays in the queue until a worker discards it, so
                `statistics().queued` may count it.
            submit_timeout: Seconds `submit()` may wait for room (`None`: no limit); then
                it raises `SubmitTimeoutError` and queues nothing. A wait also ends when
                the pool is shut down or broken: `submit()` then raises its usual error.
            log_unretrieved: `True` (futures_impl only): a future of this pool that failed
                and is garbage-collected before anyone called its `result()` or
                `exception()` (a done-callback alone does not count, as in asyncio) logs
                its exception once at ERROR: `Future exception was never retrieved`, then
                `future: <Future ... raised <Type>>`, with the traceback. Off: futures are
                plain `Future`s, at no cost.

        Raises:
            ValueError: `"max_workers must be greater than 0"`;
                `"max_pending must be at least 1"`; `"submit_timeout needs max_pending"`;
                `"submit_timeout must be None or a number >= 0"`.
            TypeError: `"max_workers must be an int, None or 'auto', not '<s>'"` for
                another string; `"initializer must be a callable"`;
                `"max_pending must be an int or None"`.
        """
        self._max_workers = _checked_max_workers(max_workers)
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        # Reentrant only so that submit() can take it inside `try:` (an interrupted acquire
        # then makes release() raise RuntimeError instead of freeing another thread's hold).
        self._shutdown_lock = threading.RLock()
        self._work_queue = queue.SimpleQueue()  # also sets _enqueue (see the property)
        self._idle_semaphore = _IdleTokens(self._shutdown_lock)
        self._idle_tokens = self._idle_semaphore._tokens  # submit() pops these inline
        self._threads: set[threading.Thread] = set()
        self._broken: str | bool = False
        self._shutdown = False
        # Items shutdown(cancel_futures=True) took off the queue and has yet to settle:
        # filled under _shutdown_lock, emptied by _settle_all (no lock; see there).
        self._cancelling: list[_WorkItem] = []
        # Both under _shutdown_lock, written by submitters (see _start_worker_locked): workers whose
        # start() a KeyboardInterrupt cut short, and whether any of them is still alive.
        self._interrupted_starts: set[threading.Thread] = set()
        self._start_interrupted = False
        self._thread_name_prefix = thread_name_prefix or (
            f"ThreadPoolExecutor-{self._pool_counter()}"
        )
        self._initializer = initializer
        self._initargs = initargs
        self._wait_at_exit = bool(wait_at_exit)
        self._cancel_on_error = bool(cancel_on_error)
        if copy_context or max_pending is not None or submit_timeout is not None:
            self._install_submit_options(bool(copy_context), max_pending, submit_timeout)
        if self._per_worker_context:
            self._set_up_contexts(initializer, initargs)
        if log_unretrieved:  # last: it wraps whatever submit() the options above chose
            from ._unretrieved import hand_out_logging_futures

            hand_out_logging_futures(self, "submit")

    def _install_submit_options(
        self, copy_context: bool, max_pending: int | None, submit_timeout: float | None
    ) -> None:
        """copy_context/max_pending (futures_impl/_pending.py): an instance attribute
        `submit` wrapping the class's, chosen once here; the default pool has none."""
        from . import _pending

        _pending.checked_limit(max_pending, submit_timeout)
        if max_pending is not None:
            self._pending_limit = _pending.PendingLimit(
                self._shutdown_lock, max_pending, submit_timeout
            )
        self.submit = _pending.thread_submit(  # type: ignore[method-assign]
            self, copy_context, self._pending_limit, _refusing
        )

    def __exit__(self, *exc_info: object) -> Literal[False]:
        if exc_info and exc_info[0] is not None and getattr(self, "_cancel_on_error", False):
            self.shutdown(wait=True, cancel_futures=True)
        else:
            self.shutdown(wait=True)  # as the stdlib calls it (subclasses may override)
        return False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> _base.Future[Any]:
        """Schedule fn(*args, **kwargs) on a worker thread and return its Future.

        Raises:
            BrokenThreadPool: `"A thread initializer failed, the thread pool is not usable
                anymore"` (checked first).
            RuntimeError: `"cannot schedule new futures after shutdown"`, then
                `"cannot schedule new futures after interpreter shutdown"`.
            SubmitTimeoutError: With `max_pending` and `submit_timeout`: no room in time.
        """
        # The hot path: not `with` (about 60 ns more per call on 3.9-3.13) but the RLock
        # form _base uses, equally safe against an interrupt (see the module header).
        lock = self._shutdown_lock
        try:
            lock.acquire()
            if self._shutdown or _exiting:  # _shutdown is also set when _broken is
                raise self._refusal_locked()
            # _python_exit posts its stop signal under this lock, so it goes after the item.
            future: _base.Future[Any] = _Future()
            item = _WorkItem((future, fn, args, kwargs))
            self._enqueue(item)
            tokens = self._idle_tokens
            if tokens:
                tokens.pop()  # an idle worker will take the item
            elif len(self._threads) < self._max_workers or (
                self._start_interrupted and self._forget_dead_workers_locked()
            ):
                self._start_worker_locked(item)
            return future
        finally:
            try:
                lock.release()
            except RuntimeError:  # the acquire itself was interrupted: nothing held
                pass


    def _submit_adjusting(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> _base.Future[Any]:
        """submit() for subclasses that override _adjust_thread_count (see
        __init_subclass__): the same checks, then the hook instead of the inline code."""
        with self._shutdown_lock:
            if self._shutdown or _exiting:
                raise self._refusal_locked()
            future: _base.Future[Any] = _Future()
            item = _WorkItem((future, fn, args, kwargs))
            self._enqueue(item)
            try:
                self._adjust_thread_count()
            except BaseException:
                if not self._threads:  # no worker will ever run it: submit() had no effect
                    self._take_back_locked(item)
                raise
            return future

    _submit_adjusting.__doc__ = _base.Executor.submit.__doc__

    _submit_task = submit  # the submit() _submit_in_context hands its tasks to

    def _submit_in_context(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> _base.Future[Any]:
        """submit() for subclasses with per-worker contexts: the call is resolved into a
        task here, in the caller's thread (a call that cannot be sent fails now), and the
        worker that takes it runs it in its own context."""
        task = self._resolve_task(fn, args, kwargs)
        return self._submit_task(_run_in_worker_context, task)

    _submit_in_context.__doc__ = _base.Executor.submit.__doc__

    def _refusal_locked(self) -> Exception:
        """Why submit() refuses a call: broken, shut down, or the interpreter exiting."""
        if self._broken:
            return self.BROKEN(self._broken)
        if self._shutdown:
            return RuntimeError("cannot schedule new futures after shutdown")
        return RuntimeError("cannot schedule new futures after interpreter shutdown")

    def _start_worker_locked(self, item: _WorkItem | None) -> None:
        """Start one more worker for `item`, just queued. Caller holds _shutdown_lock.

        The item is queued first so that the new thread finds it at once. If no worker
        can be started, the pool still runs the item when it has another worker (the
        exit hook's stop signal, if any, is queued behind it); when it has none, the item
        is taken back and submit() raises: a refused submit() has no effect.
        """
        work_queue = self._work_queue

        def wake_workers_when_collected(_: object, q: queue.SimpleQueue[Any] = work_queue) -> None:
            q.put(None)

        thread = threading.Thread(
            name=f"{self._thread_name_prefix}_{len(self._threads)}",
            target=_worker if self._create_context is None else _context_worker,
            args=(
                weakref.ref(self, wake_workers_when_collected),
                work_queue,
                self._idle_semaphore.release,
                self._initializer if self._create_context is None else self._create_context,
                self._initargs,
            ),
            daemon=_DAEMON_WORKERS or not self._wait_at_exit,
        )
        registry = _threads_queues if self._wait_at_exit else _detached_queues
        with _exit_lock:
            if _exiting:
                error: Exception | None = RuntimeError(
                    "cannot schedule new futures after interpreter shutdown"
                )
            else:
                error = None
                # Registered before it starts: a KeyboardInterrupt landing inside start()
                # (which waits for the thread to run) must not leave a running worker
                # that shutdown() and the exit hook do not know about (see _join).
                registry[thread] = work_queue
                _threads_locks[thread] = self._shutdown_lock
                self._threads.add(thread)
                try:
                    thread.start()
                except BaseException as exc:
                    if thread in threading.enumerate():
                        # The thread exists: a KeyboardInterrupt cut start() short while
                        # it waited for the thread to run (CPython's Condition.wait() may
                        # turn it into "release unlocked lock"), and it may also have
                        # killed the new thread before it ran our code. The next
                        # submit() that finds the pool full checks for such a dead
                        # worker (_forget_dead_workers_locked). The item stays queued.
                        self._interrupted_starts.add(thread)
                        self._start_interrupted = True
                        raise
                    # It never ran: "can't start new thread" and the like.
                    self._threads.discard(thread)
                    registry.pop(thread, None)
                    _threads_locks.pop(thread, None)
                    if not isinstance(exc, Exception):
                        raise
                    error = exc
        if error is not None and not self._threads:
            if item is not None:
                self._take_back_locked(item)
            raise error

    def _take_back_locked(self, item: _WorkItem) -> None:
        # The pool has no worker, so nobody else reads the queue. Caller holds the lock.
        others: list[_WorkItem] = []
        self._drain_into_locked(others)
        for other in others:
            if other is not item:
                self._work_queue.put(other)

    def _forget_dead_workers_locked(self) -> bool:
        """After an interrupted start(): drop workers that died before running. Caller holds
        _shutdown_lock. True if that made room for a new worker."""
        dead = {t for t in self._threads if t.ident is not None and not t.is_alive()}
        self._threads -= dead
        self._interrupted_starts -= {t for t in self._interrupted_starts if not t.is_alive()}
        # Invariant: the flag stays set while an interrupted thread lives: it may still die
        # without serving, and the next full-pool submit() must then replace it.
        self._start_interrupted = bool(self._interrupted_starts)
        return len(self._threads) < self._max_workers

    def _drain_into_locked(self, items: list[_WorkItem]) -> None:
        """Move the queued items, up to the first stop signal (consumed), into `items`.

        Caller holds _shutdown_lock and settles them after releasing it. One C-level call:
        a KeyboardInterrupt lands before or after it, never between taking an item off the
        queue and recording it. No item is ever queued behind a stop signal: signals are
        posted once the pool is shut down (or collected, or the interpreter exits).
        """
        try:
            items.extend(iter(self._work_queue.get_nowait, None))
        except queue.Empty:
            pass

    def _initializer_failed(self) -> None:
        items: list[_WorkItem] = []
        with self._shutdown_lock:
            self._broken = "A thread initializer failed, the thread pool is not usable anymore"
            self._shutdown = True
            self._drain_into_locked(items)
            self._work_queue.put(None)  # let idle siblings see the pool is done for
            if self._pending_limit is not None:
                self._pending_limit.wake_all_locked()  # blocked submit()s: refused now
        broken, broken_type = self._broken, self.BROKEN
        _settle_all(items, lambda item: _fail_item(item, broken_type(broken)))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new work; optionally cancel the queued calls; optionally join the workers.

        Args:
            wait: Join every worker before returning (the running and queued calls
                finish first).
            cancel_futures: Cancel the calls still queued. They end
                `CANCELLED_AND_NOTIFIED` by the time this returns (with `wait=False` too),
                so `wait()`/`as_completed()` on them return; the stdlib leaves them
                `CANCELLED`, where those hang (cpython#136655): a difference on purpose.

        Calling it again is harmless.
        """
        with self._shutdown_lock:
            self._shutdown = True
            if cancel_futures:
                self._drain_into_locked(self._cancelling)
            self._work_queue.put(None)
            if self._pending_limit is not None:
                self._pending_limit.wake_all_locked()  # blocked submit()s: refused now
        # Settle fully (so wait()/as_completed() on them do not hang), outside the lock;
        # this also finishes what a shutdown() cut short by Ctrl-C left in _cancelling.
        if self._cancelling:
            _settle_all(self._cancelling, _cancel_item)
        if wait:
            for thread in list(self._threads):
                _join(thread)


    def statistics(self) -> ThreadPoolStatistics:
        """A snapshot of the pool: state, max_workers, workers (alive), idle, queued.

        Read under the pool's lock, from state the pool keeps anyway (nothing is counted
        per task): workers and idle may already differ by the time it is returned.

        Returns:
            An immutable, comparable `ThreadPoolStatistics` (with `as_dict()`); there are
            no submitted/completed totals. futures_impl only.
        """
        with self._shutdown_lock:
            state = "broken" if self._broken else "shut down" if self._shutdown else "running"
            workers = sum(1 for t in self._threads if t.is_alive())
            idle = min(len(self._idle_tokens), workers)
            return ThreadPoolStatistics(
                state, self._max_workers, workers, idle, self._work_queue.qsize()
            )

    def __repr__(self) -> str:
        stats = self.statistics()
        return (
            f"<{type(self).__name__} at {id(self):#x} state={stats.state}"
            f" workers={stats.workers}/{stats.max_workers} idle={stats.idle}"
            f" queued={stats.queued}>"
        )

    # -- compatibility surface ------------------------------------------------------------
    # Kept because CPython's suites or user code reach them (docs/conformance.md, "The
    # compatibility surface", says who and why). Fields with the stdlib's names and
    # meaning, set in __init__: _max_workers, _threads, _broken, _shutdown,
    # _shutdown_lock, _idle_semaphore, _thread_name_prefix, _initializer, _initargs.

    @property
    def _work_queue(self) -> Any:
        """The queue workers take calls from. Subclasses in the wild replace it after
        __init__ (a bounded queue.Queue, so that submit() blocks when it is full): the
        setter re-binds submit()'s `_enqueue`, so the calls go where new workers read."""
        return self._queue

    @_work_queue.setter
    def _work_queue(self, work_queue: Any) -> None:
        self._queue = work_queue
        self._enqueue = work_queue.put

    def _adjust_thread_count(self) -> None:
        """After a call is queued: let an idle worker take it, else start a worker if the
        pool has fewer than max_workers. Caller holds _shutdown_lock. submit() does this
        inline; it calls this method only when a subclass overrides it (__init_subclass__),
        so an override that calls super()._adjust_thread_count() works as in the stdlib."""
        tokens = self._idle_tokens
        if tokens:
            tokens.pop()
        elif len(self._threads) < self._max_workers or (
            self._start_interrupted and self._forget_dead_workers_locked()
        ):
            self._start_worker_locked(None)
