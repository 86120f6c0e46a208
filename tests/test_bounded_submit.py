"""max_pending=N / submit_timeout= on thread and process pools (issue 16).

submit() waits while N calls wait in the pool (PENDING: submitted, not started); it
raises SubmitTimeoutError after submit_timeout seconds, and stops waiting when the pool is
shut down or broken (submit() then raises that refusal) or when a waiting call is
cancelled (its room is free). Races are ordered with Events and the pool's `on_block`
hook (called each time a submit() is about to wait), never with sleeps.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import futures_impl
import futures_impl.process as fprocess
import futures_impl.thread as fthread
from tests import _bounded_helpers as helpers
from tests._support import wait_until

TIMEOUT = 30
N = 8


@pytest.fixture(scope="module")
def mp_ctx() -> Any:
    return multiprocessing.get_context("forkserver")


def _thread_pool(gate: Any = None, **options: Any) -> fthread.ThreadPoolExecutor:
    return fthread.ThreadPoolExecutor(2, **options)


def _process_pool(mp_ctx: Any, gate: Any = None, **options: Any) -> fprocess.ProcessPoolExecutor:
    if gate is None:
        return fprocess.ProcessPoolExecutor(2, mp_context=mp_ctx, **options)
    return fprocess.ProcessPoolExecutor(
        2, mp_context=mp_ctx, initializer=helpers.init_gate, initargs=(gate,), **options
    )


def _waiting(ex: Any) -> int:
    stats = ex.statistics()
    return stats.queued if isinstance(ex, fthread.ThreadPoolExecutor) else stats.waiting


class _Pools:
    """One pool kind: how to make it, its gate, and the gated call."""

    def __init__(self, kind: str, mp_ctx: Any) -> None:
        self.kind = kind
        if kind == "thread":
            self.gate: Any = threading.Event()
            self.make: Callable[..., Any] = _thread_pool
            self.call: Callable[[int], int] = self._thread_call
        else:
            self.gate = mp_ctx.Event()
            self.make = lambda gate=None, **o: _process_pool(mp_ctx, gate, **o)
            self.call = helpers.wait_gate

    def _thread_call(self, x: int) -> int:
        if not self.gate.wait(60):
            raise RuntimeError("the gate was never opened")
        return x

    def running(self, **options: Any) -> Any:
        return self.make(self.gate, **options)

    def fill(self, ex: Any) -> list[Any]:
        """Submit until the pool is full: every worker busy (and, for processes, every
        pipe's prefetch), N waiting. The next submit() would wait."""
        futures = [ex.submit(self.call, i) for i in range(2)]
        if self.kind == "thread":  # then nothing queued is taken until the gate opens
            # (a call gives its slot back as it starts, just after its future runs)
            wait_until(lambda: all(f.running() for f in futures)
                       and ex._pending_limit.held == 0, "both workers in their calls")
        blocked = threading.Event()
        ex._pending_limit.on_block = blocked.set
        while _waiting(ex) < N:
            futures.append(ex.submit(self.call, len(futures)))
            assert not blocked.is_set(), (ex._pending_limit.held, ex.statistics())
        ex._pending_limit.on_block = None
        return futures


@pytest.fixture(params=["thread", "process"])
def pools(request: Any, mp_ctx: Any) -> Iterator[_Pools]:
    kind = _Pools(request.param, mp_ctx)
    yield kind
    kind.gate.set()


def _blocked_submit(ex: Any, call: Callable[[], Any]) -> tuple[threading.Thread,
                                                             list[Any], threading.Event]:
    """Run call() in a thread; return once its submit() waits for room."""
    blocked = threading.Event()
    ex._pending_limit.on_block = blocked.set
    outcome: list[Any] = []

    def body() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    assert blocked.wait(TIMEOUT), "submit() never waited for room"
    return thread, outcome, blocked


def _joined(thread: threading.Thread) -> None:
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "submit() did not return"


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_arguments_are_checked(kind: str, mp_ctx: Any) -> None:
    make: Callable[..., Any] = (
        _thread_pool if kind == "thread" else lambda **o: _process_pool(mp_ctx, **o)
    )
    with pytest.raises(ValueError, match="max_pending"):
        make(max_pending=0)
    with pytest.raises(TypeError, match="max_pending"):
        make(max_pending="3")
    with pytest.raises(TypeError, match="max_pending"):
        make(max_pending=True)
    with pytest.raises(ValueError, match="submit_timeout needs max_pending"):
        make(submit_timeout=1)
    with pytest.raises(ValueError, match="submit_timeout"):
        make(max_pending=1, submit_timeout=-1)


def test_the_error_is_a_timeout_error() -> None:
    assert issubclass(fthread.SubmitTimeoutError, futures_impl.TimeoutError)
    assert fthread.SubmitTimeoutError is fprocess.SubmitTimeoutError


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_a_producer_never_has_more_than_n_waiting(kind: str, mp_ctx: Any) -> None:
    """10,000 calls from a producer thread to 2 workers, max_pending=8: the producer is
    held back (first with every worker held at a gate, so it must wait), the pool never
    holds more than 8 waiting calls, and every call completes."""
    count = 10_000
    pools = _Pools(kind, mp_ctx)
    ex = pools.running(max_pending=N)
    blocked = threading.Event()
    ex._pending_limit.on_block = blocked.set
    peak = [0]
    futures: list[Any] = []

    def producer() -> None:
        try:
            for i in range(count):
                futures.append(ex.submit(pools.call if i < 20 else helpers.identity, i))
                peak[0] = max(peak[0], _waiting(ex))
        finally:
            pools.gate.set()  # a failing producer must not leave the workers gated

    thread = threading.Thread(target=producer, daemon=True)
    try:
        thread.start()
        assert blocked.wait(TIMEOUT), "the producer was never held back"
        # It waits with N calls waiting (a worker may be taking one of the first two).
        assert N - 2 <= _waiting(ex) <= N
        pools.gate.set()
        thread.join(120)
        assert not thread.is_alive()
        assert [f.result(TIMEOUT) for f in futures] == list(range(count))
        assert peak[0] <= N
    finally:
        pools.gate.set()
        ex.shutdown(wait=True, cancel_futures=True)
    assert ex._pending_limit.held == 0


def test_submit_timeout_raises_and_queues_nothing(pools: _Pools) -> None:
    ex = pools.running(max_pending=N, submit_timeout=0.05)
    try:
        futures = pools.fill(ex)
        before = ex.statistics()
        with pytest.raises(fthread.SubmitTimeoutError, match="max_pending"):
            ex.submit(pools.call, -1)
        assert ex.statistics() == before  # the refused submit() had no effect
        pools.gate.set()
        assert [f.result(TIMEOUT) for f in futures] == list(range(len(futures)))
    finally:
        pools.gate.set()
        ex.shutdown()


def test_cancelling_a_waiting_call_makes_room(pools: _Pools) -> None:
    ex = pools.running(max_pending=N)
    try:
        futures = pools.fill(ex)
        thread, outcome, _ = _blocked_submit(ex, lambda: ex.submit(pools.call, 99))
        assert futures[-1].cancel()  # the newest call is still waiting
        _joined(thread)
        late = outcome[0]
        assert isinstance(late, futures_impl.Future)
        pools.gate.set()
        assert late.result(TIMEOUT) == 99
        assert [f.result(TIMEOUT) for f in futures[:-1]] == list(range(len(futures) - 1))
    finally:
        pools.gate.set()
        ex.shutdown()


@pytest.mark.parametrize("cancel_futures", [False, True])
def test_shutdown_refuses_a_waiting_submit(pools: _Pools, cancel_futures: bool) -> None:
    ex = pools.running(max_pending=N)  # no submit_timeout: only shutdown() can end it
    try:
        futures = pools.fill(ex)
        thread, outcome, _ = _blocked_submit(ex, lambda: ex.submit(pools.call, 99))
        ex.shutdown(wait=False, cancel_futures=cancel_futures)
        _joined(thread)
        assert isinstance(outcome[0], RuntimeError)
        assert "cannot schedule new futures after shutdown" in str(outcome[0])
        pools.gate.set()
        for future in futures:
            future.exception(TIMEOUT) if not future.cancelled() else None
        assert any(f.cancelled() for f in futures) == cancel_futures
    finally:
        pools.gate.set()
        ex.shutdown()


def _init_then_fail(gate: threading.Event) -> None:
    if not gate.wait(60):
        raise RuntimeError("the gate was never opened")
    raise ValueError("initializer failed on purpose")


def test_a_broken_thread_pool_refuses_every_waiting_submit() -> None:
    """Three submit()s wait on a pool whose two queued calls then fail (the initializer
    breaks the pool): each call's slot wakes one of them; the third needs the pool's own
    wake-up when it breaks."""
    gate = threading.Event()
    ex = fthread.ThreadPoolExecutor(
        2, initializer=_init_then_fail, initargs=(gate,), max_pending=2
    )
    waiters: set[int] = set()
    all_blocked = threading.Event()

    def on_block() -> None:
        waiters.add(threading.get_ident())
        if len(waiters) == 3:
            all_blocked.set()

    try:
        futures = [ex.submit(int, i) for i in range(2)]  # both wait: no worker is ready
        ex._pending_limit.on_block = on_block
        outcomes: list[Any] = []

        def submit_one() -> None:
            try:
                outcomes.append(ex.submit(int, 3))
            except BaseException as exc:  # noqa: BLE001 - inspected below
                outcomes.append(exc)

        threads = [threading.Thread(target=submit_one, daemon=True) for _ in range(3)]
        for thread in threads:
            thread.start()
        assert all_blocked.wait(TIMEOUT), "the three submit()s never all waited"
        gate.set()
        for thread in threads:
            _joined(thread)
        assert [type(o) for o in outcomes] == [fthread.BrokenThreadPool] * 3
        for future in futures:
            assert isinstance(future.exception(TIMEOUT), fthread.BrokenThreadPool)
    finally:
        gate.set()
        ex.shutdown()


def test_a_broken_process_pool_refuses_a_waiting_submit(mp_ctx: Any) -> None:
    gate = mp_ctx.Event()
    ex = _process_pool(mp_ctx, gate, max_pending=2)
    broken = False
    try:
        running = [ex.submit(helpers.wait_gate, i) for i in range(2)]
        waiting = []
        while ex.statistics().waiting < 2:
            waiting.append(ex.submit(helpers.wait_gate, 10))
        thread, outcome, _ = _blocked_submit(ex, lambda: ex.submit(helpers.identity, 3))
        broken = True  # from here the workers are killed while they wait on the gate...
        ex._pool.break_pool(None)  # (what the manager does when a worker dies)
        _joined(thread)
        assert isinstance(outcome[0], fprocess.BrokenProcessPool)
        for future in running + waiting:
            assert isinstance(future.exception(TIMEOUT), fprocess.BrokenProcessPool)
    finally:
        if not broken:  # ...and setting it would wait forever for the killed sleepers
            gate.set()
        ex.shutdown()


def test_copy_context_and_max_pending_together() -> None:
    import contextvars

    var: contextvars.ContextVar[str] = contextvars.ContextVar("bounded_var", default="-")
    gate = threading.Event()

    def body() -> list[str]:
        var.set("mine")
        ex = fthread.ThreadPoolExecutor(1, copy_context=True, max_pending=1,
                                        submit_timeout=0.05)
        try:
            first = ex.submit(gate.wait, TIMEOUT)
            while ex.statistics().queued < 1:  # the worker took `first`: fill the one slot
                second = ex.submit(var.get)
            with pytest.raises(fthread.SubmitTimeoutError):
                ex.submit(var.get)
            gate.set()
            first.result(TIMEOUT)
            return [second.result(TIMEOUT), ex.submit(var.get).result(TIMEOUT)]
        finally:
            gate.set()
            ex.shutdown()

    assert contextvars.copy_context().run(body) == ["mine", "mine"]


def test_a_thread_pools_own_calls_never_wait() -> None:
    """A call that submits to its own full pool goes over the limit: its worker is what
    would make room (with one worker, waiting would wait forever)."""
    ex = fthread.ThreadPoolExecutor(1, max_pending=1, submit_timeout=TIMEOUT)

    def fan_out() -> list[Any]:
        return [ex.submit(int, i) for i in range(4)]

    try:
        inner = ex.submit(fan_out).result(TIMEOUT)
        assert [f.result(TIMEOUT) for f in inner] == [0, 1, 2, 3]
    finally:
        ex.shutdown()


def test_a_process_pools_done_callbacks_never_wait(mp_ctx: Any) -> None:
    """A done-callback (run by the manager thread, the one that makes room) that submits
    to the full pool goes over the limit instead of waiting for itself."""
    gate, hold = mp_ctx.Event(), mp_ctx.Event()
    ex = fprocess.ProcessPoolExecutor(
        1, mp_context=mp_ctx, initializer=helpers.init_two_gates, initargs=(gate, hold),
        max_pending=1, submit_timeout=TIMEOUT,
    )
    outcome: list[Any] = []
    held: list[Any] = []
    done = threading.Event()

    def chain(_: Any) -> None:
        try:
            outcome.append(threading.current_thread() is ex._executor_manager_thread)
            while ex.statistics().waiting < 1:  # fill what the result made room for
                held.append(ex.submit(helpers.wait_hold, 3))
            outcome.append(ex.submit(helpers.identity, 7))  # the pool is full
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)
        finally:
            done.set()

    try:
        first = ex.submit(helpers.wait_gate, 1)  # not done before the gate opens
        while ex.statistics().waiting < 1:
            held.append(ex.submit(helpers.wait_hold, 2))
        first.add_done_callback(chain)
        gate.set()
        assert done.wait(TIMEOUT)
        assert outcome[0] is True, "the callback did not run in the manager thread"
        assert isinstance(outcome[1], futures_impl.Future), outcome[1]
        hold.set()
        assert outcome[1].result(TIMEOUT) == 7
        assert {f.result(TIMEOUT) for f in held} == {2, 3}
    finally:
        gate.set()
        hold.set()
        ex.shutdown()
