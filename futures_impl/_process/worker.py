"""The worker side of a process pool: the body of each worker process (keep imports light).

A worker owns two pipes, both private to it (no locks are shared between processes): it
reads calls from one and answers on the other, in call order, with the messages and
framing of `wire` (which says what each frame holds). A call frame that cannot be
unpickled is fatal for the pool (the stdlib breaks the pool too): the worker reports it
with work_id `wire.FATAL` and exits. With `max_tasks` the worker leaves on its own after
that many calls; the parent knows the count too and never sends it more.

With another serializer than pickle the pool passes its `wire.Codec`: calls are read and
results written through it. With worker_state/worker_exit it passes that pair, run by
`hooks`: the state callable once after the initializer, the exit hook when the worker
leaves normally (stop frame or retired; not when killed or when the parent is gone).

The worker reads every call waiting in its pipe with one system call, and before it runs
a call it stores how many it has taken in `taken[slot]` (shared memory, written only
here): the parent counts those as running, not as committed calls of its cancellation
window.

On the portable path (`portable`: Windows, or forced by tests) the worker uses only its
connections' recv_bytes/send_bytes, one message per frame.

The worker runs one thread and takes no lock: nothing here relies on the GIL.
"""

from __future__ import annotations

import os
import sys
from functools import partial

from . import hooks
from .portable import received
from .wire import FATAL, dumps, failure_frame, loads, reader, sender

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from multiprocessing.connection import Connection
    from typing import Any

    from .hooks import Hooks
    from .wire import Codec


# The calling worker's "I start a call now" (set by worker_main; None outside a worker).
_announce: Callable[[], None] | None = None


class Announced:
    """A timed call's function (task_timeout=, submit_with(timeout=)): before it runs, the
    worker sends an empty result frame, so the parent starts the call's clock then (time
    spent waiting in the pipe, or in a new worker's start-up, is not counted)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __reduce__(self) -> tuple[Any, ...]:
        return (Announced, (self.fn,))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _announce is not None:
            _announce()
        return self.fn(*args, **kwargs)


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
    codec: Codec | None = None,
    worker_hooks: Hooks | bytes | None = None,
    portable: bool = False,
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
    # The serializer (None: this module's pickler) and the lifecycle hooks (see hooks).
    # (A worker forked from a worker must not inherit that one's state.)
    hooks._in_worker, hooks._state = True, hooks._NO_STATE
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes | memoryview]
    fail: Callable[[int, BaseException], bytes | memoryview]
    if codec is None:
        decode, encode, fail = loads, dumps, failure_frame
    else:
        decode, encode, fail = codec.loads, codec.dumps, codec.failure_frame
    if worker_hooks is not None:
        worker_hooks = hooks.start(worker_hooks, decode)
    send: Callable[[bytes | memoryview], None]
    if portable:  # multiprocessing's connections only: one message a call (see portable)
        frames = received(calls)
        send = results.send_bytes
    else:
        frames = reader(calls.fileno())
        send = sender(results)
    global _announce
    _announce = partial(send, b"")  # an empty result frame: "starting the next call"
    done = 0
    while max_tasks is None or done < max_tasks:
        try:
            data = next(frames)
        except (EOFError, OSError, StopIteration):
            return  # the parent is gone: nobody wants our results
        if not data:
            break  # STOP (an empty frame)
        done += 1
        if taken is not None:
            # Taken (before unpickling: a worker dying in there was running this call):
            # the parent may commit one more call in its place.
            taken[slot] = done
        try:
            work_id, fn, args, kwargs = decode(data)
        except BaseException as exc:  # noqa: BLE001 - includes SystemExit from __reduce__
            send(fail(FATAL, exc))
            sys.exit(1)
        del data
        frame: bytes | memoryview
        try:
            frame = encode((work_id, True, fn(*args, **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - the call's or the result pickling's
            frame = fail(work_id, exc)
            del exc
        # Drop the call's references before answering, so objects passed in are
        # collected by the time the caller sees the result.
        del fn, args, kwargs
        send(frame)
        del frame
    if worker_hooks is not None:  # leaving normally: told to stop, or retired
        hooks.leave(worker_hooks)
