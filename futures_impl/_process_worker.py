"""The worker-process side of ProcessPoolExecutor (runs in the child; keep imports light).

A worker owns two pipes, both private to it (no locks are shared between processes):

    calls   parent -> worker   frames: pickle((work_id, fn, args, kwargs)); b"" means stop
    results worker -> parent   frames: pickle((work_id, ok, payload)), in call order

`ok` is True with the return value as payload, or False with `(exception, traceback text)`.
A frame that cannot be unpickled is fatal for the pool (the stdlib breaks the pool too):
the worker reports it as `(-1, False, (exception, text))` and exits. With
`max_tasks` the worker leaves on its own after that many calls; the parent knows the
count too and never sends it more.

The worker reads every call waiting in its pipe with one system call, and before it runs
a call it stores how many it has taken in `taken[slot]` (shared memory, written only
here): the parent counts those as running, not as committed calls of its cancellation
window.

The worker runs one thread and takes no lock: nothing here relies on the GIL.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import sys
from multiprocessing.reduction import ForkingPickler

TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from typing import Any, Callable, Iterator, Sequence

_loads = ForkingPickler.loads


_EXTRA: dict[type, Any] = getattr(ForkingPickler, "_extra_reducers", {})  # register()'s


class _DispatchTable(dict):  # type: ignore[type-arg]
    """ForkingPickler's reducers, looked up live instead of copied for every pickle."""

    def __missing__(self, cls: type) -> Any:
        reduce = _EXTRA.get(cls)  # registered ones win, as there
        return copyreg.dispatch_table[cls] if reduce is None else reduce


class _Pickler(pickle.Pickler):
    # ForkingPickler copies copyreg's table and its own reducers into every instance
    # (a microsecond a call, on both sides); this one consults both where they live,
    # so it pickles exactly what ForkingPickler.dumps would, byte for byte.
    dispatch_table = _DispatchTable()


def _dumps(obj: Any) -> memoryview:
    """ForkingPickler.dumps(obj), faster."""
    buf = io.BytesIO()
    _Pickler(buf).dump(obj)
    return buf.getbuffer()

_READ_SIZE = 1 << 16
# work_id of a frame reporting that the worker cannot go on (bad call frame).
FATAL = -1


def format_remote(exc: BaseException) -> str:
    """The traceback text carried by _RemoteTraceback, framed like the stdlib's."""
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f'\n"""\n{text}"""'


def failure_frame(work_id: int, exc: BaseException) -> bytes | memoryview:
    """Pickle a failed call. If `exc` will not pickle, report the pickling error instead
    (as the stdlib does: its type and message), with both tracebacks in the text; if that
    will not pickle either, a plain RuntimeError."""
    text = format_remote(exc)
    tb, exc.__traceback__ = exc.__traceback__, None
    try:
        return _dumps((work_id, False, (exc, text)))
    except BaseException as pickling_error:  # noqa: BLE001 - any failure must be reported
        exc.__traceback__ = tb
        pickling_error.__context__ = exc  # "During handling of the above exception..."
        text = format_remote(pickling_error)
        pickling_error.__traceback__ = pickling_error.__context__ = exc.__traceback__ = None
        try:
            return _dumps((work_id, False, (pickling_error, text)))
        except BaseException:  # noqa: BLE001
            substitute = RuntimeError(
                f"the exception {type(exc).__name__!s} could not be pickled: "
                f"{pickling_error!r}"
            )
            return _dumps((work_id, False, (substitute, text)))


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
            import logging

            logging.getLogger("concurrent.futures").critical(
                "Exception in initializer:", exc_info=True
            )
            sys.exit(1)  # the parent sees an unexpected exit and breaks the pool
    frames = _frames(calls.fileno())
    send = _sender(results)
    done = 0
    while max_tasks is None or done < max_tasks:
        try:
            data = next(frames)
        except (EOFError, OSError, StopIteration):
            return  # the parent is gone: nobody wants our results
        if not data:
            return  # stop frame
        try:
            work_id, fn, args, kwargs = _loads(data)
        except BaseException as exc:  # noqa: BLE001 - includes SystemExit from __reduce__
            send(failure_frame(FATAL, exc))
            sys.exit(1)
        del data
        done += 1
        if taken is not None:
            taken[slot] = done  # the parent may commit one more call in its place
        frame: bytes | memoryview
        try:
            frame = _dumps((work_id, True, fn(*args, **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - the call's or the result pickling's
            frame = failure_frame(work_id, exc)
            del exc
        # Drop the call's references before answering, so objects passed in are
        # collected by the time the caller sees the result.
        del fn, args, kwargs
        send(frame)
        del frame


def _sender(results: Connection) -> Callable[[bytes | memoryview], None]:
    """send_bytes() for `results`, with a short frame and its header in one os.write."""
    fd = results.fileno()
    write = os.write
    send_bytes = results.send_bytes

    def send(frame: bytes | memoryview) -> None:
        if len(frame) > _READ_SIZE:
            send_bytes(frame)  # the header, then the frame itself: no joined copy
            return
        view = memoryview(len(frame).to_bytes(4, "big") + frame)
        while view:
            view = view[write(fd, view):]

    return send


def _frames(fd: int) -> Iterator[bytes]:
    """The call frames arriving on pipe `fd`, read with one system call per batch.

    The parent writes several calls at once; reading whatever is there in one go (rather
    than a header and a body per call) halves the worker's system calls. The framing is
    multiprocessing.connection's: a 4-byte big-endian length (-1: an 8-byte one follows).
    """
    buf = bytearray()
    read = os.read
    while True:
        while len(buf) >= 4:
            size = int.from_bytes(buf[:4], "big", signed=True)
            start = 4
            if size == -1:
                if len(buf) < 12:
                    break
                size, start = int.from_bytes(buf[4:12], "big"), 12
            end = start + size
            if len(buf) < end:
                break
            with memoryview(buf) as view:
                data = bytes(view[start:end])  # one copy (a long frame: 2x peak, not 3x)
            del buf[:end]
            yield data
        need = 0
        if len(buf) >= 4:
            size = int.from_bytes(buf[:4], "big", signed=True)
            need = size + 4 - len(buf) if size >= 0 else 0
        chunk = read(fd, max(_READ_SIZE, need))
        if not chunk:
            raise EOFError
        buf += chunk
