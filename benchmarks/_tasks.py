"""Tiny module-level callables shared by the scenarios.

They live in their own module (not in ``scenarios``) so that process-pool
children, which unpickle them by qualified name, import as little as possible.
"""

from __future__ import annotations

from typing import Any


def noop() -> None:
    return None


def ident(x: Any) -> Any:
    return x


def callback(_f: Any) -> None:
    return None


def cpu_work(n: int) -> int:
    """A CPU-bound call for the pool-kind rows: pure Python, holds its GIL throughout."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def announce_and_block(fifo: str) -> None:
    """Write this worker's pid (a line) to the named pipe ``fifo``, then block.

    The recovery row's call to be killed: the parent reads the pid, so it knows the call
    is running and which worker runs it, then SIGKILLs that worker. The sleep is only
    "block until killed" (bounded, should the kill never come), not an ordering device.
    """
    import os
    import time

    with open(fifo, "w") as fh:
        fh.write(f"{os.getpid()}\n")
    time.sleep(600)
