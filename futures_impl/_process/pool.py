"""The parent-side state of a process pool: worker records, dispatch, the call writer, breaking.

`_Pool` is shared by the executor facade (submit/shutdown, any thread), the manager
thread (results, exits, shutdown; `manager`) and the writer thread (`writer.CallQueue`,
large call frames). It never references the executor, so an abandoned executor can be garbage
collected; the manager notices through a weakref callback and winds the pool down.
`_Worker` is the parent's record of one worker process. Workers are started through the
`spawn` callable the facade injects (it calls `futures_impl.process._spawn_worker`, the
name tests patch), so nothing here imports the facade.

Dispatch rule (the cure for cpython#115634/#111498): a call goes to an idle worker, else
to a busy worker whose pipe has room while the pool holds fewer than `window` calls
beyond the running ones (the stdlib's max_workers + EXTRA_QUEUED_CALLS, so cancel() stops
as much work as it does there); otherwise it waits in `backlog`, PENDING and cancellable.
A call is running once its worker has taken it: each worker counts the calls it took in
shared memory (`_Worker.taken`), so answers still in the pipe do not hold the window.
Every event that can free capacity (a result, a worker exit, a finished large write, a
spawn) runs `_fill_locked()`, which also starts workers while work is waiting and fewer
than `max_workers` unretired workers exist. A worker counts until it has answered its
last call, so no more than `max_workers` calls ever run at once. Its remaining task
budget is known exactly here, so a retiring worker is never handed work it will not run.
When no worker is left and none can be started (the start failed, or the pool is being
forcefully shut down), the waiting calls fail with BrokenProcessPool instead of waiting.

Lock-free reads that rely on the GIL (each a single attribute load of a value written
whole; a stale value only delays an action that is re-checked under `lock`):
`break_later` read by the writer thread to decide on a wake-up; `broken`, `finished`,
`started` and `owner_gone` read as flags by the facade and the manager's loop;
`_Worker.taken` (shared memory written by its worker process; a stale value undercounts
the running calls, so the window is never exceeded).
Every lock is taken with `with`: a KeyboardInterrupt cannot leave one held.
"""

from __future__ import annotations

import collections
import mmap
import os
import threading
from multiprocessing.connection import Connection

from .. import _base
from . import portable
from .errors import ABRUPT, FORCED, NOT_STARTED, BrokenProcessPool, _RemoteTraceback, format_remote
from .wire import framed
from .worker import worker_main

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: a pipe's size cannot be asked
    fcntl = None  # type: ignore[assignment]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess
    from typing import Any

    from .wakeup import _ThreadWakeup
    from .wire import Codec
    from .writer import CallQueue

    # Starts one worker process: (context, target, args) -> the started process. The
    # facade passes one that calls its `_spawn_worker` (tests patch that name there).
    Spawner = Callable[[BaseContext, Callable[..., None], tuple[Any, ...]], BaseProcess]
    Booked = tuple[int, int, bytes | memoryview]  # a sent call: work id, frame size, frame

PREFETCH = 2  # calls queued in one worker's pipe when every worker is busy...
PREFETCH_FAST = 8  # ...or when its calls are known to be short (< FAST seconds)
FAST = 0.002
_F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)  # Linux's value, named from 3.10


def _pipe_room(fd: int) -> int:
    """Bytes that can be written to pipe `fd` without blocking when it is empty."""
    try:
        size = fcntl.fcntl(fd, _F_GETPIPE_SZ) if fcntl is not None else 4096
    except (OSError, ValueError):
        size = 4096
    return max(512, size - 512)


class _Worker:
    """One worker process and the parent's ends of its two pipes (fields under pool.lock)."""

    __slots__ = ("process", "pid", "calls", "results", "queued", "nbytes", "budget",
                 "room", "writing", "stopping", "retired", "reaped", "rbuf", "last_done",
                 "fast", "outbox", "sent", "taken", "slot", "killed", "deadline",
                 "deadline_id", "portable")

    def __init__(self, process: BaseProcess, calls: Connection, results: Connection,
                 budget: int | None, taken: Any, slot: int) -> None:
        self.process = process
        self.pid: int = process.pid or 0
        self.calls = calls  # written inline when it cannot block, else by the writer
        self.results = results  # read by the manager thread only
        # (work id, frame size, frame) of each call sent and not yet answered, in order;
        # the frame is kept to send the call elsewhere if the worker dies.
        self.queued: collections.deque[Booked] = collections.deque()
        self.nbytes = 0  # bytes of call frames sent and not yet answered
        self.budget = budget  # calls it may still be sent (None: unlimited)
        self.room = _pipe_room(calls.fileno())
        self.writing = 0  # frames handed to the writer thread, not yet written
        self.stopping = False  # sent the stop frame
        self.retired = False  # budget spent and every call answered
        self.reaped = False  # exited and joined; `calls` closes once `writing` is 0
        self.rbuf = bytearray()  # result bytes not yet a whole frame (manager only)
        self.last_done = 0.0  # monotonic time of its last result (manager only)
        self.fast = False  # its calls take less than FAST seconds: prefetch deeper
        self.outbox: list[bytes | memoryview] = []  # framed calls to write in one go (under lock)
        self.sent = 0  # calls booked for it so far
        # Shared memory (taken[slot] of a RawArray), written by the worker only, read
        # lock-free here: how many calls it has taken to run. The calls taken and not
        # yet answered are running (a finished one's answer may still be in the pipe); a
        # stale read only undercounts them, so the window is never exceeded.
        self.taken = taken
        self.slot = slot
        # The robust options (docs/process.md, "Robust pool options"):
        self.killed = False  # the pool killed it (a timeout, a cancel): its exit is expected
        self.deadline: float | None = None  # when its running timed call times out
        self.deadline_id = -1  # that call's work id
        # The portable path (see `portable`): `outbox` holds bare frames, each sent with
        # calls.send_bytes (not framed ones written with one os.write). Set at spawn.
        self.portable = False

    def __repr__(self) -> str:
        # Read without the pool lock (a debugging aid): fields may be mid-update.
        budget = "unlimited" if self.budget is None else self.budget
        flags = [name for name in ("fast", "stopping", "retired", "reaped", "killed")
                 if getattr(self, name)]
        if self.writing:
            flags.append(f"writing={self.writing}")
        return (f"<_Worker pid={self.pid} queued={len(self.queued)} budget={budget}"
                f" flags={','.join(flags) or '-'}>")


class _Pool:
    """Shared state; every field below is guarded by `lock` unless noted."""

    # Set by the facade right after construction, read-only after (issue 14, helper B):
    # the serializer's codec (None: wire's pickler) and the lifecycle hooks sent to each
    # worker (None, or hooks.Hooks: objects for fork, bytes for spawn and forkserver).
    codec: Codec | None = None
    worker_hooks: Any = None

    def __init__(self, ctx: BaseContext, max_workers: int, initializer: Any, initargs: Any,
                 max_tasks: int | None, wakeup: _ThreadWakeup, call_queue: CallQueue,
                 extra_queued_calls: int, spawn: Spawner) -> None:
        self.lock = threading.RLock()
        self.ctx = ctx
        self.spawn = spawn  # starts a worker process (injected by the facade; read-only)
        self.max_workers = max_workers
        # Calls committed beyond the running ones: process.EXTRA_QUEUED_CALLS at creation.
        self.window = max_workers + extra_queued_calls
        self.initializer = initializer
        self.initargs = initargs
        self.max_tasks = max_tasks
        self.wakeup = wakeup  # lock-free: any thread may wake the manager
        self.call_queue = call_queue
        self.processes: dict[int, BaseProcess] = {}  # pid -> live, non-retired worker
        self.workers: list[_Worker] = []  # every worker not yet reaped
        self.new_workers: list[_Worker] = []  # spawned, not yet watched by the manager
        self.pending: dict[int, _base.Future[Any]] = {}  # work id -> unsettled future
        self.backlog: collections.deque[tuple[int, bytes | memoryview]] = collections.deque()
        self.idle_tokens = 0  # "a worker went idle" events not yet used by submit()
        self.shutdown = False  # shutdown() called (or forced)
        self.forced = False  # terminate_workers()/kill_workers(): no more spawning
        self.broken: str | bool = False  # the BrokenProcessPool message once broken
        self.owner_gone = False  # the executor was garbage collected (written by GC)
        self.started = False  # manager and writer threads started
        self.finished = False  # the manager thread has ended (written by it, once)
        # A break decided under the lock, done by the manager: (cause, messages).
        self.break_later: tuple[str | None, tuple[str, str]] | None = None
        self.start_error: str | None = None  # traceback text of the last failed start
        # The workers' shared taken counters: one block per pool (allocated at the first
        # spawn), a slot per worker, reused once its worker is reaped; a worker started
        # while every slot is in use (retiring ones not yet reaped) gets a block of its own.
        self.counters: Any = None
        self.free_slots: list[int] = []
        # The robust options, set by the facade right after construction (read-only
        # after): see docs/process.md, "Robust pool options".
        self.survive = False  # survive_worker_death: a dead worker fails only its call
        self.idle_only = False  # cancel_running: a call goes only to an idle worker
        self.timeouts: dict[int, float] = {}  # work id -> its timeout, for timed calls
        self.announcing = False  # a timed call was ever placed: workers announce starts
        # Connections and waiting that exist on Windows too (see `portable`); read-only.
        self.portable = portable.wanted()

    # -- spawning ------------------------------------------------------------------

    def active_count(self) -> int:
        """Workers that run or may run calls: a retiring one counts until its last answer."""
        return sum(1 for w in self.workers if not w.retired and not w.stopping)

    def spawn_locked(self) -> _Worker:
        call_r, call_w = _connections(self.portable)
        res_r, res_w = _connections(self.portable)
        close_fds: list[int] = []
        if self.ctx.get_start_method() == "fork":
            fds = getattr(self.wakeup, "fds", None)
            close_fds = [call_w.fileno(), res_r.fileno(), *(fds() if fds else ())]
            for w in self.workers:
                close_fds += (w.calls.fileno(), w.results.fileno())
        taken, slot = self.counters, -1
        try:
            if taken is None:
                taken = self.counters = self.shared_counters(2 * self.max_workers)
                self.free_slots = list(range(2 * self.max_workers - 1, -1, -1))
            if self.free_slots:
                slot = self.free_slots.pop()
                taken[slot] = 0
            else:
                taken, slot = self.shared_counters(1), 0
            args: tuple[Any, ...] = (call_r, res_w, self.initializer, self.initargs,
                                     self.max_tasks, close_fds, taken, slot)
            if self.codec is not None or self.worker_hooks is not None or self.portable:
                args += (self.codec, self.worker_hooks)
            if self.portable:
                args += (True,)  # worker_main's `portable`
            if self.codec is None:
                process = self.spawn(self.ctx, worker_main, args)
            else:  # see wire.Codec.start
                process = self.codec.start(self.spawn, self.ctx, worker_main, args)
        except BaseException:
            for conn in (call_r, call_w, res_r, res_w):
                conn.close()
            if slot >= 0 and taken is self.counters:
                self.free_slots.append(slot)
            raise
        call_r.close()
        res_w.close()
        worker = _Worker(process, call_w, res_r, self.max_tasks, taken, slot)
        worker.portable = self.portable
        self.processes[worker.pid] = process
        self.workers.append(worker)
        self.new_workers.append(worker)
        return worker

    def shared_counters(self, n: int) -> Any:
        """n zeroed int64 counters shared with workers (indexable, item get and set)."""
        if self.ctx.get_start_method() == "fork":
            # Anonymous and MAP_SHARED: inherited by forked workers, no file, no heap.
            return memoryview(mmap.mmap(-1, 8 * n)).cast("q")
        return self.ctx.RawArray("q", n)  # sent to spawned workers (its fd is passed)

    # -- dispatch ------------------------------------------------------------------

    def place_locked(self, work_id: int, frame: bytes | memoryview | None,
                     future: _base.Future[Any]) -> None:
        """submit(): book a call (None: it failed to pickle) and send it if a worker has
        room, else queue it in `backlog`; start a worker if none is known to be idle."""
        may_spawn = self.idle_tokens == 0  # no worker is known to be idle: start one
        if not may_spawn:
            self.idle_tokens -= 1
        if frame is None:  # the call failed to pickle; still size the pool like the stdlib
            if may_spawn and self.may_spawn_locked():
                self.spawn_locked()
            return
        self.pending[work_id] = future
        if self.backlog:  # calls are waiting, so no worker has room: queue behind them
            self.backlog.append((work_id, frame))
            return
        worker = None
        if may_spawn and self.may_spawn_locked():
            try:
                worker = self.spawn_locked()
            except BaseException as exc:
                if not self.workers:
                    del self.pending[work_id]
                    frame = None  # the traceback keeps this frame (see submit())
                    raise
                # Swallowed (other workers run the call): keep no frame alive through it,
                # e.g. the call's frame, a buffer export (BufferError at collection).
                exc.__traceback__ = None
        if worker is None:
            worker = self.pick_locked(len(frame))
        if worker is None:
            self.backlog.append((work_id, frame))
            self.fill_locked()
        else:
            future.set_running_or_notify_cancel()
            self.send_locked(worker, work_id, frame)

    def pick_locked(self, size: int) -> _Worker | None:
        """An idle worker, else the least loaded one with room while the window allows."""
        best = None
        waiting = 0  # committed calls beyond the running ones: the stdlib's call queue
        for w in self.workers:
            queued = len(w.queued)
            if queued:
                # Running: the calls it has taken and not yet seen answered (a finished
                # one's answer may still be in the pipe), and at least its oldest call.
                running = w.taken[w.slot] - (w.sent - queued)
                waiting += queued - (running if running > 1 else 1)
            if w.budget == 0 or w.stopping or w.writing:
                continue
            if not queued:
                return w
            if self.idle_only:
                continue
            depth = PREFETCH_FAST if w.fast else PREFETCH
            if (queued < depth and w.nbytes + size + 16 <= w.room
                    and (best is None or queued < len(best.queued))):
                best = w
        return best if waiting < self.window else None

    def send_locked(self, worker: _Worker, work_id: int, frame: bytes | memoryview,
                    batch: list[_Worker] | None = None) -> None:
        """Book a call for `worker` and write it (or, with `batch`, queue it in its outbox)."""
        size = len(frame) + 16
        worker.queued.append((work_id, size, frame))
        worker.sent += 1
        worker.nbytes += size
        if worker.budget is not None:
            worker.budget -= 1
        if worker.nbytes > worker.room:
            if worker.outbox:  # keep the pipe in booking order
                flush_locked(worker)
                if batch is not None and worker in batch:
                    batch.remove(worker)
            worker.writing += 1
            self.call_queue.put(worker, frame)
            return
        worker.outbox.append(frame if worker.portable else framed(frame))
        if batch is None:
            flush_locked(worker)
        elif len(worker.outbox) == 1:
            batch.append(worker)

    def fill_locked(self) -> None:
        """Hand waiting calls to workers with room; start workers while calls wait."""
        batch: list[_Worker] = []
        try:
            self._fill_locked(batch)
        finally:
            for worker in batch:
                flush_locked(worker)

    def _fill_locked(self, batch: list[_Worker]) -> None:
        backlog = self.backlog
        while backlog:
            work_id, frame = backlog[0]
            future = self.pending.get(work_id)
            if future is None or future.cancelled():
                self._drop_head_locked()
                continue
            worker = self.pick_locked(len(frame))
            if worker is None:
                active = self.active_count()
                if active >= self.max_workers or self.forced or self.broken:
                    if active == 0:
                        self._strand_locked()
                    return
                try:
                    worker = self.spawn_locked()
                except Exception as exc:  # noqa: BLE001 - reported through the pool
                    self.start_error = format_remote(exc)
                    # Keep the text only: the traceback's frames hold call frames
                    # (buffer exports of pickled data), and the exception may live on
                    # (a mock's side_effect): a cycle the GC would find, BufferError.
                    exc.__traceback__ = None
                    if active == 0:
                        self._strand_locked()
                    return
            # A RUNNING one was sent back by a worker that died before starting it.
            if future._state == _base.PENDING and not future.set_running_or_notify_cancel():
                self._drop_head_locked()
                continue
            backlog.popleft()
            self.send_locked(worker, work_id, frame, batch)

    def _strand_locked(self) -> None:
        """No worker is left to run the backlog and none can start: fail it, don't wait."""
        if self.broken or self.break_later is not None:
            return
        if self.forced:
            self.break_later = (None, FORCED)
        elif self.start_error is not None:
            self.break_later = (self.start_error, NOT_STARTED)

    def _drop_head_locked(self) -> None:
        work_id, _ = self.backlog.popleft()
        future = self.pending.pop(work_id, None)
        if self.timeouts:
            self.timeouts.pop(work_id, None)
        if future is not None and future._state == _base.CANCELLED:
            future.set_running_or_notify_cancel()  # CANCELLED -> CANCELLED_AND_NOTIFIED

    def may_spawn_locked(self) -> bool:
        return (not self.forced and not self.broken
                and self.active_count() < self.max_workers)

    def written(self, worker: _Worker) -> None:
        """Writer thread: a large frame for `worker` is now in its pipe."""
        with self.lock:
            worker.writing -= 1
            if worker.reaped:
                if not worker.writing:
                    worker.calls.close()
                return
            self.fill_locked()
            # The manager must watch a new worker's pipes; and if the worker answered
            # this call before we got here, the manager (which sends no stop frame
            # while a write is under way) may be waiting for nothing else to stop it.
            wake = bool(self.new_workers) or not (worker.writing or worker.queued)
        if wake:
            self.wakeup.wakeup()

    # -- settling and breaking -----------------------------------------------------

    def take_next_locked(self, worker: _Worker) -> _base.Future[Any] | None:
        """Book the oldest call of `worker` as answered (workers answer in order); the
        caller runs fill_locked() afterwards."""
        queued = worker.queued
        if not queued:
            return None  # the pool broke meanwhile
        work_id, size, _ = queued.popleft()
        worker.nbytes -= size
        future = self.pending.pop(work_id, None)
        if self.timeouts:
            self.timeouts.pop(work_id, None)
        if not queued:
            if worker.budget == 0:
                worker.retired = True
                self.processes.pop(worker.pid, None)
            elif not self.backlog:
                self.idle_tokens = min(self.idle_tokens + 1, len(self.workers))
        return future

    def break_pool(self, cause: str | None, why: tuple[str, str] = ABRUPT) -> None:
        """Fail every unsettled future with its own BrokenProcessPool; stop all workers.

        `cause`: the traceback text of each error's `__cause__` (or None); `why`: the
        pool's message and each future's (a pair from `errors`)."""
        message, future_message = why
        with self.lock:
            if self.broken:
                return
            self.broken = message
            futures = list(self.pending.values())
            self.pending.clear()
            self.timeouts.clear()
            self.backlog.clear()
            for w in self.workers:
                w.queued.clear()
                w.nbytes = 0
            processes = [w.process for w in self.workers]
        for future in futures:
            error = BrokenProcessPool(future_message)
            if cause is not None:
                error.__cause__ = _RemoteTraceback(cause)
            settle(future, None, error)
        for process in processes:
            try:
                process.terminate()
            except (OSError, ValueError, AttributeError):
                pass
        self.wakeup.wakeup()


def flush_locked(worker: _Worker) -> None:
    """Write a worker's outbox in one system call; it fits, so it cannot block."""
    if worker.portable:  # one message per frame (a Windows pipe is message-based)
        try:
            for frame in worker.outbox:
                worker.calls.send_bytes(frame)
        except OSError:
            pass  # the worker died; the manager will see its exit
        worker.outbox.clear()
        return
    data = b"".join(worker.outbox) if len(worker.outbox) > 1 else worker.outbox[0]
    worker.outbox.clear()
    view = memoryview(data)
    fd = worker.calls.fileno()
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass  # the worker died; the manager will see its exit


def _connections(portable: bool = False) -> tuple[Connection, Connection]:
    """A pipe as two Connections: (read end, write end); on the portable path,
    multiprocessing's own (on Windows a named pipe's PipeConnection)."""
    if portable:
        from multiprocessing.connection import Pipe

        return Pipe(duplex=False)
    read_fd, write_fd = os.pipe()
    return Connection(read_fd, writable=False), Connection(write_fd, readable=False)


def settle(future: _base.Future[Any] | None, result: Any, error: BaseException | None) -> None:
    """Settle `future` unless someone (cancel, a break) already did."""
    if future is None:
        return
    try:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
    except _base.InvalidStateError:
        pass
