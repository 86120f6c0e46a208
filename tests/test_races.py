"""Races of docs/design.md, "Races", that no other test strikes head-on (issue 13, B).

Each interleaving is forced in one thread, in the order that used to lose something,
by calling the pieces of wait()/result() in that order: no timing, no sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest

import futures_impl
from futures_impl import _base


def test_race_1_settled_before_arm_wakes_the_waiter() -> None:
    """Race 1: ALL_COMPLETED, every future reports between registration and arm()."""
    futures = [futures_impl.Future() for _ in range(3)]
    waiter = _base._Waiter(_base.ALL_COMPLETED)
    registered = _base._register(waiter, futures, [])
    try:
        assert registered == futures
        for f in futures:
            f.set_result(None)  # reported before arm(): the count is not known yet
        assert waiter._wakeup.locked()
        waiter.arm()  # must see that all have reported and wake the waiting thread
        assert not waiter._wakeup.locked()
        assert sorted(map(id, waiter.finished)) == sorted(map(id, futures))
    finally:
        _base._unregister(waiter, registered)


class _SelfRemovingWaiter:
    """A waiter that, when told, leaves the future's list the way a concurrent
    _unregister() would, in the middle of the settling future's iteration."""

    def __init__(self, future: Any, told: list[int], index: int) -> None:
        self.future, self.told, self.index = future, told, index

    def add_result(self, future: Any) -> None:
        self.told.append(self.index)
        future._waiters.remove(self)

    add_exception = add_cancelled = add_result


@pytest.mark.parametrize("settle", ["set_result", "set_exception", "notify_cancel"])
def test_race_3_a_waiter_removed_while_settling_skips_no_other(settle: str) -> None:
    f = futures_impl.Future()
    told: list[int] = []
    f._waiters.extend(_SelfRemovingWaiter(f, told, i) for i in range(4))
    if settle == "set_result":
        f.set_result(1)
    elif settle == "set_exception":
        f.set_exception(ValueError())
    else:
        f.cancel()
        f.set_running_or_notify_cancel()
    assert told == [0, 1, 2, 3]
    assert f._waiters == []


def test_race_4_a_gate_released_as_its_sleeper_times_out_counts_as_woken() -> None:
    f = futures_impl.Future()
    with f._lock:
        gate = f._add_gate_locked()
    f.set_result(7)  # settles and releases the gate before the sleeper gets to sleep
    assert f._park(gate, 0) is True
    assert not f._gates


def test_race_4_a_timed_out_sleeper_takes_its_gate_back() -> None:
    f = futures_impl.Future()
    with f._lock:
        gate = f._add_gate_locked()
        other = f._add_gate_locked()
    assert f._park(gate, 0) is False
    assert f._gates == [other]  # its own gate is gone, the other sleeper's stays
    f.set_result(1)
    assert not other.locked()  # settling still wakes the remaining sleeper
    assert not f._gates


def test_race_4_result_timeout_leaves_no_gate_behind() -> None:
    f = futures_impl.Future()
    for _ in range(3):
        with pytest.raises(futures_impl.TimeoutError):
            f.result(timeout=0)
    assert not f._gates
