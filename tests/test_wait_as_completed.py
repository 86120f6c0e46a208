"""wait() and as_completed(): unit tests, and a differential test against the stdlib in which
another thread settles the futures while the caller is blocked.

The threaded scenarios stay deterministic without sleeps: the caller runs in its own thread,
and the test thread settles futures one step at a time in a planned order, each step only
once the caller is parked in the module's own wait()/as_completed() (its stack says so:
see _blocking). It stops at the step after which the documented condition (FIRST_COMPLETED /
FIRST_EXCEPTION / ALL_COMPLETED) first holds, so the set of futures done when wait() returns
is fixed by the plan, not by timing; for as_completed each step waits for the previous
future to be taken, so the yield order is fixed too. Each run counts that the caller was
parked before every settle (a run that never blocks tests nothing) and bounds every wait
(a missed wake-up fails, it does not hang). Both modules run the same scenario; their
results must be equal, and equal to the model.
"""

from __future__ import annotations

import concurrent.futures as std_futures
import threading
from types import ModuleType
from typing import Any

import pytest
from _blocking import BOUND, Caller, parked_in, poll
from _support import MODULES, exc_kind, wait_until
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import futures_impl

pytestmark = pytest.mark.usefixtures("no_thread_leaks")

RETURN_WHENS = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"]


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- building blocks

def build(mod: ModuleType, state: str) -> Any:
    f = mod.Future()
    if state == "running":
        f.set_running_or_notify_cancel()
    elif state == "result":
        f.set_result(state)
    elif state == "exception":
        f.set_exception(ValueError(state))
    elif state == "cancelled":
        f.cancel()
    elif state == "cancelled_notified":
        f.cancel()
        f.set_running_or_notify_cancel()
    else:
        assert state == "pending"
    return f


def settle(f: Any, action: str) -> None:
    if action == "result":
        f.set_result(action)
    elif action == "exception":
        f.set_exception(KeyError(action))
    else:
        assert action == "cancel"
        assert f.cancel()
        assert f.set_running_or_notify_cancel() is False


# ----------------------------------------------------------------------------- wait: unit

def test_wait_empty(mod: ModuleType) -> None:
    for rw in RETURN_WHENS:
        done, not_done = mod.wait([], return_when=rw)
        assert done == set() and not_done == set()


def test_wait_returns_named_tuple_of_sets(mod: ModuleType) -> None:
    f = build(mod, "result")
    g = build(mod, "pending")
    res = mod.wait([f, g], timeout=0)
    assert type(res).__name__ == "DoneAndNotDoneFutures"
    assert res._fields == ("done", "not_done")
    assert res.done == {f} and res.not_done == {g}
    assert isinstance(res.done, set) and isinstance(res.not_done, set)
    # Both modules name the class in their own _base (concurrent.futures._base on 3.9-3.13).
    assert type(res) is mod._base.DoneAndNotDoneFutures
    assert isinstance(res, tuple) and tuple(res) == (res.done, res.not_done)


def test_wait_timeout_zero_by_state(mod: ModuleType) -> None:
    states = ["pending", "running", "result", "exception", "cancelled", "cancelled_notified"]
    fs = {s: build(mod, s) for s in states}
    for rw in RETURN_WHENS:
        done, not_done = mod.wait(list(fs.values()), timeout=0, return_when=rw)
        # A CANCELLED future is not done for wait() until its cancellation was notified.
        assert done == {fs["result"], fs["exception"], fs["cancelled_notified"]}, rw
        assert not_done == {fs["pending"], fs["running"], fs["cancelled"]}, rw


def test_wait_deduplicates(mod: ModuleType) -> None:
    f, g = build(mod, "result"), build(mod, "pending")
    done, not_done = mod.wait([f, f, g, g, f], timeout=0)
    assert done == {f} and not_done == {g}


@pytest.mark.parametrize("rw", RETURN_WHENS)
def test_wait_does_not_block_when_condition_already_holds(mod: ModuleType, rw: str) -> None:
    f = build(mod, "exception")
    others = [build(mod, "result")] if rw == "ALL_COMPLETED" else [build(mod, "pending")]
    done, not_done = mod.wait([f, *others], return_when=rw)  # no timeout: must not block
    assert f in done


def test_wait_first_exception_ignores_cancellation(mod: ModuleType) -> None:
    f = build(mod, "cancelled_notified")
    g = build(mod, "pending")
    done, not_done = mod.wait([f, g], timeout=0, return_when="FIRST_EXCEPTION")
    assert done == {f} and not_done == {g}


def test_wait_invalid_return_when(mod: ModuleType) -> None:
    f = build(mod, "pending")
    with pytest.raises(ValueError) as info:
        mod.wait([f], timeout=0, return_when="BOGUS")
    assert str(info.value) == "Invalid return condition: 'BOGUS'"
    assert f._waiters == []


def test_wait_leaves_no_waiters_behind(mod: ModuleType) -> None:
    fs = [build(mod, "pending") for _ in range(3)]
    for rw in RETURN_WHENS:
        mod.wait(fs, timeout=0, return_when=rw)
        mod.wait(fs, timeout=0.001, return_when=rw)
    assert all(f._waiters == [] for f in fs)


# ----------------------------------------------------------------------------- as_completed: unit

def test_as_completed_empty(mod: ModuleType) -> None:
    assert list(mod.as_completed([])) == []
    assert list(mod.as_completed([], timeout=0)) == []


def test_as_completed_yields_finished_first_and_once(mod: ModuleType) -> None:
    a, b = build(mod, "result"), build(mod, "exception")
    c = build(mod, "cancelled_notified")
    p = build(mod, "pending")
    it = mod.as_completed([p, a, b, a, c, p, b])
    first = {next(it), next(it), next(it)}
    assert first == {a, b, c}
    settle(p, "result")
    assert next(it) is p
    with pytest.raises(StopIteration):
        next(it)


def test_as_completed_accepts_any_iterable(mod: ModuleType) -> None:
    fs = [build(mod, "result") for _ in range(3)]
    assert set(mod.as_completed(f for f in fs)) == set(fs)
    assert set(mod.as_completed(set(fs))) == set(fs)


@pytest.mark.parametrize(
    "states, message",
    [
        (["pending"], "1 (of 1) futures unfinished"),
        (["pending", "running", "result"], "2 (of 3) futures unfinished"),
        (["cancelled", "pending", "exception", "cancelled_notified"],
         "2 (of 4) futures unfinished"),
    ],
)
def test_as_completed_timeout_message(mod: ModuleType, states: list[str], message: str) -> None:
    fs = [build(mod, s) for s in states]
    it = mod.as_completed(fs + fs, timeout=0)  # duplicates count once
    finished = sum(s in ("result", "exception", "cancelled_notified") for s in states)
    got = [next(it) for _ in range(finished)]
    assert len(set(got)) == finished
    with pytest.raises(mod.TimeoutError) as info:
        next(it)
    assert type(info.value) is mod.TimeoutError
    assert str(info.value) == message
    with pytest.raises(StopIteration):
        next(it)
    assert all(f._waiters == [] for f in fs)


def test_as_completed_removes_waiters_when_exhausted(mod: ModuleType) -> None:
    """A waiter left in `_waiters` leaks: every as_completed() over a long-lived future adds
    one more that is notified forever after."""
    a, p = build(mod, "result"), build(mod, "pending")
    caller = threading.current_thread()

    def finish() -> None:
        poll(parked_in(caller, mod, "as_completed"), "the caller to block in as_completed()")
        p.set_result(2)

    t = threading.Thread(target=finish, daemon=True)
    t.start()
    it = mod.as_completed([a, p])
    assert [next(it), next(it)] == [a, p]
    t.join(BOUND)
    assert not t.is_alive()
    with pytest.raises(StopIteration):
        next(it)
    assert a._waiters == [] and p._waiters == []


def test_as_completed_removes_waiters_when_closed(mod: ModuleType) -> None:
    a, p = build(mod, "result"), build(mod, "pending")
    it = mod.as_completed([a, p])
    assert next(it) is a
    it.close()
    assert p._waiters == []


# ----------------------------------------------------------------------------- threaded scenarios

STATES = st.sampled_from(["pending", "running", "result", "exception", "cancelled_notified"])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[str], list[tuple[int, str]]]:
    """Initial states of 1-4 futures, and an order and action for settling the unfinished."""
    states = draw(st.lists(STATES, min_size=1, max_size=4))
    unfinished = [i for i, s in enumerate(states) if s in ("pending", "running")]
    order = draw(st.permutations(unfinished))
    plan = []
    for i in order:
        actions = ["result", "exception"] + (["cancel"] if states[i] == "pending" else [])
        plan.append((i, draw(st.sampled_from(actions))))
    return states, plan


def _condition_holds(rw: str, done: dict[int, str], n: int) -> bool:
    if rw == "FIRST_COMPLETED" and done:
        return True
    if rw == "FIRST_EXCEPTION" and "exception" in done.values():
        return True
    return len(done) == n


def model_wait(
    states: list[str], plan: list[tuple[int, str]], rw: str
) -> tuple[int, list[int], list[int]]:
    """(steps the settler makes before wait() returns, done indices, not-done indices)."""
    done = {i: s for i, s in enumerate(states) if s not in ("pending", "running")}
    steps = 0
    while not _condition_holds(rw, done, len(states)):
        i, action = plan[steps]
        done[i] = action
        steps += 1
    return steps, sorted(done), sorted(set(range(len(states))) - set(done))


def run_wait(
    mod: ModuleType, states: list[str], plan: list[tuple[int, str]], rw: str, timeout: float | None
) -> tuple[list[int], list[int]]:
    """wait() runs in a caller thread; this thread makes each settle of the plan only once
    the caller is parked in the module's own wait() (see _blocking), and checks that it was
    parked before every settle up to the one that satisfies `rw`."""
    fs = [build(mod, s) for s in states]
    steps, _, _ = model_wait(states, plan, rw)
    caller = Caller(lambda: mod.wait(fs, timeout=timeout, return_when=rw),
                    name=f"wait-{mod.__name__}-{rw}")
    caller.start()
    parked = 0
    try:
        for i, action in plan[:steps]:
            parked += caller.parked_or_finished(mod, "wait")
            settle(fs[i], action)
        done, not_done = caller.outcome()  # type: ignore[misc]
    finally:
        for i, action in plan[steps:]:  # after the return (or to free a hung caller)
            settle(fs[i], action)
    assert parked == steps, (
        f"{mod.__name__}: wait({rw}) was parked before {parked} of the {steps} settles; "
        "it returned before its condition held")
    index = {id(f): n for n, f in enumerate(fs)}
    left = [len(f._waiters) for f in fs]
    assert left == [0] * len(fs), f"{mod.__name__}: waiters left in _waiters: {left}"
    return sorted(index[id(f)] for f in done), sorted(index[id(f)] for f in not_done)


# A hang costs the caller's bound (_blocking.BOUND) per example, so these tests report the
# first failing example as found rather than shrink it (the examples are small anyway).
_NO_SHRINK = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])


@_NO_SHRINK
@given(scenario=scenarios(), rw=st.sampled_from(RETURN_WHENS),
       timeout=st.sampled_from([None, 600.0]))
def test_wait_differential_threaded(
    scenario: tuple[list[str], list[tuple[int, str]]], rw: str, timeout: float | None
) -> None:
    states, plan = scenario
    _, model_done, model_not_done = model_wait(states, plan, rw)
    ours = run_wait(futures_impl, states, plan, rw, timeout)
    theirs = run_wait(std_futures, states, plan, rw, timeout)
    assert theirs == (model_done, model_not_done)  # the model is right about the stdlib
    assert ours == theirs


@given(scenario=scenarios(), rw=st.sampled_from(RETURN_WHENS + ["BOGUS"]))
def test_wait_differential_timeout_zero(
    scenario: tuple[list[str], list[tuple[int, str]]], rw: str
) -> None:
    states, _ = scenario
    results = []
    for m in (futures_impl, std_futures):
        fs = [build(m, s) for s in states + ["cancelled"]]
        index = {id(f): n for n, f in enumerate(fs)}
        try:
            done, not_done = m.wait(fs + fs[:1], timeout=0, return_when=rw)
        except Exception as exc:  # noqa: BLE001
            results.append(("raised", exc_kind(exc, m), str(exc)))
        else:
            results.append((sorted(index[id(f)] for f in done),
                            sorted(index[id(f)] for f in not_done)))
    assert results[0] == results[1]


def run_as_completed(
    mod: ModuleType, states: list[str], plan: list[tuple[int, str]], timeout: float | None
) -> tuple[list[int], list[int]]:
    """(indices yielded before any settling, sorted; then the indices yielded in order).

    A caller thread drains as_completed(); this thread makes settle k of the plan only once
    the caller has taken k futures beyond the already finished ones and is parked in the
    module's own as_completed() again, so the yield order is fixed by the plan."""
    fs = [build(mod, s) for s in states]
    index = {id(f): n for n, f in enumerate(fs)}
    already = sum(s not in ("pending", "running") for s in states)
    yielded: list[int] = []

    def drain() -> None:
        for f in mod.as_completed(fs + fs[::-1], timeout=timeout):  # duplicates: yielded once
            yielded.append(index[id(f)])

    caller = Caller(drain, name=f"as_completed-{mod.__name__}")
    caller.start()
    parked = 0
    try:
        for k, (i, action) in enumerate(plan):
            parked += caller.parked_or_finished(
                mod, "as_completed", also=lambda k=k: len(yielded) == already + k)  # type: ignore[misc]
            settle(fs[i], action)
        caller.outcome()
    finally:
        for i, _ in plan:  # free a caller that missed a wake-up
            if fs[i]._state not in ("FINISHED", "CANCELLED_AND_NOTIFIED"):
                settle(fs[i], "result")
    assert parked == len(plan), (
        f"{mod.__name__}: as_completed() was parked before {parked} of {len(plan)} settles")
    left = [len(f._waiters) for f in fs]
    assert left == [0] * len(fs), f"{mod.__name__}: waiters left in _waiters: {left}"
    return sorted(yielded[:already]), yielded[already:]


@_NO_SHRINK
@given(scenario=scenarios(), timeout=st.sampled_from([None, 600.0]))
def test_as_completed_differential_threaded(
    scenario: tuple[list[str], list[tuple[int, str]]], timeout: float | None
) -> None:
    states, plan = scenario
    model = (sorted(i for i, s in enumerate(states) if s not in ("pending", "running")),
             [i for i, _ in plan])
    theirs = run_as_completed(std_futures, states, plan, timeout)
    ours = run_as_completed(futures_impl, states, plan, timeout)
    assert theirs == model
    assert ours == theirs


@pytest.mark.parametrize("rw", RETURN_WHENS)
def test_wait_timeout_expires_with_nothing_done(mod: ModuleType, rw: str) -> None:
    fs = [build(mod, "pending"), build(mod, "running")]
    done, not_done = mod.wait(fs, timeout=0.01, return_when=rw)
    assert done == set() and not_done == set(fs)


def test_as_completed_timeout_after_partial_progress(mod: ModuleType) -> None:
    a, b = build(mod, "pending"), build(mod, "pending")
    caller = threading.current_thread()

    def settle_a() -> None:
        poll(parked_in(caller, mod, "as_completed"), "the caller to block in as_completed()")
        a.set_result(1)

    t = threading.Thread(target=settle_a, daemon=True)
    t.start()
    it = mod.as_completed([a, b], timeout=600)
    assert next(it) is a
    t.join(BOUND)
    assert not t.is_alive()
    b.cancel()  # cancelled but not notified: still unfinished for as_completed
    it2 = mod.as_completed([a, b], timeout=0)
    assert next(it2) is a
    with pytest.raises(mod.TimeoutError, match=r"^1 \(of 2\) futures unfinished$"):
        next(it2)
    it.close()


# ------------------------------------------------------------------ lock-free registration
# futures_impl registers a waiter without the future's lock: append, then read the state
# (see _base._register). These force, in one thread, the two ways a future can settle
# between a caller's first look and its registration; `_waiters` is swapped for a list
# whose append settles the future just before or just after the waiter lands.

class _SettleOnAppend(list):  # type: ignore[type-arg]
    def __init__(self, future: Any, before: bool, fail: bool = False) -> None:
        super().__init__()
        self.future, self.before, self.armed, self.fail = future, before, True, fail

    def settle(self) -> None:
        if self.fail:
            self.future.set_exception(KeyError("raced"))
        else:
            self.future.set_result("raced")

    def append(self, waiter: Any) -> None:
        fire, self.armed = self.armed, False
        if fire and self.before:
            self.settle()  # its copy of the list misses the waiter
        super().append(waiter)
        if fire and not self.before:
            self.settle()  # its copy has the waiter: it reports


@pytest.mark.parametrize("before", [True, False], ids=["settled-before-append", "after-append"])
@pytest.mark.parametrize("rw", RETURN_WHENS)
def test_future_settling_during_registration_counts_once(before: bool, rw: str) -> None:
    racer, other = futures_impl.Future(), futures_impl.Future()
    racer._waiters = _SettleOnAppend(racer, before, fail=rw == "FIRST_EXCEPTION")
    other.set_running_or_notify_cancel()
    if rw != "ALL_COMPLETED":
        done, not_done = futures_impl.wait([racer, other], timeout=60, return_when=rw)
        assert done == {racer} and not_done == {other}
    else:
        # Counted once, the racer leaves the wait needing `other`: it returns only after
        # `other` settles, which happens once the waiter is registered on it.
        settler = threading.Thread(target=lambda: (wait_until(lambda: bool(other._waiters)),
                                                   other.set_result("late")))
        settler.start()
        done, not_done = futures_impl.wait([racer, other], timeout=60, return_when=rw)
        settler.join(60)
        assert done == {racer, other} and not not_done
    assert not racer._waiters and not other._waiters


@pytest.mark.parametrize("before", [True, False], ids=["settled-before-append", "after-append"])
def test_as_completed_yields_a_racing_future_once(before: bool) -> None:
    racer, other = futures_impl.Future(), futures_impl.Future()
    racer._waiters = _SettleOnAppend(racer, before)
    other.set_result("done")
    assert sorted(f.result() for f in futures_impl.as_completed([racer, other], timeout=60)) == [
        "done", "raced"]


def test_late_report_of_a_claimed_future_is_ignored() -> None:
    """A future the registering thread found settled is counted as settled before; its
    report, if the settling thread delivers it afterwards, must not count again."""
    from futures_impl import _base

    racer, pending = futures_impl.Future(), futures_impl.Future()
    waiter = _base._Waiter(_base.ALL_COMPLETED)
    racer._waiters = _SettleOnAppend(racer, before=True)
    settled: list[Any] = []
    registered = _base._register(waiter, [racer, pending], settled)
    assert settled == [racer] and registered == [pending] and waiter.installed == 1
    waiter.add_result(racer)  # the late report
    waiter.arm()
    assert waiter.finished == [] and waiter._wakeup.locked()  # still waiting for `pending`
    pending.set_result(1)
    assert waiter.finished == [pending] and not waiter._wakeup.locked()
