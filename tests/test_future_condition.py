"""`Future._condition.wait_for`, differential: futures_impl's view vs the stdlib's Condition.

Code written against the stdlib's internals (and CPython's suites) uses a future's
`_condition` as a threading.Condition. wait_for(predicate, timeout) must give what
threading.Condition.wait_for gives: the predicate's last value (not just a bool), at once
when it already holds, False-y after the timeout, and the value once a notify makes it
true; and, like every Condition method, it refuses to run without the lock held.
"""

from __future__ import annotations

import threading
from types import ModuleType

import pytest
from _support import MODULES, WAIT_BOUND, blocked_in, wait_until


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def test_predicate_already_true_returns_its_value_without_waiting(mod: ModuleType) -> None:
    f = mod.Future()
    with f._condition:
        assert f._condition.wait_for(lambda: "ready", timeout=0) == "ready"
        assert f._condition.wait_for(lambda: 7) == 7  # no timeout: no wait either


@pytest.mark.parametrize("timeout", [0, -1, 0.01])
def test_timeout_returns_the_last_false_value(mod: ModuleType, timeout: float) -> None:
    f = mod.Future()
    calls: list[int] = []

    def predicate() -> int:
        calls.append(1)
        return 0

    with f._condition:
        assert f._condition.wait_for(predicate, timeout=timeout) == 0
    assert calls  # evaluated at least once


@pytest.mark.parametrize("timeout", [None, WAIT_BOUND])
def test_notify_wakes_wait_for_and_it_returns_the_value(
    mod: ModuleType, timeout: float | None
) -> None:
    f = mod.Future()
    box: list[str] = []
    out: list[object] = []

    def waiter() -> None:
        with f._condition:
            out.append(f._condition.wait_for(lambda: box and box[0], timeout=timeout))

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    wait_until(blocked_in(t, "wait_for"))
    with f._condition:
        f._condition.notify_all()  # a wake-up with the predicate still false: waits on
    with f._condition:
        box.append("set")
        f._condition.notify_all()
    t.join(WAIT_BOUND)
    assert not t.is_alive(), "wait_for was not woken by notify_all"
    assert out == ["set"]


def test_wait_and_notify_need_the_lock(mod: ModuleType) -> None:
    f = mod.Future()
    for call in (lambda: f._condition.wait(0), lambda: f._condition.notify(),
                 lambda: f._condition.notify_all(), lambda: f._condition.wait_for(
                     lambda: False, 0.01)):
        with pytest.raises(RuntimeError, match="un-acquired lock"):
            call()
