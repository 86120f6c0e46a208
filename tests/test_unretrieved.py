"""log_unretrieved=True: a failed future collected unread logs its exception (issue 16).

As asyncio does ("Future exception was never retrieved"): one ERROR record on the
"concurrent.futures" logger, with the exception and its traceback, when a FINISHED
future whose exception nobody read (result()/exception()) is garbage-collected. Off by
default, and then at no cost: the default Future class has no __del__.

Each pool is shut down (wait=True) before the future is dropped, so no worker still
holds it; gc.collect() breaks the future -> exception -> traceback -> frame cycle.
"""

from __future__ import annotations

import gc
import logging
import operator
import threading
from collections.abc import Callable, Iterator

import pytest
from _pypy import refcounting

import futures_impl
from futures_impl import _base
from futures_impl._process.future import PoolFuture

MESSAGE = "Future exception was never retrieved"
TIMEOUT = 30
Logged = Callable[[], "list[logging.LogRecord]"]


class Boom(Exception):
    pass


def fail(text: str = "boom") -> None:
    raise Boom(text)


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[logging.LogRecord]]]:
    """logged(): collect garbage, then return the unretrieved-exception records so far."""
    gc.collect()  # futures of earlier tests log now, not during this one
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        caplog.clear()

        def collect() -> list[logging.LogRecord]:
            gc.collect()
            return [r for r in caplog.records if MESSAGE in r.getMessage()]

        yield collect


def settled_future(executor: futures_impl.Executor, fn: object, *args: object) -> _base.Future[
        object]:
    """Submit, then shut the pool down, so only the caller holds the future."""
    with executor:
        future = executor.submit(fn, *args)  # type: ignore[arg-type]
    assert future.done()
    return future


def thread_pool(**options: object) -> futures_impl.ThreadPoolExecutor:
    return futures_impl.ThreadPoolExecutor(1, **options)  # type: ignore[arg-type]


@refcounting
def test_dropped_unread_failure_logs_once_with_traceback(logged: Logged
                                                         ) -> None:
    future = settled_future(thread_pool(log_unretrieved=True), fail, "lost")
    text = repr(future)
    del future
    found = logged()
    assert len(found) == 1
    record = found[0]
    assert record.levelno == logging.ERROR
    assert record.name == "concurrent.futures"
    assert text in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], Boom)
    assert str(record.exc_info[1]) == "lost"
    assert record.exc_text is None or "fail" in record.exc_text
    assert "in fail" in logging.Formatter().formatException(record.exc_info)
    assert len(logged()) == 1  # logged once, whatever collects next


@pytest.mark.parametrize("read", ["result", "exception", "callback_reads"])
def test_read_failures_do_not_log(logged: Logged, read: str) -> None:
    executor = thread_pool(log_unretrieved=True)
    future = settled_future(executor, fail)
    if read == "result":
        with pytest.raises(Boom):
            future.result(timeout=TIMEOUT)
    elif read == "exception":
        assert isinstance(future.exception(timeout=TIMEOUT), Boom)
    else:
        seen: list[BaseException | None] = []
        future.add_done_callback(lambda f: seen.append(f.exception()))
        assert isinstance(seen[0], Boom)
    del future
    assert logged() == []


@refcounting
def test_a_callback_that_does_not_read_does_not_count(logged: Logged
                                                      ) -> None:
    # asyncio's rule: only result() and exception() mark a future retrieved.
    future = settled_future(thread_pool(log_unretrieved=True), fail)
    future.add_done_callback(lambda f: None)
    del future
    assert len(logged()) == 1


def test_successful_and_cancelled_futures_do_not_log(logged: Logged) -> None:
    ok = settled_future(thread_pool(log_unretrieved=True), pow, 2, 3)
    gate = threading.Event()
    with thread_pool(log_unretrieved=True) as executor:
        blocker = executor.submit(gate.wait, TIMEOUT)
        queued = executor.submit(fail)
        assert queued.cancel()
        gate.set()
    assert blocker.result(timeout=TIMEOUT) is True
    del ok, queued, blocker
    assert logged() == []


@refcounting
def test_a_timed_out_read_does_not_count(logged: Logged) -> None:
    gate = threading.Event()
    with thread_pool(log_unretrieved=True) as executor:
        future = executor.submit(lambda: (gate.wait(TIMEOUT), fail()))
        with pytest.raises(futures_impl.TimeoutError):
            future.result(timeout=0)
        with pytest.raises(futures_impl.TimeoutError):
            future.exception(timeout=0)
        gate.set()
    assert future.done()
    del future
    assert len(logged()) == 1


def test_map_reads_what_it_yields(logged: Logged) -> None:
    with thread_pool(log_unretrieved=True) as executor:
        results = executor.map(operator.truediv, [1, 1], [1, 0])
        assert next(results) == 1.0
        with pytest.raises(ZeroDivisionError):
            next(results)
    del results
    assert logged() == []


def test_off_by_default(logged: Logged) -> None:
    future = settled_future(thread_pool(), fail)
    assert type(future) is futures_impl.Future
    del future
    assert logged() == []
    # No finalizer, no changed method on the class every default pool hands out.
    assert not hasattr(futures_impl.Future, "__del__")
    assert "result" in vars(_base.Future) and "exception" in vars(_base.Future)
    assert type(futures_impl.ThreadPoolExecutor(1)).submit is futures_impl.ThreadPoolExecutor.submit
    assert "submit" not in vars(futures_impl.ThreadPoolExecutor(1))


def test_logging_futures_look_like_futures() -> None:
    future = settled_future(thread_pool(log_unretrieved=True), pow, 2, 5)
    assert isinstance(future, futures_impl.Future)
    assert type(future) is not futures_impl.Future
    assert type(future).__name__ == "Future"
    assert repr(future).startswith("<Future at ")
    assert future.result(timeout=TIMEOUT) == 32
    assert futures_impl.wait([future], timeout=TIMEOUT).done == {future}


@refcounting
def test_the_executor_is_still_freed_when_dropped() -> None:
    import weakref

    executor = thread_pool(log_unretrieved=True)
    ref = weakref.ref(executor)
    executor.shutdown(wait=True)
    del executor
    assert ref() is None  # no executor -> submit wrapper -> executor cycle


@refcounting
def test_process_pool(logged: Logged) -> None:
    with futures_impl.ProcessPoolExecutor(1, log_unretrieved=True) as executor:
        lost = executor.submit(operator.truediv, 1, 0)
        read = executor.submit(operator.truediv, 1, 0)
        ok = executor.submit(operator.truediv, 1, 1)
        assert isinstance(read.exception(timeout=TIMEOUT), ZeroDivisionError)
        futures_impl.wait([lost, ok], timeout=TIMEOUT)
    assert lost.done() and ok.result(timeout=TIMEOUT) == 1.0
    del lost, read, ok
    found = logged()
    assert len(found) == 1
    assert isinstance(found[0].exc_info[1], ZeroDivisionError)


@refcounting
def test_process_pool_keeps_its_future_class(logged: Logged) -> None:
    with futures_impl.ProcessPoolExecutor(1, cancel_running=True, log_unretrieved=True) as ex:
        future = ex.submit(operator.truediv, 1, 0)
        futures_impl.wait([future], timeout=TIMEOUT)
    assert isinstance(future, PoolFuture)  # its cancel() still reaches the pool
    assert type(future).cancel is PoolFuture.cancel
    del future
    assert len(logged()) == 1


def test_process_pool_off_by_default(logged: Logged) -> None:
    with futures_impl.ProcessPoolExecutor(1) as executor:
        future = executor.submit(operator.truediv, 1, 0)
        futures_impl.wait([future], timeout=TIMEOUT)
    assert type(future) is futures_impl.Future
    del future
    assert logged() == []
