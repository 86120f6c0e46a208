"""Unit tests for Future: states, transitions, reprs, callbacks, waiting, error messages.

Every test takes `mod`, run once with futures_impl and once with the stdlib's
concurrent.futures, so each expectation is checked against the real stdlib too.
"""

from __future__ import annotations

import builtins
import concurrent.futures as std_futures
import importlib
import logging
import re
import sys
import threading
import types
from types import ModuleType
from typing import Any, Callable

import pytest
from _support import (
    MODULES,
    WAIT_BOUND,
    RecordingHandler,
    blocked_in,
    normalise,
    stack_names,
    wait_until,
)

import futures_impl

pytestmark = pytest.mark.usefixtures("no_thread_leaks")

STATES = ("PENDING", "RUNNING", "CANCELLED", "CANCELLED_AND_NOTIFIED", "FINISHED")
REPR = re.compile(r"^<Future at 0x[0-9a-f]+ state=(.*)>$")


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def base(mod: ModuleType) -> ModuleType:
    return importlib.import_module(mod.__name__ + "._base")


def make(mod: ModuleType, state: str) -> Any:
    """A future brought to `state` through the public API only."""
    f = mod.Future()
    if state == "RUNNING":
        assert f.set_running_or_notify_cancel() is True
    elif state == "CANCELLED":
        assert f.cancel() is True
    elif state == "CANCELLED_AND_NOTIFIED":
        assert f.cancel() is True
        assert f.set_running_or_notify_cancel() is False
    elif state == "FINISHED_RESULT":
        f.set_result(42)
    elif state == "FINISHED_EXCEPTION":
        f.set_exception(OSError("disk"))
    else:
        assert state == "PENDING"
    return f


def state_of(f: Any) -> str:
    return f._state  # type: ignore[no-any-return]


def repr_state(f: Any) -> str:
    m = REPR.match(repr(f))
    assert m, repr(f)
    return m.group(1)


# ----------------------------------------------------------------------------- constants

def test_state_constants_match_stdlib() -> None:
    for name in STATES:
        assert getattr(futures_impl._base, name) == getattr(std_futures._base, name) == name


def test_return_when_constants_match_stdlib() -> None:
    for name in ("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"):
        assert getattr(futures_impl, name) == getattr(std_futures, name) == name


def test_exception_hierarchy(mod: ModuleType) -> None:
    b = base(mod)
    assert issubclass(b.Error, Exception)
    assert issubclass(mod.CancelledError, b.Error)
    assert issubclass(mod.InvalidStateError, b.Error)
    assert issubclass(mod.BrokenExecutor, RuntimeError)
    if sys.version_info >= (3, 11):
        assert mod.TimeoutError is builtins.TimeoutError
    else:
        assert issubclass(mod.TimeoutError, b.Error)
        assert mod.TimeoutError is not builtins.TimeoutError
    assert b.CancelledError is mod.CancelledError
    assert b.TimeoutError is mod.TimeoutError
    assert b.InvalidStateError is mod.InvalidStateError


def test_exception_names_and_bases_match_stdlib() -> None:
    def shape(m: ModuleType, name: str) -> list[str]:
        return [c.__name__ for c in getattr(m, name).__mro__]

    for name in ("CancelledError", "TimeoutError", "InvalidStateError", "BrokenExecutor"):
        assert shape(futures_impl, name) == shape(std_futures, name), name


# ----------------------------------------------------------------------------- legal transitions

def test_new_future_is_pending(mod: ModuleType) -> None:
    f = mod.Future()
    assert (f.cancelled(), f.running(), f.done()) == (False, False, False)
    assert state_of(f) == "PENDING"
    assert repr_state(f) == "pending"
    assert f._waiters == []


def test_pending_to_running(mod: ModuleType) -> None:
    f = mod.Future()
    assert f.set_running_or_notify_cancel() is True
    assert (f.cancelled(), f.running(), f.done()) == (False, True, False)
    assert state_of(f) == "RUNNING"
    assert repr_state(f) == "running"
    assert f.cancel() is False  # a running future cannot be cancelled
    assert state_of(f) == "RUNNING"


def test_pending_to_cancelled_and_notified(mod: ModuleType) -> None:
    f = mod.Future()
    assert f.cancel() is True
    assert (f.cancelled(), f.running(), f.done()) == (True, False, True)
    assert state_of(f) == "CANCELLED"
    assert repr_state(f) == "cancelled"
    assert f.cancel() is True  # idempotent
    assert f.set_running_or_notify_cancel() is False
    assert state_of(f) == "CANCELLED_AND_NOTIFIED"
    assert repr_state(f) == "cancelled"
    assert (f.cancelled(), f.running(), f.done()) == (True, False, True)
    assert f.cancel() is True


@pytest.mark.parametrize("start", ["PENDING", "RUNNING"])
def test_set_result(mod: ModuleType, start: str) -> None:
    f = make(mod, start)
    f.set_result(42)
    assert state_of(f) == "FINISHED"
    assert (f.cancelled(), f.running(), f.done()) == (False, False, True)
    assert f.result() == 42
    assert f.result(timeout=0) == 42
    assert f.exception() is None
    assert f.exception(timeout=0) is None
    assert f.cancel() is False
    assert repr_state(f) == "finished returned int"


@pytest.mark.parametrize("start", ["PENDING", "RUNNING"])
def test_set_exception(mod: ModuleType, start: str) -> None:
    f = make(mod, start)
    exc = OSError("disk")
    f.set_exception(exc)
    assert state_of(f) == "FINISHED"
    assert (f.cancelled(), f.running(), f.done()) == (False, False, True)
    with pytest.raises(OSError) as info:
        f.result()
    assert info.value is exc
    assert f.exception() is exc
    assert f.exception(timeout=0) is exc
    assert f.cancel() is False
    assert repr_state(f) == "finished raised OSError"


@pytest.mark.parametrize(
    "value, shown",
    [(None, "NoneType"), ([1], "list"), ("s", "str"), (1.5, "float"), (True, "bool")],
)
def test_repr_names_the_result_type(mod: ModuleType, value: object, shown: str) -> None:
    f = mod.Future()
    f.set_result(value)
    assert repr(f) == f"<Future at {hex(id(f))} state=finished returned {shown}>"


def test_repr_pending_is_exact(mod: ModuleType) -> None:
    f = mod.Future()
    assert repr(f) == f"<Future at {hex(id(f))} state=pending>"


def test_repr_of_subclass_uses_class_name(mod: ModuleType) -> None:
    class MyFuture(mod.Future):  # type: ignore[name-defined,misc]
        pass

    f = MyFuture()
    assert repr(f) == f"<MyFuture at {hex(id(f))} state=pending>"


def test_repr_matches_stdlib_in_every_state() -> None:
    for state in ("PENDING", "RUNNING", "CANCELLED", "CANCELLED_AND_NOTIFIED",
                  "FINISHED_RESULT", "FINISHED_EXCEPTION"):
        ours, theirs = make(futures_impl, state), make(std_futures, state)
        assert normalise(repr(ours)) == normalise(repr(theirs)), state


# ----------------------------------------------------------------------------- illegal transitions

@pytest.mark.parametrize(
    "state", ["FINISHED_RESULT", "FINISHED_EXCEPTION", "CANCELLED", "CANCELLED_AND_NOTIFIED"]
)
@pytest.mark.parametrize("setter", ["set_result", "set_exception"])
def test_set_on_done_future_raises_invalid_state(mod: ModuleType, state: str, setter: str) -> None:
    f = make(mod, state)
    before = (state_of(f), repr(f))
    arg: object = 7 if setter == "set_result" else ValueError("late")
    with pytest.raises(mod.InvalidStateError) as info:
        getattr(f, setter)(arg)
    assert str(info.value) == f"{state_of(f)}: {f!r}"
    assert (state_of(f), repr(f)) == before  # nothing changed


def test_invalid_state_message_example(mod: ModuleType) -> None:
    f = mod.Future()
    f.set_result(3)
    with pytest.raises(mod.InvalidStateError) as info:
        f.set_result(4)
    assert re.fullmatch(
        r"FINISHED: <Future at 0x[0-9a-f]+ state=finished returned int>", str(info.value)
    )
    assert f.result() == 3


@pytest.mark.parametrize("state", ["RUNNING", "FINISHED_RESULT", "CANCELLED_AND_NOTIFIED"])
def test_set_running_in_unexpected_state(
    mod: ModuleType, state: str, caplog: pytest.LogCaptureFixture
) -> None:
    f = make(mod, state)
    expected_state = state_of(f)
    with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
        with pytest.raises(RuntimeError) as info:
            f.set_running_or_notify_cancel()
    assert type(info.value) is RuntimeError
    assert str(info.value) == "Future in unexpected state"
    records = [r for r in caplog.records if r.name == "concurrent.futures"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.CRITICAL, f"Future {id(f)} in unexpected state: {expected_state}")
    ]
    assert state_of(f) == expected_state


# ----------------------------------------------------------------------------- generic alias

def test_class_getitem(mod: ModuleType) -> None:
    alias = mod.Future[int]
    assert isinstance(alias, types.GenericAlias)
    assert alias.__origin__ is mod.Future
    assert alias.__args__ == (int,)
    assert repr(alias).endswith("Future[int]")


# ----------------------------------------------------------------------------- callbacks

def test_callbacks_run_in_order_on_completion(mod: ModuleType) -> None:
    f = mod.Future()
    seen: list[tuple[str, Any, bool]] = []
    for name in ("a", "b", "c"):
        f.add_done_callback(lambda fut, name=name: seen.append((name, fut, fut.done())))
    assert seen == []
    f.set_running_or_notify_cancel()
    assert seen == []
    f.set_result(5)
    assert seen == [("a", f, True), ("b", f, True), ("c", f, True)]


def test_callback_sees_result_and_exception(mod: ModuleType) -> None:
    got: list[object] = []
    f = mod.Future()
    f.add_done_callback(lambda fut: got.append(fut.result()))
    f.set_result("v")
    g = mod.Future()
    exc = KeyError("k")
    g.add_done_callback(lambda fut: got.append(fut.exception()))
    g.set_exception(exc)
    assert got == ["v", exc]


def test_callback_added_after_completion_runs_immediately(mod: ModuleType) -> None:
    f = mod.Future()
    f.set_result(1)
    seen: list[object] = []
    f.add_done_callback(lambda fut: seen.append((fut, threading.current_thread())))
    assert seen == [(f, threading.current_thread())]


def test_callbacks_on_cancel_once(mod: ModuleType) -> None:
    f = mod.Future()
    seen: list[bool] = []
    f.add_done_callback(lambda fut: seen.append(fut.cancelled()))
    assert f.cancel() is True
    assert seen == [True]
    assert f.cancel() is True
    assert f.set_running_or_notify_cancel() is False
    assert seen == [True]
    f.add_done_callback(lambda fut: seen.append(fut.cancelled()))
    assert seen == [True, True]


def test_callback_not_rerun_by_failed_set(mod: ModuleType) -> None:
    f = mod.Future()
    seen: list[int] = []
    f.add_done_callback(lambda fut: seen.append(1))
    f.set_result(1)
    with pytest.raises(mod.InvalidStateError):
        f.set_result(2)
    assert seen == [1]


def test_cancel_of_running_future_runs_no_callback(mod: ModuleType) -> None:
    f = make(mod, "RUNNING")
    seen: list[int] = []
    f.add_done_callback(lambda fut: seen.append(1))
    assert f.cancel() is False
    assert seen == []
    f.set_result(None)
    assert seen == [1]


def _boom(fut: object) -> None:
    raise ValueError("boom")


def test_raising_callback_is_logged_and_others_run(
    mod: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    f = mod.Future()
    seen: list[str] = []
    f.add_done_callback(lambda fut: seen.append("before"))
    f.add_done_callback(_boom)
    f.add_done_callback(lambda fut: seen.append("after"))
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        f.set_result(10)
    assert seen == ["before", "after"]
    records = [r for r in caplog.records if r.name == "concurrent.futures"]
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == f"exception calling callback for {f!r}"
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    assert "exception calling callback for" in caplog.text
    assert f.result() == 10


def test_raising_callback_added_after_completion_is_logged(
    mod: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    f = mod.Future()
    f.set_exception(KeyError("x"))
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        f.add_done_callback(_boom)  # must not raise
    records = [r for r in caplog.records if r.name == "concurrent.futures"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.ERROR, f"exception calling callback for {f!r}")
    ]
    assert records[0].exc_info is not None and records[0].exc_info[0] is ValueError


def test_raising_callback_log_matches_stdlib() -> None:
    logs = []
    for m in (futures_impl, std_futures):
        with RecordingHandler() as rec:
            f = m.Future()
            f.add_done_callback(_boom)
            f.set_result([])
            f.add_done_callback(_boom)
            logs.append(rec.take(f))
    assert logs[0] == logs[1]
    assert len(logs[0]) == 2


# ----------------------------------------------------------------------------- result / exception

@pytest.mark.parametrize("method", ["result", "exception"])
@pytest.mark.parametrize("timeout", [0, 0.001, -1])
def test_timeout_on_pending(mod: ModuleType, method: str, timeout: float) -> None:
    for state in ("PENDING", "RUNNING"):
        f = make(mod, state)
        with pytest.raises(mod.TimeoutError) as info:
            getattr(f, method)(timeout=timeout)
        assert type(info.value) is mod.TimeoutError
        assert str(info.value) == ""
        assert state_of(f) == state


@pytest.mark.parametrize("state", ["CANCELLED", "CANCELLED_AND_NOTIFIED"])
@pytest.mark.parametrize("method", ["result", "exception"])
def test_cancelled_future_raises_cancelled_error(mod: ModuleType, state: str, method: str) -> None:
    f = make(mod, state)
    for kwargs in ({}, {"timeout": 0}, {"timeout": 5}):
        with pytest.raises(mod.CancelledError) as info:
            getattr(f, method)(**kwargs)
        assert type(info.value) is mod.CancelledError


def test_timeout_error_is_builtin_on_311_plus() -> None:
    if sys.version_info >= (3, 11):
        assert futures_impl.TimeoutError is builtins.TimeoutError
    else:
        assert futures_impl.TimeoutError is not builtins.TimeoutError
    f = futures_impl.Future()
    with pytest.raises(futures_impl.TimeoutError):
        f.result(timeout=0)


def test_result_raises_exception_class_instance(mod: ModuleType) -> None:
    f = mod.Future()
    f.set_exception(ValueError)  # a class, as the stdlib allows
    with pytest.raises(ValueError):
        f.result()


class FalsyBool(Exception):
    def __bool__(self) -> bool:
        return False


class FalsyLen(Exception):
    def __len__(self) -> int:
        return 0


@pytest.mark.parametrize("cls", [FalsyBool, FalsyLen])
def test_falsy_exception_is_raised(cls: type[Exception]) -> None:
    """gh-132063 (fixed in the 3.14 stdlib): a falsy exception is still an exception.

    A deliberate difference from the older stdlibs (README, "Differences from the stdlib"),
    which return None from result() here; CPython's newer suite checks this as
    test_swallows_falsey_exceptions.
    """
    f = futures_impl.Future()
    exc = cls("falsy")
    f.set_exception(exc)
    with pytest.raises(cls) as info:
        f.result()
    assert info.value is exc
    assert f.exception() is exc and f.exception(timeout=0) is exc
    assert f.done() and not f.cancelled()
    with futures_impl.ThreadPoolExecutor(max_workers=1) as ex:
        def raiser() -> None:
            raise cls("from a task")

        with pytest.raises(cls, match="from a task"):
            ex.submit(raiser).result()
        it = ex.map(lambda x: raiser() if x else x, [0, 1])
        assert next(it) == 0
        with pytest.raises(cls):
            next(it)
    g = futures_impl.Future()
    g.set_exception(cls("x"))
    # FIRST_EXCEPTION counts it as an exception: no blocking on the other, pending, future.
    done, not_done = futures_impl.wait([g, futures_impl.Future()],
                                       return_when=futures_impl.FIRST_EXCEPTION)
    assert done == {g} and len(not_done) == 1


def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(("returned", fn()))
        except BaseException as exc:  # noqa: BLE001
            out.append(("raised", exc))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def _join(t: threading.Thread) -> None:
    """Join a helper thread with a bound: a waiter that is never woken fails the test
    clearly instead of hanging it until pytest-timeout."""
    t.join(WAIT_BOUND)
    assert not t.is_alive(), f"thread {t.name!r} still blocked after {WAIT_BOUND} s"


@pytest.mark.parametrize("method", ["result", "exception"])
@pytest.mark.parametrize("timeout", [None, 600])
@pytest.mark.parametrize("outcome_kind", ["result", "exception", "cancelled"])
def test_waiter_woken_by_state_set_under_condition(
    mod: ModuleType, method: str, timeout: float | None, outcome_kind: str
) -> None:
    """What the stdlib suite does: set fields under `with f._condition:` and `notify_all()`."""
    b = base(mod)
    f = mod.Future()
    t, out = _in_thread(lambda: getattr(f, method)(timeout=timeout))
    wait_until(blocked_in(t, method))
    exc = OSError("late")
    with f._condition:
        if outcome_kind == "result":
            f._state = b.FINISHED
            f._result = 42
        elif outcome_kind == "exception":
            f._state = b.FINISHED
            f._exception = exc
        else:
            f._state = b.CANCELLED
        f._condition.notify_all()
    _join(t)
    (got,) = out
    expected: tuple[str, Any]
    if outcome_kind == "cancelled":
        assert got[0] == "raised" and isinstance(got[1], mod.CancelledError)
        return
    if method == "result":
        expected = ("returned", 42) if outcome_kind == "result" else ("raised", exc)
    else:
        expected = ("returned", None) if outcome_kind == "result" else ("returned", exc)
    assert got == expected


@pytest.mark.parametrize("method", ["result", "exception"])
@pytest.mark.parametrize("how", ["set_result", "set_exception", "cancel"])
def test_waiter_woken_by_public_api(mod: ModuleType, method: str, how: str) -> None:
    f = mod.Future()
    threads = [_in_thread(lambda: getattr(f, method)(timeout=600)) for _ in range(3)]
    for t, _ in threads:
        wait_until(blocked_in(t, method))
    exc = ValueError("v")
    if how == "set_result":
        f.set_result("r")
    elif how == "set_exception":
        f.set_exception(exc)
    else:
        assert f.cancel() is True
    for t, _ in threads:
        _join(t)
    for _, out in threads:
        (got,) = out
        if how == "cancel":
            assert got[0] == "raised" and isinstance(got[1], mod.CancelledError)
        elif how == "set_result":
            assert got == (("returned", "r") if method == "result" else ("returned", None))
        else:
            assert got == (("raised", exc) if method == "result" else ("returned", exc))


def test_private_fields_exist(mod: ModuleType) -> None:
    f = mod.Future()
    assert f._result is None and f._exception is None
    assert f._waiters == []
    with f._condition:
        f._condition.notify_all()
    f.set_result(1)
    assert f._result == 1


# ----------------------------------------------------------------------------- races

@pytest.mark.parametrize("round_", range(20))
def test_cancel_races_set_running(mod: ModuleType, round_: int) -> None:
    """Exactly one of cancel() / set_running_or_notify_cancel() wins, whatever the order."""
    f = mod.Future()
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}
    callbacks: list[str] = []
    f.add_done_callback(lambda fut: callbacks.append("cancelled" if fut.cancelled() else "?"))

    def canceller() -> None:
        barrier.wait()
        results["cancel"] = f.cancel()

    def runner() -> None:
        barrier.wait()
        results["run"] = f.set_running_or_notify_cancel()

    ts = [threading.Thread(target=canceller), threading.Thread(target=runner)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert results["cancel"] != results["run"]
    if results["run"]:
        assert state_of(f) == "RUNNING" and callbacks == []
    else:
        assert state_of(f) == "CANCELLED_AND_NOTIFIED" and callbacks == ["cancelled"]


def test_many_threads_set_result_only_one_wins(mod: ModuleType) -> None:
    f = mod.Future()
    n = 8
    barrier = threading.Barrier(n)
    wins: list[int] = []
    losses: list[BaseException] = []
    lock = threading.Lock()

    def setter(i: int) -> None:
        barrier.wait()
        try:
            f.set_result(i)
        except mod.InvalidStateError as exc:
            with lock:
                losses.append(exc)
        else:
            with lock:
                wins.append(i)

    ts = [threading.Thread(target=setter, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(wins) == 1 and len(losses) == n - 1
    assert f.result() == wins[0]


def test_callbacks_added_while_completing_run_exactly_once(mod: ModuleType) -> None:
    """Callbacks added concurrently with set_result: each runs once, before or after."""
    f = mod.Future()
    n_threads, per_thread = 4, 50
    barrier = threading.Barrier(n_threads + 1)
    counts = [0] * (n_threads * per_thread)
    lock = threading.Lock()

    def adder(t: int) -> None:
        barrier.wait()
        for k in range(per_thread):
            def cb(fut: Any, i: int = t * per_thread + k) -> None:
                with lock:
                    counts[i] += 1
            f.add_done_callback(cb)

    threads = [threading.Thread(target=adder, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    barrier.wait()
    f.set_result("x")
    for t in threads:
        t.join()
    assert counts == [1] * len(counts)


def test_acquire_futures_locks_every_future(mod: ModuleType) -> None:
    """`_base._AcquireFutures(fs)` holds each future's condition: a setter must wait."""
    b = base(mod)
    fs = [mod.Future() for _ in range(3)]
    with b._AcquireFutures(fs):
        t = threading.Thread(target=fs[1].set_result, args=(5,), daemon=True)
        t.start()
        # Inside set_result, trying to take the future's lock (or already waiting on it).
        wait_until(lambda: "set_result" in stack_names(t))
        assert not fs[1].done()
    _join(t)
    assert fs[1].result() == 5
