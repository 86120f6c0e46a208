"""Functions and classes run in workers by tests/test_newest_*.py.

They live in an importable module so that "spawn" and "forkserver" workers can unpickle
them. Synchronisation objects (a multiprocessing Queue and a Semaphore) reach the workers
through the pool's initializer, which passes them at process creation (the only way a plain
multiprocessing Queue may be shared), instead of a Manager process per test.

The gate is a Semaphore(0), not an Event: a worker killed inside Event.wait() leaves the
Event's condition counters unbalanced and a later set() blocks for ever; a worker killed in
Semaphore.acquire() leaves nothing behind. Opening the gate is one release(); every waiter
passes the token on (acquire, then release), so all of them get through.
"""

from __future__ import annotations

import os
from typing import Any

_queue: Any = None  # set by init_channel(): workers report on it
_gate: Any = None  # set by init_channel(): a Semaphore(0) that workers wait on


def init_channel(queue: Any, gate: Any) -> None:
    """Initializer: remember the queue to report on and the event to wait for."""
    global _queue, _gate
    _queue = queue
    _gate = gate


def wait_gate() -> None:
    """Block until the test opens the gate (or kills this worker)."""
    _gate.acquire()
    _gate.release()  # pass the token on to the next waiter


def report_wait_return(value: Any) -> Any:
    """Report `value`, wait for the gate, return `value` (CPython's _report_wait_return)."""
    _queue.put(value)
    wait_gate()
    return value


def put_wait_put() -> None:
    """Report 'started', wait for the gate; 'finished' only if the gate ever opens."""
    _queue.put("started")
    wait_gate()
    _queue.put("finished")


def gated_none(x: int) -> None:
    """None at once for 0; for anything else, only once the gate opens."""
    if x:
        wait_gate()


def mul(x: int, y: int) -> int:
    return x * y


def raiser(exception: type[BaseException], msg: str = "std") -> None:
    raise exception(msg)


def timeout_on_one(x: int) -> int:
    if x == 1:
        raise TimeoutError
    return x


def failing_task(n: int) -> int:
    raise ValueError("failing task")


def good_task(n: int) -> int:
    return n


def exit_now(code: int) -> None:
    os._exit(code)


class FalseyBoolException(Exception):
    def __bool__(self) -> bool:
        return False


class FalseyLenException(Exception):
    def __len__(self) -> int:
        return 0


def unreplaceable_worker_exit(method: str) -> list[str]:
    """CPython's _run_unreplaceable_worker_exit_test(failing_spawn=True), in this process:
    the only worker (max_tasks_per_child=1) exits at its limit while process._spawn_worker
    raises; returns what each future gave. Run in a fresh interpreter by
    tests/test_newest_process.py (the collection of what this path leaves behind is part of
    the scenario)."""
    import multiprocessing
    from unittest import mock

    from futures_impl import process

    ctx = multiprocessing.get_context(method)
    queue, gate = ctx.Queue(), ctx.Semaphore(0)
    ex = process.ProcessPoolExecutor(1, mp_context=ctx, max_tasks_per_child=1,
                                     initializer=init_channel, initargs=(queue, gate))
    out = []
    try:
        futs = [ex.submit(report_wait_return, i) for i in range(3)]
        reported = {queue.get(timeout=60)}
        while 0 not in reported:
            reported.add(queue.get(timeout=60))
        with mock.patch.object(process, "_spawn_worker", side_effect=OSError("spawn failed")):
            gate.release()
            for fut in futs:
                try:
                    out.append(f"result {fut.result(timeout=60)!r}")
                except Exception as exc:  # noqa: BLE001 - the exception is the outcome
                    out.append(f"{type(exc).__name__}: {exc}")
    finally:
        gate.release()
        ex.shutdown(wait=True, cancel_futures=True)
    return out
