"""The worker side of a process pool: the body of each worker process (keep imports light).

A worker owns two pipes, both private to it (no locks are shared between processes): it
reads calls from one and answers on the other, in call order, with the messages and
framing of `wire` (which says what each frame holds). A call frame that cannot be
unpickled is fatal for the pool (the stdlib breaks the pool too): the worker reports it
with work_id `wire.FATAL` and exits. With `max_tasks` the worker leaves on its own after
that many calls; the parent knows the count too and never sends it more.

The worker reads every call waiting in its pipe with one system call, and before it runs
a call it stores how many it has taken in `taken[slot]` (shared memory, written only
here): the parent counts those as running, not as committed calls of its cancellation
window.

The worker runs one thread and takes no lock: nothing here relies on the GIL.
"""

from __future__ import annotations

import os
import sys

from .wire import FATAL, dumps, failure_frame, loads, reader, sender

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from multiprocessing.connection import Connection
    from typing import Any


def process_chunk(fn: Callable[..., Any], chunk: Sequence[tuple[Any, ...]]) -> list[Any]:
    """One call item of map(..., chunksize=n): run fn over a chunk of argument tuples."""
    return [fn(*args) for args in chunk]


def worker_main(
    calls: Connection,
    results: Connection,
    initializer: Callable[..., object] | None,
    initargs: tuple[Any, ...],
    max_tasks: int | None,
    close_fds: Sequence[int],
    taken: Any = None,
    slot: int = 0,
) -> None:
    """Body of a worker process: run calls from `calls` until told to stop or retired."""
    for fd in close_fds:  # a forked child inherits the parent's ends of every pipe
        try:
            os.close(fd)
        except OSError:
            pass
    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException:  # noqa: BLE001 - logged, then the pool is broken
            # Deferred: only a failing initializer logs; a worker starts without logging.
            import logging

            logging.getLogger("concurrent.futures").critical(
                "Exception in initializer:", exc_info=True
            )
            sys.exit(1)  # the parent sees an unexpected exit and breaks the pool
    frames = reader(calls.fileno())
    send = sender(results)
    done = 0
    while max_tasks is None or done < max_tasks:
        try:
            data = next(frames)
        except (EOFError, OSError, StopIteration):
            return  # the parent is gone: nobody wants our results
        if not data:
            return  # STOP (an empty frame)
        try:
            work_id, fn, args, kwargs = loads(data)
        except BaseException as exc:  # noqa: BLE001 - includes SystemExit from __reduce__
            send(failure_frame(FATAL, exc))
            sys.exit(1)
        del data
        done += 1
        if taken is not None:
            taken[slot] = done  # the parent may commit one more call in its place
        frame: bytes | memoryview
        try:
            frame = dumps((work_id, True, fn(*args, **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - the call's or the result pickling's
            frame = failure_frame(work_id, exc)
            del exc
        # Drop the call's references before answering, so objects passed in are
        # collected by the time the caller sees the result.
        del fn, args, kwargs
        send(frame)
        del frame
