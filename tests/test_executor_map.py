"""Executor.map: order, laziness, timeout, exceptions, closing, and the 3.14 `buffersize=`.

`buffersize` exists in the stdlib only from 3.14, but futures_impl offers it on every
version: those tests run on the stdlib only where its map() accepts the argument.
The generic `Executor.map` (built on `submit`) is also tested through a minimal executor.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Callable

import pytest
from _support import MODULES, is_stdlib, wait_until

import futures_impl

pytestmark = pytest.mark.usefixtures("no_thread_leaks")


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def has_buffersize(mod: ModuleType) -> bool:
    return "buffersize" in inspect.signature(mod.Executor.map).parameters


@pytest.fixture
def bmod(mod: ModuleType) -> ModuleType:
    """`mod`, for the buffersize tests: skipped on a stdlib that has no buffersize."""
    if not has_buffersize(mod):
        assert is_stdlib(mod), "futures_impl must accept buffersize on every version"
        pytest.skip("this stdlib's Executor.map has no buffersize (added in 3.14)")
    return mod


def make_sync_executor(mod: ModuleType) -> Any:
    """An Executor whose submit() runs the call at once: exercises the generic map()."""

    class SyncExecutor(mod.Executor):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            self.submitted = 0

        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            self.submitted += 1
            f = mod.Future()
            f.set_running_or_notify_cancel()
            try:
                f.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001
                f.set_exception(exc)
            return f

    return SyncExecutor()


class Counting:
    """An iterator that counts how many items were taken from it."""

    def __init__(self, it: Any) -> None:
        self.it = iter(it)
        self.taken = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        value = next(self.it)
        self.taken += 1
        return value


# ----------------------------------------------------------------------------- basics

def test_map_order_and_zip(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=4) as ex:
        assert list(ex.map(pow, range(10), range(10))) == list(map(pow, range(10), range(10)))
        assert list(ex.map(pow, range(10), range(3))) == [1, 1, 4]
        assert list(ex.map(pow, range(40), range(40), chunksize=3)) == [
            pow(i, i) for i in range(40)]
        assert list(ex.map(str, [])) == []
        assert list(ex.map(str)) == []


def test_map_submits_without_iteration(mod: ModuleType) -> None:
    finished: list[int] = []
    ex = mod.ThreadPoolExecutor(max_workers=2)
    ex.map(finished.append, range(10))
    ex.shutdown(wait=True)
    assert sorted(finished) == list(range(10))


def test_map_returns_a_generator(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=1) as ex:
        it = ex.map(str, [1])
        assert inspect.isgenerator(it) or hasattr(it, "close")
        assert list(it) == ["1"]


def test_generic_map_through_submit(mod: ModuleType) -> None:
    ex = make_sync_executor(mod)
    assert list(ex.map(divmod, [7, 8], [2, 3])) == [(3, 1), (2, 2)]
    assert ex.submitted == 2
    with ex:
        pass  # Executor.__exit__ calls shutdown(), a no-op by default


# ----------------------------------------------------------------------------- exceptions

def test_map_exception_then_stop(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=2) as ex:
        it = ex.map(divmod, [1, 1, 1, 1], [2, 3, 0, 5])
        assert next(it) == (0, 1)
        assert next(it) == (0, 1)
        with pytest.raises(ZeroDivisionError):
            next(it)
        with pytest.raises(StopIteration):
            next(it)


def test_map_exception_cancels_the_rest(mod: ModuleType) -> None:
    started, release = threading.Event(), threading.Event()
    ran: list[int] = []

    def task(i: int) -> int:
        ran.append(i)
        if i == 0:
            raise LookupError("first")
        started.set()
        release.wait()
        return i

    with mod.ThreadPoolExecutor(max_workers=1) as ex:
        it = ex.map(task, [0, 1, 2, 3])
        started.wait()  # the one worker runs 1 (0 has failed); 2 and 3 are queued
        with pytest.raises(LookupError):
            next(it)
        release.set()  # only now could 2 and 3 start: they must have been cancelled
    assert ran == [0, 1]


def test_map_close_cancels_pending(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=1) as ex:
        it = ex.map(divmod, [5, 5, 5, 5], [2, 0, 3, 5])
        assert next(it) == (2, 1)
        it.close()
        with pytest.raises(StopIteration):
            next(it)


# ----------------------------------------------------------------------------- timeout

def test_map_timeout_cancels_current_and_rest(mod: ModuleType) -> None:
    """gh-95166 (3.10+): the future being awaited when the timeout fires is cancelled too.
    3.9's stdlib leaves that one pending (so it still runs); futures_impl follows the
    running interpreter's stdlib."""
    import sys

    stop = threading.Event()
    log: list[str] = []

    def log_n_wait(ident: str) -> None:
        log.append(f"{ident} started")
        try:
            stop.wait()
        finally:
            log.append(f"{ident} stopped")

    with mod.ThreadPoolExecutor(max_workers=1) as pool:
        fut = pool.submit(log_n_wait, "first")
        try:
            with contextlib.closing(pool.map(log_n_wait, ["second", "third"], timeout=0)) as gen:
                with pytest.raises(mod.TimeoutError) as info:
                    next(gen)
                assert str(info.value) == ""
                with pytest.raises(StopIteration):
                    next(gen)
        finally:
            stop.set()
        fut.result()
    expected = ["first started", "first stopped"]
    if sys.version_info < (3, 10):
        expected += ["second started", "second stopped"]
    assert log == expected


def test_map_timeout_not_hit(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=2) as ex:
        assert list(ex.map(str, range(5), timeout=600)) == ["0", "1", "2", "3", "4"]


# ----------------------------------------------------------------------------- buffersize
# No stdlib here (3.9-3.13) has buffersize, so these tests meet only futures_impl (on a 3.14+
# stdlib they run on both). Each states the 3.14 behaviour it asserts and its source:
# "CPython 3.14 tests" is Lib/test/test_concurrent_futures/executor.py (ExecutorTest), and
# "3.14 docs" is the Executor.map entry of the library reference (buffersize: at most that many
# submitted calls whose results have not been yielded; input read only as room frees up;
# buffersize=None keeps the eager behaviour) and What's New in 3.14 (gh-74028, PR 125663).

@pytest.mark.parametrize("buffersize", ["foo", 2.0, "1"])
def test_buffersize_type_validation(bmod: ModuleType, buffersize: Any) -> None:
    """3.14: a non-int buffersize raises TypeError("buffersize must be an integer or None")
    at the map() call itself, before any next() (CPython 3.14 tests:
    test_map_buffersize_type_validation, with "foo" and 2.0; "1" is one more str)."""
    with bmod.ThreadPoolExecutor(max_workers=1) as ex:
        with pytest.raises(TypeError) as info:
            ex.map(str, range(4), buffersize=buffersize)  # eager: no next() needed
        assert str(info.value) == "buffersize must be an integer or None"


@pytest.mark.parametrize("buffersize", [0, -1])
def test_buffersize_value_validation(bmod: ModuleType, buffersize: int) -> None:
    """3.14: buffersize 0 or negative raises ValueError("buffersize must be None or > 0") at
    the call (CPython 3.14 tests: test_map_buffersize_value_validation, 0 and -1)."""
    with bmod.ThreadPoolExecutor(max_workers=1) as ex:
        with pytest.raises(ValueError) as info:
            ex.map(str, range(4), buffersize=buffersize)
        assert str(info.value) == "buffersize must be None or > 0"


def test_buffersize_validation_consumes_nothing(bmod: ModuleType) -> None:
    """3.14: the argument is checked before the input is read, so a rejected call takes
    nothing from the iterator (the checks above happen at the call, before the first
    submit; that no item is taken is inferred from that order, not tested by CPython)."""
    src = Counting(range(10))
    with bmod.ThreadPoolExecutor(max_workers=1) as ex:
        with pytest.raises(ValueError):
            ex.map(str, src, buffersize=0)
    assert src.taken == 0


@pytest.mark.parametrize("buffersize", [1, 2, 4, 8])
def test_buffersize_results(bmod: ModuleType, buffersize: int) -> None:
    """3.14: results in input order for buffersizes below, equal to and above the input
    length, one or several iterables (zip semantics: the shortest ends it) (CPython 3.14
    tests: test_map_buffersize, test_map_buffersize_on_multiple_iterables, sizes 1, 2,
    len and 2*len)."""
    with bmod.ThreadPoolExecutor(max_workers=2) as ex:
        assert list(ex.map(str, range(4), buffersize=buffersize)) == ["0", "1", "2", "3"]
        assert list(ex.map(pow, range(4), range(4), buffersize=buffersize)) == [1, 1, 4, 27]
        assert list(ex.map(pow, range(9), [2] * 20, buffersize=buffersize)) == [
            i * i for i in range(9)]


@pytest.mark.parametrize("buffersize", [1, 2, 3])
def test_buffersize_takes_exactly_n_before_iteration(bmod: ModuleType, buffersize: int) -> None:
    """3.14: map() itself submits the first `buffersize` items and reads no more until the
    result iterator is advanced, even once those calls are done (CPython 3.14 tests:
    test_map_buffersize_when_buffer_is_full: after shutdown(wait=True), next(ints) is
    `buffersize`)."""
    src = Counting(range(10))
    ex = bmod.ThreadPoolExecutor(max_workers=1)
    ex.map(str, src, buffersize=buffersize)
    ex.shutdown(wait=True)  # the buffered tasks are done; nothing more may be taken
    assert src.taken == buffersize
    assert next(src.it) == buffersize


@pytest.mark.parametrize("buffersize", [1, 2, 5])
def test_buffersize_bounds_outstanding_work(bmod: ModuleType, buffersize: int) -> None:
    """3.14 docs: at most `buffersize` submitted calls whose results have not been yielded;
    each next() takes one more item (the bound counts the item being waited on, so reads
    stay within yielded + buffersize). The exact count per step is not specified: only
    the bound is asserted."""
    src = Counting(range(30))
    with bmod.ThreadPoolExecutor(max_workers=2) as ex:
        it = ex.map(str, src, buffersize=buffersize)
        assert src.taken == buffersize
        yielded = 0
        for value in it:
            assert value == str(yielded)
            yielded += 1
            assert yielded <= src.taken <= yielded + buffersize
        assert yielded == 30 and src.taken == 30


def test_buffersize_infinite_iterables(bmod: ModuleType) -> None:
    """3.14: works on infinite iterables, one or several (CPython 3.14 tests:
    test_map_buffersize_on_infinite_iterable, ..._on_multiple_infinite_iterables); close()
    then stops reading them (3.14 docs: the result iterator is a generator)."""
    with bmod.ThreadPoolExecutor(max_workers=2) as ex:
        res = ex.map(str, itertools.count(), buffersize=2)
        assert [next(res), next(res), next(res)] == ["0", "1", "2"]
        res.close()
        res2 = ex.map(pow, itertools.count(), itertools.count(), buffersize=2)
        assert [next(res2), next(res2), next(res2)] == [1, 1, 4]
        res2.close()


def test_buffersize_empty_and_no_iterables(bmod: ModuleType) -> None:
    """3.14: an empty iterable, or none at all, gives an empty iterator (CPython 3.14 tests:
    test_map_buffersize_on_empty_iterable, test_map_buffersize_without_iterable)."""
    with bmod.ThreadPoolExecutor(max_workers=1) as ex:
        assert next(ex.map(str, [], buffersize=2), None) is None
        assert next(ex.map(str, buffersize=2), None) is None
        assert list(ex.map(str, buffersize=2)) == []


def test_buffersize_none_is_eager(bmod: ModuleType) -> None:
    """3.14 docs: buffersize=None (the default) keeps the old behaviour, the iterables are
    collected immediately, at the call (as on every earlier version)."""
    src = Counting(range(7))
    with bmod.ThreadPoolExecutor(max_workers=1) as ex:
        it = ex.map(str, src, buffersize=None)
        assert src.taken == 7
        assert list(it) == [str(i) for i in range(7)]


def test_buffersize_exception_and_timeout(bmod: ModuleType) -> None:
    """3.14: a call's exception is raised by next() at its position, as without buffersize
    (CPython's tests, 3.13 and 3.14: test_map_exception, unbuffered); 3.14 accepts
    timeout together with buffersize (the signature has both; no test or doc forbids it,
    an early draft of the feature did)."""
    with bmod.ThreadPoolExecutor(max_workers=2) as ex:
        it = ex.map(divmod, [1, 1, 1, 1], [2, 0, 3, 5], buffersize=2)
        assert next(it) == (0, 1)
        with pytest.raises(ZeroDivisionError):
            next(it)
        assert list(ex.map(str, range(3), timeout=600, buffersize=1)) == ["0", "1", "2"]


def test_buffersize_after_shutdown(bmod: ModuleType) -> None:
    """3.14: map() with buffersize submits its first items at the call (see
    test_buffersize_takes_exactly_n_before_iteration), so after shutdown the call itself
    raises submit()'s RuntimeError, as the unbuffered map does."""
    ex = bmod.ThreadPoolExecutor(max_workers=1)
    ex.shutdown()
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        ex.map(str, range(3), buffersize=2)


def test_buffersize_generic_map() -> None:
    """3.14 docs: buffersize belongs to Executor.map, so an Executor subclass that only
    defines submit() gets it: `buffersize` submits at the call, the rest as consumed."""
    ex = make_sync_executor(futures_impl)
    src = Counting(range(6))
    it = ex.map(str, src, buffersize=2)
    assert ex.submitted == 2 and src.taken == 2
    assert list(it) == [str(i) for i in range(6)]
    assert ex.submitted == 6


def test_base_executor(mod: ModuleType) -> None:
    ex = mod.Executor()
    with pytest.raises(NotImplementedError):
        ex.submit(int)
    assert ex.shutdown() is None
    with ex as entered:
        assert entered is ex


def test_map_does_not_keep_results_alive(mod: ModuleType) -> None:
    """Issue 14406 in the stdlib: the result iterator drops each result once yielded."""
    import gc
    import weakref

    class Obj:
        pass

    with mod.ThreadPoolExecutor(max_workers=2) as ex:
        for obj in ex.map(lambda _: Obj(), range(10)):
            ref = weakref.ref(obj)
            del obj
            # The worker may hold its finished work item for a moment: poll, bounded by
            # the test timeout. A leak makes this hang and fail.
            wait_until(lambda ref=ref: (gc.collect(), ref() is None)[1])  # None on PyPy


def test_map_goes_through_an_overridden_submit(mod: ModuleType) -> None:
    """Subclasses that wrap submit() (logging, tracing, context propagation) expect map()
    to call it once per item, as the stdlib's map does."""
    seen: list[tuple[Any, ...]] = []

    class Tracing(mod.ThreadPoolExecutor):  # type: ignore[name-defined,misc]
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            seen.append(args)
            return super().submit(fn, *args, **kwargs)

    with Tracing(max_workers=2) as ex:
        assert list(ex.map(pow, [2, 3, 4], [2, 2, 2])) == [4, 9, 16]
        assert sorted(seen) == [(2, 2), (3, 2), (4, 2)]
        if has_buffersize(mod):
            seen.clear()
            assert list(ex.map(str, range(5), buffersize=2)) == ["0", "1", "2", "3", "4"]
            assert sorted(seen) == [(i,) for i in range(5)]


def test_buffersize_stops_reading_input_after_an_exception(bmod: ModuleType) -> None:
    """3.14: when a call raises, next() raises it and the result iterator is finished
    (StopIteration after; the generator closes and cancels what is pending), so no more
    input is read: at most the one item taken by that next(). Source: What's New in 3.16
    (gh-108518) describes this as the behaviour up to 3.15 when it changes it ("no longer
    auto-closed when a call raises"); the unbuffered map of the stdlibs here shows it too
    (test_map_exception_ends_the_iterator, below, runs on both modules)."""
    src = Counting(range(100))

    def fn(x: int) -> int:
        if x == 0:
            raise KeyError(x)
        return x

    with bmod.ThreadPoolExecutor(max_workers=2) as ex:
        it = ex.map(fn, src, buffersize=2)
        assert src.taken == 2
        with pytest.raises(KeyError):
            next(it)
        taken = src.taken
        assert taken <= 3
        with pytest.raises(StopIteration):
            next(it)
        assert src.taken == taken


def test_map_exception_ends_the_iterator(mod: ModuleType) -> None:
    """Up to 3.15 (What's New in 3.16, gh-108518), a call's exception raised by next()
    finishes map's iterator: StopIteration after it, the later results are not given."""
    with mod.ThreadPoolExecutor(max_workers=2) as ex:
        it = ex.map(divmod, [1, 1, 1, 1], [2, 0, 3, 5])
        assert next(it) == (0, 1)
        with pytest.raises(ZeroDivisionError):
            next(it)
        with pytest.raises(StopIteration):
            next(it)
