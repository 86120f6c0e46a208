"""Tests written to kill mutants that survived `nox -s mutation` (docs/mutation.md).

Each test names, in its docstring, the mutation(s) it catches (file, function, change). Most
reach a small private helper of futures_impl.thread directly (the survivors sat on paths the
public API only reaches in rare races); the public-API ones are differential with the stdlib.
"""

from __future__ import annotations

import logging
import threading
from types import ModuleType
from typing import Any

import pytest
from _support import MODULES, RecordingHandler, blocked_in, wait_until

import futures_impl
from futures_impl import _base
from futures_impl import thread as fthread

BOUND = 30.0  # seconds, for every blocking call below


@pytest.fixture(params=MODULES, ids=lambda m: m.__name__.split(".")[0])
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def _item() -> Any:
    """A work item, as submit() makes it, for a fresh pending future."""
    return fthread._WorkItem((_base.Future(), str, (), {}))


# --------------------------------------------------------------------------- _settle_all


def test_settle_all_logs_a_failing_settle_and_settles_the_rest() -> None:
    """Kills thread._settle_all: `done += 1` -> `done = 1` / `done -= 1` / `done += 2` in the
    Exception branch, and the log call's message/exc_info mutants."""
    items = [_item() for _ in range(4)]
    seen: list[Any] = []

    def settle(item: Any) -> None:
        seen.append(item)
        if item is items[1]:
            raise ValueError("impossible state")
        fthread._cancel_item(item)

    with RecordingHandler() as log:
        fthread._settle_all(items[:], settle)
        records = list(log.records)
    assert seen == [items[0], items[1], items[2], items[3]]  # each once, in order
    assert [i.future._state for i in (items[0], items[2], items[3])] == [
        _base.CANCELLED_AND_NOTIFIED] * 3
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.CRITICAL, "Exception settling a work item")]
    assert records[0].exc_info is not None and records[0].exc_info[0] is ValueError


def test_settle_all_settles_every_item_before_reraising_an_interrupt() -> None:
    """Kills thread._settle_all: `elif interrupted is None` -> `is not None`, and
    `interrupted = exc` -> `interrupted = None` (the KeyboardInterrupt was swallowed)."""
    items = [_item() for _ in range(3)]
    interrupt = KeyboardInterrupt()
    fired = []

    def settle(item: Any) -> None:
        if item is items[0] and not fired:
            fired.append(True)
            raise interrupt
        fthread._cancel_item(item)

    work = items[:]
    with pytest.raises(KeyboardInterrupt) as info:
        fthread._settle_all(work, settle)
    assert info.value is interrupt
    assert work == []
    assert all(i.future._state == _base.CANCELLED_AND_NOTIFIED for i in items)


# --------------------------------------------------------------------------- settling one item


def test_cancel_item_notifies_waiters_and_is_idempotent() -> None:
    """Kills thread._cancel_item: `and` -> `or` (a second call re-notifies a settled future
    and raises) and `== CANCELLED` -> `!= CANCELLED` (left CANCELLED: wait() never sees it)."""
    item = _item()
    fthread._cancel_item(item)
    assert item.future._state == _base.CANCELLED_AND_NOTIFIED
    done, _ = futures_impl.wait([item.future], timeout=0)
    assert done == {item.future}
    fthread._cancel_item(item)  # again: settle() is called again after an interrupt
    assert item.future._state == _base.CANCELLED_AND_NOTIFIED


def test_fail_item_fails_a_running_future_and_is_idempotent() -> None:
    """Kills thread._fail_item: `state == CANCELLED` -> `state != CANCELLED` (a running
    future is "notified" again, which raises, and is never failed)."""
    item = _item()
    assert item.future.set_running_or_notify_cancel()
    error = RuntimeError("worker error")
    fthread._fail_item(item, error)
    assert item.future.exception(timeout=0) is error
    fthread._fail_item(item, RuntimeError("second"))  # settled: left alone
    assert item.future.exception(timeout=0) is error


# --------------------------------------------------------------------------- worker


def test_error_outside_the_call_is_logged_and_fails_the_future() -> None:
    """Kills thread._worker's `except` branch: `item is not None` -> `is None`,
    `_fail_item(item, exc)` -> `(None, exc)` / `(item, None)` / `(exc)` / `(item, )`, and the
    "Exception in worker" log mutants. The error is provoked by a caller that marks the
    queued future running itself, so the worker's own set_running_or_notify_cancel() raises.
    (The stdlib's worker dies there and leaves the future running forever: futures_impl
    settles it, see README's differences.)"""
    started, release = threading.Event(), threading.Event()
    with fthread.ThreadPoolExecutor(max_workers=1) as ex:
        blocker = ex.submit(lambda: (started.set(), release.wait(BOUND)))
        assert started.wait(BOUND)
        queued = ex.submit(str, 1)
        assert queued.set_running_or_notify_cancel()  # user misuse, before the worker
        with RecordingHandler() as log:
            release.set()
            error = queued.exception(timeout=BOUND)
            blocker.result(timeout=BOUND)
            after = ex.submit(str, 2).result(timeout=BOUND)  # the worker goes on serving
            records = list(log.records)
    assert isinstance(error, RuntimeError)
    assert after == "2"
    # (_base logs the unexpected state first, as the stdlib does; then the worker's record)
    worker = [r for r in records if r.getMessage() == "Exception in worker"]
    assert [r.levelno for r in worker] == [logging.CRITICAL]
    assert worker[0].exc_info is not None and worker[0].exc_info[1] is error


def test_shutdown_wait_from_a_pool_task_raises(mod: ModuleType) -> None:
    """Kills thread._join: `thread is current_thread()` -> `is not` (the RuntimeError of a
    task joining its own worker was swallowed). Differential."""
    ex = mod.ThreadPoolExecutor(max_workers=1)
    try:
        future = ex.submit(lambda: ex.shutdown(wait=True))
        error = future.exception(timeout=BOUND)
    finally:
        ex.shutdown(wait=True)
    assert type(error) is RuntimeError
    assert "join" in str(error)


def test_a_failed_initializer_ends_its_worker(mod: ModuleType) -> None:
    """The worker whose initializer failed leaves by itself, before shutdown. Differential.
    (It does not kill thread._run_initializer's `return False` -> `return True`: that mutant
    is equivalent, since _initializer_failed() also posts the stop signal and marks the
    pool shut down, so the worker leaves at its first read of the queue either way.)"""

    def boom() -> None:
        raise ValueError("init")

    ex = mod.ThreadPoolExecutor(max_workers=1, initializer=boom)
    logging.getLogger("concurrent.futures").disabled = True
    try:
        future = ex.submit(str, 1)
        assert type(future.exception(timeout=BOUND)).__name__ == "BrokenThreadPool"
        for worker in list(ex._threads):
            worker.join(BOUND)  # before shutdown(): the worker leaves by itself
            assert not worker.is_alive()
    finally:
        logging.getLogger("concurrent.futures").disabled = False
        ex.shutdown(wait=True)


# --------------------------------------------------------------------------- _IdleTokens


def test_idle_tokens_acquire_is_a_non_blocking_semaphore() -> None:
    """Kills thread._IdleTokens.acquire: default `timeout=0` -> `1`, `and` -> `or`,
    `!= 0` -> `== 0`, and `return False` -> `return True` on an empty count."""
    with fthread.ThreadPoolExecutor(max_workers=1) as ex:
        tokens = ex._idle_semaphore
        ex.submit(str, 1).result(timeout=BOUND)
        wait_until(lambda: tokens._value == 1)  # the worker marks itself idle after the call
        assert tokens.acquire() is True
        assert tokens.acquire() is False  # empty: no token to take
        assert tokens.acquire(True, 0) is False  # a zero timeout never blocks
        assert tokens.acquire(False, 5) is False  # nor does blocking=False
        assert tokens.acquire(True) is False  # blocking, default timeout 0: never blocks
        with pytest.raises(ValueError):
            tokens.acquire(True, None)



# ------------------------------------------------------------------------- start failure, shutdown


def test_a_refused_submit_never_runs_and_a_pool_with_a_worker_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kills thread.ThreadPoolExecutor._start_worker_locked's start-failure mutants:
    `isinstance(exc, Exception)` negated (raised without taking the item back: it ran
    later), `error = exc` -> `None`, `error is not None and not self._threads` -> `or` /
    `is None` / `self._threads`, `_take_back_locked(item)` -> `(None)`,
    `discard(thread)` -> `(None)`."""
    real_start = threading.Thread.start
    ran: list[str] = []
    started, release = threading.Event(), threading.Event()

    def failing_start(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    ex = fthread.ThreadPoolExecutor(max_workers=2)
    try:
        monkeypatch.setattr(threading.Thread, "start", failing_start)
        with pytest.raises(RuntimeError, match="can't start new thread"):
            ex.submit(ran.append, "refused")
        assert len(ex._threads) == 0
        monkeypatch.setattr(threading.Thread, "start", real_start)
        first = ex.submit(lambda: (started.set(), release.wait(BOUND), ran.append("first")))
        assert started.wait(BOUND)
        # The pool has one worker: a second that cannot start leaves the call queued for it.
        monkeypatch.setattr(threading.Thread, "start", failing_start)
        second = ex.submit(ran.append, "second")
        monkeypatch.setattr(threading.Thread, "start", real_start)
        assert len(ex._threads) == 1
        release.set()
        first.result(timeout=BOUND)
        second.result(timeout=BOUND)
    finally:
        monkeypatch.setattr(threading.Thread, "start", real_start)
        release.set()
        ex.shutdown(wait=True)
    assert ran == ["first", "second"]  # the refused call never ran


def test_shutdown_waits_by_default(mod: ModuleType) -> None:
    """Kills thread.ThreadPoolExecutor.shutdown: default `wait=True` -> `False`.
    Differential: shutdown() with no argument returns only after the running call ended."""
    started, release, returned = threading.Event(), threading.Event(), threading.Event()
    ex = mod.ThreadPoolExecutor(max_workers=1)
    future = ex.submit(lambda: (started.set(), release.wait(BOUND)))
    assert started.wait(BOUND)
    caller = threading.current_thread()
    in_shutdown = blocked_in(caller, "shutdown")

    def releaser() -> None:
        wait_until(lambda: returned.is_set() or in_shutdown())
        release.set()

    helper = threading.Thread(target=releaser, daemon=True)
    helper.start()
    try:
        ex.shutdown()
        done_on_return = future.done()
    finally:
        returned.set()
        release.set()
        helper.join(BOUND)
        ex.shutdown(wait=True)
    assert done_on_return


# --------------------------------------------------------------------------- _base


def test_wait_first_exception_is_not_satisfied_by_a_success(mod: ModuleType) -> None:
    """Kills _base._failed: `FINISHED and exception is not None` -> `or` (a finished
    success ended wait(FIRST_EXCEPTION) at once). Differential, blocking, timeout=None."""
    ok, pending = mod.Future(), mod.Future()
    ok.set_result(1)
    caller = threading.current_thread()
    in_wait = blocked_in(caller, "wait")
    calling, returned = threading.Event(), threading.Event()

    def settle() -> None:
        # Only once the caller is past its own Thread.start() (whose Event.wait would match).
        assert calling.wait(BOUND)
        wait_until(lambda: returned.is_set() or in_wait())
        if not pending.done():
            pending.set_result(2)

    helper = threading.Thread(target=settle, daemon=True)
    helper.start()
    try:
        calling.set()
        done, not_done = mod.wait([ok, pending], return_when=mod.FIRST_EXCEPTION)
    finally:
        returned.set()
        helper.join(BOUND)
    assert (done, not_done) == ({ok, pending}, set())


def test_condition_wait_that_times_out_takes_its_gate_back() -> None:
    """Kills _base._FutureCondition.wait: `if not woken: _drop_gate_locked(gate)` -> `if woken`
    / `_drop_gate_locked(None)` (a timed-out sleeper left a gate behind, which a later notify()
    would spend on nobody), and the initial `woken = True`."""
    future = _base.Future()
    cond = future._condition
    with cond:
        assert cond.wait(timeout=0) is False
    assert not future._gates


def test_condition_notify_wakes_one_and_notify_all_wakes_all() -> None:
    """Kills _base._FutureCondition.notify: default `n=1` -> `2`, and notify_all's
    `notify(-1)` -> `notify(+1)`."""
    future = _base.Future()
    cond = future._condition
    woken: list[bool] = []

    def sleeper() -> None:
        with cond:
            woken.append(cond.wait(BOUND))

    threads = [threading.Thread(target=sleeper, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(future._gates or ()) == 3)  # all three asleep on the gate
        with cond:
            cond.notify()
            assert len(future._gates or ()) == 2
            cond.notify_all()
            assert not future._gates
    finally:
        with cond:
            future._wake_locked()
        for t in threads:
            t.join(BOUND)
    assert woken == [True, True, True]


def test_base_module_lazy_attributes(mod: ModuleType) -> None:
    """Kills _base.__getattr__'s name tests and its AttributeError message mutants:
    `_base.LOGGER` and `_base.DoneAndNotDoneFutures` are read by code in the wild."""
    base = mod._base
    assert base.LOGGER is logging.getLogger("concurrent.futures")
    result = mod.wait([], timeout=0)
    assert type(result) is base.DoneAndNotDoneFutures
    with pytest.raises(AttributeError, match="no_such_name"):
        base.no_such_name  # noqa: B018




def test_thread_module_exit_state_names(mod: ModuleType) -> None:
    """Kills thread.__getattr__'s name tests and its AttributeError message mutants: the
    stdlib's `thread._shutdown` and `thread._global_shutdown_lock`, read by code in the
    wild (docs/conformance.md). Differential."""
    module = mod.thread
    assert module._shutdown is False
    lock = module._global_shutdown_lock
    assert callable(lock.acquire) and callable(lock.release)
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_subclass_hook_adjust_thread_count_is_called_per_submit(mod: ModuleType) -> None:
    """Kills thread.ThreadPoolExecutor.__init_subclass__: `is not` -> `is`, `is` -> `is not`
    and `cls.submit = ... _submit_adjusting` -> `None` (a subclass overriding the stdlib's
    _adjust_thread_count hook no longer had it called). Differential."""
    calls: list[int] = []

    class Counting(mod.ThreadPoolExecutor):  # type: ignore[name-defined,misc]
        def _adjust_thread_count(self) -> None:
            calls.append(1)
            super()._adjust_thread_count()

    with Counting(max_workers=1) as ex:
        results = [ex.submit(pow, 2, n).result(timeout=BOUND) for n in range(3)]
    assert results == [1, 2, 4]
    assert calls == [1, 1, 1]



def _interrupted_first_start(
    monkeypatch: pytest.MonkeyPatch, release: threading.Event
) -> tuple[Any, threading.Thread]:
    """A 1-worker pool whose first worker's start() was cut short by KeyboardInterrupt,
    leaving a thread that is alive (serving nothing) until `release` is set."""
    real_start = threading.Thread.start

    def interrupted_start(self: threading.Thread) -> None:
        self._target = release.wait  # type: ignore[attr-defined]
        self._args, self._kwargs = (BOUND,), {}  # type: ignore[attr-defined]
        real_start(self)
        raise KeyboardInterrupt

    ex = fthread.ThreadPoolExecutor(max_workers=1)
    monkeypatch.setattr(threading.Thread, "start", interrupted_start)
    with pytest.raises(KeyboardInterrupt):
        ex.submit(int, 1)
    monkeypatch.undo()
    (corpse,) = ex._threads
    return ex, corpse


def test_a_live_worker_whose_start_was_interrupted_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kills thread.ThreadPoolExecutor._forget_dead_workers_locked: `t.ident is not None and not
    t.is_alive()` -> `or` (a live worker forgotten) and `len(...) < max_workers` -> `<=`
    (one worker more than max_workers): while the interrupted thread is alive, the full
    pool keeps it and starts no other."""
    release = threading.Event()
    ex, corpse = _interrupted_first_start(monkeypatch, release)
    try:
        ex.submit(pow, 2, 3)
        assert ex._threads == {corpse}
    finally:
        release.set()
        ex.shutdown(wait=True, cancel_futures=True)


def test_an_interrupted_worker_that_dies_later_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the interrupted thread has died, the next submit() replaces it (without
    this, the pool keeps a dead worker for good and its calls never run). Found by the
    issue-12 mutation run: _forget_dead_workers_locked used to clear its flag before checking, so a
    thread still alive at the first full-pool submit() was never checked again."""
    release = threading.Event()
    ex, corpse = _interrupted_first_start(monkeypatch, release)
    try:
        ex.submit(pow, 2, 3)  # while the thread is alive: kept (see the test above)
        release.set()
        corpse.join(BOUND)
        assert not corpse.is_alive()
        ex.submit(pow, 2, 5)
        assert any(t.is_alive() for t in ex._threads)  # a live worker serves the pool
    finally:
        release.set()
        ex.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- _base: the waiter
# wait()'s registration races (a future settling while wait() registers on it) decide through
# _Waiter.claim and the `reported`/`claimed` sets. The stress tests reach these paths only by
# luck; these drive each order deterministically through the waiter's own protocol, in the
# order a settling thread and the registering thread would call it.


def test_waiter_keeps_every_claim_of_one_registration() -> None:
    """Kills _base._Waiter.claim: `claimed is None or reported is None` -> `claimed is not
    None or ...` / `... or reported is not None` (each claim after the first reset the
    sets, so a claimed future's late report counted again and woke ALL_COMPLETED early)."""
    a, b, c = _base.Future(), _base.Future(), _base.Future()
    waiter = _base._Waiter(_base.ALL_COMPLETED)
    assert waiter.claim(a) is True  # a settled between the append and the re-read
    assert waiter.claim(b) is True
    waiter.installed = 1  # registered on c only
    waiter.arm()
    waiter.add_result(a)  # a's settling thread copied the waiter list before the remove
    waiter.add_exception(b)
    assert waiter.finished == []
    assert waiter._wakeup.locked()  # c is still pending: ALL_COMPLETED must sleep on
    waiter.add_result(c)
    assert waiter.finished == [c] and not waiter._wakeup.locked()


@pytest.mark.parametrize("report", ["add_result", "add_exception"])
def test_waiter_a_future_that_reported_after_a_claim_counts_as_registered(report: str) -> None:
    """Kills _base._Waiter.add_result / add_exception: `self.reported.add(future)` ->
    `add(None)`, and add_exception's `if future in self.claimed` -> `not in`: a future that
    reported before the registering thread re-read its state must count as registered
    (claim() False) exactly once, and a report of an unclaimed future is kept."""
    a, b = _base.Future(), _base.Future()
    waiter = _base._Waiter(_base.ALL_COMPLETED)
    assert waiter.claim(a) is True
    getattr(waiter, report)(b)  # b settled and reported before its registration re-read
    assert waiter.finished == [b]
    assert waiter.claim(b) is False  # it already reported: registered, not settled-before
    waiter.installed = 1
    waiter.arm()
    assert not waiter._wakeup.locked()  # b was the one registered future, and it settled
    getattr(waiter, report)(a)  # a's late report: ignored
    assert waiter.finished == [b]


def test_waiter_all_completed_sleeps_on_a_failure_during_registration() -> None:
    """Kills _base._Waiter.add_exception: `self.armed and len(finished) >= installed` ->
    `self.armed or ...` (a failure reported before arm() woke an ALL_COMPLETED wait, which
    then returned with futures still pending)."""
    a, b = _base.Future(), _base.Future()
    waiter = _base._Waiter(_base.ALL_COMPLETED)
    waiter.installed = 2
    waiter.add_exception(a)  # before arm(): registration is not complete
    assert waiter._wakeup.locked()
    waiter.arm()
    assert waiter._wakeup.locked()  # b is pending
    waiter.add_result(b)
    assert not waiter._wakeup.locked()


@pytest.mark.parametrize("last", ["add_result", "add_exception"])
def test_waiter_all_completed_wakes_when_the_last_future_settles(last: str) -> None:
    """Kills _base._Waiter.add_exception / add_result: `len(finished) >= installed` -> `>`
    (an ALL_COMPLETED wait whose last future failed slept on, until its timeout)."""
    a, b = _base.Future(), _base.Future()
    waiter = _base._Waiter(_base.ALL_COMPLETED)
    waiter.installed = 2
    waiter.arm()
    waiter.add_result(a)
    assert waiter._wakeup.locked()
    getattr(waiter, last)(b)
    assert not waiter._wakeup.locked()


def test_waiter_arm_wakes_when_everything_settled_during_registration() -> None:
    """Kills _base._Waiter.arm: `len(finished) >= installed` -> `>` (every registered future
    settled before arm(): the wait slept on although nothing was left to wait for)."""
    a, b = _base.Future(), _base.Future()
    waiter = _base._Waiter(_base.ALL_COMPLETED)
    waiter.installed = 2
    waiter.add_result(a)
    waiter.add_exception(b)
    assert waiter._wakeup.locked()  # not armed yet
    waiter.arm()
    assert not waiter._wakeup.locked()


def test_register_a_stdlib_future_found_settled_and_the_rest() -> None:
    """Kills _base._register's foreign branch: `add_settled(future)` -> `add_settled(None)`
    and `continue` -> `break` (a stdlib future that settled between wait()'s first look and
    its registration was lost, or ended the registration of the futures after it)."""
    import concurrent.futures as std

    settled_std = std.Future()
    settled_std.set_result(1)
    pending = _base.Future()
    for settled in ([], set()):
        waiter = _base._Waiter(_base.ALL_COMPLETED)
        registered = _base._register(waiter, [settled_std, pending], settled)
        try:
            assert list(settled) == [settled_std]
            assert registered == [pending] and waiter.installed == 1
            assert pending._waiters == [waiter]
        finally:
            _base._unregister(waiter, registered)


def test_a_stdlib_future_is_unregistered_under_its_own_condition() -> None:
    """Kills _base._register: `waiter.foreign.add(future)` -> `add(None)`: wait() then took
    itself off a stdlib future's waiter list without that future's lock, while the stdlib's
    settling code iterates over the list itself (no copy), under the lock."""
    import concurrent.futures as std

    future = std.Future()
    removals: list[bool] = []
    lock_of = future._condition

    class Watched(list):  # type: ignore[type-arg]
        def remove(self, item: Any) -> None:
            removals.append(lock_of._is_owned())  # type: ignore[attr-defined]
            super().remove(item)

    future._waiters = Watched()
    result = futures_impl.wait([future], timeout=0)
    assert result.not_done == {future}
    assert removals == [True]
    assert list(future._waiters) == []


def test_drop_gate_after_a_wake_took_every_gate() -> None:
    """Kills _base.Future._drop_gate_locked: `_gates is not None and gate in _gates` -> `or`: a
    sleeper whose timeout ran out just as a settle or notify_all() took the gates (None)
    raised TypeError instead of returning."""
    future = _base.Future()
    with future._lock:
        gate = future._add_gate_locked()
        future._wake_locked()  # took every gate: _gates is None, this gate released
        assert future._gates is None
        future._drop_gate_locked(gate)  # the timed-out sleeper takes its gate back: nothing to do
        assert future._gates is None
        kept = future._add_gate_locked()
        future._drop_gate_locked(gate)  # not in the list: the other sleeper's gate stays
        assert future._gates == [kept]


@pytest.mark.parametrize("how", ["condition", "result"])
def test_an_interrupted_sleep_takes_its_gate_back(monkeypatch: pytest.MonkeyPatch,
                                                  how: str) -> None:
    """Kills _base.Future._park: `woken = False` -> `True` (a sleep cut short by
    KeyboardInterrupt left its gate in the list, so a later notify() woke nobody)."""
    future = _base.Future()

    def interrupted(lock: Any, gate: Any, timeout: Any) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(_base, "_sleep_unlocked", interrupted)
    with pytest.raises(KeyboardInterrupt):
        if how == "condition":
            with future._condition:
                future._condition.wait(BOUND)
        else:
            future.result(BOUND)
    assert not future._gates


# ------------------------------------------------------------------ thread: _take_back_locked


def test_a_refused_submit_keeps_the_calls_queued_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kills thread.ThreadPoolExecutor._take_back_locked: `self._work_queue.put(other)` ->
    `put(None)`: a submit() refused in a pool with no worker takes its own call back and
    must leave the calls queued before it (here: one whose worker's start was interrupted
    and which died without serving) for the next worker."""
    release = threading.Event()
    ran: list[str] = []
    real_start = threading.Thread.start

    def interrupted_start(self: threading.Thread) -> None:
        self._target = release.wait  # type: ignore[attr-defined]
        self._args, self._kwargs = (BOUND,), {}  # type: ignore[attr-defined]
        real_start(self)
        raise KeyboardInterrupt

    def failing_start(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    ex = fthread.ThreadPoolExecutor(max_workers=1)
    try:
        monkeypatch.setattr(threading.Thread, "start", interrupted_start)
        with pytest.raises(KeyboardInterrupt):
            ex.submit(ran.append, "first")  # queued; its worker never serves it
        (corpse,) = ex._threads
        release.set()
        corpse.join(BOUND)
        assert not corpse.is_alive()
        monkeypatch.setattr(threading.Thread, "start", failing_start)
        with pytest.raises(RuntimeError, match="can't start new thread"):
            ex.submit(ran.append, "refused")  # the corpse is forgotten; no worker starts
        assert not ex._threads
        monkeypatch.setattr(threading.Thread, "start", real_start)
        ex.submit(ran.append, "third").result(timeout=BOUND)
    finally:
        monkeypatch.setattr(threading.Thread, "start", real_start)
        release.set()
        ex.shutdown(wait=True)
    assert ran == ["first", "third"]


# --------------------------------------------------------------------------- second run (issue 12)


def test_base_compat_names_resolve_to_the_compat_module() -> None:
    """Kills _base.__getattr__: the `("_AcquireFutures", "_FutureCondition")` name mutants
    (`_base._FutureCondition`, reached by code written against the stdlib's internals and by
    CPython's suites, raised AttributeError)."""
    from futures_impl import _compat

    assert _base._FutureCondition is _compat._FutureCondition
    assert _base._AcquireFutures is _compat._AcquireFutures


def test_subclass_hook_reuses_an_idle_worker(mod: ModuleType) -> None:
    """Kills thread.ThreadPoolExecutor._adjust_thread_count: `tokens = self._idle_tokens` ->
    `None` (a subclass calling the base hook started a new thread for every call instead
    of handing it to the idle worker). Differential: sequential use keeps one thread."""

    class Hooked(mod.ThreadPoolExecutor):  # type: ignore[name-defined,misc]
        def _adjust_thread_count(self) -> None:
            super()._adjust_thread_count()

    with Hooked(max_workers=4) as ex:
        for n in range(3):
            assert ex.submit(pow, 2, n).result(timeout=BOUND) == 2**n
            wait_until(lambda: ex._idle_semaphore._value >= 1)  # a worker is idle again
        assert len(ex._threads) == 1


def _counted(reads: list[int]) -> Any:
    for i in range(100):
        reads.append(i)
        yield i


def test_buffered_map_after_shutdown_yields_what_was_submitted() -> None:
    """Kills _base._ordered_results: `more_arguments = None` -> `""` (after a refused
    submit the next step called next() on "": TypeError). 3.14's behaviour (cpython#146392):
    a map(buffersize=...) whose executor was shut down yields the calls already submitted,
    then stops."""
    reads: list[int] = []
    ex = fthread.ThreadPoolExecutor(max_workers=1)
    it = ex.map(str, _counted(reads), buffersize=2)
    ex.shutdown(wait=True)
    assert list(it) == ["0", "1"]


def test_buffered_map_reads_no_input_once_the_executor_is_collected() -> None:
    """Kills _base._ordered_results: `next(more_arguments, None) if executor is not None
    else None` -> `if True` (the input was still read, one item per result, after the
    executor was garbage collected, and the items dropped)."""
    import gc

    reads: list[int] = []
    ex = fthread.ThreadPoolExecutor(max_workers=1)
    it = ex.map(str, _counted(reads), buffersize=1)
    assert next(it) == "0"  # submitted one more call (1) before yielding
    ex.shutdown(wait=True)
    del ex
    gc.collect()
    assert list(it) == ["1"]
    assert reads == [0, 1]


# --------------------------------------------------------------------------- process: wire


def _raised(exc: BaseException) -> BaseException:
    def raiser_of_the_original() -> None:
        raise exc

    try:
        raiser_of_the_original()
    except BaseException as caught:  # noqa: BLE001 - handed back with its traceback
        return caught
    raise AssertionError("unreachable")


def test_failure_frame_reports_an_exception_that_will_not_pickle() -> None:
    """Kills _process.wire.failure_frame's first fallback mutants (its traceback or context
    dropped, its text None, the frame `dumps(None)` or marked ok, `""` for a traceback):
    a call's exception that cannot be pickled is reported as the pickling error, with
    both tracebacks in the text. (failure_frame runs in the worker, whose calls mutmut does
    not credit to a test: this calls it in-process.)"""
    from futures_impl._process import wire

    exc = _raised(ValueError("original"))
    exc.lock = threading.Lock()  # type: ignore[attr-defined]
    work_id, ok, (error, text) = wire.loads(wire.failure_frame(7, exc))
    assert (work_id, ok) == (7, False)
    assert type(error) is TypeError and "pickle" in str(error)
    assert "raiser_of_the_original" in text and "ValueError: original" in text
    assert "During handling of the above exception" in text and "TypeError" in text


def test_failure_frame_substitutes_when_the_pickling_error_will_not_pickle_either() -> None:
    """Kills _process.wire.failure_frame's last fallback mutants (the substitute None, its
    message None or naming NoneType, the frame `dumps(None)` or marked ok)."""
    from futures_impl._process import wire

    class LocalError(Exception):  # a local class: it cannot be pickled by reference
        pass

    class Refuses(Exception):
        def __reduce__(self) -> Any:
            raise LocalError("refused")

    work_id, ok, (error, text) = wire.loads(wire.failure_frame(3, _raised(Refuses("x"))))
    assert (work_id, ok) == (3, False)
    assert type(error) is RuntimeError
    assert str(error) == "the exception Refuses could not be pickled: LocalError('refused')"
    assert "LocalError" in text


def test_condition_notify_zero_wakes_nobody() -> None:
    """Kills _base.Future._wake_locked: `count < 0` -> `count <= 0` / `count < 1` (notify(0), which
    threading.Condition treats as waking nobody, woke every sleeper)."""
    future = _base.Future()
    cond = future._condition
    with cond:
        gate = future._add_gate_locked()  # a sleeper's gate, as wait() adds it
        cond.notify(0)
        assert future._gates == [gate] and gate.locked()
        cond.notify()
        assert not future._gates and not gate.locked()


def test_as_completed_with_less_than_a_second_left_still_waits(mod: ModuleType) -> None:
    """Kills _base.as_completed: `if left < 0` -> `if left < 1` (a timeout under one second
    raised TimeoutError at once, although the future settled in time). Differential. The
    second future settles between two next() calls, well within the timeout; a machine
    that stalls longer than the timeout between them gets two more tries."""
    for _attempt in range(3):
        ready, later = mod.Future(), mod.Future()
        ready.set_result(1)
        it = mod.as_completed([ready, later], timeout=0.9)
        assert next(it) is ready
        later.set_result(2)
        try:
            assert next(it) is later
        except mod.TimeoutError:
            continue
        return
    raise AssertionError("as_completed(timeout=0.9) raised TimeoutError three times")


def test_result_with_under_a_second_timeout_blocks_until_settled(mod: ModuleType) -> None:
    """Kills _base._sleep: `if timeout > 0` -> `if timeout > 1` (a timeout under one second
    did not block at all: result(0.9) raised TimeoutError at once). Differential; the
    future is settled once the caller is seen blocked in result(); a machine that stalls
    longer than the timeout gets two more tries."""
    for _attempt in range(3):
        future = mod.Future()
        caller = threading.current_thread()
        in_result = blocked_in(caller, "result")
        calling, returned = threading.Event(), threading.Event()

        def settle(future: Any = future, calling: Any = calling, returned: Any = returned,
                   in_result: Any = in_result) -> None:
            assert calling.wait(BOUND)
            wait_until(lambda: returned.is_set() or in_result())
            if not returned.is_set():
                future.set_result("late")

        helper = threading.Thread(target=settle, daemon=True)
        helper.start()
        try:
            calling.set()
            value = future.result(timeout=0.9)
        except mod.TimeoutError:
            value = None
        finally:
            returned.set()
            helper.join(BOUND)
        if value == "late":
            return
    raise AssertionError("result(timeout=0.9) never waited for a settle")
