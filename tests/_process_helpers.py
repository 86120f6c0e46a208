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


def identity(x: Any) -> Any:
    return x


class Registered:
    """Pickled through a reducer registered with ForkingPickler.register() (the test
    registers it in the parent only): it arrives as the string its reducer makes."""

    def __init__(self, text: str) -> None:
        self.text = text


def reduce_registered(obj: Registered) -> Any:
    return str, (f"reduced:{obj.text}",)


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


# -- tests/test_process_drop_in.py --------------------------------------------------------

_gates: Any = None  # (entered, go, running, peak, ran): multiprocessing objects, via initializer


def init_gates(entered: Any, go: Any, running: Any, peak: Any, ran: Any) -> None:
    """Initializer: remember the semaphores and counters gated_call() uses."""
    global _gates
    _gates = (entered, go, running, peak, ran)


def gated_call(x: int) -> int:
    """Count this call as running (and the peak), signal `entered`, wait for one `go`."""
    entered, go, running, peak, ran = _gates
    with running.get_lock():
        running.value += 1
        peak.value = max(peak.value, running.value)
    with ran.get_lock():
        ran.value += 1
    entered.release()
    try:
        if not go.acquire(timeout=60):
            raise TimeoutError("the test never released this call")
    finally:
        with running.get_lock():
            running.value -= 1
    return x * x


class LockedError(Exception):
    """An exception that cannot be pickled (it holds a lock): TypeError on pickling."""

    def __init__(self, message: str) -> None:
        import threading

        super().__init__(message)
        self.lock = threading.Lock()


def raise_locked_error() -> None:
    raise LockedError("holds a lock")


# Injected start failures: each Process.start() pops the next plan entry (parent side);
# True makes it fail like fork()/pipe() under EMFILE. The classes live here so that
# spawn/forkserver children can unpickle the process object.
start_plan: list[bool] = []


class _StartMayFail:
    def start(self) -> None:
        if start_plan and start_plan.pop(0):
            import errno

            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        super().start()  # type: ignore[misc]


def failing_context(method: str) -> Any:
    """A multiprocessing context of `method` whose process starts follow `start_plan`."""
    return _FAILING_CONTEXTS[method]()


from multiprocessing import context as _mpctx  # noqa: E402


class FailingForkProcess(_StartMayFail, _mpctx.ForkProcess):  # type: ignore[misc]
    pass


class FailingSpawnProcess(_StartMayFail, _mpctx.SpawnProcess):  # type: ignore[misc]
    pass


class FailingForkServerProcess(_StartMayFail, _mpctx.ForkServerProcess):  # type: ignore[misc]
    pass


class FailingForkContext(_mpctx.ForkContext):
    Process = FailingForkProcess


class FailingSpawnContext(_mpctx.SpawnContext):
    Process = FailingSpawnProcess


class FailingForkServerContext(_mpctx.ForkServerContext):
    Process = FailingForkServerProcess


_FAILING_CONTEXTS: dict[str, Any] = {
    "fork": FailingForkContext,
    "spawn": FailingSpawnContext,
    "forkserver": FailingForkServerContext,
}


# -- tests/test_process_faults.py ---------------------------------------------------------


def pattern(size: int, seed: int) -> bytes:
    """`size` deterministic bytes that differ with `seed` and with the position (a
    misplaced or dropped chunk of a multi-MiB result changes them)."""
    block = bytes((i * 131 + seed * 17 + (i >> 8)) & 0xFF for i in range(65521))  # prime
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]


def init_ignore_sigterm(event: Any) -> None:
    """Initializer: survive SIGTERM (only SIGKILL stops this worker); remember `event`."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    set_started(event)


def exit_now(code: int) -> None:
    """End this worker abruptly. Submit this rather than `os._exit` itself: under
    `nox -s coverage`, coverage replaces `os._exit` with a local function that cannot be
    pickled, and the call would fail at submit() instead of killing the worker."""
    os._exit(code)


def exit_when_started(code: int) -> None:
    """Wait (bounded) for the initializer's event, then end this worker abruptly."""
    _started.wait(60)
    os._exit(code)


def set_started_and_return(value: Any) -> Any:
    """Set the initializer's event (another worker dies on it), then return `value`: a
    result racing a worker's death."""
    _started.set()
    return value
