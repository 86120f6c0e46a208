"""Reliability trials for the process pool: kill-fuzz (issue 14).

A killer thread SIGKILLs a random live worker (a pid the pool lists in `executor._processes`)
while the pool runs many short calls. Whatever the timing, these must hold:

- every future settles within a bound (none stays pending): with its result, or with the
  documented error: BrokenProcessPool in the default mode (the first kill breaks the pool),
  WorkerDiedError, only for a call a killed worker was running, with
  `survive_worker_death=True` (at most one such failure per kill);
- after shutdown no thread the trial started (threading.enumerate()) and no worker process
  it saw (/proc: same pid and start time, not a zombie; multiprocessing.active_children())
  is left;
- with `survive_worker_death=True` the pool keeps accepting work: a call submitted after
  the storm succeeds.

The same with `max_tasks_per_child` from 1 to 10 (workers retire and are replaced while
they are being killed).

Quick variants run by default (100 kills, each a few seconds); the long variants
(1,000 kills) run with `pytest --run-slow -s` and print their counts (kills, tasks, futures
settled, how they settled, leaks). The killer's `Event.wait(0.001..0.005)` between kills is
pacing, not synchronisation: no outcome depends on it. Workers start by forkserver (what
max_tasks_per_child needs, and no fork from a threaded process).
"""

from __future__ import annotations

import inspect
import multiprocessing
import os
import random
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import _trial_helpers as th
import pytest
from _support import wait_until
from _trial_support import abandon

import futures_impl
from futures_impl.process import BrokenProcessPool, ProcessPoolExecutor

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, SIGKILL"),
    pytest.mark.usefixtures("no_thread_leaks"),
]

BOUND = 60.0  # seconds: a hang detector for any one wait, never a timing assertion
SURVIVES = "survive_worker_death" in inspect.signature(ProcessPoolExecutor).parameters
needs_survive = pytest.mark.skipif(
    not SURVIVES, reason="ProcessPoolExecutor has no survive_worker_death option yet"
)
WorkerDiedError: Any = getattr(futures_impl.process, "WorkerDiedError", None)


@pytest.fixture(scope="module")
def ctx() -> Any:
    return multiprocessing.get_context("forkserver")


# -- bookkeeping -------------------------------------------------------------------------


def _identity(pid: int) -> tuple[str, str] | None:
    """(state, start time) of process `pid` from /proc, None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 onwards
    return fields[0], fields[19]  # state (field 3), starttime (field 22)


@dataclass
class Tally:
    """What one trial did and saw; printed by the long variants."""

    kills: int = 0
    tasks: int = 0
    settled: int = 0
    results: int = 0
    broken: int = 0  # BrokenProcessPool (default mode)
    died: int = 0  # WorkerDiedError (survive_worker_death)
    pools: int = 0
    leaks: list[str] = field(default_factory=list)
    seen: dict[int, str] = field(default_factory=dict)  # pid -> start time

    def line(self, name: str) -> str:
        return (f"TRIAL {name}: pools={self.pools} kills={self.kills} tasks={self.tasks} "
                f"settled={self.settled} results={self.results} "
                f"broken_process_pool={self.broken} worker_died={self.died} "
                f"workers_seen={len(self.seen)} leaks={len(self.leaks)}")


class Killer(threading.Thread):
    """SIGKILLs a random pid of `executor._processes` (one it has not killed yet) every
    1-5 ms once `go` is set, until `budget` kills were sent or `stop` is set. With
    `progress` (a count of settled calls), it also lets 1-8 calls settle between kills, so
    that kills land on working workers rather than only on replacements still starting.
    Records each pid it sees (with its start time) in `tally.seen`, for the leak check."""

    def __init__(self, executor: Any, rng: random.Random, tally: Tally, budget: int,
                 go: threading.Event, stop: threading.Event,
                 progress: Callable[[], int] | None = None) -> None:
        super().__init__(name="killer", daemon=True)
        self.executor, self.rng, self.tally, self.budget = executor, rng, tally, budget
        self.go, self.stop, self.progress = go, stop, progress
        self.kills = 0
        self.killed: set[int] = set()
        self.error: BaseException | None = None
        self.finished = False

    def record(self) -> list[int]:
        pids = list(self.executor._processes)
        for pid in pids:
            if pid not in self.tally.seen:
                ident = _identity(pid)
                if ident is not None:
                    self.tally.seen[pid] = ident[1]
        return pids

    def run(self) -> None:
        try:
            if not self.go.wait(BOUND):
                raise AssertionError("the trial never let the killer start")
            mark = 0
            while self.kills < self.budget and not self.stop.is_set():
                pids = [p for p in self.record() if p not in self.killed]
                if self.progress is not None and self.progress() < mark:
                    pids = []  # let the pool run a few calls between kills
                if pids:
                    pid = self.rng.choice(pids)
                    # Counted before the signal: the test's thread may see the pool
                    # break (and look at the count) before this thread runs again.
                    self.kills += 1
                    self.killed.add(pid)
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:  # reaped since the snapshot
                        self.kills -= 1
                        self.killed.discard(pid)
                    else:
                        if self.progress is not None:
                            mark = self.progress() + self.rng.randint(1, 8)
                self.stop.wait(self.rng.uniform(0.001, 0.005))  # pacing only
            self.record()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            self.error = exc

    def finish(self) -> None:
        """Stop and join the killer (idempotent); add its kills to the tally."""
        if self.finished:
            return
        self.finished = True
        self.stop.set()
        self.go.set()
        self.join(BOUND)
        assert not self.is_alive(), "the killer thread did not end"
        self.tally.kills += self.kills
        if self.error is not None:
            raise self.error


def _shut_down(ex: Any, failed: bool) -> None:
    """shutdown(wait=True), bounded. After a failure (a call may be lost for good) the pool
    is abandoned instead, so that the run does not hang at exit and the failure shows."""
    if failed:
        abandon(ex)
        ex.shutdown(wait=False)
        return
    try:
        _bounded(ex.shutdown, "shutdown(wait=True)")
    except BaseException:
        abandon(ex)
        raise


def _bounded(call: Callable[[], object], what: str) -> None:
    """Run `call` in a thread; fail (instead of hanging the test) if it does not return."""
    failure: list[BaseException] = []

    def body() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            failure.append(exc)

    t = threading.Thread(target=body, name=what, daemon=True)
    t.start()
    t.join(BOUND)
    assert not t.is_alive(), f"{what} did not return within {BOUND} s (hung)"
    if failure:
        raise failure[0]


def _settle(futures: list[Any], tally: Tally,
            allowed: type[BaseException]) -> list[BaseException]:
    """Every future (of busy_square(i), i its index) settles within BOUND; each has its
    value or an `allowed` error. Returns the errors."""
    done, not_done = futures_impl.wait(futures, timeout=BOUND)
    assert not not_done, f"{len(not_done)} of {len(futures)} futures still pending"
    errors = []
    for i, future in enumerate(futures):
        tally.settled += 1
        error = future.exception(timeout=0)
        if error is None:
            assert future.result(timeout=0)[1] == i * i
            tally.results += 1
        else:
            assert isinstance(error, allowed), f"unexpected {error!r}"
            errors.append(error)
    return errors


def _check_no_leaks(tally: Tally, children_before: set[int]) -> None:
    """After shutdown: no worker the trial saw is alive (bounded wait for the last ones to
    be reaped), and no multiprocessing child that was not there before."""
    def alive() -> list[str]:
        out = []
        for pid, start in tally.seen.items():
            ident = _identity(pid)
            if ident is not None and ident[1] == start:
                out.append(f"{pid} ({ident[0]})")
        return out

    def lingering() -> list[int]:
        return [p.pid for p in multiprocessing.active_children()
                if p.pid not in children_before]

    wait_until(lambda: not alive() and not lingering(),
               what="the trial's workers to be gone after shutdown")
    tally.leaks.extend(alive())


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


# -- the default mode: the first kill breaks the pool ------------------------------------


def _default_round(ctx: Any, rng: random.Random, tally: Tally,
                   max_tasks: int | None, tasks: tuple[int, int]) -> None:
    """One pool, one storm: calls are submitted, the killer starts after a random number of
    them settled; every future ends with its result or BrokenProcessPool."""
    n = rng.randint(*tasks)
    ex = ProcessPoolExecutor(rng.randint(2, 4), mp_context=ctx, max_tasks_per_child=max_tasks)
    tally.pools += 1
    go, stop = threading.Event(), threading.Event()
    killer = Killer(ex, rng, tally, budget=1 if rng.random() < 0.5 else 3, go=go, stop=stop)
    killer.start()
    failed = True
    try:
        threshold = rng.randrange(0, n // 2 + 1)
        count = [0]
        lock = threading.Lock()

        def settled(_: Any) -> None:
            with lock:
                count[0] += 1
                if count[0] >= threshold:
                    go.set()

        futures = []
        for i in range(n):
            try:
                f = ex.submit(th.busy_square, i)
            except BrokenProcessPool:
                # The killer started while calls were still being submitted (`threshold`
                # calls had settled) and the pool already knows it is broken: refusing
                # more work is the documented outcome.
                assert killer.kills and ex.statistics().state == "broken"
                break
            f.add_done_callback(settled)
            futures.append(f)
        if threshold == 0:
            go.set()
        tally.tasks += len(futures)
        errors = _settle(futures, tally, BrokenProcessPool)
        tally.broken += len(errors)
        stop.set()
        killer.finish()
        if killer.kills and max_tasks is None:
            # A killed worker is a broken pool (with max_tasks_per_child the victim may
            # have been leaving at its limit: then nothing broke).
            wait_until(lambda: ex.statistics().state == "broken",
                       what="the pool to report itself broken after a kill")
            with pytest.raises(BrokenProcessPool):
                ex.submit(th.square, 1)
        if errors:
            assert ex.statistics().state == "broken"
        failed = False
    finally:
        stop.set()
        killer.finish()
        _shut_down(ex, failed)


def _default_trial(ctx: Any, rounds: int, seed: int, max_tasks: list[int | None],
                   tasks: tuple[int, int]) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    before = _children()
    for r in range(rounds):
        _default_round(ctx, rng, tally, max_tasks[r % len(max_tasks)], tasks)
    _check_no_leaks(tally, before)
    assert not tally.leaks, tally.leaks
    return tally


@pytest.mark.timeout(120)
def test_kill_fuzz_default_mode_quick(ctx: Any) -> None:
    tally = _default_trial(ctx, rounds=100, seed=1401, max_tasks=[None], tasks=(50, 400))
    print(tally.line("kill-fuzz default quick"))
    assert tally.kills >= 100  # budget per round is >= 1; a kill can miss only a reaped pid
    assert tally.broken > 0  # the trial did break pools mid-work


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_fuzz_default_mode_long(ctx: Any) -> None:
    tally = _default_trial(ctx, rounds=1000, seed=1402, max_tasks=[None], tasks=(50, 2000))
    print(tally.line("kill-fuzz default long"))
    assert tally.kills >= 1000


@pytest.mark.timeout(120)
def test_kill_fuzz_max_tasks_per_child_default_mode_quick(ctx: Any) -> None:
    tally = _default_trial(ctx, rounds=30, seed=1403, max_tasks=list(range(1, 11)),
                           tasks=(10, 60))
    print(tally.line("kill-fuzz max_tasks_per_child 1..10 default quick"))
    assert tally.kills > 0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_fuzz_max_tasks_per_child_default_mode_long(ctx: Any) -> None:
    tally = _default_trial(ctx, rounds=400, seed=1404, max_tasks=list(range(1, 11)),
                           tasks=(10, 200))
    print(tally.line("kill-fuzz max_tasks_per_child 1..10 default long"))
    assert tally.kills >= 400


# -- survive_worker_death=True: only the running call fails; the pool goes on ------------


def _survive_trial(ctx: Any, kills: int, seed: int, max_tasks: int | None,
                   batch: int, min_tasks: int) -> Tally:
    """One pool under a storm of `kills` SIGKILLs; calls are fed in batches until the storm
    is over and at least `min_tasks` calls were submitted. Each future ends with its result
    or WorkerDiedError (a kill fails at most the one call its worker was running);
    afterwards the pool still runs calls."""
    rng = random.Random(seed)
    tally = Tally()
    before = _children()
    ex = ProcessPoolExecutor(rng.randint(2, 4), mp_context=ctx, max_tasks_per_child=max_tasks,
                             survive_worker_death=True)
    tally.pools += 1
    go, stop = threading.Event(), threading.Event()
    count = [0]
    lock = threading.Lock()

    def settled(_: Any) -> None:
        with lock:
            count[0] += 1

    killer = Killer(ex, rng, tally, budget=kills, go=go, stop=stop, progress=lambda: count[0])
    killer.start()
    failed = True
    try:
        for _ in range(10_000):  # bounded: the storm ends long before
            futures = [ex.submit(th.busy_square, i) for i in range(batch)]
            for f in futures:
                f.add_done_callback(settled)
            tally.tasks += batch
            go.set()
            done, not_done = futures_impl.wait(futures, timeout=BOUND)
            assert not not_done, f"{len(not_done)} of {batch} futures still pending"
            for i, f in enumerate(futures):
                tally.settled += 1
                error = f.exception(timeout=0)
                if error is None:
                    assert f.result(timeout=0)[1] == i * i
                    tally.results += 1
                    continue
                assert type(error) is WorkerDiedError, f"unexpected {error!r}"
                tally.died += 1
                assert error.pid in killer.killed, (error.pid, error)
                assert error.signal == "SIGKILL", error.signal
                assert error.call is not None and "busy_square" in error.call, error.call
            if not killer.is_alive() and tally.tasks >= min_tasks:
                break
        killer.finish()
        assert tally.died <= tally.kills  # one running call per kill at most
        # The pool still works: every call of a fresh batch runs.
        assert ex.statistics().state == "running"
        after = [ex.submit(th.square, i) for i in range(20)]
        assert [f.result(timeout=BOUND) for f in after] == [i * i for i in range(20)]
        tally.tasks += 20
        tally.settled += 20
        tally.results += 20
        failed = False
    finally:
        stop.set()
        killer.finish()
        _shut_down(ex, failed)
    _check_no_leaks(tally, before)
    assert not tally.leaks, tally.leaks
    return tally


@needs_survive
@pytest.mark.timeout(120)
def test_kill_fuzz_survive_worker_death_quick(ctx: Any) -> None:
    tally = _survive_trial(ctx, kills=100, seed=1411, max_tasks=None, batch=500,
                           min_tasks=3000)
    print(tally.line("kill-fuzz survive_worker_death quick"))
    assert tally.kills == 100
    assert tally.died > 0  # some kills landed mid-call (the trial exercised that path)


@needs_survive
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_fuzz_survive_worker_death_long(ctx: Any) -> None:
    tally = _survive_trial(ctx, kills=1000, seed=1412, max_tasks=None, batch=2000,
                           min_tasks=30_000)
    print(tally.line("kill-fuzz survive_worker_death long"))
    assert tally.kills == 1000


@needs_survive
@pytest.mark.timeout(120)
@pytest.mark.parametrize("max_tasks", [1, 2, 3, 5, 10])
def test_kill_fuzz_survive_with_max_tasks_per_child_quick(ctx: Any, max_tasks: int) -> None:
    tally = _survive_trial(ctx, kills=20, seed=1420 + max_tasks, max_tasks=max_tasks,
                           batch=60, min_tasks=200)
    print(tally.line(f"kill-fuzz survive max_tasks_per_child={max_tasks} quick"))
    assert tally.kills == 20


@needs_survive
@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("max_tasks", list(range(1, 11)))
def test_kill_fuzz_survive_with_max_tasks_per_child_long(ctx: Any, max_tasks: int) -> None:
    tally = _survive_trial(ctx, kills=100, seed=1440 + max_tasks, max_tasks=max_tasks,
                           batch=200, min_tasks=2000)
    print(tally.line(f"kill-fuzz survive max_tasks_per_child={max_tasks} long"))
    assert tally.kills == 100
