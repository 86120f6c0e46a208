"""Floors: what the scenarios cost at the very least, measured in the same run.

A floor is the cheapest code that does the same kind of work without any
executor machinery: a bare Python call, a Lock acquire/release, a SimpleQueue
hand-off between two threads, a minimal 4-thread pool (``MiniPool`` below,
about 20 lines), a pipe stream between two processes, a fork+join, an empty
import.  Each table row names its closest floor, so "futures_impl is 3x the
floor" reads directly as "this much is left to win".

Same contract as ``scenarios``: ``fn(n) -> (seconds, units)``.
"""

from __future__ import annotations

import multiprocessing
import threading
from queue import SimpleQueue
from time import perf_counter
from typing import Any, Callable

from ._tasks import ident, noop

Result = tuple[float, int]


def floor_call(n: int) -> Result:
    f = noop
    t0 = perf_counter()
    for _ in range(n):
        f()
    return perf_counter() - t0, n


def floor_lock(n: int) -> Result:
    """lock.acquire(); lock.release() -- explicit calls, the cheapest spelling.

    (``with lock:`` costs 2-4x as much on CPython 3.9-3.13: ``__enter__`` and
    ``__exit__`` go through argument parsing; see docs/benchmarks.md.)
    """
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    t0 = perf_counter()
    for _ in range(n):
        acquire()
        release()
    return perf_counter() - t0, n


def floor_simplequeue(n: int) -> Result:
    """Stream n items from a producer thread to this thread through a SimpleQueue."""
    q: SimpleQueue[Any] = SimpleQueue()
    barrier = threading.Barrier(2)

    def producer() -> None:
        put = q.put
        barrier.wait()
        for i in range(n):
            put(i)

    th = threading.Thread(target=producer)
    th.start()
    barrier.wait()
    get = q.get
    t0 = perf_counter()
    for _ in range(n):
        get()
    t = perf_counter() - t0
    th.join()
    return t, n


# ------------------------------------------------------------------ mini pool


class MiniFuture:
    __slots__ = ("_lock", "value")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()  # released by the worker once value is set
        self.value: Any = None

    def result(self) -> Any:
        with self._lock:
            return self.value


class MiniPool:
    """The smallest useful thread pool: no cancel, no exceptions, no timeouts."""

    def __init__(self, workers: int = 4) -> None:
        self._q: SimpleQueue[Any] = SimpleQueue()
        self._threads = [threading.Thread(target=self._work) for _ in range(workers)]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        get = self._q.get
        while True:
            item = get()
            if item is None:
                return
            fut, fn, arg = item
            fut.value = fn(arg)
            fut._lock.release()

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> MiniFuture:
        fut = MiniFuture()
        self._q.put((fut, fn, arg))
        return fut

    def shutdown(self) -> None:
        for _ in self._threads:
            self._q.put(None)
        for t in self._threads:
            t.join()


def floor_minipool(n: int) -> Result:
    """Same shape as thread_submit_batch: submit n, then result() of each."""
    pool = MiniPool(4)
    try:
        t0 = perf_counter()
        fs = [pool.submit(ident, i) for i in range(n)]
        for f in fs:
            f.result()
        t = perf_counter() - t0
    finally:
        pool.shutdown()
    return t, n


def floor_minipool_small(n: int) -> Result:
    """Same shape as thread_submit_small: submit 10, then result() of each, repeated."""
    batch = 10
    loops = max(1, n // batch)
    pool = MiniPool(4)
    try:
        submit = pool.submit
        t0 = perf_counter()
        for _ in range(loops):
            fs = [submit(ident, 1) for _ in range(batch)]
            for f in fs:
                f.result()
        t = perf_counter() - t0
    finally:
        pool.shutdown()
    return t, loops * batch


def floor_minipool_lifecycle(n: int) -> Result:
    """A one-thread MiniPool + one task + join (pools start threads on demand)."""
    t0 = perf_counter()
    for _ in range(n):
        pool = MiniPool(1)
        pool.submit(ident, 1).result()
        pool.shutdown()
    return perf_counter() - t0, n


# ------------------------------------------------------------------ processes


def _echo(conn_in: Any, conn_out: Any) -> None:
    recv, send = conn_in.recv, conn_out.send
    while True:
        item = recv()
        if item is None:
            return
        send(item)


def floor_pipe(n: int) -> Result:
    """Stream n small objects to a child process and back (Connection.send/recv)."""
    ctx = multiprocessing.get_context()
    to_child_r, to_child_w = ctx.Pipe(duplex=False)
    from_child_r, from_child_w = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_echo, args=(to_child_r, from_child_w))
    child.start()
    # one round trip so the child is up before timing
    to_child_w.send(0)
    from_child_r.recv()

    def feeder() -> None:
        send = to_child_w.send
        for i in range(n):
            send((i,))

    t0 = perf_counter()
    th = threading.Thread(target=feeder)
    th.start()
    recv = from_child_r.recv
    for _ in range(n):
        recv()
    t = perf_counter() - t0
    th.join()
    to_child_w.send(None)
    child.join()
    return t, n


def floor_fork_join(n: int) -> Result:
    """Start and join one process of the default start method."""
    ctx = multiprocessing.get_context()
    t0 = perf_counter()
    for _ in range(n):
        p = ctx.Process(target=noop)
        p.start()
        p.join()
    return perf_counter() - t0, n


FUNCTIONS: dict[str, Callable[[int], Result]] = {
    f.__name__: f
    for f in (
        floor_call,
        floor_lock,
        floor_simplequeue,
        floor_minipool,
        floor_minipool_small,
        floor_minipool_lifecycle,
        floor_pipe,
        floor_fork_join,
    )
}
