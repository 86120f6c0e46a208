"""Helpers for tests that must see a thread really blocked inside wait()/as_completed().

Why: "the caller is somewhere in a function called wait" is not "the caller is blocked in
the module's wait()": Thread.start() itself runs an Event.wait, so a looser check lets the
settler act before the caller ever blocks, and the wake-up path goes untested.

How: a thread is *parked* in `mod.<function>` when its innermost Python frames are exactly
that module's sleeping chain, called from `<function>` in the module's own `_base.py`:

    futures_impl:  _sleep <- _Waiter.block <- wait | as_completed, all in futures_impl/_base.py
    stdlib:        wait <- wait (threading.py: Condition, Event) <- wait | as_completed
                   (the last in concurrent/futures/_base.py)

The stdlib's chain is what its stack shows while blocked (observed with
sys._current_frames() on 3.9-3.13, by file name and function name only); its source is not
read. Parked means "past every check, sleeping or about to": a settle from then on must
wake it through the waiter, never through the early "already done" path.

Every wait here is bounded (`BOUND` seconds): a hang fails with a message saying what was
awaited, never blocks CI.
"""

from __future__ import annotations

import os
import sys
import threading
import types
from typing import Callable

BOUND = 10.0  # seconds: generous for a loaded 2-core machine; reached only on a hang
# Once one call has hung, the test is failing anyway: later waits (hypothesis replaying or
# shrinking the failing example) get a short bound, so a hang costs seconds, not minutes.
_AFTER_A_HANG = 1.0
_hung: list[str] = []

_THREADING_FILE = os.path.normcase(os.path.abspath(threading.__file__))


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _chain(mod: types.ModuleType) -> tuple[tuple[str, str], ...]:
    """(file, function) of the frames between `mod`'s wait/as_completed and the blocking
    C call, innermost first."""
    base = _norm(mod._base.__file__)
    if mod.__name__ == "concurrent.futures":
        return ((_THREADING_FILE, "wait"), (_THREADING_FILE, "wait"))  # Condition, Event
    return ((base, "_sleep"), (base, "block"))


def frames(thread: threading.Thread) -> list[tuple[str, str]]:
    """(normalised file, function) of `thread`'s Python frames, innermost first."""
    frame = sys._current_frames().get(thread.ident)  # type: ignore[arg-type]
    out = []
    while frame is not None:
        out.append((_norm(frame.f_code.co_filename), frame.f_code.co_name))
        frame = frame.f_back
    return out


def parked_in(
    thread: threading.Thread, mod: types.ModuleType, function: str = "wait"
) -> Callable[[], bool]:
    """A predicate: `thread` is parked in `mod.<function>` (see the module docstring)."""
    chain = _chain(mod)
    caller = (_norm(mod._base.__file__), function)

    def check() -> bool:
        stack = frames(thread)
        return tuple(stack[: len(chain)]) == chain and stack[len(chain): len(chain) + 1] == [caller]

    return check


def poll(predicate: Callable[[], object], what: str, bound: float = BOUND) -> None:
    """Return once `predicate()` is true; fail with `what` after `bound` seconds.

    Polls an observable condition (a thread's stack has no event to wait on); it is not a
    sleep standing in for synchronisation.
    """
    import time

    deadline = time.monotonic() + bound
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {bound} s for: {what}")
        pause.wait(0.0002)


class Caller(threading.Thread):
    """Runs `call()` in a daemon thread and keeps its outcome (value or exception)."""

    def __init__(self, call: Callable[[], object], name: str = "blocked-caller") -> None:
        super().__init__(name=name, daemon=True)
        self._call = call
        self.value: object = None
        self.error: BaseException | None = None
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            self.value = self._call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc
        finally:
            self.finished.set()

    def parked_or_finished(
        self, mod: types.ModuleType, function: str = "wait",
        also: Callable[[], bool] | None = None,
    ) -> bool:
        """Wait (bounded) until the call is parked in `mod.<function>` (and `also()` holds)
        or has returned; True if it was seen parked."""
        parked = parked_in(self, mod, function)
        seen: list[bool] = []

        def check() -> bool:
            if self.finished.is_set():
                seen.append(False)
            elif (also is None or also()) and parked():
                seen.append(True)
            return bool(seen)

        poll(check, f"{self.name} to block in {mod.__name__}.{function}() or return")
        return seen[0]

    def outcome(self, bound: float | None = None) -> object:
        """The call's value once it returns (its exception is re-raised); AssertionError if
        it is still blocked after `bound` seconds (BOUND; less once a call has hung)."""
        if bound is None:
            bound = _AFTER_A_HANG if _hung else BOUND
        if not self.finished.wait(bound):
            _hung.append(self.name)
            raise AssertionError(f"{self.name} still blocked after {bound} s: hung "
                                 f"(stack: {[name for _, name in frames(self)]})")
        self.join(bound)
        if self.error is not None:
            raise self.error
        return self.value
