"""The compatibility surface: names code written against the stdlib reaches (issue 13, C).

Each test runs the same scenario on the stdlib's concurrent.futures and on futures_impl
and expects the same outcome: `thread._threads_queues`, `thread._shutdown` and
`thread._global_shutdown_lock`, a subclass overriding `_adjust_thread_count`, a subclass
replacing `_work_queue` with a bounded queue, and `_base.LOGGER` reassigned.
docs/conformance.md ("The compatibility surface") lists who reaches each name and why.
"""

from __future__ import annotations

import importlib
import io
import logging
import queue
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from _support import MODULES, run_python

BOUND = 30  # seconds; waits that return at once when the code is right

pytestmark = pytest.mark.usefixtures("no_thread_leaks")


def _submodule(mod: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{mod.__name__}.{name}")


@pytest.mark.parametrize("mod", MODULES)
def test_threads_queues_maps_each_worker_to_the_pools_queue(mod: ModuleType) -> None:
    thread_mod = _submodule(mod, "thread")
    release = threading.Event()
    started = threading.Barrier(3, timeout=BOUND)

    def block() -> None:
        started.wait()
        release.wait(BOUND)

    with mod.ThreadPoolExecutor(2) as ex:
        futures = [ex.submit(block) for _ in range(2)]
        started.wait()
        try:
            registry = dict(thread_mod._threads_queues)
            assert set(ex._threads) <= set(registry)
            assert all(registry[t] is ex._work_queue for t in ex._threads)
        finally:
            release.set()
        for f in futures:
            f.result(timeout=BOUND)


@pytest.mark.parametrize("mod", MODULES)
def test_module_exit_state_names(mod: ModuleType) -> None:
    thread_mod = _submodule(mod, "thread")
    assert thread_mod._shutdown is False  # the interpreter is not exiting
    lock = thread_mod._global_shutdown_lock
    assert lock.acquire(False)
    lock.release()


def _counting_subclass(mod: ModuleType, calls: list[int], call_super: bool) -> Any:
    class Counting(mod.ThreadPoolExecutor):  # type: ignore[misc, name-defined]
        def _adjust_thread_count(self) -> None:
            calls.append(len(self._threads))
            if call_super:
                super()._adjust_thread_count()

    return Counting


@pytest.mark.parametrize("mod", MODULES)
def test_adjust_thread_count_override_is_called_once_per_submit(mod: ModuleType) -> None:
    calls: list[int] = []
    with _counting_subclass(mod, calls, call_super=True)(max_workers=3) as ex:
        futures = [ex.submit(pow, i, 2) for i in range(10)]
        assert [f.result(timeout=BOUND) for f in futures] == [i * i for i in range(10)]
        assert 1 <= len(ex._threads) <= 3
    assert len(calls) == 10
    assert calls[0] == 0  # the hook runs before the first worker exists: it starts it


@pytest.mark.parametrize("mod", MODULES)
def test_adjust_thread_count_override_that_starts_nothing(mod: ModuleType) -> None:
    calls: list[int] = []
    ex = _counting_subclass(mod, calls, call_super=False)(max_workers=2)
    try:
        future = ex.submit(int)
        assert calls == [0]
        assert len(ex._threads) == 0  # the override decided: no worker, the call waits
        assert not future.done()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
    assert future.cancelled()


@pytest.mark.parametrize("mod", MODULES)
def test_adjust_thread_count_in_a_grandchild_and_an_explicit_submit(mod: ModuleType) -> None:
    calls: list[int] = []
    Counting = _counting_subclass(mod, calls, call_super=True)

    class Child(Counting):  # type: ignore[misc, valid-type]
        pass

    with Child(max_workers=1) as ex:
        assert ex.submit(int, "7").result(timeout=BOUND) == 7
    assert calls == [0]


@pytest.mark.parametrize("mod", MODULES)
def test_bounded_work_queue_installed_by_a_subclass(mod: ModuleType) -> None:
    """A pattern seen in the wild: replace `_work_queue` after __init__ with a bounded
    queue.Queue, so that submit() blocks while it is full."""

    class Bounded(mod.ThreadPoolExecutor):  # type: ignore[misc, name-defined]
        def __init__(self, max_workers: int, size: int) -> None:
            super().__init__(max_workers)
            self._work_queue = queue.Queue(maxsize=size)

    with Bounded(2, 4) as ex:
        futures = [ex.submit(pow, i, 3) for i in range(20)]
        assert [f.result(timeout=BOUND) for f in futures] == [i**3 for i in range(20)]
        assert isinstance(ex._work_queue, queue.Queue)


@pytest.fixture
def reassigned_logger(request: pytest.FixtureRequest) -> Iterator[tuple[ModuleType, io.StringIO]]:
    mod: ModuleType = request.param
    base = _submodule(mod, "_base")
    stream = io.StringIO()
    logger = logging.getLogger(f"test-compat-surface-{mod.__name__}")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    had = "LOGGER" in vars(base)
    old = vars(base).get("LOGGER")
    base.LOGGER = logger
    try:
        yield mod, stream
    finally:
        if had:
            base.LOGGER = old
        else:
            del base.LOGGER
        logger.removeHandler(handler)


@pytest.mark.parametrize("reassigned_logger", MODULES, indirect=True)
def test_reassigned_logger_gets_callback_errors(
    reassigned_logger: tuple[ModuleType, io.StringIO],
) -> None:
    mod, stream = reassigned_logger
    f = mod.Future()
    f.add_done_callback(lambda _: 1 / 0)
    f.set_result(1)
    assert "exception calling callback" in stream.getvalue()
    assert "ZeroDivisionError" in stream.getvalue()


@pytest.mark.parametrize("reassigned_logger", MODULES, indirect=True)
def test_reassigned_logger_gets_initializer_errors(
    reassigned_logger: tuple[ModuleType, io.StringIO],
) -> None:
    mod, stream = reassigned_logger

    def fail() -> None:
        raise ValueError("no")

    ex = mod.ThreadPoolExecutor(1, initializer=fail)
    try:
        with pytest.raises(_submodule(mod, "thread").BrokenThreadPool):
            ex.submit(int).result(timeout=BOUND)
    finally:
        ex.shutdown(wait=True)
    assert "Exception in initializer:" in stream.getvalue()


def test_logger_default_is_the_concurrent_futures_logger() -> None:
    from futures_impl import _base

    assert "LOGGER" not in vars(_base)  # lazily resolved: importing _base loads no logging
    assert _base.LOGGER is logging.getLogger("concurrent.futures")
    assert _base._get_logger() is logging.getLogger("concurrent.futures")


@pytest.mark.parametrize("mod", MODULES)
def test_future_fields_the_suites_write(mod: ModuleType) -> None:
    """CPython's util.create_future and test_future write these under `_condition`."""
    base = _submodule(mod, "_base")
    f = mod.Future()
    with f._condition:
        f._state = base.FINISHED
        f._result = 42
        f._condition.notify_all()
    assert f.result(timeout=0) == 42
    assert isinstance(f._waiters, list)
    assert base._AcquireFutures  # reachable at the stdlib's path
    assert base.DoneAndNotDoneFutures._fields == ("done", "not_done")


@pytest.mark.parametrize("mod", MODULES)
def test_idle_semaphore_value_counts_idle_credit(mod: ModuleType) -> None:
    """`executor._idle_semaphore._value`: read by monitoring code to count idle workers."""
    with mod.ThreadPoolExecutor(2) as ex:
        assert ex._idle_semaphore._value == 0
        ex.submit(int).result(timeout=BOUND)
        ex.shutdown(wait=True)  # the worker has marked itself idle before it exits
        assert ex._idle_semaphore._value == 1


def test_the_compatibility_module_loads_only_on_first_use() -> None:
    """`import futures_impl` pays nothing for `_compat` (the import benchmark row)."""
    program = (
        "import sys, futures_impl\n"
        "print('futures_impl._compat' in sys.modules)\n"
        "futures_impl.Future()._condition\n"
        "print('futures_impl._compat' in sys.modules)\n"
    )
    returncode, out, err = run_python("-c", program, timeout=60)
    assert returncode == 0, out + err
    assert out.split() == ["False", "True"]
