"""Functions run inside worker processes by the reliability trials (tests/test_process_trials.py,
tests/test_process_pickling_trials.py, tests/test_process_hang_regressions.py).

They live in an importable module, not in the test files, so that "spawn" and "forkserver"
workers can unpickle them.
"""

from __future__ import annotations

import os
import pickle
import threading
from typing import Any

# The pid of the process that imported this module first: the parent (the test process),
# since the test imports it before any worker starts. A forkserver/spawn worker imports it
# afresh and sees its own pid; a fork worker inherits the parent's value.
PARENT_PID = os.getpid()


def square(x: int) -> int:
    return x * x


def _refuse_in(pid: int, text: str) -> str:
    """Unpickling hook: fails in process `pid` only, elsewhere gives back `text`."""
    if os.getpid() == pid:
        raise pickle.UnpicklingError(f"refuses to be unpickled in process {pid}")
    return text


class FailsToUnpickleInParent:
    """Pickles fine everywhere; unpickling raises only in the parent (the process whose pid
    is `parent`): as an argument it reaches the worker intact; as a result it cannot be
    read back."""

    def __init__(self, parent: int) -> None:
        self.parent = parent

    def __reduce__(self) -> Any:
        return _refuse_in, (self.parent, "unpickled")


def return_fails_in_parent(parent: int) -> FailsToUnpickleInParent:
    return FailsToUnpickleInParent(parent)


def echo_unpickled(obj: Any) -> Any:
    """Return what the worker received (a FailsToUnpickleInParent arrives as its text)."""
    return obj


class Unpicklable:
    """Fails to pickle, as an argument or as a result."""

    def __reduce__(self) -> Any:
        raise pickle.PicklingError("Unpicklable refuses to be pickled")


def return_unpicklable() -> Unpicklable:
    return Unpicklable()


class LockedError(Exception):
    """An exception that cannot be pickled (it holds a lock): TypeError on pickling."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def raise_locked_error(message: str) -> None:
    raise LockedError(message)


class BadReduceError(Exception):
    """An exception whose pickling raises something other than a pickling error."""

    def __reduce__(self) -> Any:
        raise RuntimeError("BadReduceError refuses to be pickled")


def raise_bad_reduce_error() -> None:
    raise BadReduceError("bad reduce")


def _needs_two(a: Any, b: Any) -> Exception:
    return ValueError(a, b)


class UnpicklesBadlyError(Exception):
    """Pickles fine; unpickling it raises a TypeError (the classic exception with a custom
    __init__ whose args do not match)."""

    def __init__(self, a: Any, b: Any) -> None:
        super().__init__(f"{a}-{b}")  # args has one item: unpickling calls cls(one) -> TypeError


def raise_unpickles_badly() -> None:
    raise UnpicklesBadlyError(1, 2)


def big_result(size: int) -> bytes:
    """`size` bytes whose head and tail differ (a truncated or shifted copy would show)."""
    data = bytearray(size)
    data[:8] = b"headhead"
    data[-8:] = b"tailtail"
    return bytes(data)


def pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def busy_square(x: int) -> tuple[int, int]:
    """(pid, x*x) after a short busy loop (some 0.1-0.5 ms): a worker killed at a random
    moment is often in the middle of a call, not waiting for one."""
    total = 0
    for k in range(3000):
        total += k
    return os.getpid(), x * x
