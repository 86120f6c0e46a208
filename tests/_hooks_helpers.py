"""Hooks and calls for tests/test_process_hooks.py (importable by spawned workers)."""

from __future__ import annotations

import os
from typing import Any

from futures_impl.process import pass_worker_state, worker_state

_barrier: Any = None  # a multiprocessing Barrier given to the initializer
_made = 0  # how many times make_state ran in this worker


def init(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def make_state() -> dict[str, Any]:
    """worker_state: the worker's pid, whether the initializer ran first, a run count."""
    global _made
    _made += 1
    return {"pid": os.getpid(), "after_init": _barrier is not None, "made": _made}


def pid_state() -> int:
    return os.getpid()


def meet(state: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """With pass_worker_state: wait for the other worker (so both run), report."""
    _barrier.wait(60)
    return state, os.getpid(), _made


def report(state: Any) -> tuple[Any, int, int]:
    return state, os.getpid(), _made


def looked_up() -> tuple[Any, int]:
    return worker_state(), os.getpid()


def record_exit(directory: str, state: Any) -> None:
    """worker_exit (through functools.partial): leave a file named after this worker."""
    path = os.path.join(directory, f"exit-{os.getpid()}")
    with open(path + ".tmp", "w") as f:
        f.write(repr(state))
    os.replace(path + ".tmp", path)  # whole or absent: the test may look at any time


def exit_fails(state: Any) -> None:
    raise ValueError(f"worker_exit failed on purpose (state {state!r})")


def state_fails() -> None:
    raise ValueError("worker_state failed on purpose")


def getpid() -> int:
    return os.getpid()


@pass_worker_state
def decorated(state: Any, x: int) -> tuple[Any, int]:
    return state, x


def nested_state(state: Any) -> tuple[Any, str]:
    """Run worker_state() in a worker of a fork pool (no worker_state) started by this
    worker: it must not see this worker's state."""
    import multiprocessing

    from futures_impl.process import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as inner:
        error = inner.submit(worker_state).exception(60)
    return state, repr(error)
