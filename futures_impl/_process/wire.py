"""The wire format between the parent and its workers: framing, messages, the pickler.

Both ends of both pipes go through this module; nothing else reads or writes a frame.

Framing: multiprocessing.connection's (`Connection.send_bytes`/`recv_bytes` on a pipe), so
either end may use a `Connection` for a frame and this module's code for the next. A frame
is a header and its bytes; the header is the length as a 4-byte big-endian signed int, or,
for a length over 0x7fffffff, -1 in those 4 bytes and then the length as an 8-byte
big-endian unsigned int. `header()` writes it, `parse_header()` reads it, and
tests/test_process_wire.py checks both against `Connection` on every interpreter. We write
short frames ourselves (header and bytes in one `os.write`, several calls in one go) and
read whatever is in the pipe with one `os.read` (several frames at a time); long frames
are written by `Connection.send_bytes` (header, then the bytes: no joined copy).

Messages (each one pickled frame):

    calls   parent -> worker   (work_id, fn, args, kwargs); an empty frame means "stop"
    results worker -> parent   (work_id, True, value) or (work_id, False, (exc, text)),
                               in call order; work_id FATAL: the worker cannot go on

Pickling: exactly ForkingPickler.dumps's bytes (multiprocessing's reducers, registered
ones included), without copying its dispatch table for every pickle.

Other serializers (`serializer=`): a `Codec` carries the same messages through
cloudpickle or the user's `dumps`/`loads`; the default path builds none (this module's
functions are its codec, at no extra cost). Both ends hold the codec: the worker gets it
as an argument. A failed call whose exception, pickling error and substitute
RuntimeError all defeat the serializer is sent as `FALLBACK` followed by this module's
pickle of (work_id, False, (RuntimeError, text)): the future still fails, clearly.

Runs in the parent and in every worker: keep imports light.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import sys

try:
    from multiprocessing.reduction import ForkingPickler
except ImportError:  # pragma: no cover - a trimmed stdlib without multiprocessing:
    # this module imports all the same (process must); no pool starts there (limits.py).
    ForkingPickler = pickle.Pickler  # type: ignore[misc,assignment]

from .errors import _RemoteTraceback, format_remote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from multiprocessing.connection import Connection
    from typing import Any

    Frame = bytes | memoryview  # a message, as written to a pipe
    Dumps = Callable[[Any], Frame]

STOP = b""  # the call frame that tells a worker to exit
FATAL = -1  # work_id of a result saying the worker cannot read a call and is exiting
HEADER = 4  # bytes of a short frame's header
_LONG = 0x7FFFFFFF  # longer frames get the 12-byte header
READ_SIZE = 1 << 16  # bytes asked of one os.read; frames up to this are written inline
# Starts a result frame a non-default serializer could not write (see Codec): no pickle
# starts with a NUL, and a serializer's output starting with these bytes is not plausible.
FALLBACK = b"\x00futures_impl:serializer-fallback\x00"
CLOUDPICKLE_MISSING = (
    "serializer='cloudpickle' needs the cloudpickle package: "
    "pip install futures_impl[cloudpickle]"
)

loads = pickle.loads  # ForkingPickler.loads is pickle.loads
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


def dumps(obj: Any) -> memoryview:
    """ForkingPickler.dumps(obj), faster."""
    buf = io.BytesIO()
    _Pickler(buf).dump(obj)
    return buf.getbuffer()


_dumps = dumps  # this module's, where a parameter named dumps hides it


# -- framing -------------------------------------------------------------------------


def header(size: int) -> bytes:
    """The header multiprocessing.connection writes before a frame of `size` bytes."""
    if size > _LONG:
        return (-1).to_bytes(4, "big", signed=True) + size.to_bytes(8, "big")
    return size.to_bytes(4, "big")


def framed(data: bytes | memoryview) -> bytes:
    """A short frame, header included, to write with one os.write."""
    return len(data).to_bytes(4, "big") + data


def parse_header(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int] | None:
    """(size, start of the data) of the frame at `pos`; None until its header is whole."""
    end = len(buf)
    if end - pos < 4:
        return None
    size = int.from_bytes(buf[pos:pos + 4], "big", signed=True)
    if size != -1:
        return size, pos + 4
    if end - pos < 12:
        return None
    return int.from_bytes(buf[pos + 4:pos + 12], "big"), pos + 12


def missing(buf: bytes | bytearray | memoryview) -> int:
    """Bytes still missing from the frame that starts `buf` (0 if unknown yet)."""
    parsed = parse_header(buf)
    if parsed is None:
        return 0
    size, start = parsed
    return max(0, start + size - len(buf))


def split(data: bytes | bytearray) -> tuple[list[bytes], int]:
    """The whole frames at the start of `data`, each copied once, and where the rest
    (a frame still being written) starts."""
    frames = []
    pos, end = 0, len(data)
    from_bytes = int.from_bytes
    with memoryview(data) as view:  # a long frame: 2x peak, not 3x
        while end - pos >= 4:
            # parse_header() inlined for the short form: this runs once per call and
            # once per result.
            size = from_bytes(view[pos:pos + 4], "big", signed=True)
            start = pos + 4
            if size == -1:
                parsed = parse_header(view, pos)
                if parsed is None:
                    break
                size, start = parsed
            if end < start + size:
                break
            pos = start + size
            frames.append(bytes(view[start:pos]))
    return frames, pos


def reader(fd: int) -> Iterator[bytes]:
    """The frames arriving on pipe `fd`, read with one system call per batch.

    The other end writes several frames at once; reading whatever is there in one go
    (rather than a header and a body per frame) halves the system calls.
    Raises EOFError at end of file.
    """
    buf = bytearray()
    read = os.read
    while True:
        frames, pos = split(buf)
        if pos:
            del buf[:pos]
        yield from frames
        chunk = read(fd, max(READ_SIZE, missing(buf)))
        if not chunk:
            raise EOFError
        buf += chunk


def sender(conn: Connection) -> Callable[[bytes | memoryview], None]:
    """send_bytes() for `conn`, with a short frame and its header in one os.write."""
    fd = conn.fileno()
    write = os.write
    send_bytes = conn.send_bytes

    def send(frame: bytes | memoryview) -> None:
        if len(frame) > READ_SIZE:
            send_bytes(frame)  # the header, then the frame itself: no joined copy
            return
        view = memoryview(framed(frame))
        while view:
            view = view[write(fd, view):]

    return send


# -- messages ------------------------------------------------------------------------


def encode_call(
    work_id: int, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
    dumps: Dumps = dumps,
) -> tuple[Frame | None, BaseException | None]:
    """Pickle one call; a pickling error comes back with its traceback text as cause.

    The error keeps no traceback object: through the frames' f_back it would reach
    submit()'s frame, and so the executor and the future holding the error (a cycle,
    left to the garbage collector). Its text is in the cause.
    """
    try:
        return dumps((work_id, fn, args, kwargs)), None
    except Exception as exc:  # noqa: BLE001 - reported through the future
        exc.__cause__ = _RemoteTraceback(format_remote(exc))
        return None, exc.with_traceback(None)


def failure_frame(work_id: int, exc: BaseException, dumps: Dumps = dumps) -> Frame:
    """Pickle a failed call. If `exc` will not pickle, report the pickling error instead
    (as the stdlib does: its type and message), with both tracebacks in the text; if that
    will not pickle either, a plain RuntimeError (through this module's pickler, after
    FALLBACK, if even that defeats a non-default `dumps`)."""
    text = format_remote(exc)
    tb, exc.__traceback__ = exc.__traceback__, None
    try:
        return dumps((work_id, False, (exc, text)))
    except BaseException as pickling_error:  # noqa: BLE001 - any failure must be reported
        exc.__traceback__ = tb
        pickling_error.__context__ = exc  # "During handling of the above exception..."
        text = format_remote(pickling_error)
        pickling_error.__traceback__ = pickling_error.__context__ = exc.__traceback__ = None
        try:
            return dumps((work_id, False, (pickling_error, text)))
        except BaseException:  # noqa: BLE001
            substitute = RuntimeError(
                f"the exception {type(exc).__name__!s} could not be pickled: "
                f"{pickling_error!r}"
            )
            try:
                return dumps((work_id, False, (substitute, text)))
            except BaseException:  # noqa: BLE001 - a serializer that rejects exceptions
                if dumps is _dumps:
                    raise
                return FALLBACK + _dumps((work_id, False, (substitute, text)))


# -- other serializers ---------------------------------------------------------------


class Codec:
    """The messages through another serializer: "cloudpickle" or an object (a module, a
    class, an instance) with dumps(obj) -> bytes and loads(bytes) -> obj.

    Pickles as the serializer itself (a module by its name), so a spawned worker rebuilds
    it: the serializer must be importable there.
    """

    __slots__ = ("serializer", "dumps", "loads")

    def __init__(self, serializer: Any) -> None:
        self.serializer = serializer  # "cloudpickle", or the user's object
        if isinstance(serializer, str):  # "cloudpickle": the only name make_codec passes
            try:
                import cloudpickle  # type: ignore[import-not-found]  # the optional extra
            except ImportError as exc:
                raise ImportError(CLOUDPICKLE_MISSING) from exc
            self.dumps: Dumps = cloudpickle.dumps
            self.loads: Callable[[Any], Any] = pickle.loads  # what cloudpickle.loads is
        else:
            self.dumps, self.loads = self._checked, serializer.loads

    def _checked(self, obj: Any) -> Frame:
        data = self.serializer.dumps(obj)
        if isinstance(data, bytes):
            return data
        if isinstance(data, (bytearray, memoryview)):
            return bytes(data)
        raise TypeError(f"the serializer's dumps() returned {type(data).__name__}, not bytes")

    def __reduce__(self) -> tuple[Any, ...]:
        serializer = self.serializer
        if isinstance(serializer, type(sys)):  # a module: rebuilt by importing it
            return _module_codec, (serializer.__name__,)
        return Codec, (serializer,)

    def __repr__(self) -> str:
        return f"<Codec {self.serializer!r}>"

    def encode_call(
        self, work_id: int, fn: Callable[..., Any], args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[Frame | None, BaseException | None]:
        return encode_call(work_id, fn, args, kwargs, self.dumps)

    def failure_frame(self, work_id: int, exc: BaseException) -> Frame:
        return failure_frame(work_id, exc, self.dumps)

    def start(self, spawn: Callable[..., Any], ctx: Any, target: Callable[..., None],
              args: tuple[Any, ...]) -> Any:
        """spawn(ctx, target, args), for a pool with this codec. A program read from stdin
        has the __main__ path "<stdin>", which multiprocessing makes a spawned worker run
        (and fail: no such file); this codec sends what __main__ defines by value, so the
        worker needs no __main__: hide the pseudo-path while the worker starts."""
        main = sys.modules.get("__main__")
        path = getattr(main, "__file__", None)
        if (not isinstance(path, str) or not path.startswith("<")
                or ctx.get_start_method() == "fork"):
            return spawn(ctx, target, args)
        del main.__file__  # type: ignore[union-attr]
        try:
            return spawn(ctx, target, args)
        finally:
            main.__file__ = path  # type: ignore[union-attr]

    def decode_result(self, data: bytes) -> tuple[int, bool, Any]:
        """(work_id, ok, value or (exc, text)); raises if the serializer did not rebuild
        that shape (the manager then fails this future alone, never trusts it)."""
        if data[:len(FALLBACK)] == FALLBACK:
            with memoryview(data) as view:
                return loads(view[len(FALLBACK):])  # type: ignore[no-any-return]
        work_id, ok, payload = self.loads(data)
        if not ok:
            error, text = payload
            if not isinstance(error, BaseException) or not isinstance(text, str):
                raise TypeError(
                    f"the serializer's loads() did not rebuild the call's exception: "
                    f"got {type(error).__name__} {error!r:.200}"
                )
        return work_id, ok, payload


def _module_codec(name: str) -> Codec:
    import importlib

    return Codec(importlib.import_module(name))


def make_codec(serializer: object, start_method: str) -> Codec | None:
    """The codec for the constructor's `serializer` (None: the default pickler).

    Raises TypeError or ValueError for a value that is not a serializer, ImportError for
    "cloudpickle" without cloudpickle, TypeError if a spawned worker could not get it.
    """
    if isinstance(serializer, str):
        if serializer == "pickle":
            return None
        if serializer != "cloudpickle":
            raise ValueError(
                f"serializer must be 'pickle', 'cloudpickle' or an object with dumps() "
                f"and loads(), not {serializer!r}"
            )
        return Codec(serializer)
    if not (callable(getattr(serializer, "dumps", None))
            and callable(getattr(serializer, "loads", None))):
        raise TypeError(
            f"serializer must be 'pickle', 'cloudpickle' or an object with dumps() and "
            f"loads() methods, not {type(serializer).__name__}"
        )
    codec = Codec(serializer)
    if start_method != "fork":  # sent to every worker: say so now, not at the first submit
        try:
            pickle.dumps(codec)
        except Exception as exc:
            raise TypeError(
                f"serializer {serializer!r} cannot be sent to {start_method!r} workers "
                f"(define it at module level): {exc}"
            ) from exc
    return codec
