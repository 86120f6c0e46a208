"""Functions run in worker processes by tests/test_process_robust.py (importable, so that
spawn and forkserver workers can unpickle them)."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

_event: Any = None  # a multiprocessing Event given through the initializer


def init_event(event: Any) -> None:
    global _event
    _event = event


def init_sleep_then_event(seconds: float, event: Any) -> None:
    """A slow initializer (its time must not count against a task's timeout)."""
    time.sleep(seconds)
    init_event(event)


def started_then_block() -> None:
    """Tell the test this call is running (the initializer's event), then block until
    the pool kills this worker (bounded: a test that forgets still ends)."""
    _event.set()
    threading.Event().wait(120)


def block() -> None:
    threading.Event().wait(120)


def pid() -> int:
    return os.getpid()


def pid_of(x: int) -> tuple[int, int]:
    return x, os.getpid()


def sleep_then(seconds: float, value: Any) -> Any:
    time.sleep(seconds)
    return value


def die(code: int) -> None:
    os._exit(code)


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def segfault() -> None:
    import ctypes
    import faulthandler

    faulthandler.disable()  # pytest's, inherited by a forked worker: no dump to print

    ctypes.string_at(0)


def die_when_started(code: int) -> None:
    """Wait (bounded) until the test sets the event, then die."""
    _event.wait(60)
    os._exit(code)


def fail_init() -> None:
    raise ValueError("error in initializer")


class BreaksInWorker:
    """Pickles in the parent; unpickling it in a worker raises (a call the worker cannot
    read: the stdlib breaks the pool there)."""

    def __init__(self) -> None:
        self.parent = os.getpid()

    def __reduce__(self) -> Any:
        return (_rebuild, (self.parent,))


def _rebuild(parent: int) -> BreaksInWorker:
    if os.getpid() != parent:
        raise RuntimeError("this object cannot be rebuilt in a worker")
    return BreaksInWorker()


def identity(x: Any) -> Any:
    return x


REBUILT_IN_PARENT: list[int] = []  # pids of parents that rebuilt a KillsWorkerWhenRebuilt


class KillsWorkerWhenRebuilt:
    """Unpickling it kills a worker (SIGKILL); in the parent it only records that it was
    rebuilt there, which must never happen (the parent must not run a call's code)."""

    def __init__(self) -> None:
        self.parent = os.getpid()

    def __reduce__(self) -> Any:
        return (_rebuild_and_kill, (self.parent,))


def _rebuild_and_kill(parent: int) -> KillsWorkerWhenRebuilt:
    if os.getpid() == parent:
        REBUILT_IN_PARENT.append(parent)
        return KillsWorkerWhenRebuilt()
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")
