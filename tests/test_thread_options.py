"""ThreadPoolExecutor(copy_context=True): each call runs in a copy of the submitter's
contextvars context, taken at submit() (issue 16).

Off (the default) the pool behaves as the stdlib's: a call runs in its worker thread's own
context, checked against concurrent.futures as a black box.
"""

from __future__ import annotations

import concurrent.futures as stdlib_futures
import contextvars
import threading
from types import ModuleType
from typing import Any

import pytest
from _pypy import refcounting

import futures_impl
import futures_impl.thread as fthread

TIMEOUT = 30

var: contextvars.ContextVar[str] = contextvars.ContextVar("issue16_var", default="unset")


def _set_and_read(value: str) -> str:
    var.set(value)
    return var.get()


def _read_ignoring(_: object) -> str:
    return var.get()


def _scenario(mod: ModuleType, **options: Any) -> list[str]:
    """What calls see: the submitter's value, a value a call set, what the next call on
    the same (only) worker sees, and what the submitter sees afterwards."""

    def body() -> list[str]:
        var.set("submitter")
        with mod.ThreadPoolExecutor(1, **options) as ex:
            seen = ex.submit(var.get).result(TIMEOUT)
            changed = ex.submit(_set_and_read, "task").result(TIMEOUT)
            after = ex.submit(var.get).result(TIMEOUT)
        return [seen, changed, after, var.get()]

    return contextvars.copy_context().run(body)  # the test's own context is left alone


def test_default_is_the_stdlib_worker_context() -> None:
    """copy_context off: the worker's own context (the submitter's value is not seen; a
    value a call set stays in the worker for its next call), exactly as the stdlib."""
    ours = _scenario(futures_impl)
    assert ours == _scenario(stdlib_futures)
    assert ours == _scenario(futures_impl, copy_context=False)


def test_copy_context_sees_the_submitter_and_leaks_nothing() -> None:
    seen, changed, after, submitter = _scenario(futures_impl, copy_context=True)
    assert seen == "submitter"
    assert changed == "task"
    assert after == "submitter"  # the previous call's change stayed in its own copy
    assert submitter == "submitter"  # and never reached the submitter


def test_the_copy_is_taken_at_submit() -> None:
    gate = threading.Event()

    def body() -> str:
        var.set("at submit")
        with futures_impl.ThreadPoolExecutor(1, copy_context=True) as ex:
            ex.submit(gate.wait, TIMEOUT)  # holds the only worker
            future = ex.submit(var.get)
            var.set("later")
            gate.set()
            return future.result(TIMEOUT)

    assert contextvars.copy_context().run(body) == "at submit"


def test_two_submitters_each_see_their_own() -> None:
    """Submits from two threads (and from two contexts of one thread) interleaved on a
    shared pool: every call sees its own submitter's value."""
    results: dict[str, list[str]] = {}
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    with futures_impl.ThreadPoolExecutor(2, copy_context=True) as ex:

        def producer(name: str) -> None:
            var.set(name)
            barrier.wait()
            futures = [ex.submit(var.get) for _ in range(200)]
            results[name] = [f.result(TIMEOUT) for f in futures]

        threads = [threading.Thread(target=producer, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
            assert not t.is_alive()
        one = contextvars.copy_context()
        two = contextvars.copy_context()
        one.run(var.set, "one")
        two.run(var.set, "two")
        first = one.run(ex.submit, var.get)
        second = two.run(ex.submit, var.get)
        assert (first.result(TIMEOUT), second.result(TIMEOUT)) == ("one", "two")
    assert results == {"a": ["a"] * 200, "b": ["b"] * 200}


def test_map_and_keyword_arguments() -> None:
    def read(prefix: str, *, suffix: str) -> str:
        return prefix + var.get() + suffix

    def body() -> list[str]:
        var.set("x")
        with futures_impl.ThreadPoolExecutor(2, copy_context=True) as ex:
            mapped = list(ex.map(_read_ignoring, range(3), timeout=TIMEOUT))
            return [*mapped, ex.submit(read, "<", suffix=">").result(TIMEOUT)]

    assert contextvars.copy_context().run(body) == ["x", "x", "x", "<x>"]


def test_errors_and_refusals_are_the_plain_pools() -> None:
    with futures_impl.ThreadPoolExecutor(1, copy_context=True) as ex:
        with pytest.raises(ZeroDivisionError):
            ex.submit(divmod, 1, 0).result(TIMEOUT)
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(var.get)


def test_default_pool_has_no_submit_wrapper() -> None:
    """The default path is the class's own submit(): the options cost it nothing."""
    ex = futures_impl.ThreadPoolExecutor(1)
    try:
        assert "submit" not in vars(ex)
        assert ex._pending_limit is None
    finally:
        ex.shutdown()


@refcounting
def test_options_keep_the_pool_collectable() -> None:
    """The instance's submit() holds the executor weakly: an abandoned pool is still
    collected at once (its workers then leave), as the plain pool is."""
    import gc
    import weakref

    ex = fthread.ThreadPoolExecutor(1, copy_context=True, max_pending=2)
    assert ex.submit(var.get).result(TIMEOUT) == "unset"
    ref = weakref.ref(ex)
    saved = ex.submit
    gc.disable()
    try:
        del ex
        assert ref() is None
    finally:
        gc.enable()
    with pytest.raises(RuntimeError, match="after shutdown"):
        saved(var.get)
