"""Differential state machine: futures_impl.Future against the stdlib's Future.

Hypothesis drives a few pairs of futures (one futures_impl, one concurrent.futures) through
the same random sequence of calls: cancel, set_running_or_notify_cancel, set_result,
set_exception, add_done_callback (plain and raising), result/exception with timeout 0,
done/running/cancelled, repr, and wait/as_completed with timeout 0 over any subset (with
duplicates) of the futures. One rule blocks: a thread per side in wait(..., return_when=X,
timeout=None or 600) over a subset, settled step by step from this thread once both are
parked, so that return_when is observable (which futures come back done). Exceptions are
checked by identity too: result() raises, and exception() returns, the very object given
to set_exception(). After every step both sides must agree on:

- the outcome of the call: the value returned, or the exception's type and message;
- what was logged on the "concurrent.futures" logger (level, message, exception type);
- the callbacks run so far: order, and the state each one observed;
- each future's `_state`, `repr`, done/running/cancelled.

Addresses and ids are normalised (see _support.normalise). Falsy exceptions are left to
test_future.py (a single, explicit decision), so that one choice cannot mask the rest here.
"""

from __future__ import annotations

import concurrent.futures as std_futures
from types import ModuleType
from typing import Any, Callable

import pytest
from _blocking import Caller
from _support import RecordingHandler, describe_value, normalise, outcome
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import futures_impl

SIDES: tuple[ModuleType, ModuleType] = (futures_impl, std_futures)

RESULTS = st.sampled_from([None, 0, 1, "text", (1, 2), [3], 2.5, True])
EXCEPTIONS = st.sampled_from(["ValueError", "KeyError", "OSError", "class ValueError",
                              "CancelledError", "TimeoutError", "RuntimeError"])
RETURN_WHEN = st.sampled_from(["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "BOGUS"])


def make_exception(kind: str, mod: ModuleType) -> Any:
    """A fresh exception for one side (each side must own its instance: raising mutates it)."""
    if kind == "class ValueError":
        return ValueError
    if kind == "CancelledError":
        return mod.CancelledError("from test")
    if kind == "TimeoutError":
        return mod.TimeoutError("from test")
    if kind == "OSError":
        return OSError(2, "No such file")
    return {"ValueError": ValueError, "KeyError": KeyError, "RuntimeError": RuntimeError}[kind](
        "msg-" + kind
    )


SETTLED = ("FINISHED", "CANCELLED_AND_NOTIFIED")


def holds(return_when: str, fs: list[Any]) -> bool:
    """wait()'s documented condition over the futures `fs` (stdlib futures, as they are)."""
    done = [f for f in fs if f._state in SETTLED]
    if len(done) == len(fs):
        return True
    if return_when == "FIRST_COMPLETED":
        return bool(done)
    return return_when == "FIRST_EXCEPTION" and any(
        f._state == "FINISHED" and f._exception is not None for f in done)


def _min_examples() -> int:
    return max(500, settings.default.max_examples)


class FutureDifferential(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[Any, Any]] = []
        self.calls: tuple[list[Any], list[Any]] = ([], [])
        self.log = RecordingHandler().__enter__()
        self.labels = 0
        # id(future) -> the exception object it was given, per side (identity checks)
        self.given: tuple[dict[int, Any], dict[int, Any]] = ({}, {})

    def teardown(self) -> None:
        self.log.__exit__(None, None, None)

    # -- helpers ------------------------------------------------------------------------
    def pair(self, i: int) -> tuple[Any, Any]:
        return self.pairs[i % len(self.pairs)]

    def everything(self) -> tuple[list[Any], list[Any]]:
        return [p[0] for p in self.pairs], [p[1] for p in self.pairs]

    def both(self, i: int, call: Callable[[ModuleType, Any], Any]) -> None:
        """Run `call(mod, future)` on each side of pair i; outcomes and logs must agree."""
        seen = []
        for side, mod in enumerate(SIDES):
            f = self.pair(i)[side]
            result = outcome(mod, lambda mod=mod, f=f: call(mod, f), *self.everything()[side])
            seen.append((result, self.log.take(*self.everything()[side])))
        assert seen[0] == seen[1]

    def index_of(self, side: int) -> dict[int, int]:
        return {id(p[side]): n for n, p in enumerate(self.pairs)}

    # -- rules ---------------------------------------------------------------------------
    @initialize(n=st.integers(1, 3))
    def create(self, n: int) -> None:
        for _ in range(n):
            self.pairs.append((futures_impl.Future(), std_futures.Future()))

    @rule()
    def add_pair(self) -> None:
        if len(self.pairs) < 5:
            self.pairs.append((futures_impl.Future(), std_futures.Future()))

    @rule(i=st.integers(0, 4))
    def cancel(self, i: int) -> None:
        self.both(i, lambda mod, f: f.cancel())

    @rule(i=st.integers(0, 4))
    def set_running_or_notify_cancel(self, i: int) -> None:
        self.both(i, lambda mod, f: f.set_running_or_notify_cancel())

    @rule(i=st.integers(0, 4), value=RESULTS)
    def set_result(self, i: int, value: Any) -> None:
        self.both(i, lambda mod, f: f.set_result(value))

    def give_exception(self, mod: ModuleType, f: Any, kind: str) -> None:
        """f.set_exception(a fresh exception), remembered once the future holds it."""
        exc = make_exception(kind, mod)
        f.set_exception(exc)
        self.given[SIDES.index(mod)][id(f)] = exc

    @rule(i=st.integers(0, 4), kind=EXCEPTIONS)
    def set_exception(self, i: int, kind: str) -> None:
        self.both(i, lambda mod, f: self.give_exception(mod, f, kind))

    @rule(i=st.integers(0, 4), action=st.sampled_from(
        ["none", "raise", "settle_other", "add_nested", "cancel_self", "wait_self"]),
        other=st.integers(0, 4))
    def add_done_callback(self, i: int, action: str, other: int) -> None:
        """A recording callback; some also re-enter the futures API from inside the callback."""
        self.labels += 1
        label = self.labels

        def make_cb(side: int, label: int, action: str) -> Callable[[Any], None]:
            mod = SIDES[side]

            def cb(fut: Any) -> None:
                self.calls[side].append((
                    label,
                    self.index_of(side).get(id(fut)),
                    fut.done(), fut.running(), fut.cancelled(), fut._state,
                    outcome(mod, lambda: fut.result(timeout=0), fut),
                    outcome(mod, lambda: fut.exception(timeout=0), fut),
                ))
                if action == "raise":
                    raise ValueError(f"callback {label} fails")
                if action == "settle_other":
                    target = self.pair(other)[side]
                    self.calls[side].append(
                        (label, "settle", outcome(mod, lambda: target.set_result(label), target)))
                elif action == "add_nested":
                    fut.add_done_callback(make_cb(side, -label, "none"))
                elif action == "cancel_self":
                    self.calls[side].append((label, "cancel", fut.cancel()))
                elif action == "wait_self":
                    done, not_done = mod.wait([fut], timeout=0)
                    self.calls[side].append((label, "wait", len(done), len(not_done)))

            return cb

        self.both(i, lambda mod, f: f.add_done_callback(make_cb(SIDES.index(mod), label, action)))

    @rule(i=st.integers(0, 4), shape=st.sampled_from([
        ("PENDING", "none"), ("RUNNING", "none"), ("CANCELLED", "none"),
        ("CANCELLED_AND_NOTIFIED", "none"), ("FINISHED", "result"), ("FINISHED", "exception"),
    ]))
    def inject_private_state(self, i: int, shape: tuple[str, str]) -> None:
        """What CPython's own suite does (its create_future helper and its notification
        tests): on a PENDING future, write a consistent `_state`, `_result` and `_exception`
        directly under `with f._condition:`, then notify_all()."""
        state, payload = shape
        if self.pair(i)[1]._state != "PENDING":
            return  # the suite only ever does this to pending futures
        for side, mod in enumerate(SIDES):
            f = self.pair(i)[side]
            with f._condition:
                f._state = state
                f._result = 42 if payload == "result" else None
                f._exception = make_exception("OSError", mod) if payload == "exception" else None
                if f._exception is not None:
                    self.given[side][id(f)] = f._exception
                f._condition.notify_all()

    @rule(i=st.integers(0, 4))
    def result0(self, i: int) -> None:
        self.both(i, lambda mod, f: f.result(timeout=0))

    @rule(i=st.integers(0, 4))
    def exception0(self, i: int) -> None:
        self.both(i, lambda mod, f: f.exception(timeout=0))

    def identity(self, side: int, f: Any) -> tuple[bool, bool] | None:
        """(exception() is the object given, result() raises the object given), or None
        for a future that was given no exception."""
        given = self.given[side].get(id(f))
        if given is None or f._state != "FINISHED":
            return None
        try:
            f.result(timeout=0)
        except BaseException as exc:  # noqa: BLE001 - what result() raised is the point
            raised: Any = exc
        else:
            raised = None
        return f.exception(timeout=0) is given, raised is given

    @rule(i=st.integers(0, 4))
    def exception_identity(self, i: int) -> None:
        """result() and exception() hand back the very object set_exception() got, on both
        sides (an exception *class* is instantiated by the raise, on both sides alike)."""
        seen = [self.identity(side, self.pair(i)[side]) for side in (0, 1)]
        assert seen[0] == seen[1]
        if seen[1] is not None and isinstance(self.given[1][id(self.pair(i)[1])], BaseException):
            assert seen[0] == (True, True)

    @rule(i=st.integers(0, 4))
    def queries(self, i: int) -> None:
        self.both(i, lambda mod, f: (f.done(), f.running(), f.cancelled()))

    @rule(picks=st.lists(st.integers(0, 4), max_size=6), return_when=RETURN_WHEN)
    def wait0(self, picks: list[int], return_when: str) -> None:
        seen = []
        for side, mod in enumerate(SIDES):
            fs = [self.pair(i)[side] for i in picks] if self.pairs else []
            index = self.index_of(side)

            def call(mod: ModuleType = mod, fs: list[Any] = fs,
                     index: dict[int, int] = index) -> Any:
                done, not_done = mod.wait(fs, timeout=0, return_when=return_when)
                return (sorted(index[id(f)] for f in done),
                        sorted(index[id(f)] for f in not_done))

            seen.append((outcome(mod, call, *fs), self.log.take(*self.everything()[side])))
        assert seen[0] == seen[1]

    @rule(picks=st.lists(st.integers(0, 4), max_size=6))
    def as_completed0(self, picks: list[int]) -> None:
        seen = []
        for side, mod in enumerate(SIDES):
            fs = [self.pair(i)[side] for i in picks]
            index = self.index_of(side)
            yielded: list[int] = []

            def call(mod: ModuleType = mod, fs: list[Any] = fs,
                     index: dict[int, int] = index, yielded: list[int] = yielded) -> None:
                for f in mod.as_completed(fs, timeout=0):
                    yielded.append(index[id(f)])

            result = outcome(mod, call, *fs)
            # Already-finished futures come out in no documented order: compare as a multiset.
            seen.append((result, sorted(yielded), self.log.take(*self.everything()[side])))
        assert seen[0] == seen[1]

    @rule(picks=st.lists(st.integers(0, 4), min_size=1, max_size=5),
          return_when=st.sampled_from(["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"]),
          timeout=st.sampled_from([None, 600.0]), data=st.data())
    def wait_blocking(self, picks: list[int], return_when: str, timeout: float | None,
                      data: st.DataObject) -> None:
        """Each side's wait(picks, timeout, return_when) blocks in a thread of its own; this
        thread settles the picked futures one step at a time (result, exception, or cancel
        and notify), each only once both callers are parked in their module's wait() (see
        _blocking), until the condition holds. Both must have stayed blocked until then and
        return the same futures as done.

        A step's callbacks may settle more futures while the caller wakes up; then "done"
        is only known to lie between the futures settled before the last step and after it.
        A caller that misses its wake-up fails the rule after _blocking.BOUND seconds."""
        index = sorted({i % len(self.pairs) for i in picks})
        fs = [[self.pair(i)[side] for i in picks] for side in (0, 1)]
        callers = [Caller(lambda mod=mod, fs=fs[side]: mod.wait(fs, timeout, return_when),
                          name=f"wait-{mod.__name__}") for side, mod in enumerate(SIDES)]
        for caller in callers:
            caller.start()
        prior = now = self.settled(index)  # settled before and after the latest step
        try:
            while not holds(return_when, [self.pair(i)[1] for i in index]):
                parked = [c.parked_or_finished(mod) for c, mod in zip(callers, SIDES)]
                assert parked == [True, True], f"parked in wait() (ours, stdlib): {parked}"
                i = data.draw(st.sampled_from([i for i in index if i not in now]))
                action = data.draw(st.sampled_from({
                    "PENDING": ["result", "exception", "cancel"],
                    "RUNNING": ["result", "exception"],
                    "CANCELLED": ["notify"],
                }[self.pair(i)[1]._state]))
                self.both(i, lambda mod, f, action=action: self.settle(mod, f, action))
                prior, now = now, self.settled(index)
            results = [c.outcome() for c in callers]
        except BaseException:
            for side, mod in enumerate(SIDES):  # free a caller that missed its wake-up
                for i in index:
                    f = self.pair(i)[side]
                    if f._state not in SETTLED:
                        self.settle(mod, f, "notify" if f._state == "CANCELLED" else "result")
            raise
        got = []
        for side, (done, not_done) in enumerate(results):  # type: ignore[misc]
            where = self.index_of(side)
            got.append((sorted(where[id(f)] for f in done), sorted(where[id(f)] for f in not_done)))
        if len(now - prior) <= 1:
            assert got[0] == got[1] == (sorted(now), sorted(set(index) - now))
        else:
            for done, not_done in got:
                assert prior < set(done) <= now and set(done) | set(not_done) == set(index)
                assert holds(return_when, [self.pair(i)[1] for i in done])
        for side in (0, 1):
            for f in fs[side]:
                assert not f._waiters, "a waiter left behind"
        for i in index:
            seen = [self.identity(side, self.pair(i)[side]) for side in (0, 1)]
            assert seen[0] == seen[1]

    def settled(self, index: list[int]) -> set[int]:
        """Which of the pairs `index` wait() counts as done (read on the stdlib's side)."""
        return {i for i in index if self.pair(i)[1]._state in SETTLED}

    def settle(self, mod: ModuleType, f: Any, action: str) -> Any:
        if action == "result":
            return f.set_result(action)
        if action == "exception":
            return self.give_exception(mod, f, "KeyError")
        if action == "cancel":
            f.cancel()
        return f.set_running_or_notify_cancel()

    # -- invariants ---------------------------------------------------------------------
    @invariant()
    def same_observable_state(self) -> None:
        for ours, theirs in self.pairs:
            assert ours._state == theirs._state
            assert normalise(repr(ours)) == normalise(repr(theirs))
            assert (ours.done(), ours.running(), ours.cancelled()) == (
                theirs.done(), theirs.running(), theirs.cancelled())
            assert describe_value(ours._result, futures_impl) == describe_value(
                theirs._result, std_futures)

    @invariant()
    def same_callbacks(self) -> None:
        assert self.calls[0] == self.calls[1]

    @invariant()
    def nothing_left_unlogged(self) -> None:
        assert self.log.take() == []


FutureDifferential.TestCase.settings = settings(
    max_examples=_min_examples(),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestFutureDifferential = pytest.mark.timeout(600)(FutureDifferential.TestCase)
