"""The manager thread's wake-up channel: a non-blocking self-pipe that never fills up.

Exposed as `futures_impl.process._ThreadWakeup` (CPython's tests substitute it there);
the executor looks the name up in that module when it is constructed.

Two forms, chosen at construction: a raw `os.pipe()` (POSIX, the fast path: the manager
polls its fd) or, on the portable path (`portable.wanted()`: Windows, no select.poll, or
forced by tests), a `multiprocessing.connection.Pipe(duplex=False)`, whose reader the
manager waits on with `multiprocessing.connection.wait`. At most one byte (one empty
message) is ever in it, so a write never blocks in either form.
"""

from __future__ import annotations

import os
import threading

from . import portable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _ThreadWakeup:
    """Wakes the manager thread: a non-blocking self-pipe that never fills up.

    wakeup() may be called from any thread (and from a GC callback); a byte already
    waiting makes it a no-op. clear() is called by the manager only. close() is final.
    The one lock-free path, wakeup()'s look at `_armed`, relies on the GIL (a single
    load): a stale True means the manager has not cleared the byte yet, and it reads the
    pool's state (written before wakeup() was called) only after clearing; a stale False
    takes the lock and re-checks.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # reentrant: a GC callback may wake while we wake
        self._closed = False
        self._armed = False  # a byte is in the pipe and the manager has not cleared it
        self._conns: tuple[Any, Any] | None = None  # the portable form's (reader, writer)
        if portable.wanted():
            from multiprocessing.connection import Pipe

            self._conns = Pipe(duplex=False)
            self._reader, self._writer = -1, -1
            return
        self._reader, self._writer = os.pipe()
        os.set_blocking(self._reader, False)
        os.set_blocking(self._writer, False)

    def fileno(self) -> int:
        return self._reader

    def waitable(self) -> Any:
        """What the manager waits on: the reader's fd, or its Connection (portable)."""
        return self._reader if self._conns is None else self._conns[0]

    def fds(self) -> tuple[int, ...]:
        """Both ends' fds (a forked worker closes them); none where there are none."""
        if self._conns is None:
            return self._reader, self._writer
        if not hasattr(os, "fork"):
            return ()
        return tuple(c.fileno() for c in self._conns if not c.closed)

    def wakeup(self) -> None:
        # Lock-free look (race 18 in docs/design.md): a stale True means a byte is still
        # unread, and the manager reads the pool's state only after clearing it; a stale
        # False just takes the lock below and re-checks. See the class docstring.
        if self._armed:
            return
        with self._lock:
            if self._closed:
                return
            self._armed = True
            try:
                if self._conns is None:
                    os.write(self._writer, b"\0")
                else:
                    self._conns[1].send_bytes(b"\0")  # the only message in it: fits
            except (BlockingIOError, InterruptedError):
                pass

    def clear(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._armed = False
            if self._conns is not None:
                reader = self._conns[0]
                while reader.poll(0):
                    reader.recv_bytes()
                return
            try:
                while os.read(self._reader, 4096):
                    pass
            except (BlockingIOError, InterruptedError):
                pass

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._close_ends()

    def _close_ends(self) -> None:
        if self._conns is not None:
            for conn in self._conns:
                conn.close()
            return
        os.close(self._reader)
        os.close(self._writer)

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self._closed = True
            self._close_ends()
