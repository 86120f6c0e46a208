"""ProcessPoolExecutor: calls run in worker processes; one manager thread per pool.

This module is the facade: the executor class, the stdlib's module-level names, and the
interpreter-exit hook. The machinery lives in `futures_impl/_process/` (docs/process.md
has the whole design and the data flow):

    errors.py   BrokenProcessPool, _RemoteTraceback, the one traceback formatter, messages
    wire.py     the wire format: framing, call/result messages, the pickler (both ends),
                the Codec of another serializer (serializer=)
    hooks.py    worker_state=/worker_exit= in the worker; worker_state(), pass_worker_state
    limits.py   the system's limits and the constructor's argument checks
    pool.py     the parent's state: worker records, dispatch, spawning, breaking
    writer.py   the call writer thread (CallQueue): call frames too big to write inline
    manager.py  the manager thread's loop: results in, futures settled, exits reaped
    worker.py   the body of a worker process
    wakeup.py   the manager's wake-up pipe (_ThreadWakeup)
    chunks.py   map(chunksize>1): arguments in chunks, results flattened
    robust.py   task_timeout/submit_with(timeout=), cancel_running, survive_worker_death
    future.py   PoolFuture, the future of pools whose options need it to reach the pool
    interrupt.py  stop_on_interrupt=, cancel_on_error=

Imports go one way (errors <- wire <- worker <- pool <- robust <- manager <- this facade;
limits, wakeup, writer and chunks are leaves); nothing in `_process/` imports this module.

Who writes what: `_Pool`'s fields are under `_Pool.lock` (pool.py says who writes each);
`_live_lock` guards `_global_shutdown` and `_live_pools` below. Lock-free paths that rely
on the GIL (single loads/stores of whole values): the weakref callback stores
`owner_gone`; shutdown() and that callback read `started`/`finished`; submit() reads
`_global_shutdown` (written under _live_lock) and `break_later`/`new_workers` after
releasing the pool lock, only to decide a wake-up. Every lock is taken with `with`.

Importing this module loads what the stdlib's process module loads (multiprocessing,
its connection and queues modules...), each where it can: the module still imports in
interpreters without `_multiprocessing`; creating an executor there raises
NotImplementedError (see _check_system_limits()).
"""

from __future__ import annotations

import atexit
import itertools

try:  # footprint: the stdlib's process module loads it, via _base
    import logging  # noqa: F401
except ImportError:  # a trimmed stdlib without logging: errors go to stderr (_stderr_log)
    pass
import os
import threading
import weakref
from functools import partial

# The stdlib's process module imports these at import time and code relies on them
# being loaded (multiprocessing.connection.wait after a plain `import multiprocessing`).
# Each may be missing in a trimmed interpreter without _multiprocessing: then this
# module still imports, and creating an executor says what is missing.
try:
    import multiprocessing.connection
except ImportError:  # pragma: no cover - interpreters without _multiprocessing
    pass
try:
    import multiprocessing.queues  # noqa: F401
except ImportError:  # pragma: no cover - interpreters without _multiprocessing
    pass

from . import _base
from ._pending import SubmitTimeoutError as SubmitTimeoutError
from ._process import hooks
from ._process.chunks import chunks as split_in_chunks
from ._process.chunks import flatten
from ._process.errors import BrokenProcessPool as BrokenProcessPool
from ._process.errors import TaskTimeoutError as TaskTimeoutError
from ._process.errors import WorkerDiedError as WorkerDiedError
from ._process.errors import _RemoteTraceback as _RemoteTraceback
from ._process.future import new_future
from ._process.hooks import pass_worker_state as pass_worker_state
from ._process.hooks import worker_state as worker_state
from ._process.limits import _MAX_WINDOWS_WORKERS as _MAX_WINDOWS_WORKERS
from ._process.limits import _check_system_limits as _check_system_limits
from ._process.limits import check_max_tasks, checked_timeout, context_for, worker_count
from ._process.wakeup import _ThreadWakeup as _ThreadWakeup
from ._process.wire import dumps, encode_call, make_codec
from ._process.worker import Announced, process_chunk
from ._stats import ProcessPoolStatistics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess
    from typing import Any, Literal, TypeVar

    from ._pending import PendingLimit
    from ._process.pool import _Pool

    _T = TypeVar("_T")
    _P = TypeVar("_P", bound="ProcessPoolExecutor")

# -- compatibility surface (module) -----------------------------------------------------
# Names CPython's suites or user code reach here (docs/conformance.md, "The compatibility
# surface", says who and why): BrokenProcessPool, _RemoteTraceback, _ThreadWakeup (patched
# here: the executor looks it up at construction), _check_system_limits,
# _MAX_WINDOWS_WORKERS (imported above), EXTRA_QUEUED_CALLS, _ExecutorManagerThread
# (its run() is patched), _spawn_worker (patched), _python_exit, _TERMINATE/_KILL.

# The stdlib's knob, read when an executor is created: beyond the calls running in the
# workers, a pool commits at most max_workers + EXTRA_QUEUED_CALLS calls (RUNNING, no
# longer cancellable). Larger: more throughput for tiny calls, fewer calls cancellable.
EXTRA_QUEUED_CALLS = 1
_TERMINATE = "terminate"
_KILL = "kill"
_SHUTDOWN_OPERATIONS = frozenset((_TERMINATE, _KILL))


def _spawn_worker(ctx: BaseContext, target: Callable[..., None],
                  args: tuple[Any, ...]) -> BaseProcess:
    """Start one worker process. A seam: CPython's newest tests patch this name."""
    process: BaseProcess = ctx.Process(target=target, args=args)  # type: ignore[attr-defined]
    process.start()
    return process


def _spawn(ctx: BaseContext, target: Callable[..., None], args: tuple[Any, ...]) -> BaseProcess:
    """What the pool is given to start workers: `_spawn_worker` looked up per call, so a
    patched one is used (the pool does not import this module)."""
    return _spawn_worker(ctx, target, args)


class _ExecutorManagerThread(threading.Thread):
    """Reads results, settles futures, reaps and replaces workers; run() is the body."""

    def __init__(self, pool: _Pool) -> None:
        super().__init__(name="ProcessPoolManager", daemon=True)
        self._pool = pool
        # The executor's weakref, kept alive here: a weakref that dies with its referent
        # (as one held only by the executor does in a cycle, and always on PyPy) calls no
        # callback, and the manager would never learn that its owner is gone.
        self.owner_ref: weakref.ref[Any] | None = None

    def run(self) -> None:
        # Deferred like the pool (see ProcessPoolExecutor.__init__); loaded by then.
        from ._process.manager import run

        try:
            run(self._pool, _is_exiting)
        finally:
            with _live_lock:
                _live_pools.pop(self._pool, None)


# -- interpreter exit ---------------------------------------------------------------------
# Guarded by _live_lock; written by the first submit() of each pool, by the manager thread
# when it ends, and by _python_exit().
_live_lock = threading.Lock()
_global_shutdown = False
_live_pools: dict[_Pool, _ExecutorManagerThread] = {}


def _is_exiting() -> bool:
    return _global_shutdown


def _python_exit() -> None:
    global _global_shutdown
    with _live_lock:
        _global_shutdown = True
        items = list(_live_pools.items())
    for pool, _ in items:
        pool.wakeup.wakeup()
    for pool, thread in items:
        thread.join()
        pool.call_queue.join_thread()


def _after_fork_in_child() -> None:
    # A forked child (a fork worker, or a user's own fork) inherits the exit hook and this
    # registry: the parent's pools, whose manager threads do not exist here and whose
    # locks (a wake-up's, the registry's) another parent thread may have held at the
    # fork, held forever in the child. multiprocessing runs the exit hooks when a fork
    # worker ends: they must see only the child's own pools (none, in a worker).
    global _live_lock
    _live_lock = threading.Lock()
    _live_pools.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

try:
    threading._register_atexit(_python_exit)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):  # no exit hooks in threading (other VMs)
    atexit.register(_python_exit)


def _refusing(executor: ProcessPoolExecutor) -> bool:
    """max_pending's wait ends: submit() refuses now (it raises), or the caller is the
    pool's manager thread (a done-callback: it alone makes room, it must not wait)."""
    pool = executor._pool
    return bool(pool.broken or pool.shutdown or _global_shutdown) or (
        threading.current_thread() is executor._executor_manager_thread
    )


def _owner_collected(pool: _Pool) -> Callable[[object], None]:
    def collected(_: object) -> None:
        pool.owner_gone = True
        if pool.started and not pool.finished:
            pool.wakeup.wakeup()

    return collected


class ProcessPoolExecutor(_base.Executor):
    """Runs calls in a pool of at most `max_workers` worker processes.

    Workers start on demand in `submit()`; with the fork start method all `max_workers`
    start at the first `submit()`. A worker holds at most 2 calls: the one it runs and one
    queued in its pipe; both are already `RUNNING`, as in the stdlib (whose call queue also
    holds calls ahead of the workers).

    Failures:

    - `fn` raises: the future raises that exception; its `__cause__` is a
      `_RemoteTraceback` whose `.tb` (and `str()`) is the worker's traceback text.
    - The exception itself cannot be pickled: the future raises
      `RuntimeError("the exception <Name> could not be pickled: <pickling error!r>")`.
    - The result cannot be pickled in the worker: the future raises the pickling error;
      the pool lives on.
    - A call cannot be unpickled in the worker, a result cannot be unpickled in the parent,
      or a worker exits unexpectedly (signal, `os._exit`, crash, failed initializer): the
      pool breaks. `_broken` becomes the pool's message of `BrokenProcessPool` (the
      stdlib's text); every unsettled future fails with its own `BrokenProcessPool`
      (the future's text), whose `__cause__` is a `_RemoteTraceback` reading
      `Process <pid> terminated abruptly with exit code <code>` for a dead worker (negative:
      the signal, named; the stdlib adds this text from 3.15) and naming the call it was
      running (read from the call's pickled frame as data: no code of the call runs in the
      parent); later `submit()` calls raise the pool's `BrokenProcessPool`; the remaining
      workers get SIGTERM, then SIGKILL after 2 s.
    - The manager thread itself fails: the futures left over get
      `BrokenProcessPool("the process pool's manager thread failed")`.

    `repr()` (differs from the stdlib's):
    `<ProcessPoolExecutor at 0x... state=running workers=<n>/<max_workers> idle=<i> pending=<p>>`,
    fields of `statistics()`.

    Platforms: POSIX (the manager waits with `select.poll`); the portable path
    (`multiprocessing.connection.wait`, taken without `select.poll` or with
    `FUTURES_IMPL_PORTABLE=1`) is the one Windows would take, not tested there yet.
    """

    # max_pending's state (futures_impl/_pending.py), or None: set once in __init__.
    _pending_limit: PendingLimit | None = None

    def __init__(
        self,
        max_workers: int | str | None = None,
        mp_context: BaseContext | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        *,
        max_tasks_per_child: int | None = None,
        task_timeout: float | None = None,
        cancel_running: bool = False,
        survive_worker_death: bool = False,
        serializer: str | object = "pickle",
        worker_state: Callable[[], Any] | None = None,
        worker_exit: Callable[[Any], object] | None = None,
        stop_on_interrupt: bool = False,
        cancel_on_error: bool = False,
        max_pending: int | None = None,
        submit_timeout: float | None = None,
        log_unretrieved: bool = False,
    ) -> None:
        """The stdlib's arguments, then opt-in options (docs/process.md, "Robust pool
        options"), all off by default (then the pool behaves as the stdlib's).

        The arguments are checked in this order: the system (`_check_system_limits()`),
        `max_workers`, `mp_context`, `initializer`, `max_tasks_per_child`, then the
        options.

        Args:
            max_workers: Default: `os.process_cpu_count()` (3.13+) or `os.cpu_count()`, or
                1; capped at 61 on Windows. `"auto"` (futures_impl only):
                `futures_impl.cpu_count()` workers (the CPUs the process may use: its
                affinity, bounded by the cgroup CPU quota).
            mp_context: Default: the interpreter's `multiprocessing` default (fork on
                Linux, 3.9-3.13); with `max_tasks_per_child` and no `mp_context`: spawn.
            initializer: Runs once in each worker before its first call, as
                `initializer(*initargs)`.
            initargs: The initializer's arguments.
            max_tasks_per_child: A worker exits after this many calls and is replaced.
                On 3.9 and 3.10 too (the stdlib's from 3.11), without the stall of
                cpython#115634/#111498.
            task_timeout: Seconds a call may run, counted from when its worker starts it.
                Over it: the worker is killed (SIGKILL) and replaced, the future fails
                with `TaskTimeoutError`; the calls that worker had not started run
                elsewhere, still `RUNNING`. `submit_with(timeout=)` sets it per call.
            cancel_running: `cancel()` of a `RUNNING` call kills the worker running it
                (replaced) and returns `True`; the future ends `CANCELLED_AND_NOTIFIED`.
                Calls then go only to idle workers (no prefetch), so a call waiting for a
                worker stays `PENDING`.
            survive_worker_death: A worker that dies (signal, `os._exit`, crash) fails only
                the call it was running, with `WorkerDiedError`; its unstarted calls run
                elsewhere; it is replaced. A call the worker cannot unpickle fails alone
                with the unpickling error. Still breaks the pool: a worker exiting with
                code 1 before taking a call (a failing initializer or `worker_state`), a
                death during a forced shutdown. Off: the pool breaks, as the stdlib's.
            serializer: How calls, results and exceptions travel: `"pickle"` (default:
                multiprocessing's pickler), `"cloudpickle"` (the extra
                `futures_impl[cloudpickle]`: lambdas, closures, `__main__` and interactive
                definitions) or an object with `dumps(obj) -> bytes` and `loads(bytes)`.
            worker_state: Called once in each worker, after the initializer; its value is
                the worker's state, returned by `futures_impl.process.worker_state()` in
                calls, or passed first to functions wrapped by `pass_worker_state(fn)`.
            worker_exit: Called as `worker_exit(state)` (`None` without `worker_state`)
                when a worker leaves normally (shutdown, `max_tasks_per_child`); an
                exception in it is logged.
            stop_on_interrupt: A KeyboardInterrupt in `result()`/`exception()` of this
                pool's futures, in `map()` or its iteration, or in or leaving a `with`
                block cancels every unsettled call, kills the workers at once and shuts
                the pool down before it propagates; the workers ignore SIGINT (gh-125886).
            cancel_on_error: An exception leaving a `with` block cancels the queued calls
                before the exit waits for the running ones (gh-130975).
            max_pending: `submit()`, `submit_with()` and `map()` wait while this many
                calls wait in the pool (`PENDING`, not yet sent to a worker:
                `statistics().waiting`, which never exceeds it). The check and the queuing
                happen under the pool's lock, after the call is pickled. A cancelled
                waiting call leaves the backlog at once. Done-callbacks (run by the pool's
                manager thread, which makes the room) never wait: they go over the limit.
                Calls a dead worker had not started (`survive_worker_death`) go back to
                the backlog even when it is full.
            submit_timeout: Seconds `submit()` may wait for room, then
                `SubmitTimeoutError`; shutdown or a broken pool ends the wait with the
                usual error.
            log_unretrieved: A failed future garbage-collected before anyone called its
                `result()` or `exception()` logs its exception once at ERROR, as asyncio
                does (the future keeps its class's behaviour, e.g. `cancel_running`'s
                `cancel()`).

        Raises:
            NotImplementedError: `"ProcessPoolExecutor needs a working multiprocessing
                module (with _multiprocessing and sem_open): <ImportError>"`, or
                `"system provides too few semaphores (<n> available, 256 necessary)"`.
            ValueError: `"max_workers must be greater than 0"`; on Windows above 61:
                `"max_workers must be <= 61"`; `"max_tasks_per_child must be >= 1"`;
                `max_tasks_per_child` with the fork start method (the message asks for
                another `mp_context`); an option out of range
                (the message names it); the `max_pending`/`submit_timeout` errors of
                `ThreadPoolExecutor`.
            TypeError: `"max_workers must be an int, None or 'auto', not '<s>'"`;
                `"initializer must be a callable"`;
                `"max_tasks_per_child must be an integer"`; an option of the wrong type
                (the message names it).
            ImportError: `serializer="cloudpickle"` without cloudpickle (naming the
                extra).
        """
        _check_system_limits()
        if max_pending is not None or submit_timeout is not None:
            from ._pending import checked_limit

            checked_limit(max_pending, submit_timeout)
        # Deferred to the first executor: the pool (and the manager loop it runs) needs
        # multiprocessing.connection, which a trimmed interpreter may not have, and this
        # module must import there (tests/test_import_footprint.py).
        from ._process.pool import _Pool
        from ._process.writer import CallQueue

        self._max_workers = max_workers = worker_count(max_workers)
        self._mp_context = mp_context = context_for(mp_context, max_tasks_per_child)
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        check_max_tasks(max_tasks_per_child, mp_context.get_start_method(allow_none=False))
        method = mp_context.get_start_method(allow_none=False)
        codec = make_codec(serializer, method)
        worker_hooks = hooks.prepare(
            worker_state, worker_exit, dumps if codec is None else codec.dumps, method
        )
        self._initializer, self._initargs = initializer, initargs
        self._max_tasks_per_child = max_tasks_per_child
        # Looked up at construction so tests (and users) can substitute the class.
        self._executor_manager_thread_wakeup = _ThreadWakeup()
        self._call_queue = CallQueue()
        self._pool = pool = _Pool(
            mp_context, max_workers, initializer, initargs, max_tasks_per_child,
            self._executor_manager_thread_wakeup, self._call_queue, EXTRA_QUEUED_CALLS,
            _spawn,
        )
        self._task_timeout = checked_timeout(task_timeout, "task_timeout")
        pool.survive = bool(survive_worker_death)
        pool.idle_only = bool(cancel_running)
        # A future that can reach the pool (PoolFuture), when an option needs one.
        self._new_future: Callable[[_Pool, int], _base.Future[Any]] | None = (
            new_future if cancel_running else None
        )
        pool.codec, pool.worker_hooks = codec, worker_hooks
        # submit()'s pickler: wire's function itself by default (no added cost).
        self._encode_call: Callable[..., tuple[Any, BaseException | None]] = (
            encode_call if codec is None else codec.encode_call
        )
        self._processes = pool.processes
        self._executor_manager_thread: _ExecutorManagerThread | None = None
        self._ids = itertools.count()
        self._owner_ref = weakref.ref(self, _owner_collected(pool))
        # Ctrl-C and errors (_process/interrupt.py); off: the stdlib's behaviour.
        self._stop_on_interrupt = bool(stop_on_interrupt)
        self._cancel_on_error = bool(cancel_on_error)
        if max_pending is not None:
            from ._pending import PendingLimit

            self._pending_limit = PendingLimit(pool.lock, max_pending, submit_timeout)
        if stop_on_interrupt:
            from ._process import interrupt

            pool.initializer = interrupt.IgnoreSigint(initializer)  # runs first in workers
            self._new_future = interrupt.future_factory(bool(cancel_running))
        if log_unretrieved:  # after the options above: it wraps the factory they chose
            from ._unretrieved import logging_factory

            self._new_future = logging_factory(self._new_future)

    def __enter__(self: _P) -> _P:
        return self

    def __exit__(self, *exc_info: object) -> Literal[False]:
        stop_on_interrupt = getattr(self, "_stop_on_interrupt", False)
        cancel_on_error = getattr(self, "_cancel_on_error", False)
        if stop_on_interrupt or cancel_on_error:
            from ._process.interrupt import exit_pool

            error = exc_info[0] if exc_info else None
            exit_pool(self, self._pool, error, stop_on_interrupt, cancel_on_error)
        else:
            self.shutdown(wait=True)
        return False

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _base.Future[_T]:
        """Schedule fn(*args, **kwargs) in a worker process and return its Future.

        The call is pickled in the caller's thread. If pickling fails, the returned future
        has already failed with the pickling error (its `__cause__` is a
        `_RemoteTraceback`), and the pool stays usable.

        Raises:
            BrokenProcessPool: The pool's message (see `BrokenProcessPool`) once the
                pool is broken; if a helper thread cannot start:
                `"cannot start the process pool's manager thread: <error>"` or
                `"cannot start the process pool's writer thread: <error>"`.
            RuntimeError: `"cannot schedule new futures after shutdown"`, or
                `"cannot schedule new futures after interpreter shutdown"`.
            SubmitTimeoutError: With `max_pending` and `submit_timeout`: no room in time.
        """
        return self._place(fn, args, kwargs, self._task_timeout)

    def submit_with(
        self,
        fn: Callable[..., _T],
        /,
        args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> _base.Future[_T]:
        """submit(fn, *args, **kwargs) with options for this call alone (futures_impl only).

        Args:
            fn: The callable.
            args: Its positional arguments.
            kwargs: Its keyword arguments.
            timeout: Seconds the call may run, counted from when its worker starts it
                (`None`: the executor's `task_timeout`). Over it, the worker is killed and
                replaced and the future fails with `TaskTimeoutError`; other calls and the
                pool go on.

        Raises:
            BrokenProcessPool: As `submit()`.
            RuntimeError: As `submit()`.
        """
        if timeout is None:
            timeout = self._task_timeout
        else:
            timeout = checked_timeout(timeout, "timeout")
        return self._place(fn, tuple(args), {} if kwargs is None else dict(kwargs), timeout)

    def _place(self, fn: Callable[..., _T], args: tuple[Any, ...], kwargs: dict[str, Any],
               timeout: float | None) -> _base.Future[_T]:
        work_id = next(self._ids)
        if timeout is not None:
            fn = Announced(fn)  # the worker says when it starts it: the clock starts then
        frame, error = self._encode_call(work_id, fn, args, kwargs)
        pool = self._pool
        future: _base.Future[_T] = (
            _base.Future() if self._new_future is None else self._new_future(pool, work_id)
        )
        limit = self._pending_limit
        with pool.lock:
            try:
                if limit is not None and frame is not None:
                    # max_pending: wait for room here, so that the check and the queuing
                    # are one step under the lock (the backlog never exceeds the limit).
                    limit.wait_locked(partial(len, pool.backlog), partial(_refusing, self))
                if pool.broken:
                    raise BrokenProcessPool(pool.broken)
                if pool.shutdown:
                    raise RuntimeError("cannot schedule new futures after shutdown")
                if _global_shutdown:
                    raise RuntimeError("cannot schedule new futures after interpreter shutdown")
                if not pool.started:
                    self._start_locked()
                if timeout is not None and frame is not None:
                    pool.timeouts[work_id] = timeout
                    pool.announcing = True
                pool.place_locked(work_id, frame, future)
            except BaseException:
                # The traceback keeps this frame: drop the pickled call (a buffer export
                # of a BytesIO), or cyclic garbage holding the error makes the collector
                # print "BufferError: Existing exports of data".
                frame = None
                raise
            wake = bool(pool.new_workers) or pool.break_later is not None
        if wake:
            self._executor_manager_thread_wakeup.wakeup()
        if limit is not None:
            from ._pending import process_done

            future.add_done_callback(partial(process_done, limit, pool, work_id))
        if error is not None:
            future.set_exception(error)
        return future

    def _start_locked(self) -> None:
        pool = self._pool
        pool.started = True
        spawned = []
        interrupted: BaseException | None = None
        if self._mp_context.get_start_method(allow_none=False) == "fork":
            # Fork every worker now, before this pool has threads of its own. If one
            # cannot start, go on with those that did (the manager starts more later);
            # if none did, submit() raises and the pool stays unstarted.
            for _ in range(self._max_workers):
                try:
                    spawned.append(pool.spawn_locked())
                except BaseException as exc:
                    if not spawned:
                        pool.started = False
                        raise
                    if not isinstance(exc, Exception):
                        interrupted = exc  # KeyboardInterrupt: re-raised once consistent
                    break
        thread = _ExecutorManagerThread(pool)
        thread.owner_ref = self._owner_ref
        try:
            thread.start()
        except RuntimeError as exc:
            pool.broken = f"cannot start the process pool's manager thread: {exc}"
            for worker in spawned:
                worker.process.terminate()
                worker.process.join()
            raise BrokenProcessPool(pool.broken) from exc
        self._executor_manager_thread = thread
        with _live_lock:
            _live_pools[pool] = thread
        try:
            self._call_queue.start(pool)
        except RuntimeError as exc:
            pool.broken = f"cannot start the process pool's writer thread: {exc}"
            for worker in spawned:
                worker.process.terminate()
            pool.wakeup.wakeup()
            raise BrokenProcessPool(pool.broken) from exc
        if interrupted is not None:
            raise interrupted

    def map(
        self,
        fn: Callable[..., _T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
        buffersize: int | None = None,
    ) -> Iterator[_T]:
        """Like the base map; with chunksize > 1 each chunk of calls is one call item.

        See `Executor.map` for the iterator (order, `timeout`, errors, what closing it
        cancels). With `chunksize > 1` each chunk of argument tuples is sent as one call
        and the results are yielded in order; `buffersize` then counts chunks.

        Raises:
            ValueError: `"chunksize must be >= 1."`, at this call.
        """
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        if getattr(self, "_stop_on_interrupt", False):
            from ._process.interrupt import stopping_map

            return stopping_map(
                self._pool, partial(self._map, fn, iterables, timeout, chunksize, buffersize)
            )
        return self._map(fn, iterables, timeout, chunksize, buffersize)

    def _map(self, fn: Callable[..., _T], iterables: tuple[Iterable[Any], ...],
             timeout: float | None, chunksize: int, buffersize: int | None) -> Iterator[_T]:
        if chunksize == 1:
            return super().map(fn, *iterables, timeout=timeout, buffersize=buffersize)
        chunks = super().map(
            partial(process_chunk, fn),
            split_in_chunks(iterables, chunksize),
            timeout=timeout,
            buffersize=buffersize,
        )
        return flatten(chunks)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new work; the submitted calls finish, then the workers stop.

        `shutdown(wait=False)`, an executor that is garbage-collected, and interpreter exit
        all let the pending calls finish, then stop the workers. Calling it again is
        harmless.

        Args:
            wait: Also join the manager and writer threads (so the calls have finished).
            cancel_futures: Cancel the calls still waiting in the parent. They are
                `CANCELLED_AND_NOTIFIED` by the time this returns (with `wait=False` too),
                so `wait()` and `as_completed()` on them return, as for
                `ThreadPoolExecutor`; the stdlib leaves them `CANCELLED` (or, with
                `wait=False`, still `PENDING` when it returns) and `wait()` on them blocks
                (cpython#136655): a difference on purpose. Calls already sent to a worker
                (the one it runs and the one queued in its pipe, both `RUNNING`) still run
                and finish.
        """
        pool = self._pool
        cancelled = []
        with pool.lock:
            pool.shutdown = True
            if self._pending_limit is not None:
                self._pending_limit.wake_all_locked()  # blocked submit()s: refused now
            if cancel_futures:
                for work_id, _ in pool.backlog:
                    future = pool.pending.pop(work_id, None)
                    if future is not None:
                        cancelled.append(future)
                pool.backlog.clear()
            started = pool.started
        for future in cancelled:
            # Settle it fully (it left `pending`: no one else will), so that wait() and
            # as_completed() on it return instead of hanging (the stdlib's cpython#136655).
            _base._cancel_and_notify(future)
        wakeup = self._executor_manager_thread_wakeup
        if not started:
            wakeup.close()
            return
        if not pool.finished:
            wakeup.wakeup()
        thread = self._executor_manager_thread
        if wait and thread is not None:
            thread.join()  # from a done-callback (the manager): "cannot join current thread"
            self._call_queue.join_thread()

    def _force_shutdown(self, operation: str) -> None:
        if operation not in _SHUTDOWN_OPERATIONS:
            raise ValueError(f"Unsupported operation: {operation!r}")
        pool = self._pool
        with pool.lock:
            pool.forced = True
            processes = [w.process for w in pool.workers]
        for process in processes:
            try:
                if process.is_alive():
                    getattr(process, operation)()
            except (OSError, ValueError, AttributeError):
                pass  # already gone
        self.shutdown(wait=True)

    def terminate_workers(self) -> None:
        """Stop every worker with SIGTERM (Process.terminate()), then shut down.

        The 3.14 API, on every version: calls `Process.terminate()` on every living
        worker, then `shutdown(wait=True)`; no worker is started afterwards. The calls
        that were pending or running fail with `BrokenProcessPool`, whose `__cause__` reads
        `Process <pid> terminated abruptly with exit code -15`. Afterwards `submit()`
        raises `BrokenProcessPool` if work was cut off, otherwise
        `RuntimeError("cannot schedule new futures after shutdown")`.
        """
        self._force_shutdown(operation=_TERMINATE)

    def kill_workers(self) -> None:
        """Stop every worker with SIGKILL (Process.kill()), then shut down.

        As `terminate_workers()`, with `Process.kill()` (exit code -9).
        """
        self._force_shutdown(operation=_KILL)

    def statistics(self) -> ProcessPoolStatistics:
        """A snapshot of the pool: state, max_workers, workers, idle, pending, waiting, sent.

        Read under the pool's lock, from state the pool keeps anyway (nothing is counted
        per task); the pool may have moved on by the time it is returned.

        Returns:
            A `ProcessPoolStatistics`, the sibling of the thread pool's snapshot
            (futures_impl only).
        """
        pool = self._pool
        with pool.lock:
            state = "broken" if pool.broken else "shut down" if pool.shutdown else "running"
            workers = idle = sent = 0
            for w in pool.workers:
                if w.retired or w.stopping:
                    continue
                workers += 1
                sent += len(w.queued)
                if not w.queued and not w.writing:
                    idle += 1
            return ProcessPoolStatistics(
                state, self._max_workers, workers, idle, len(pool.pending),
                len(pool.backlog), sent,
            )

    def __repr__(self) -> str:
        stats = self.statistics()
        return (
            f"<{type(self).__name__} at {id(self):#x} state={stats.state}"
            f" workers={stats.workers}/{stats.max_workers} idle={stats.idle}"
            f" pending={stats.pending}>"
        )

    # -- compatibility surface ----------------------------------------------------------
    # Kept because CPython's suites or user code reach them (docs/conformance.md, "The
    # compatibility surface", says who and why). Fields with the stdlib's names, set in
    # __init__: _max_workers, _mp_context, _initializer, _initargs, _max_tasks_per_child,
    # _executor_manager_thread_wakeup, _call_queue, _processes, _executor_manager_thread.
    # _force_shutdown(operation) is the stdlib's (its tests call it); the properties:

    @property
    def _broken(self) -> str | bool:
        return self._pool.broken

    @property
    def _shutdown_thread(self) -> bool:
        return self._pool.shutdown

    @property
    def _shutdown_lock(self) -> threading.RLock:
        """The pool's lock (reentrant): the stdlib's tests set flags under it."""
        return self._pool.lock

    @property
    def _force_shutting_down(self) -> bool:
        return self._pool.forced

    @_force_shutting_down.setter
    def _force_shutting_down(self, value: bool) -> None:
        # Forced: no worker is started any more; calls left without one fail.
        with self._pool.lock:
            self._pool.forced = bool(value)
