"""The call writer: a thread that writes call frames too big to write without blocking.

The pool writes a call inline when it fits in the worker's pipe (it cannot block then);
a larger frame is handed to this thread, which writes it with `Connection.send_bytes`
(the framing `wire` names) and then tells the pool (`written()`), which refills the
worker. A write to a worker that dies fails with EPIPE, so the thread cannot hang on a
dead reader. The pool is passed to the thread, never stored here: the pool holds this
object (as `call_queue`), and this module does not import the pool.

`_cond` guards `_jobs` and `_closed`; `_thread` is written once by start() before any
join_thread() can need it (read lock-free: a single load under the GIL).
"""

from __future__ import annotations

import collections
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class _Pool(Protocol):
        """What the writer needs of the pool (pool._Pool)."""

        break_later: Any
        wakeup: Any

        def written(self, worker: Any) -> None: ...


class CallQueue:
    """The writer thread and its jobs: (worker record, frame) pairs, written in order.

    Exposed as `executor._call_queue` (the stdlib's name); `join_thread()` waits for the
    thread once the pool has closed it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._jobs: collections.deque[tuple[Any, bytes | memoryview]] = collections.deque()
        self._closed = False  # guarded by _cond
        self._thread: threading.Thread | None = None  # written once by start()

    def start(self, pool: _Pool) -> None:
        thread = threading.Thread(target=self._run, args=(pool,), name="ProcessPoolWriter",
                                  daemon=True)
        thread.start()
        self._thread = thread

    def __repr__(self) -> str:
        thread = self._thread
        alive = "not started" if thread is None else "alive" if thread.is_alive() else "ended"
        with self._cond:
            jobs, closed = len(self._jobs), self._closed
        return f"<CallQueue writer={alive} frames={jobs}{' closed' if closed else ''}>"

    def put(self, worker: Any, frame: bytes | memoryview) -> None:
        with self._cond:
            self._jobs.append((worker, frame))
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def join_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self, pool: _Pool) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if not self._jobs:
                    return
                worker, frame = self._jobs.popleft()
            try:
                worker.calls.send_bytes(frame)
            except OSError:
                pass  # the worker died; the manager reports it
            del frame
            pool.written(worker)
            if pool.break_later:
                pool.wakeup.wakeup()
