"""CPython main's newest executor-level tests (executor.py) as scenarios on 3.9-3.13.

Each test names the CPython test it ports (Lib/test/test_concurrent_futures/executor.py on
main; the local 3.9/3.10/3.11/3.13 suites do not have it, or have an older variant) and
asserts the outcome main's test asserts. Where futures_impl differs, the test is a strict
xfail naming the difference; docs/newest-scenarios.md has the table.

Every scenario runs on a thread pool and on a process pool. The start method does not
matter for map() (the parent-side iterator is the same code), so the process pool uses
"fork", the cheapest. Calls that must block wait on a gate (a Semaphore handed to every
worker by the initializer); the gate opens at teardown, so nothing sleeps to synchronise.
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import threading
from collections.abc import Iterator
from operator import add
from typing import Any

import _newest_helpers as helpers
import pytest

import futures_impl

BOUND = 60.0  # seconds any single blocking call may take before it counts as a hang

pytestmark = [
    pytest.mark.timeout(120),
    # 3.12+: "This process is multi-threaded, use of fork() may lead to deadlocks".
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


class Pools:
    """Makes executors of one kind whose workers share a queue and a gate; closes them all."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.executors: list[Any] = []
        if kind == "thread":
            self.gate: Any = threading.Semaphore(0)
            self.queue: Any = queue.Queue()
        else:
            self.ctx = multiprocessing.get_context("fork")
            self.gate = self.ctx.Semaphore(0)
            self.queue = self.ctx.Queue()

    def make(self, max_workers: int = 2) -> Any:
        init = {"initializer": helpers.init_channel, "initargs": (self.queue, self.gate)}
        ex: Any
        if self.kind == "thread":
            ex = futures_impl.ThreadPoolExecutor(max_workers, **init)
        else:
            ex = futures_impl.ProcessPoolExecutor(max_workers, mp_context=self.ctx, **init)
        self.executors.append(ex)
        return ex

    def close(self) -> None:
        self.gate.release()
        for ex in self.executors:
            ex.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(params=["thread", "process"])
def pools(request: pytest.FixtureRequest) -> Iterator[Pools]:
    p = Pools(request.param)
    try:
        yield p
    finally:
        p.close()


# --------------------------------------------------------------------------- map variants

# Main's map() goes on past a call's exception (the next results, then StopIteration), and a
# failing call inside a process-pool chunk fails only itself. The 3.9-3.14 stdlib ends the
# iterator at the first exception and fails the whole chunk. futures_impl follows the running
# interpreter's stdlib (README, "Differences from the stdlib, on purpose"), so these scenarios
# run on both implementations and must give the same trace; main's outcome is in the docstring.


def _trace(it: Iterator[Any], steps: int) -> list[Any]:
    """What `steps` calls of next(it) give: values, exception types, "stop"."""
    out: list[Any] = []
    for _ in range(steps):
        try:
            out.append(next(it))
        except StopIteration:
            out.append("stop")
        except BaseException as exc:  # noqa: BLE001 - the trace records any outcome
            out.append(type(exc).__name__)
    return out


def _stdlib_executor(kind: str) -> Any:
    import concurrent.futures as cf

    if kind == "thread":
        return cf.ThreadPoolExecutor(2)
    return cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))


def _same_trace_as_stdlib(pools: Pools, steps: int, run: Any) -> list[Any]:
    ours = _trace(run(pools.make()), steps)
    with _stdlib_executor(pools.kind) as ex:
        theirs = _trace(run(ex), steps)
    assert ours == theirs
    return ours


def test_map_exception_follows_running_stdlib(pools: Pools) -> None:
    """executor.py test_map_exception. Main: (2, 1), (1, 2), ZeroDivisionError, (1, 0), stop.
    3.9-3.14 (and futures_impl): the iterator ends at the exception."""
    trace = _same_trace_as_stdlib(
        pools, 5, lambda ex: ex.map(divmod, [5, 5, 5, 5], [2, 3, 0, 5]))
    assert trace[:3] == [(2, 1), (1, 2), "ZeroDivisionError"]


def test_map_exception_chunked_follows_running_stdlib(pools: Pools) -> None:
    """executor.py test_map_exception, chunksize=3. Main: (2, 1), ZeroDivisionError, (1, 2),
    (1, 0), stop."""
    trace = _same_trace_as_stdlib(
        pools, 5, lambda ex: ex.map(divmod, [5, 5, 5, 5], [2, 0, 3, 5], chunksize=3))
    assert "ZeroDivisionError" in trace


@pytest.mark.parametrize("timeout", [None, BOUND])
def test_map_timeout_from_callable_follows_running_stdlib(pools: Pools, timeout: Any) -> None:
    """executor.py test_map_timeout_from_callable: a call's own TimeoutError is not map()'s
    timeout. Main: 0, TimeoutError, 2, 3, stop; 3.9-3.14: the iterator ends there."""
    trace = _same_trace_as_stdlib(
        pools, 5, lambda ex: ex.map(helpers.timeout_on_one, [0, 1, 2, 3], timeout=timeout))
    assert trace[:2] == [0, "TimeoutError"]


def test_map_timeout_then_exhausted(pools: Pools) -> None:
    """executor.py test_map_timeout (main's variant): the results before the timeout, then
    TimeoutError, then the iterator is exhausted (the remaining calls are cancelled)."""
    ex = pools.make()
    # [0, 0, 1]: the 1 blocks on the gate until teardown; map()'s timeout runs out first.
    it = ex.map(helpers.gated_none, [0, 0, 1], timeout=0.5)
    results = []
    with pytest.raises(futures_impl.TimeoutError):
        for r in it:
            results.append(r)
    assert results in ([None, None], [None], [])
    for _ in range(2):
        with pytest.raises(StopIteration):
            next(it)


def test_map_close(pools: Pools) -> None:
    """executor.py test_map_close: close() after the first result, then StopIteration."""
    ex = pools.make()
    it = ex.map(divmod, [5, 5, 5, 5], [2, 0, 3, 5])
    assert next(it) == (2, 1)
    it.close()
    for _ in range(2):
        with pytest.raises(StopIteration):
            next(it)


def test_map_close_chunked_follows_running_stdlib() -> None:
    """executor.py test_map_close, chunksize=3 part (process pool). Main yields (2, 1) from a
    chunk whose second call raises, then close() ends the iterator; 3.9-3.14 (and
    futures_impl) fail the whole chunk."""
    pools = Pools("process")

    def run(ex: Any) -> Iterator[Any]:
        it = ex.map(divmod, [5, 5, 5, 5], [2, 0, 3, 5], chunksize=3)
        first = _trace(it, 1)
        it.close()
        return iter(first + _trace(it, 2))

    try:
        trace = _same_trace_as_stdlib(pools, 3, run)
    finally:
        pools.close()
    assert trace[1:] == ["stop", "stop"]


# --------------------------------------------------------------------------- buffersize


@pytest.mark.parametrize("buffersize", ["foo", 2.0])
def test_map_buffersize_type_validation(pools: Pools, buffersize: Any) -> None:
    """executor.py test_map_buffersize_type_validation."""
    ex = pools.make()
    with pytest.raises(TypeError, match="buffersize must be an integer or None"):
        ex.map(str, range(4), buffersize=buffersize)


@pytest.mark.parametrize("buffersize", [0, -1])
def test_map_buffersize_value_validation(pools: Pools, buffersize: int) -> None:
    """executor.py test_map_buffersize_value_validation."""
    ex = pools.make()
    with pytest.raises(ValueError, match="buffersize must be None or > 0"):
        ex.map(str, range(4), buffersize=buffersize)


def test_map_buffersize(pools: Pools) -> None:
    """executor.py test_map_buffersize."""
    ex = pools.make()
    for buffersize in (1, 2, 4, 8):
        assert list(ex.map(str, range(4), buffersize=buffersize)) == ["0", "1", "2", "3"]


def test_map_buffersize_on_multiple_iterables(pools: Pools) -> None:
    """executor.py test_map_buffersize_on_multiple_iterables."""
    ex = pools.make()
    for buffersize in (1, 2, 4, 8):
        assert list(ex.map(add, range(4), range(4), buffersize=buffersize)) == [0, 2, 4, 6]


def test_map_buffersize_on_infinite_iterable(pools: Pools) -> None:
    """executor.py test_map_buffersize_on_infinite_iterable."""
    ex = pools.make()
    res = ex.map(str, itertools.count(), buffersize=2)
    assert [next(res, None) for _ in range(3)] == ["0", "1", "2"]
    res.close()


def test_map_buffersize_on_multiple_infinite_iterables(pools: Pools) -> None:
    """executor.py test_map_buffersize_on_multiple_infinite_iterables."""
    ex = pools.make()
    res = ex.map(add, itertools.count(), itertools.count(), buffersize=2)
    assert [next(res, None) for _ in range(3)] == [0, 2, 4]
    res.close()


def test_map_buffersize_on_empty_iterable(pools: Pools) -> None:
    """executor.py test_map_buffersize_on_empty_iterable."""
    ex = pools.make()
    assert next(ex.map(str, [], buffersize=2), None) is None


def test_map_buffersize_without_iterable(pools: Pools) -> None:
    """executor.py test_map_buffersize_without_iterable."""
    ex = pools.make()
    assert next(ex.map(str, buffersize=2), None) is None


def test_map_buffersize_when_buffer_is_full(pools: Pools) -> None:
    """executor.py test_map_buffersize_when_buffer_is_full: only `buffersize` inputs are
    taken before iteration starts (shutdown(wait=True) lets the submitted calls finish)."""
    ex = pools.make()
    ints = iter(range(4))
    ex.map(str, ints, buffersize=2)
    ex.shutdown(wait=True)
    assert next(ints) == 2


# --------------------------------------------------------------------------- falsy exceptions


@pytest.mark.parametrize("cls", [helpers.FalseyBoolException, helpers.FalseyLenException])
def test_swallows_falsey_exceptions(pools: Pools, cls: type[Exception]) -> None:
    """executor.py test_swallows_falsey_exceptions (gh-132063): an exception that is falsy
    (__bool__ False, or __len__ 0) is still raised by result(). The 3.9-3.13 stdlib returns
    None for the __bool__ case; futures_impl raises on every version (README, "Differences
    from the stdlib, on purpose": "A falsy exception ... is raised by result()")."""
    ex = pools.make()
    msg = cls.__name__.lower()
    with pytest.raises(cls, match=msg):
        ex.submit(helpers.raiser, cls, msg).result(timeout=BOUND)
