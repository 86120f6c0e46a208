"""ProcessPoolExecutor: calls run in worker processes; one manager thread per pool.

Data flow (every worker has two private pipes; no lock is shared between processes)::

    submit() -- pickles (id, fn, args, kwargs) in the caller's thread --+
       |  room in an idle/prefetching worker's pipe?                    |
       |      yes: write it now (cannot block)     no: _Pool.backlog    |
       |      big: hand it to the writer thread (CallQueue)             |
       v                                                                v
    worker k <== calls pipe k ==== [inline write | writer thread] <== backlog
       |  runs fn, pickles (id, ok, result | (exc, traceback text))
       +====== results pipe k ======> manager thread (_ExecutorManagerThread)
                                         poll(): wake-up pipe, result pipes, sentinels
                                         books the result, refills worker k from backlog
                                         settles the Future outside the lock

Who writes what (`_Pool` fields, all under `_Pool.lock` unless noted):
  - submit() threads: pending, backlog, next id, idle_tokens, workers/processes (spawns).
  - manager thread: reads results, pops pending, retires/reaps workers (processes,
    workers), spawns replacements, breaks the pool, stops workers when closing.
  - writer thread: `writing` counts of workers, then refills like the manager.
  - shutdown()/_force_shutdown(): shutdown, forced, the cancelled part of backlog.
  - garbage collector (weakref callback): owner_gone, lock-free, then a wake-up.
The wake-up pipe (`_ThreadWakeup`) is written without the pool lock held, and the
manager clears it before taking the lock, so neither can block the other (gh-105829).

Why no hang. Workers are started in submit() when no idle worker is known (or all at
once for "fork"), and by the manager whenever calls wait and fewer than max_workers
unretired workers exist. The parent knows each worker's remaining task budget
(max_tasks_per_child), so a worker is never sent a call it will not run, and a worker
is replaced as soon as it has answered its last call (cpython#115634, #111498), never
so that more than max_workers run calls. A worker that cannot be started makes
submit() raise while no worker runs; later, when no worker is left to run the waiting
calls, they fail with BrokenProcessPool ("could not be started"), as they do when the
pool is being forcefully shut down. Calls that cannot be pickled fail their own future
in submit(); a result that cannot be unpickled fails its own future; a worker that dies
breaks the pool: every unsettled future gets its own BrokenProcessPool whose
`__cause__` names the pid and exit code. Abandoned executors, shutdown(wait=False) and
interpreter exit all let pending work finish and then stop the workers; workers whose
parent dies see end-of-file on their call pipe and exit.

Locks: every lock here is taken with `with` (no window between acquire and try for a
KeyboardInterrupt). Lock-free paths that rely on the GIL (single loads/stores of whole
values): the weakref callback stores `owner_gone`; shutdown() and that callback read
`started`/`finished`; submit() reads `_global_shutdown` (written under _live_lock) and
`break_later`/`new_workers` after releasing the pool lock, only to decide a wake-up.

Importing this module loads what the stdlib's process module loads (multiprocessing,
its connection and queues modules...), each where it can: the module still imports in
interpreters without `_multiprocessing`; creating an executor there raises
NotImplementedError (see _check_system_limits()).
"""

from __future__ import annotations

import itertools
import logging  # noqa: F401  (footprint: the stdlib's process module loads it, via _base)
import os
import sys
import threading

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
from ._process_wakeup import _ThreadWakeup as _ThreadWakeup  # re-exported: tests patch it here

TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from typing import Any, Callable, Iterable, Iterator, TypeVar

    from ._process_pool import _Pool

    _T = TypeVar("_T")
    _P = TypeVar("_P", bound="ProcessPoolExecutor")

_MAX_WINDOWS_WORKERS = 63 - 2  # WaitForMultipleObjects limit, minus two internal handles
# The stdlib's knob, read when an executor is created: beyond the calls running in the
# workers, a pool commits at most max_workers + EXTRA_QUEUED_CALLS calls (RUNNING, no
# longer cancellable). Larger: more throughput for tiny calls, fewer calls cancellable.
EXTRA_QUEUED_CALLS = 1
_TERMINATE = "terminate"
_KILL = "kill"
_SHUTDOWN_OPERATIONS = frozenset((_TERMINATE, _KILL))
_FORK = "'fork'"
_MAX_TASKS_WITH_FORK = (
    f"max_tasks_per_child is incompatible with the {_FORK} multiprocessing start method; "
    "supply a different mp_context."
)


class BrokenProcessPool(_base.BrokenExecutor):
    """A worker died abruptly or could not be used; the pool cannot run anything."""


class _RemoteTraceback(Exception):
    """`__cause__` of errors from a worker; `.tb` holds the worker-side traceback text."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


_system_limited: str | None = None
_system_limits_checked = False


def _check_system_limits() -> None:
    """Raise NotImplementedError where a process pool cannot work."""
    global _system_limits_checked, _system_limited
    if not _system_limits_checked:
        _system_limits_checked = True
        try:
            import importlib

            importlib.import_module("_multiprocessing")
            import multiprocessing.connection  # noqa: F401
            import multiprocessing.synchronize  # noqa: F401 - fails without sem_open
        except ImportError as exc:
            _system_limited = (
                "ProcessPoolExecutor needs a working multiprocessing module "
                f"(with _multiprocessing and sem_open): {exc}"
            )
        else:
            import select

            if not hasattr(select, "poll"):
                _system_limited = "ProcessPoolExecutor needs select.poll(), missing here"
            try:
                nsems_max = os.sysconf("SC_SEM_NSEMS_MAX")
            except (AttributeError, ValueError, OSError):
                # Unknown, or not ours to ask (PermissionError in a strict sandbox,
                # CPython issue 155912): assume enough.
                nsems_max = -1
            if nsems_max != -1 and nsems_max < 256:
                _system_limited = (
                    f"system provides too few semaphores ({nsems_max} available, 256 necessary)"
                )
    if _system_limited is not None:
        raise NotImplementedError(_system_limited)


# Interpreter exit. Guarded by _live_lock; written by the first submit() of each pool,
# by the manager thread when it ends, and by _python_exit().
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


try:
    threading._register_atexit(_python_exit)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):
    import atexit

    atexit.register(_python_exit)


class _ExecutorManagerThread(threading.Thread):
    """Reads results, settles futures, reaps and replaces workers; run() is the body."""

    def __init__(self, pool: _Pool) -> None:
        super().__init__(name="ProcessPoolManager", daemon=True)
        self._pool = pool

    def run(self) -> None:
        from ._process_manager import run

        try:
            run(self._pool, _is_exiting)
        finally:
            with _live_lock:
                _live_pools.pop(self._pool, None)


def _spawn_worker(ctx: BaseContext, target: Callable[..., None],
                  args: tuple[Any, ...]) -> Any:
    """Start one worker process. A seam: CPython's newest tests patch this name."""
    process = ctx.Process(target=target, args=args)  # type: ignore[attr-defined]
    process.start()
    return process


def _default_workers() -> int:
    count = getattr(os, "process_cpu_count", os.cpu_count)() or 1
    if sys.platform == "win32":
        count = min(_MAX_WINDOWS_WORKERS, count)
    return int(count)


def _worker_count(requested: int | None) -> int:
    if requested is None:
        return _default_workers()
    if requested <= 0:
        raise ValueError("max_workers must be greater than 0")
    if sys.platform == "win32" and requested > _MAX_WINDOWS_WORKERS:
        raise ValueError(f"max_workers must be <= {_MAX_WINDOWS_WORKERS}")
    return requested


def _context_for(given: BaseContext | None, max_tasks: int | None) -> BaseContext:
    """The context to use: the given one, else spawn for recycled workers, else the default."""
    if given is not None:
        return given
    import multiprocessing

    return multiprocessing.get_context(None if max_tasks is None else "spawn")


def _check_max_tasks(max_tasks: object, start_method: str) -> None:
    # Recycling re-creates workers from a fresh interpreter: forking the parent, with its
    # threads, again and again would not give that.
    if max_tasks is None:
        return
    if not isinstance(max_tasks, int):
        raise TypeError("max_tasks_per_child must be an integer")
    if max_tasks < 1:
        raise ValueError("max_tasks_per_child must be >= 1")
    if start_method == "fork":
        raise ValueError(_MAX_TASKS_WITH_FORK)


def _owner_collected(pool: _Pool) -> Callable[[object], None]:
    def collected(_: object) -> None:
        pool.owner_gone = True
        if pool.started and not pool.finished:
            pool.wakeup.wakeup()

    return collected


class ProcessPoolExecutor(_base.Executor):
    """Runs calls in a pool of at most `max_workers` worker processes."""

    def __init__(
        self,
        max_workers: int | None = None,
        mp_context: BaseContext | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        *,
        max_tasks_per_child: int | None = None,
    ) -> None:
        _check_system_limits()
        import weakref

        from ._process_pool import CallQueue, _Pool

        self._max_workers = max_workers = _worker_count(max_workers)
        self._mp_context = mp_context = _context_for(mp_context, max_tasks_per_child)
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        _check_max_tasks(max_tasks_per_child, mp_context.get_start_method(allow_none=False))
        self._initializer, self._initargs = initializer, initargs
        self._max_tasks_per_child = max_tasks_per_child
        # Looked up at construction so tests (and users) can substitute the class.
        self._executor_manager_thread_wakeup = _ThreadWakeup()
        self._call_queue = CallQueue()
        self._pool = pool = _Pool(
            mp_context, max_workers, initializer, initargs, max_tasks_per_child,
            self._executor_manager_thread_wakeup, self._call_queue, EXTRA_QUEUED_CALLS,
        )
        self._processes = pool.processes
        self._executor_manager_thread: _ExecutorManagerThread | None = None
        self._ids = itertools.count()
        self._owner_ref = weakref.ref(self, _owner_collected(pool))

    def __enter__(self: _P) -> _P:
        return self

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

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _base.Future[_T]:
        work_id = next(self._ids)
        frame, error = _encode_call(work_id, fn, args, kwargs)
        future: _base.Future[_T] = _base.Future()
        pool = self._pool
        with pool.lock:
            try:
                if pool.broken:
                    raise BrokenProcessPool(pool.broken)
                if pool.shutdown:
                    raise RuntimeError("cannot schedule new futures after shutdown")
                if _global_shutdown:
                    raise RuntimeError("cannot schedule new futures after interpreter shutdown")
                if not pool.started:
                    self._start_locked()
                self._place_locked(work_id, frame, future)
            except BaseException:
                # The traceback keeps this frame: drop the pickled call (a buffer export
                # of a BytesIO), or cyclic garbage holding the error makes the collector
                # print "BufferError: Existing exports of data".
                frame = None
                raise
            wake = bool(pool.new_workers) or pool.break_later is not None
        if wake:
            self._executor_manager_thread_wakeup.wakeup()
        if error is not None:
            future.set_exception(error)
        return future

    def _place_locked(self, work_id: int, frame: Any, future: _base.Future[Any]) -> None:
        pool = self._pool
        may_spawn = pool.idle_tokens == 0  # no worker is known to be idle: start one
        if not may_spawn:
            pool.idle_tokens -= 1
        if frame is None:  # the call failed to pickle; still size the pool like the stdlib
            if may_spawn and pool.may_spawn_locked():
                pool.spawn_locked()
            return
        pool.pending[work_id] = future
        if pool.backlog:  # calls are waiting, so no worker has room: queue behind them
            pool.backlog.append((work_id, frame))
            return
        worker = None
        if may_spawn and pool.may_spawn_locked():
            try:
                worker = pool.spawn_locked()
            except BaseException as exc:
                if not pool.workers:
                    del pool.pending[work_id]
                    frame = None  # the traceback keeps this frame (see submit())
                    raise
                # Swallowed (other workers run the call): keep no frame alive through it,
                # e.g. the call's frame, a buffer export (BufferError at collection).
                exc.__traceback__ = None
        if worker is None:
            worker = pool.pick_locked(len(frame))
        if worker is None:
            pool.backlog.append((work_id, frame))
            pool.fill_locked()
        else:
            future.set_running_or_notify_cancel()
            pool.send_locked(worker, work_id, frame)

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
        """Like the base map; with chunksize > 1 each chunk of calls is one call item."""
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        if chunksize == 1:
            return super().map(fn, *iterables, timeout=timeout, buffersize=buffersize)
        from functools import partial

        from ._process_worker import process_chunk

        chunks = super().map(
            partial(process_chunk, fn),
            _chunks(iterables, chunksize),
            timeout=timeout,
            buffersize=buffersize,
        )
        return _flatten(chunks)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pool = self._pool
        cancelled = []
        with pool.lock:
            pool.shutdown = True
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
            if future.cancel():
                future.set_running_or_notify_cancel()
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
        """Stop every worker with SIGTERM (Process.terminate()), then shut down."""
        self._force_shutdown(operation=_TERMINATE)

    def kill_workers(self) -> None:
        """Stop every worker with SIGKILL (Process.kill()), then shut down."""
        self._force_shutdown(operation=_KILL)


def _load_dumps(obj: Any) -> Any:
    """The first pickling: bind the worker module's pickler (it loads multiprocessing)."""
    global _dumps
    from ._process_worker import _dumps as dumps

    _dumps = dumps
    return dumps(obj)


_dumps: Callable[[Any], Any] = _load_dumps


def _encode_call(
    work_id: int, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[bytes | memoryview | None, BaseException | None]:
    """Pickle one call; a pickling error comes back with its traceback text as cause.

    The error keeps no traceback object: through the frames' f_back it would reach
    submit()'s frame, and so the executor and the future holding the error (a cycle,
    left to the garbage collector). Its text is in the cause.
    """
    try:
        return _dumps((work_id, fn, args, kwargs)), None
    except Exception as exc:  # noqa: BLE001 - reported through the future
        from ._process_worker import format_remote

        exc.__cause__ = _RemoteTraceback(format_remote(exc))
        return None, exc.with_traceback(None)


def _chunks(iterables: tuple[Iterable[Any], ...], size: int) -> Iterator[tuple[Any, ...]]:
    arguments = zip(*iterables)
    while True:
        chunk = tuple(itertools.islice(arguments, size))
        if not chunk:
            return
        yield chunk


def _flatten(chunks: Iterator[list[_T]]) -> Iterator[_T]:
    """Yield each chunk's results in order, holding no reference to yielded ones."""
    try:
        for chunk in chunks:
            chunk.reverse()
            while chunk:
                yield chunk.pop()
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
