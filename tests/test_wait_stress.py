"""Stress: wait()/as_completed() with timeout=None racing settle and cancel in another thread.

Why: futures_impl registers a waiter on a future without taking the future's lock (append
the waiter, then re-read the state: _base._register). If a future settles between wait()'s
first look and the append, the settling thread's copy of the waiter list misses the waiter,
and only the re-read after the append sees it; without it the wake-up is lost and a
wait(timeout=None) sleeps forever. The deterministic tests in test_wait_as_completed.py
force each order once; these run thousands of real races.

How: a long-lived "caller" thread runs one wait()/as_completed() per round; this thread
settles the round's futures (result, exception, or cancel then the executor's notify), each
after a random spin, while the switch interval is tiny so that the two threads interleave
at fine grain. Every round is bounded: the caller must be back at the round's barrier within
_blocking.BOUND seconds, or the test fails saying which call hung on what. Outcomes are
checked against what wait()/as_completed() promise, not against timing.

- test_wait_races_settle_and_cancel: both modules, pure races (the stdlib shows the checks
  are sound).
- test_registration_window_races: futures_impl only; the future's waiter list is swapped for
  one whose append() meets this thread first (a handshake), so each race starts exactly at
  the registration window instead of landing there by luck.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Callable

import pytest
from _blocking import BOUND, frames
from _support import MODULES

import futures_impl

pytestmark = pytest.mark.usefixtures("no_thread_leaks")

RETURN_WHENS = ("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "as_completed")
SETTLED = ("FINISHED", "CANCELLED_AND_NOTIFIED")
# ~1-3 s per module on a loaded 2-core machine. WAIT_STRESS_ROUNDS lowers it where each run
# counts (nox -s mutation sets it: every mutant of wait()'s code runs these tests).
ROUNDS = int(os.environ.get("WAIT_STRESS_ROUNDS", "3000"))
LARGE = 400  # futures in the largest rounds
SPIN = 40  # the random delay before each settle, in empty loop turns


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def spin(n: int) -> None:
    for _ in range(n):
        pass


def settle(f: Any, action: str) -> None:
    if action == "result":
        f.set_result(action)
    elif action == "exception":
        f.set_exception(KeyError(action))
    else:  # a user's cancel, then the executor's acknowledgement (what wait() counts)
        f.cancel()
        f.set_running_or_notify_cancel()


class CallerLoop(threading.Thread):
    """Runs one call per round, between two barriers shared with the test thread."""

    def __init__(self) -> None:
        super().__init__(name="stress-caller", daemon=True)
        self.start_round = threading.Barrier(2)
        self.end_round = threading.Barrier(2)
        self.call: Callable[[], Any] | None = None
        self.value: Any = None
        self.error: BaseException | None = None
        self.started = False  # written by the caller (True) and the test thread (False)

    def run(self) -> None:
        try:
            while True:
                self.start_round.wait(BOUND)
                call = self.call
                if call is None:
                    return
                self.started = True  # the test thread spins on this: both start together
                try:
                    self.value, self.error = call(), None
                except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                    self.value, self.error = None, exc
                self.end_round.wait(BOUND)
        except threading.BrokenBarrierError:
            return  # the test thread gave up on a round (and reports it)

    def round(self, call: Callable[[], Any], race: Callable[[], None], what: str) -> Any:
        """Run `call` in the caller thread while `race` runs here; its value, bounded."""
        self.call, self.started = call, False
        self.start_round.wait(BOUND)
        # Spin (not block) until the caller is off: a blocked thread takes tens of
        # microseconds to wake, far longer than the race window, so a sleeping start would
        # decide most races before they begin.
        deadline = time.monotonic() + BOUND
        while not self.started:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: the caller never started its round")
        race()
        try:
            self.end_round.wait(BOUND)
        except threading.BrokenBarrierError:
            self.start_round.abort()  # the caller is stuck: stop() must not wait for it
            stack = [name for _, name in frames(self)]
            raise AssertionError(
                f"{what}: still blocked {BOUND} s after every future settled (a lost "
                f"wake-up); caller stack: {stack}") from None
        if self.error is not None:
            raise self.error
        return self.value

    def stop(self) -> None:
        self.call = None
        try:
            self.start_round.wait(BOUND)
        except threading.BrokenBarrierError:
            return  # a round failed with the caller stuck: leave the (daemon) thread
        self.join(BOUND)


def caller_loop() -> Iterator[CallerLoop]:
    loop = CallerLoop()
    loop.start()
    try:
        yield loop
    finally:
        loop.stop()


def check_wait(mod: ModuleType, fs: list[Any], rw: str, value: Any, what: str) -> None:
    done, not_done = value
    assert done | not_done == set(fs) and not done & not_done, what
    assert all(f._state in SETTLED for f in done), f"{what}: unsettled future in done"
    failed = any(f._state == "FINISHED" and f._exception is not None for f in done)
    if rw == "FIRST_COMPLETED":
        assert done, f"{what}: returned with nothing done"
    elif rw == "FIRST_EXCEPTION":
        assert failed or not not_done, f"{what}: returned with no failure and {not_done}"
    else:
        assert not not_done, f"{what}: returned with {len(not_done)} not done"


def satisfied(fs: list[Any], rw: str) -> bool:
    """Would wait(fs, return_when=rw) return at once? (as_completed: is all yielded at once?)"""
    done = [f for f in fs if f._state in SETTLED]
    if len(done) == len(fs):
        return True
    if rw == "FIRST_COMPLETED":
        return bool(done)
    return rw == "FIRST_EXCEPTION" and any(
        f._state == "FINISHED" and f._exception is not None for f in done)


Prepare = Callable[[list[Any], list[tuple[Any, str]], str], Callable[[], None]]


def one_round(mod: ModuleType, loop: CallerLoop, rng: random.Random, n: int,
              prepare: Prepare | None = None, large: bool = True) -> None:
    """A round: 1-3 futures (some settled already, some running, duplicates in the call),
    settled here in a random order and way while the caller waits on them."""
    # Small rounds race one settle against the whole call; large ones make the registration
    # loop outlast a GIL slice (the thread switch lands inside it, timer slack makes a slice
    # ~50 us whatever the switch interval), so settles fall between first look and append.
    size = rng.randint(LARGE // 4, LARGE) if large and rng.random() < 0.5 else rng.randint(1, 3)
    fs = [mod.Future() for _ in range(size)]
    todo = []
    for f in fs:
        kind = rng.random()
        if kind < 0.15:
            settle(f, rng.choice(("result", "exception", "cancel")))
            continue
        if kind < 0.4:
            f.set_running_or_notify_cancel()
        todo.append((f, rng.choice(("result", "exception") if f.running()
                                   else ("result", "exception", "cancel"))))
    rng.shuffle(todo)
    rw = rng.choice(RETURN_WHENS)
    spins = [rng.randrange(SPIN) for _ in todo]
    argument = fs + fs[:1]
    what = (f"{mod.__name__} round {n}: {rw} over {size} futures "
            f"{dict(Counter(f._state for f in fs))}, settling {dict(Counter(a for _, a in todo))}")
    handshake = prepare(fs, todo, rw) if prepare is not None else None

    def race() -> None:
        if handshake is not None:
            handshake()
        for (f, action), k in zip(todo, spins):
            spin(k)
            settle(f, action)

    if rw == "as_completed":
        got = loop.round(lambda: list(mod.as_completed(argument)), race, what)
        assert sorted(map(id, got)) == sorted(map(id, fs)), f"{what}: yielded {got}"
    else:
        value = loop.round(lambda: mod.wait(argument, return_when=rw), race, what)
        check_wait(mod, fs, rw, value, what)
    left = [len(f._waiters) for f in fs]
    assert left == [0] * size, f"{what}: waiters left behind {left}"


@pytest.mark.parametrize("mod", MODULES)
@pytest.mark.usefixtures("tiny_switch_interval")
def test_wait_races_settle_and_cancel(mod: ModuleType) -> None:
    rng = random.Random(f"pure-{mod.__name__}")
    rounds = ROUNDS if mod is futures_impl else ROUNDS // 6  # the stdlib: soundness only
    for loop in caller_loop():
        for n in range(rounds):
            one_round(mod, loop, rng, n)


class _Handoff(list):  # type: ignore[type-arg]
    """A future's waiter list whose first append() stops at a handshake with the test
    thread: the caller is then between its first look at the future and its registration,
    and both threads go on racing from there."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = True
        self.at_window = threading.Event()
        self.racing = threading.Event()

    def append(self, waiter: Any) -> None:
        if self.armed:
            self.armed = False
            self.at_window.set()
            if not self.racing.wait(BOUND):
                raise AssertionError("the test thread never took the handshake")
        super().append(waiter)

    def meet(self) -> None:
        """Test thread: wait for the caller at the window, then let both go on."""
        if not self.at_window.wait(BOUND):
            raise AssertionError("the caller never came to register on the future")
        self.racing.set()


@pytest.mark.usefixtures("tiny_switch_interval")
def test_registration_window_races() -> None:
    rng = random.Random("window")

    def prepare(fs: list[Any], todo: list[tuple[Any, str]], rw: str) -> Callable[[], None]:
        if satisfied(fs, rw):
            return lambda: None  # the call returns before registering anywhere
        # The future settled first (most rounds) is the one whose registration is raced.
        f = todo[0][0] if rng.random() < 0.8 else rng.choice(todo)[0]
        f._waiters = hand = _Handoff()
        return hand.meet

    for loop in caller_loop():
        for n in range(ROUNDS):
            one_round(futures_impl, loop, rng, n, prepare, large=False)
