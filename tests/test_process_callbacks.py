"""Reliability trials for the process pool: done-callbacks that misbehave (issue 14).

Callbacks that raise, callbacks that submit more work, callbacks that call shutdown()
(wait=False; wait=True, which raises "cannot join current thread" in the manager thread,
as in the stdlib; with cancel_futures=True). Each scenario runs on both modules and the
outcomes (results, cancellations, what was logged) are compared: nothing hangs (every
wait bounded), and futures_impl does what the stdlib does.

A callback added to a future that is not done yet runs on the pool's manager thread; the
first call of each scenario waits for a multiprocessing Event that the test sets only once
the callbacks are in place, so they do run there (not in the test's thread).
"""

from __future__ import annotations

import multiprocessing
import threading
from types import ModuleType
from typing import Any

import _process_helpers as helpers
import _trial_helpers as th
import pytest
from _support import MODULES, RecordingHandler, is_stdlib

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("no_thread_leaks")]

BOUND = 60.0  # seconds: a hang detector for any one wait, never a timing assertion


@pytest.fixture(scope="module")
def ctx() -> Any:
    return multiprocessing.get_context("forkserver")


def _gated(mod: ModuleType, ctx: Any, workers: int = 2) -> tuple[Any, Any, Any]:
    """(executor, its first future, the event that lets that call return)."""
    event = ctx.Event()
    ex = mod.ProcessPoolExecutor(workers, mp_context=ctx, initializer=helpers.set_started,
                                 initargs=(event,))
    return ex, ex.submit(helpers.wait_started), event


def _wait(event: threading.Event, what: str) -> None:
    assert event.wait(BOUND), f"{what} never happened"


def _summary(records: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    """Log records in a comparable order (callbacks of different futures may interleave)."""
    return sorted(records)


# -- callbacks that raise -----------------------------------------------------------------


def _raising(mod: ModuleType, ctx: Any) -> tuple[Any, ...]:
    ex, first, event = _gated(mod, ctx)
    ran: list[int] = []
    lock = threading.Lock()
    all_ran = threading.Event()
    futures = [first] + [ex.submit(th.square, i) for i in range(30)]

    def boom(f: Any) -> None:
        raise ValueError("callback boom")

    def after(f: Any) -> None:
        with lock:
            ran.append(1)
            if len(ran) == len(futures):
                all_ran.set()

    with RecordingHandler() as log:
        for f in futures:
            f.add_done_callback(boom)
            f.add_done_callback(after)  # runs although the callback before it raised
        event.set()
        _wait(all_ran, "every second callback")
        results = [f.result(timeout=BOUND) for f in futures]
        assert ex.submit(th.square, 9).result(timeout=BOUND) == 81  # the pool goes on
        ex.shutdown(wait=True)
        records = log.take(*futures)
    return results, len(ran), _summary(records)


def test_callbacks_that_raise(ctx: Any) -> None:
    """Each raising callback is logged ("exception calling callback for <Future ...>",
    ERROR, with the ValueError); the next callback still runs; the pool goes on."""
    outcomes = [_raising(mod.values[0], ctx) for mod in MODULES]
    assert outcomes[0] == outcomes[1]
    results, ran, records = outcomes[0]
    assert results == [True] + [i * i for i in range(30)]
    assert ran == 31
    assert len(records) == 31
    assert all(r[0] == "ERROR" and r[2] == "ValueError" and "exception calling callback" in r[1]
               for r in records), records


# -- callbacks that submit more work -------------------------------------------------------


def _chaining(mod: ModuleType, ctx: Any, depth: int, fan: int) -> tuple[Any, ...]:
    """Each of `fan` chains: a callback submits the next call (square of a counter) until
    `depth` calls ran; the chains run concurrently, all from callbacks."""
    ex, first, event = _gated(mod, ctx)
    lock = threading.Lock()
    finished = threading.Event()
    chains: list[list[int]] = [[] for _ in range(fan)]
    open_chains = [fan]

    def step(chain: int) -> Any:
        def callback(f: Any) -> None:
            value = f.result()
            with lock:
                chains[chain].append(value)
                n = len(chains[chain])
            if n < depth:
                ex.submit(th.square, n).add_done_callback(step(chain))
            else:
                with lock:
                    open_chains[0] -= 1
                    if not open_chains[0]:
                        finished.set()
        return callback

    with RecordingHandler() as log:
        for chain in range(fan):
            first.add_done_callback(step(chain))  # every chain starts on the manager thread
        event.set()
        _wait(finished, "the chains of callbacks")
        ex.shutdown(wait=True)
        records = log.take()
    return chains, records


def test_callbacks_that_submit_more_work(ctx: Any) -> None:
    """Callbacks (on the manager thread) submit the next call of their chain: 8 chains of
    40 calls run to the end, nothing is logged, shutdown returns."""
    outcomes = [_chaining(mod.values[0], ctx, depth=40, fan=8) for mod in MODULES]
    assert outcomes[0] == outcomes[1]
    chains, records = outcomes[0]
    assert chains == [[True] + [i * i for i in range(1, 40)]] * 8
    assert records == []


def _submit_after_shutdown(mod: ModuleType, ctx: Any) -> tuple[Any, ...]:
    """A callback submits after shutdown(wait=False): RuntimeError in the callback, logged;
    the calls already submitted still complete."""
    ex, first, event = _gated(mod, ctx)
    later = [ex.submit(th.square, i) for i in range(10)]
    errors: list[str] = []
    done = threading.Event()

    def callback(f: Any) -> None:
        try:
            ex.submit(th.square, 1)
        except RuntimeError as exc:
            errors.append(str(exc))
            raise
        finally:
            done.set()

    with RecordingHandler() as log:
        first.add_done_callback(callback)
        ex.shutdown(wait=False)
        event.set()
        _wait(done, "the callback")
        results = [f.result(timeout=BOUND) for f in [first, *later]]
        ex.shutdown(wait=True)
        records = log.take(first)
    return results, errors, records


def test_callback_submitting_after_shutdown(ctx: Any) -> None:
    outcomes = [_submit_after_shutdown(mod.values[0], ctx) for mod in MODULES]
    assert outcomes[0] == outcomes[1]
    results, errors, records = outcomes[0]
    assert results == [True] + [i * i for i in range(10)]
    assert errors == ["cannot schedule new futures after shutdown"]
    assert [(r[0], r[2]) for r in records] == [("ERROR", "RuntimeError")]


# -- callbacks that call shutdown ----------------------------------------------------------


def _shutdown_from_callback(mod: ModuleType, ctx: Any, wait: bool,
                            cancel: bool) -> tuple[Any, ...]:
    ex, first, event = _gated(mod, ctx, workers=1)
    # Calls behind the gated one: with one worker, at most a few are already committed to
    # it; the others are still waiting when the callback runs (cancel_futures=True cancels
    # those).
    later = [ex.submit(th.square, i) for i in range(20)]
    raised: list[str] = []
    refused: list[str] = []
    done = threading.Event()

    def callback(f: Any) -> None:
        try:
            ex.shutdown(wait=wait, cancel_futures=cancel)
        except RuntimeError as exc:
            raised.append(str(exc))
            raise
        finally:
            try:
                ex.submit(th.square, 1)
            except RuntimeError as exc:
                refused.append(str(exc))
            done.set()

    with RecordingHandler() as log:
        first.add_done_callback(callback)
        event.set()
        _wait(done, "the callback")
        settled = []
        for f in later:
            error = None if f.cancelled() else f.exception(timeout=BOUND)
            settled.append("cancelled" if f.cancelled() else
                           f.result(timeout=0) if error is None else repr(error))
        ex.shutdown(wait=True)  # from the test's thread: returns
        records = log.take(first)
    manager_is_gone = ex._executor_manager_thread is None or not \
        ex._executor_manager_thread.is_alive()
    return first.result(timeout=0), raised, refused, settled, records, manager_is_gone


@pytest.mark.parametrize("cancel", [False, True], ids=["keep", "cancel_futures"])
@pytest.mark.parametrize("wait", [False, True], ids=["wait=False", "wait=True"])
def test_callback_calling_shutdown(ctx: Any, wait: bool, cancel: bool) -> None:
    """shutdown() from a done-callback, on the manager thread. wait=False: returns; the
    calls already submitted complete (or, with cancel_futures, those not yet committed to a
    worker are cancelled). wait=True: the pool is shut down (later submits are refused),
    then joining the manager thread from itself raises "cannot join current thread",
    logged as the callback's exception; the test's own shutdown(wait=True) then returns.
    The same in both modules, except which calls cancel_futures catches (how many calls a
    pool commits to a worker ahead is not specified): there, only the shape is compared."""
    outcomes = {}
    for param in MODULES:
        mod = param.values[0]
        first, raised, refused, settled, records, gone = _shutdown_from_callback(
            mod, ctx, wait, cancel)
        assert first is True
        assert refused == ["cannot schedule new futures after shutdown"]
        assert gone
        if wait:
            assert raised == ["cannot join current thread"]
            assert [(r[0], r[2]) for r in records] == [("ERROR", "RuntimeError")]
            assert "exception calling callback" in records[0][1]
        else:
            assert raised == [] and records == []
        expected = [i * i for i in range(20)]
        if cancel:
            # Each call either ran (its value) or was cancelled; cancelled ones come last.
            assert all(s in ("cancelled", v) for s, v in zip(settled, expected)), settled
            n = settled.count("cancelled")
            assert settled[len(settled) - n:] == ["cancelled"] * n, settled
            assert n > 0, settled
            settled = ["shape"]
        else:
            assert settled == expected
        outcomes[is_stdlib(mod)] = (raised, refused, settled, records)
    assert outcomes[True] == outcomes[False]
