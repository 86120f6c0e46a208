"""The manager thread's loop: results in, futures settled, exits reaped, pool wound down.

One `poll()` watches the wake-up pipe, every worker's result pipe and every worker's
process sentinel (on the portable path, `multiprocessing.connection.wait` watches the
wake-up connection, every result connection and every sentinel: see `portable`; where a
Windows Python before 3.12 cannot wait on that many handles at once, the sentinels are
looked at in batches, without blocking, every 50 ms).
A batch of results is booked under the pool lock by call order (which
hands the freed worker more calls at once), then decoded and settled outside it, so
done-callbacks never run with the lock held (and may call submit() or shutdown(wait=False);
shutdown(wait=True) raises "cannot join current thread", as in the stdlib). A worker exit
is expected when the worker had answered every call and was retired (task budget spent)
or told to stop; any other exit breaks the pool, with the pid and exit code in the
BrokenProcessPool's `__cause__`.

The loop ends once the pool is closing (shutdown, executor collected, interpreter
exit, or broken), nothing is pending, and every worker has been reaped.

Lock-free looks (GIL: single loads of whole values): each loop turn reads
`new_workers` and the closing flags (`shutdown`, `owner_gone`, `broken`, the exit flag)
without the lock; every writer of those wakes the manager after writing, so a stale
read only costs one more turn, and the decisions are re-checked under the lock.
"""

from __future__ import annotations

import os
import select
import sys
import time

from .. import _base
from . import robust
from .describe import describe_frame
from .errors import (
    ABRUPT,
    LOCAL,
    MANAGER_FAILED,
    RESULT_UNREADABLE,
    BrokenProcessPool,
    WorkerDiedError,
    _RemoteTraceback,
    exit_description,
    format_remote,
)
from .pool import FAST, _Pool, _Worker, settle
from .wire import FATAL, READ_SIZE, loads, missing, split

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_RESULT, _EXIT = 0, 1
_GRACE = 2.0  # seconds a terminated worker gets before it is killed
_PORTABLE_BATCH = 64  # results read from one connection per turn (portable path)
# Handles one multiprocessing.connection.wait() can watch: 63 on Windows before 3.12
# (WaitForMultipleObjects; 3.12 batches them), no limit elsewhere. Tests lower it to
# run the batched way on Linux.
_SENTINEL_POLL = 0.05  # seconds between looks at the sentinels when they are batched
_WAIT_LIMIT = 63 if sys.platform == "win32" and sys.version_info < (3, 12) else 1 << 30


class _Manager:
    portable = False  # the pool's path (see `portable`), set per pool by __init__

    def __init__(self, pool: _Pool, is_exiting: Callable[[], bool]) -> None:
        self.pool = pool
        self.is_exiting = is_exiting
        # fd -> (kind, worker); on the portable path: a result Connection or a sentinel.
        self.watched: dict[Any, tuple[int, _Worker]] = {}
        self.broken_at: float | None = None
        self.portable = pool.portable
        self.poller: Any = None
        if self.portable:
            self.wake_fd: Any = pool.wakeup.waitable()
            return
        self.poller = select.poll()
        self.wake_fd = pool.wakeup.fileno()
        self.poller.register(self.wake_fd, select.POLLIN)

    def watch_new_workers(self) -> None:
        pool = self.pool
        if not pool.new_workers:  # lock-free look (GIL): a spawn is followed by a wake-up
            return
        with pool.lock:
            new, pool.new_workers = pool.new_workers, []
        poller = self.poller
        for w in new:
            results = w.results if poller is None else w.results.fileno()
            for kind, fd in ((_RESULT, results), (_EXIT, w.process.sentinel)):
                self.watched[fd] = (kind, w)
                if poller is not None:
                    poller.register(fd, select.POLLIN)

    def unwatch(self, fd: Any) -> None:
        if self.watched.pop(fd, None) is not None and self.poller is not None:
            self.poller.unregister(fd)

    def wait_portable(self, timeout: int | None) -> list[tuple[Any, int]]:
        """The portable path's poll(): what is ready, as poll() reports it."""
        from multiprocessing.connection import wait

        objects = list(self.watched)
        seconds = None if timeout is None else timeout / 1000
        exited = []
        if len(objects) + 1 > _WAIT_LIMIT:
            # Too many handles for one wait: block on the results and the wake-up only,
            # for at most _SENTINEL_POLL seconds, and look at the sentinels (in batches
            # of _WAIT_LIMIT, without blocking) every turn.
            sentinels = [k for k, (kind, _) in self.watched.items() if kind == _EXIT]
            objects = [k for k, (kind, _) in self.watched.items() if kind == _RESULT]
            step = max(1, _WAIT_LIMIT)
            for i in range(0, len(sentinels), step):
                exited += wait(sentinels[i:i + step], 0)
            seconds = 0 if exited else min(seconds or _SENTINEL_POLL, _SENTINEL_POLL)
        objects.append(self.wake_fd)
        ready = wait(objects, seconds)
        return [(obj, 0) for obj in ready + exited]

    def receive(self, w: _Worker) -> bool:
        """read_results() on the portable path: whole messages, one recv_bytes() each."""
        conn = w.results
        messages = []
        eof = False
        try:
            while True:
                messages.append(conn.recv_bytes())
                if len(messages) >= _PORTABLE_BATCH or not conn.poll(0):
                    break
        except (EOFError, OSError):
            eof = True
            self.unwatch(conn)
        if messages:
            self.settle_results(w, messages)
        return not eof

    # -- results -------------------------------------------------------------------

    def read_results(self, w: _Worker) -> bool:
        """Read what `w` has sent, settle every whole result in it; False at end of file."""
        if self.portable:
            return self.receive(w)
        fd = w.results.fileno()
        buf = w.rbuf
        try:
            chunk = os.read(fd, max(READ_SIZE, missing(buf)))
        except OSError:
            chunk = b""
        if not chunk:
            self.unwatch(fd)
            return False
        if buf:
            buf += chunk
            if missing(buf) > 0:
                return True  # still inside a long frame: parse it once, when whole
            data: bytes | bytearray = buf
        else:
            data = chunk  # usually whole frames, parsed where they were read
        messages, pos = split(data)
        if data is buf:
            del buf[:pos]
        elif pos < len(data):
            buf += data[pos:]  # the start of a frame still being written
        del data
        if messages:
            self.settle_results(w, messages)
        return True

    def settle_results(self, w: _Worker, messages: list[bytes]) -> None:
        """Book a batch of results, refill `w`, then decode and settle outside the lock.

        A worker answers its calls in the order it was sent them, so the batch answers
        the oldest len(messages) calls of `w`: booking needs no decoding, and `w` gets
        its next calls before the results are unpickled. One that cannot be unpickled
        fails only its own future (frames are length-delimited: the stream is intact).
        """
        pool = self.pool
        now = time.monotonic()
        with pool.lock:
            if w.queued and w.last_done:
                # Busy since its previous result: the gap is the calls' duration.
                w.fast = (now - w.last_done) / len(messages) < FAST
            w.last_done = now
            if pool.announcing:  # lock-free look: set before the first timed call is sent
                futures, messages = robust.book_locked(pool, w, messages, now)
            else:
                futures = [pool.take_next_locked(w) for _ in messages]
            pool.fill_locked()
        codec = pool.codec  # the serializer's (None: wire's pickler)
        decode = loads if codec is None else codec.decode_result
        done = 0
        try:
            for future, data in zip(futures, messages):
                if self.settle_one(future, data, decode):
                    return
                done += 1
        except BaseException as exc:
            # Our own bug: these futures are off `pending` (booked above), so breaking
            # the pool would not reach them. Never leave one unsettled.
            cause = format_remote(exc, LOCAL)
            for future in futures[done:]:
                error = BrokenProcessPool(MANAGER_FAILED)
                error.__cause__ = _RemoteTraceback(cause)
                settle(future, None, error)
            raise

    def settle_one(self, future: _base.Future[Any] | None, data: bytes,
                   decode: Callable[[bytes], Any]) -> bool:
        """Decode one result and settle its future; True if the pool broke on it."""
        pool = self.pool
        try:
            work_id, ok, payload = decode(data)  # see wire: (work_id, ok, value or (exc, text))
        except BaseException as exc:  # noqa: BLE001 - a result that cannot be rebuilt
            error: BaseException = BrokenProcessPool(RESULT_UNREADABLE)
            error.__cause__ = _RemoteTraceback(format_remote(exc, LOCAL))
            settle(future, None, error)
            return False
        if work_id == FATAL:  # the worker could not read this call and is exiting
            if pool.survive:  # only this call fails; reap() sends the others elsewhere
                error = payload[0]
                error.__cause__ = _RemoteTraceback(payload[1])
                settle(future, None, error)
                return False
            error = BrokenProcessPool(ABRUPT[1])
            error.__cause__ = _RemoteTraceback(payload[1])
            settle(future, None, error)
            pool.break_pool(payload[1])
            return True
        if ok:
            settle(future, payload, None)
        else:
            error, text = payload
            error.__cause__ = _RemoteTraceback(text)
            settle(future, None, error)
        return False

    # -- exits ---------------------------------------------------------------------

    def reap(self, w: _Worker) -> None:
        if w.reaped:
            return
        results_fd = w.results if self.portable else w.results.fileno()
        while results_fd in self.watched and w.results.poll(0):
            if not self.read_results(w):  # the worker has exited: read up to end of file
                break
        self.unwatch(results_fd)
        self.unwatch(w.process.sentinel)
        w.process.join(1.0)
        code = w.process.exitcode
        pool = self.pool
        lost: _base.Future[Any] | None = None  # the call it was running, if it failed
        running_frame = None
        with pool.lock:
            broken = bool(pool.broken)
            running = robust.running_call_locked(pool, w)  # before its slot is freed
            if running:
                running_frame = w.queued[0][2]
            expected = not w.queued and (w.retired or w.stopping or w.budget == 0
                                         or pool.forced)
            # Killed by the pool (a timeout, a cancel), or dead with survive_worker_death
            # (unless it died starting up, with no call taken: its initializer failed,
            # which breaks the pool as in the stdlib): its calls are dealt with one by one.
            if not broken and not pool.forced and (
                    w.killed or (pool.survive and (code != 1 or int(w.taken[w.slot]) > 0))):
                expected = True
                if running:
                    head = w.queued.popleft()[0]
                    lost = pool.pending.pop(head, None)
                    pool.timeouts.pop(head, None)
                robust.requeue_locked(pool, w)
            pool.workers.remove(w)
            pool.processes.pop(w.pid, None)
            if w.taken is pool.counters:  # it has exited: its counter slot is free again
                pool.free_slots.append(w.slot)
            w.results.close()
            w.reaped = True
            if not w.writing:
                w.calls.close()
            if expected and not broken:
                pool.fill_locked()
        if expected and lost is None:
            return
        how, signal = exit_description(code, w.killed)
        call = describe_frame(running_frame)  # read as data: no code of the call runs
        text = f"Process {w.pid} terminated abruptly with {how}"
        if call is not None:
            text += f" while running {call}"
        if lost is not None:
            error = WorkerDiedError(
                f"The worker process running this call died ({text}); the pool replaced it",
                w.pid, code, signal, call,
            )
            settle(lost, None, error)
        elif not broken:
            pool.break_pool(format_remote(text, LOCAL))

    # -- winding down --------------------------------------------------------------

    def finished(self) -> bool:
        """Stop idle workers once the pool is closing and nothing is pending."""
        pool = self.pool
        if not (pool.shutdown or pool.owner_gone or pool.broken or self.is_exiting()):
            return False  # lock-free look (GIL): each flag is set before a wake-up
        with pool.lock:
            if pool.pending and not pool.broken:
                return False
            for w in pool.workers:
                if not w.stopping and not w.queued and not w.writing:
                    w.stopping = True
                    try:
                        w.calls.send_bytes(b"")
                    except OSError:
                        pass
            remaining = [w.process for w in pool.workers]
        if pool.broken and remaining:
            now = time.monotonic()
            if self.broken_at is None:
                self.broken_at = now
            elif now - self.broken_at > _GRACE:
                for process in remaining:
                    try:
                        process.kill()
                    except (OSError, ValueError, AttributeError):
                        pass
        return not remaining

    def serve(self) -> None:
        pool = self.pool
        while True:
            self.watch_new_workers()
            if pool.break_later is not None:
                with pool.lock:
                    later, pool.break_later = pool.break_later, None
                if later is not None:
                    pool.break_pool(*later)
            if self.finished():
                return
            timeout = None if not pool.broken else 250
            if pool.announcing:  # timed calls: wake at the next deadline
                deadline = robust.expire(pool)
                if deadline is not None:
                    wait = max(1, int((deadline - time.monotonic()) * 1000) + 1)
                    timeout = wait if timeout is None else min(timeout, wait)
            if self.poller is not None:
                events = self.poller.poll(timeout)
            else:
                events = self.wait_portable(timeout)
            exits = []
            for fd, _ in events:
                if fd == self.wake_fd:
                    pool.wakeup.clear()
                    continue
                tag = self.watched.get(fd)
                if tag is None:
                    continue
                kind, w = tag
                if kind == _RESULT:
                    self.read_results(w)
                else:
                    exits.append(w)
            for w in exits:
                self.reap(w)

    def close(self) -> None:
        pool = self.pool
        with pool.lock:
            leftovers = list(pool.pending.values())
            pool.pending.clear()
            pool.timeouts.clear()
            pool.backlog.clear()
            for w in pool.workers:
                # Drop the call frames kept for re-sending (buffer exports of pickled
                # data): a pool kept alive by a traceback must not hold them in garbage.
                w.queued.clear()
                w.outbox.clear()
        for future in leftovers:  # only after an internal error: never leave one hanging
            settle(future, None, BrokenProcessPool(MANAGER_FAILED))
        pool.finished = True
        pool.initializer = pool.initargs = None  # may hold big or scarce objects
        pool.call_queue.close()
        pool.wakeup.close()


def run(pool: _Pool, is_exiting: Callable[[], bool]) -> None:
    """Body of _ExecutorManagerThread.run()."""
    manager = _Manager(pool, is_exiting)
    try:
        manager.serve()
    except BaseException as exc:  # noqa: BLE001 - the pool must not hang on our bug
        try:
            pool.break_pool(format_remote(exc, LOCAL))
        finally:  # even if breaking fails too: no worker may outlive the manager
            for w in list(pool.workers):
                try:
                    w.process.kill()
                    w.process.join(5.0)
                except (OSError, ValueError, AttributeError):
                    pass
        raise
    finally:
        manager.close()

