"""How an aborted Parallelized run lets the program end (issue 15): its two helpers.

Why: a thread can't be killed, and the interpreter joins every non-daemon thread at exit;
so after Ctrl-C, a pool's threads still running abandoned calls kept the program alive
until those calls ended (seconds, minutes), and a user's process pool kept its workers
busy while its `with` block waited for them. Parallelized(wait_at_exit=False), the
default, avoids both: its private pool is a ThreadPoolExecutor(wait_at_exit=False)
(daemon workers, not joined at exit: parallel.py makes it), and on KeyboardInterrupt or
SystemExit `stop_workers` kills the workers of a user-given executor that can
(`kill_workers()`: futures_impl's ProcessPoolExecutor, the stdlib's from 3.14).

`DeferredInterrupt` holds back a Ctrl-C where a KeyboardInterrupt would lose track of
calls: while the calls are submitted (one landing between submit() and the bookkeeping
would leave a running call counted as cancelled: the loop stops at the next call instead)
and while an abort does its bookkeeping (cancel the queued calls, sort them into
cancelled and abandoned, stop the pool: cut there, the report would miss calls and a
process pool's workers could outlive the program). It swaps in a handler that records
the signal, on the main thread and only when SIGINT has Python's default handler (a
user's own handler is left alone); the caller raises the held KeyboardInterrupt when it
is safe. A further Ctrl-C while one is held raises at once: a step that blocks (a user
executor's submit() waiting for room) can't make Ctrl-C powerless. The report itself is
written outside: a write to a stuck terminal must not keep the program from ending.

`signal` is imported only when a run is aborted (it loads `enum`).
"""

from __future__ import annotations

import threading
from typing import Any

from . import _base


def stop_workers(executor: _base.Executor) -> None:
    """Kill the workers of a user-given executor that has `kill_workers()` (process pools);
    nothing for others (a thread can't be killed)."""
    kill = getattr(executor, "kill_workers", None)
    if callable(kill):
        kill()


class DeferredInterrupt:
    """`with DeferredInterrupt() as held:` ... then `held.reraise()` where the KeyboardInterrupt
    of a SIGINT received inside the block may be raised."""

    __slots__ = ("_previous", "received")

    def __init__(self) -> None:
        self._previous: Any = None
        # Written by the recording handler, which runs on the main thread (the only one
        # that installs it), read by the same thread: no lock.
        self.received = False

    def _record(self, signum: int, frame: object) -> None:
        if self.received:
            raise KeyboardInterrupt  # pressed again: the user means it
        self.received = True

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            import signal

            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self._previous = signal.signal(signal.SIGINT, self._record)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._previous is not None:
            import signal

            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def reraise(self) -> None:
        """Raise the KeyboardInterrupt held back, if a SIGINT came inside the block."""
        if self.received:
            self.received = False
            raise KeyboardInterrupt
