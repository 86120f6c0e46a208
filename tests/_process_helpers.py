"""Functions run inside ProcessPoolExecutor workers by tests/test_process_*.py.

They live in an importable module (not in the test files) so that "spawn" and
"forkserver" workers can unpickle them.
"""

from __future__ import annotations

import os
import pickle
import time
from typing import Any

_started: Any = None  # a multiprocessing Event given to the worker's initializer


def square(x: int) -> int:
    return x * x


def getpid_after(x: int) -> tuple[int, int]:
    return x, os.getpid()


def raise_value_error(message: str) -> None:
    raise ValueError(message)  # the remote-traceback marker line


def set_started(event: Any) -> None:
    """Initializer: remember the event that block_forever() sets."""
    global _started
    _started = event


def block_forever() -> None:
    """Tell the test we are running, then block (the test kills this worker)."""
    _started.set()
    time.sleep(600)


def init_fail() -> None:
    raise ValueError("error in initializer")


class Unpicklable:
    """Fails to pickle, as an argument or as a result."""

    def __reduce__(self) -> Any:
        raise pickle.PicklingError("Unpicklable refuses to be pickled")


def return_unpicklable() -> Unpicklable:
    return Unpicklable()


def length(data: bytes) -> int:
    return len(data)


def _refuse_unpickling() -> None:
    raise pickle.UnpicklingError("refuses to be unpickled")


class FailsToUnpickle:
    """Pickles fine; unpickling it raises (in the worker as an argument, here as a result)."""

    def __reduce__(self) -> Any:
        return _refuse_unpickling, ()


def return_fails_to_unpickle() -> FailsToUnpickle:
    return FailsToUnpickle()


def wait_started() -> bool:
    """Block until the test sets the initializer's event."""
    return bool(_started.wait(60))
