"""Which way the process pool talks to its workers: POSIX pipes, or the portable path.

The default path (POSIX with `select.poll`) writes and reads raw pipe fds (`os.write`,
`os.read`, several frames per system call) and the manager polls those fds. The portable
path uses only what Windows has too: `multiprocessing.connection.Pipe(duplex=False)`
connections (`send_bytes`/`recv_bytes`, one message per call: a Windows pipe is
message-based) and process sentinels, waited on with `multiprocessing.connection.wait`
(docs/process.md, "The portable path").

`wanted()` is asked when a pool is created (by its pool state and its wake-up channel):
True on Windows, where `select.poll` is missing, when the environment variable
FUTURES_IMPL_PORTABLE is "1" (read at each pool creation; the tests' switch), or while
the private flag `_force` is True. The worker is told which path its pool took (an
argument of worker_main), never asks itself. A leaf: standard library only.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from multiprocessing.connection import Connection

ENV = "FUTURES_IMPL_PORTABLE"
_force = False  # tests: force the portable path for pools created while it is set


def wanted() -> bool:
    """Whether a pool created now takes the portable path."""
    if _force or sys.platform == "win32" or os.environ.get(ENV) == "1":
        return True
    try:
        import select
    except ImportError:  # pragma: no cover - a trimmed stdlib
        return True
    return not hasattr(select, "poll")


def received(conn: Connection) -> Iterator[bytes]:
    """The frames arriving on `conn` (worker side), one recv_bytes() each.
    Raises EOFError at end of file."""
    recv = conn.recv_bytes
    while True:
        yield recv()
