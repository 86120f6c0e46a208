"""The manager thread's loop: results in, futures settled, exits reaped, pool wound down.

One `poll()` watches the wake-up pipe, every worker's result pipe and every worker's
process sentinel. A batch of results is booked under the pool lock by call order (which
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
import time
import traceback

from ._process_pool import (
    FAST,
    FUTURE_BROKEN,
    RESULT_UNREADABLE,
    _Pool,
    _settle,
    _Worker,
    decode_result,
)
from ._process_worker import FATAL
from .process import BrokenProcessPool, _RemoteTraceback  # loaded: it starts this thread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

_RESULT, _EXIT = 0, 1
_GRACE = 2.0  # seconds a terminated worker gets before it is killed
_READ_SIZE = 1 << 16


def _missing(buf: bytearray) -> int:
    """Bytes still missing from the frame that starts `buf` (0 if unknown)."""
    if len(buf) < 4:
        return 0
    size = int.from_bytes(buf[:4], "big", signed=True)
    if size == -1:  # an 8-byte length follows
        return 0 if len(buf) < 12 else 12 + int.from_bytes(buf[4:12], "big") - len(buf)
    return 0 if size < 0 else 4 + size - len(buf)


def _local_traceback(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"\n'''\n{text}'''"


class _Manager:
    def __init__(self, pool: _Pool, is_exiting: Callable[[], bool]) -> None:
        self.pool = pool
        self.is_exiting = is_exiting
        self.poller = select.poll()
        self.watched: dict[int, tuple[int, _Worker]] = {}  # fd -> (kind, worker)
        self.wake_fd = pool.wakeup.fileno()
        self.poller.register(self.wake_fd, select.POLLIN)
        self.broken_at: float | None = None

    def watch_new_workers(self) -> None:
        pool = self.pool
        if not pool.new_workers:  # lock-free look (GIL): a spawn is followed by a wake-up
            return
        with pool.lock:
            new, pool.new_workers = pool.new_workers, []
        for w in new:
            for kind, fd in ((_RESULT, w.results.fileno()), (_EXIT, w.process.sentinel)):
                self.watched[fd] = (kind, w)
                self.poller.register(fd, select.POLLIN)

    def unwatch(self, fd: int) -> None:
        if self.watched.pop(fd, None) is not None:
            self.poller.unregister(fd)

    # -- results -------------------------------------------------------------------

    def read_results(self, w: _Worker) -> bool:
        """Read what `w` has sent, settle every whole result in it; False at end of file."""
        fd = w.results.fileno()
        buf = w.rbuf
        try:
            chunk = os.read(fd, max(_READ_SIZE, _missing(buf)))
        except OSError:
            chunk = b""
        if not chunk:
            self.unwatch(fd)
            return False
        if buf:
            buf += chunk
            if _missing(buf) > 0:
                return True  # still inside a long frame: parse it once, when whole
            data: bytes | bytearray = buf
        else:
            data = chunk  # usually whole frames, parsed where they were read
        messages = []
        pos, end = 0, len(data)
        from_bytes = int.from_bytes
        with memoryview(data) as view:  # each frame copied once (a long one: 2x peak)
            while end - pos >= 4:
                size = from_bytes(view[pos:pos + 4], "big", signed=True)
                start = pos + 4
                if size == -1:  # multiprocessing's framing of a frame of 2 GiB or more
                    if end - pos < 12:
                        break
                    size, start = from_bytes(view[pos + 4:pos + 12], "big"), pos + 12
                if end < start + size:
                    break
                pos = start + size
                messages.append(bytes(view[start:pos]))
        if data is buf:
            del buf[:pos]
        elif pos < end:
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
            futures = [pool.take_next_locked(w) for _ in messages]
            pool.fill_locked()
        for future, data in zip(futures, messages):
            try:
                work_id, ok, payload = decode_result(data)
            except BaseException as exc:  # noqa: BLE001 - a result that cannot be rebuilt
                error: BaseException = BrokenProcessPool(RESULT_UNREADABLE)
                error.__cause__ = _RemoteTraceback(_local_traceback(exc))
                _settle(future, None, error)
                continue
            if work_id == FATAL:  # the worker could not read this call and is exiting
                error = BrokenProcessPool(FUTURE_BROKEN)
                error.__cause__ = _RemoteTraceback(payload[1])
                _settle(future, None, error)
                pool.break_pool(payload[1])
                return
            if ok:
                _settle(future, payload, None)
            else:
                error, text = payload
                error.__cause__ = _RemoteTraceback(text)
                _settle(future, None, error)

    # -- exits ---------------------------------------------------------------------

    def reap(self, w: _Worker) -> None:
        results_fd = w.results.fileno()
        while results_fd in self.watched and w.results.poll(0):
            if not self.read_results(w):  # the worker has exited: read up to end of file
                break
        self.unwatch(results_fd)
        self.unwatch(w.process.sentinel)
        w.process.join(1.0)
        code = w.process.exitcode
        pool = self.pool
        with pool.lock:
            expected = not w.queued and (w.retired or w.stopping or w.budget == 0 or pool.forced)
            pool.workers.remove(w)
            pool.processes.pop(w.pid, None)
            if w.taken is pool.counters:  # it has exited: its counter slot is free again
                pool.free_slots.append(w.slot)
            w.results.close()
            w.reaped = True
            if not w.writing:
                w.calls.close()
            broken = bool(pool.broken)
            if expected and not broken:
                pool.fill_locked()
        if not expected and not broken:
            text = f"Process {w.pid} terminated abruptly with exit code {code}"
            pool.break_pool(f"\n'''\n{text}\n'''")

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
            events = self.poller.poll(timeout)
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
            pool.backlog.clear()
        for future in leftovers:  # only after an internal error: never leave one hanging
            _settle(future, None, BrokenProcessPool("the process pool's manager thread failed"))
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
            pool.break_pool(_local_traceback(exc))
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

