"""The timed scenarios: one function per workload, the same code for every side.

Each function takes ``api`` (the module under test, e.g. ``concurrent.futures``
or ``futures_impl``, or a namespace holding loky's ``ProcessPoolExecutor``)
and a size ``n``, does its setup, times only the workload with
``now()`` (wall and process CPU time) and returns ``(span, units)``; the harness
divides.
Setup (pool creation, thread start-up, building finished futures) stays
outside the timed region unless the scenario is *about* it (pool start-up,
shutdown, lifecycle, import).

Nothing here may use ``sleep()`` to order threads: hand-offs use
``SimpleQueue``/``Barrier`` so that both sides do exactly the same work.
"""

from __future__ import annotations

import itertools
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from queue import SimpleQueue
from time import perf_counter, process_time
from typing import Any, Callable

from ._tasks import announce_and_block, callback, cpu_work, ident


class Skip(Exception):
    """A side cannot run this row here (e.g. an option not built yet): the reason."""


class Span(tuple):  # type: ignore[type-arg]
    """(wall seconds, CPU seconds of this process, all threads): a time stamp or a span.

    Stamps subtract into spans and spans add up (``0.0 + span`` too), so the scenarios
    read like plain ``perf_counter`` arithmetic.  The CPU part does not count time spent
    waiting for a core, so it stays readable when other programs load the box; it does
    not include worker *processes* (a process row's CPU is the parent's alone).
    """

    __slots__ = ()

    def __sub__(self, other: Span) -> Span:
        return Span((self[0] - other[0], self[1] - other[1]))

    def __add__(self, other: object) -> Span:
        if isinstance(other, Span):
            return Span((self[0] + other[0], self[1] + other[1]))
        if other == 0:
            return self
        return NotImplemented

    __radd__ = __add__


def now() -> Span:
    return Span((perf_counter(), process_time()))


Result = tuple[Span, int]
THREADS = 4  # worker threads of every thread-pool scenario (and of the mini pool floor)
PROCS = 2  # worker processes of every process-pool scenario (= cores of the bench box)
BARRIER_TIMEOUT = 30.0


def _prime_threads(ex: Any) -> None:
    """Make sure all THREADS workers exist before timing (steady state)."""
    barrier = threading.Barrier(THREADS + 1)
    fs = [ex.submit(barrier.wait, BARRIER_TIMEOUT) for _ in range(THREADS)]
    try:
        barrier.wait(BARRIER_TIMEOUT)
    except threading.BrokenBarrierError:  # a pool that cannot run 4 tasks at once
        pass
    for f in fs:
        f.exception()


def _prime_procs(ex: Any) -> None:
    """Start the workers and run a few tasks so the pool is warm."""
    for f in [ex.submit(ident, i) for i in range(4 * PROCS)]:
        f.result()


# ---------------------------------------------------------------- thread pool


def thread_submit_small(api: Any, n: int) -> Result:
    """submit 10 tasks, then result() of each; repeated (steady-state pool)."""
    batch = 10
    loops = max(1, n // batch)
    with api.ThreadPoolExecutor(THREADS) as ex:
        _prime_threads(ex)
        submit = ex.submit
        t0 = now()
        for _ in range(loops):
            fs = [submit(ident, 1) for _ in range(batch)]
            for f in fs:
                f.result()
        t = now() - t0
    return t, loops * batch


def thread_submit_batch(api: Any, n: int) -> Result:
    """submit n tasks (20k in the full run), then result() of each."""
    with api.ThreadPoolExecutor(THREADS) as ex:
        _prime_threads(ex)
        submit = ex.submit
        t0 = now()
        fs = [submit(ident, i) for i in range(n)]
        for f in fs:
            f.result()
        t = now() - t0
    return t, n


def thread_map(api: Any, n: int) -> Result:
    with api.ThreadPoolExecutor(THREADS) as ex:
        _prime_threads(ex)
        t0 = now()
        for _ in ex.map(ident, range(n)):
            pass
        t = now() - t0
    return t, n


GEN_TAKE = 1000  # results consumed from the long generator
GEN_BUFFERSIZE = 64


def _consume_map(ex: Any, source: Iterator[int], take: int, **kw: Any) -> Span:
    t0 = now()
    it = ex.map(ident, source, **kw)
    for _ in itertools.islice(it, take):
        pass
    it.close()  # cancels what was submitted but not consumed
    return now() - t0


def thread_map_gen(api: Any, n: int) -> Result:
    """map over a generator of n items, no buffersize (both sides eager), take 1,000."""
    take = min(GEN_TAKE, n)
    with api.ThreadPoolExecutor(THREADS) as ex:
        _prime_threads(ex)
        t = _consume_map(ex, iter(range(n)), take)
    return t, take


def thread_map_gen_buffersize(api: Any, n: int) -> Result:
    """map(..., buffersize=64) over an infinite generator, take 1,000.

    A side without ``buffersize`` (the stdlib before 3.14) cannot take an
    infinite input: it maps a generator of n items without buffersize, and the
    row says so.
    """
    take = min(GEN_TAKE, n)
    with api.ThreadPoolExecutor(THREADS) as ex:
        _prime_threads(ex)
        if api.has_buffersize:
            t = _consume_map(ex, itertools.count(), take, buffersize=GEN_BUFFERSIZE)
        else:
            t = _consume_map(ex, iter(range(n)), take)
    return t, take


def thread_pool_lifecycle(api: Any, n: int) -> Result:
    """ThreadPoolExecutor() + one task + shutdown(wait=True), n times."""
    TPE = api.ThreadPoolExecutor
    t0 = now()
    for _ in range(n):
        ex = TPE(THREADS)
        ex.submit(ident, 1).result()
        ex.shutdown(wait=True)
    return now() - t0, n


# ---------------------------------------------------------------- futures, wait, as_completed


def _done_futures(api: Any, n: int) -> list[Any]:
    fs = [api.Future() for _ in range(n)]
    for i, f in enumerate(fs):
        f.set_result(i)
    return fs


AS_COMPLETED_SET = 1000  # futures per call in the "over done futures" rows


def as_completed_done(api: Any, n: int) -> Result:
    size = min(AS_COMPLETED_SET, n)
    fs = _done_futures(api, size)
    loops = max(1, n // size)
    as_completed = api.as_completed
    t0 = now()
    for _ in range(loops):
        for _f in as_completed(fs):
            pass
    return now() - t0, loops * size


def as_completed_threaded(api: Any, n: int) -> Result:
    """as_completed over n pending futures that another thread finishes in order."""
    fs = [api.Future() for _ in range(n)]
    barrier = threading.Barrier(2)

    def finisher() -> None:
        barrier.wait(BARRIER_TIMEOUT)
        for i, f in enumerate(fs):
            f.set_result(i)

    th = threading.Thread(target=finisher)
    th.start()
    barrier.wait(BARRIER_TIMEOUT)
    t0 = now()
    count = 0
    for _f in api.as_completed(fs):
        count += 1
    t = now() - t0
    th.join()
    assert count == n
    return t, n


def _wait_first(api: Any, size: int, calls: int) -> Result:
    """``done, pending = wait(pending, FIRST_COMPLETED)`` in a loop.

    ``pending`` always holds ``size`` futures: before each call the oldest one is
    handed to a finisher thread (SimpleQueue), after it a fresh pending future
    is added.  Each call therefore scans/arms ``size`` futures and returns when
    the finisher completes one (immediately if it was quicker than the call).
    """
    Future = api.Future
    wait = api.wait
    first = api.FIRST_COMPLETED
    order: deque[Any] = deque(Future() for _ in range(size))
    pending: Any = set(order)
    q: SimpleQueue[Any] = SimpleQueue()

    def finisher() -> None:
        while True:
            f = q.get()
            if f is None:
                return
            f.set_result(None)

    th = threading.Thread(target=finisher)
    th.start()
    try:
        t0 = now()
        for _ in range(calls):
            q.put(order.popleft())
            _done, pending = wait(pending, return_when=first)
            nf = Future()
            order.append(nf)
            pending.add(nf)
        t = now() - t0
    finally:
        q.put(None)
        th.join()
    return t, calls


def wait_first_100(api: Any, n: int) -> Result:
    return _wait_first(api, 100, n)


def wait_first_2000(api: Any, n: int) -> Result:
    return _wait_first(api, 2000, n)


def wait_all_done(api: Any, n: int) -> Result:
    size = min(AS_COMPLETED_SET, n)
    fs = _done_futures(api, size)
    loops = max(1, n // size)
    wait = api.wait
    t0 = now()
    for _ in range(loops):
        wait(fs)
    return now() - t0, loops * size


def future_callback(api: Any, n: int) -> Result:
    """Future() + add_done_callback(cb) + set_result(x)."""
    Future = api.Future
    t0 = now()
    for i in range(n):
        f = Future()
        f.add_done_callback(callback)
        f.set_result(i)
    return now() - t0, n


# ---------------------------------------------------------------- process pool


def process_startup(api: Any, n: int) -> Result:
    """ProcessPoolExecutor(2) until the first result is back (shutdown untimed)."""
    PPE = api.ProcessPoolExecutor
    total = Span((0.0, 0.0))
    for _ in range(n):
        t0 = now()
        ex = PPE(PROCS)
        ex.submit(ident, 1).result()
        total += now() - t0
        ex.shutdown(wait=True)
    return total, n


def process_shutdown(api: Any, n: int) -> Result:
    """shutdown(wait=True) of a warm pool of 2 workers."""
    PPE = api.ProcessPoolExecutor
    total = Span((0.0, 0.0))
    for _ in range(n):
        ex = PPE(PROCS)
        _prime_procs(ex)
        t0 = now()
        ex.shutdown(wait=True)
        total += now() - t0
    return total, n


def _process_pool(api: Any) -> Any:
    ex = api.ProcessPoolExecutor(PROCS)
    _prime_procs(ex)
    return ex


def process_submit(api: Any, n: int) -> Result:
    ex = _process_pool(api)
    try:
        submit = ex.submit
        t0 = now()
        fs = [submit(ident, i) for i in range(n)]
        for f in fs:
            f.result()
        t = now() - t0
    finally:
        ex.shutdown(wait=True)
    return t, n


def _process_map(api: Any, n: int, chunksize: int) -> Result:
    ex = _process_pool(api)
    try:
        t0 = now()
        for _ in ex.map(ident, range(n), chunksize=chunksize):
            pass
        t = now() - t0
    finally:
        ex.shutdown(wait=True)
    return t, n


def process_map_1(api: Any, n: int) -> Result:
    return _process_map(api, n, 1)


def process_map_64(api: Any, n: int) -> Result:
    return _process_map(api, n, 64)


# ---------------------------------------------------------------- robust pool options (issue 14)


def _option_pool(api: Any, **options: Any) -> Any:
    """futures_impl's pool with issue-14 options, or Skip when it has no such keyword."""
    try:
        return api.ProcessPoolExecutor(PROCS, **options)
    except TypeError as e:  # "unexpected keyword argument": not built (or another --impl)
        raise Skip(f"no {', '.join(options)} keyword ({e})") from None
    except ImportError as e:  # serializer="cloudpickle" without the package
        raise Skip(str(e)) from None


def process_cloudpickle(api: Any, n: int) -> Result:
    """process_submit's loop, futures_impl with serializer="cloudpickle".

    The stdlib cannot use cloudpickle: its side pickles with pickle (the row compares
    what each offers for "send me a lambda"). loky serializes calls with cloudpickle by
    default, so its side is its plain ProcessPoolExecutor.
    """
    if api.side == "impl":
        ex = _option_pool(api, serializer="cloudpickle")
        _prime_procs(ex)
    else:
        ex = _process_pool(api)
    try:
        submit = ex.submit
        t0 = now()
        fs = [submit(ident, i) for i in range(n)]
        for f in fs:
            f.result()
        t = now() - t0
    finally:
        ex.shutdown(wait=True)
    return t, n


RECOVERY_TIMEOUT = 60.0  # seconds: a bound on each wait of the recovery row (hang detector)


def _announced_pid(fifo: str, fd: int) -> int:
    """The pid written by ``announce_and_block`` into the named pipe open as ``fd``."""
    buf = b""
    while not buf.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], RECOVERY_TIMEOUT)
        chunk = os.read(fd, 64) if ready else b""
        if not chunk:
            raise RuntimeError(f"no worker announced itself on {fifo} (got {buf!r})")
        buf += chunk
    return int(buf)


def process_recovery(api: Any, n: int) -> Result:
    """From SIGKILL of a worker running a call to the next call's result, n rounds.

    A warm pool of 2 runs a call that blocks; its worker is killed (SIGKILL) and the
    clock starts. Then, as a user would: wait for the killed call's future to fail, then
    submit one call and take its result. futures_impl runs with survive_worker_death=True
    (the pool goes on; an error there fails the row). The stdlib's pool breaks: its
    recovery is what its users do, a new pool (the failed submit, the new pool's start
    and its first call are timed). loky's side uses get_reusable_executor(), which hands
    out a new executor once the old one is broken. The old pools are shut down untimed.
    """
    if api.side == "impl":

        def make() -> Any:
            return _option_pool(api, survive_worker_death=True)

        broken: tuple[type[BaseException], ...] = ()  # it must not break
    elif api.side == "loky":

        def make() -> Any:
            return api.get_reusable_executor(max_workers=PROCS)

        broken = (api.BrokenProcessPool,)
    else:

        def make() -> Any:
            return api.ProcessPoolExecutor(PROCS)

        broken = (api.BrokenExecutor,)
    ex = make()
    _prime_procs(ex)
    total = Span((0.0, 0.0))
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp:
        fifo = os.path.join(tmp, "pid")
        os.mkfifo(fifo)
        try:
            for _ in range(n):
                fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
                try:
                    blocked = ex.submit(announce_and_block, fifo)
                    pid = _announced_pid(fifo, fd)
                finally:
                    os.close(fd)
                old = []
                t0 = now()
                os.kill(pid, signal.SIGKILL)
                if blocked.exception(timeout=RECOVERY_TIMEOUT) is None:
                    raise RuntimeError("the killed call did not fail")
                while True:
                    try:
                        ex.submit(ident, 1).result(timeout=RECOVERY_TIMEOUT)
                        break
                    except broken:
                        if len(old) > 2:
                            raise
                        old.append(ex)
                        ex = make()
                total += now() - t0
                for pool in old:
                    pool.shutdown(wait=True)
                _prime_procs(ex)  # back to a warm pool of 2 before the next kill
        finally:
            ex.shutdown(wait=True)
    return total, n


# ---------------------------------------------------------------- import


IMPORT_SNIPPET = (
    "import sys; sys.path.insert(0, {root!r}); import time; "
    "t = time.perf_counter(); c = time.process_time(); import {mod}; "
    "print(time.perf_counter() - t, time.process_time() - c)"
)


def import_module_wall(module: str, n: int, cwd: str) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of ``import module`` in each of n fresh interpreters.

    ``-I -S``: no site, no user site, no PYTHON* variables, so that ``.pth``
    files of whatever is installed (certifi's imports ``re``, ``pathlib``...)
    do not pre-import half of the dependencies and hide their cost.  The time
    is taken inside the child around the import statement alone, so
    interpreter start-up is not part of it.
    """
    out = []
    code = IMPORT_SNIPPET.format(mod=module, root=cwd)
    for _ in range(n):
        r = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        wall, cpu = r.stdout.strip().splitlines()[-1].split()
        out.append((float(wall), float(cpu)))
    return out


# ---------------------------------------------------------------- pool kinds (issue 16)
# The same CPU-bound map on 4 threads, 4 processes and 4 interpreters (each side's own
# pools; the stdlib has InterpreterPoolExecutor from 3.14 only): per item once the 4
# workers run, and start-up (a new pool until 4 workers answered, then its shutdown).

POOL_KIND_WORKERS = 4
CPU_WORK = 2_000  # loop iterations per call: about 0.1 ms of pure Python


def _kind_pool(api: Any, kind: str) -> Any:
    if kind == "threads":
        return api.ThreadPoolExecutor(POOL_KIND_WORKERS)
    if kind == "procs":
        return api.ProcessPoolExecutor(POOL_KIND_WORKERS)
    ipe = getattr(api, "InterpreterPoolExecutor", None)
    if ipe is None:
        raise Skip("no InterpreterPoolExecutor (the stdlib's is 3.14+)")
    try:
        return ipe(POOL_KIND_WORKERS)
    except NotImplementedError as e:  # no _interpreters module on this Python
        raise Skip(str(e)) from None


def _start_workers(ex: Any) -> None:
    """Submitted at once on a new pool, these start all 4 workers (none is idle yet)."""
    for f in [ex.submit(cpu_work, 10) for _ in range(POOL_KIND_WORKERS)]:
        f.result()


def _cpu_map(api: Any, n: int, kind: str) -> Result:
    ex = _kind_pool(api, kind)
    try:
        _start_workers(ex)
        t0 = now()
        for _ in ex.map(cpu_work, [CPU_WORK] * n):
            pass
        t = now() - t0
    finally:
        ex.shutdown(wait=True)
    return t, n


def _kind_startup(api: Any, n: int, kind: str) -> Result:
    total = Span((0.0, 0.0))
    for _ in range(n):
        t0 = now()
        ex = _kind_pool(api, kind)
        _start_workers(ex)
        ex.shutdown(wait=True)
        total += now() - t0
    return total, n


def cpu_map_threads(api: Any, n: int) -> Result:
    return _cpu_map(api, n, "threads")


def cpu_map_procs(api: Any, n: int) -> Result:
    return _cpu_map(api, n, "procs")


def cpu_map_interps(api: Any, n: int) -> Result:
    return _cpu_map(api, n, "interps")


def startup_threads(api: Any, n: int) -> Result:
    return _kind_startup(api, n, "threads")


def startup_procs(api: Any, n: int) -> Result:
    return _kind_startup(api, n, "procs")


def startup_interps(api: Any, n: int) -> Result:
    return _kind_startup(api, n, "interps")


# Scenario name -> function.  "import" is special-cased by the worker.
FUNCTIONS: dict[str, Callable[[Any, int], Result]] = {
    f.__name__: f
    for f in (
        thread_submit_small,
        thread_submit_batch,
        thread_map,
        thread_map_gen,
        thread_map_gen_buffersize,
        thread_pool_lifecycle,
        as_completed_done,
        as_completed_threaded,
        wait_first_100,
        wait_first_2000,
        wait_all_done,
        future_callback,
        process_startup,
        process_submit,
        process_map_1,
        process_map_64,
        process_shutdown,
        process_cloudpickle,
        process_recovery,
        cpu_map_threads,
        cpu_map_procs,
        cpu_map_interps,
        startup_threads,
        startup_procs,
        startup_interps,
    )
}

# The Dask rows (catalog.DASK_ROWS, on demand) live in their own module, which imports
# this one's helpers: imported last, when they all exist.
from .dask_scenarios import FUNCTIONS as _DASK_FUNCTIONS  # noqa: E402

FUNCTIONS.update(_DASK_FUNCTIONS)

__all__ = ["FUNCTIONS", "Skip", "import_module_wall"]
