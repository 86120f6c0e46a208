"""The manager thread's wake-up channel: a non-blocking self-pipe that never fills up.

Exposed as `futures_impl.process._ThreadWakeup` (CPython's tests substitute it there);
the executor looks the name up in that module when it is constructed.
"""

from __future__ import annotations

import os
import threading


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
        self._reader, self._writer = os.pipe()
        os.set_blocking(self._reader, False)
        os.set_blocking(self._writer, False)

    def fileno(self) -> int:
        return self._reader

    def fds(self) -> tuple[int, int]:
        return self._reader, self._writer

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
                os.write(self._writer, b"\0")
            except (BlockingIOError, InterruptedError):
                pass

    def clear(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._armed = False
            try:
                while os.read(self._reader, 4096):
                    pass
            except (BlockingIOError, InterruptedError):
                pass

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._reader)
                os.close(self._writer)

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self._closed = True
            os.close(self._reader)
            os.close(self._writer)
