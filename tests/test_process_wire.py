"""The process pool's wire format against multiprocessing.connection.Connection (issue 13).

`futures_impl._process.wire` writes short frames itself and reads every frame itself,
while long frames are written by `Connection.send_bytes`: the two must frame alike on
every interpreter. Checked here: the header `wire.header()` makes is the one `Connection`
writes (at the 2 GiB boundary too, without writing 2 GiB: a Connection whose `_send`
records what it is given, fed an untouched anonymous mapping); frames written by one side
are read by the other over a real pipe, a multi-MiB one included; the long header form is
read by both (constructed for a short frame, which Connection accepts too).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import pytest

from futures_impl._process import wire

BOUND = 60.0
BOUNDARY = 0x7FFFFFFF  # longer frames get the 12-byte header
SIZES = [0, 1, 4, 255, 4096, 16384, 16385, wire.READ_SIZE, wire.READ_SIZE + 1, 3 << 20]


class Recording(Connection):
    """A write end that records what Connection would write, keeping only chunk heads."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        os.close(read_fd)
        super().__init__(write_fd, readable=False)
        self.heads: list[bytes] = []

    def _send(self, buf: Any, write: Any = None) -> None:  # type: ignore[override]
        with memoryview(buf) as view:
            self.heads.append(bytes(view[:12]))  # never copies a big payload

    def written_prefix(self, n: int) -> bytes:
        return b"".join(self.heads)[:n]


def connection_header(payload: Any) -> bytes:
    conn = Recording()
    try:
        conn.send_bytes(payload)
        size = len(memoryview(payload))
        return conn.written_prefix(len(wire.header(size)))
    finally:
        conn.close()


@pytest.mark.parametrize("size", SIZES)
def test_header_is_connections(size: int) -> None:
    assert wire.header(size) == connection_header(b"\x07" * size)
    assert wire.framed(b"\x07" * size)[:4] == wire.header(size)


def test_header_at_the_long_frame_boundary() -> None:
    # The largest short frame and the smallest long one, as Connection frames them. The
    # mapping is anonymous and never touched, so no memory is used for its pages.
    try:
        mapping = mmap.mmap(-1, BOUNDARY + 1)
    except (OSError, OverflowError, ValueError, MemoryError) as exc:  # pragma: no cover
        pytest.skip(f"cannot map 2 GiB of address space here: {exc}")
    try:
        with memoryview(mapping) as view:
            with view[:BOUNDARY] as short:
                assert wire.header(BOUNDARY) == connection_header(short)
            assert wire.header(BOUNDARY + 1) == connection_header(view)
    finally:
        mapping.close()
    assert len(wire.header(BOUNDARY)) == 4
    assert len(wire.header(BOUNDARY + 1)) == 12


@pytest.mark.parametrize("size", [BOUNDARY, BOUNDARY + 1, 1 << 40])
def test_parse_header_reads_both_forms(size: int) -> None:
    head = wire.header(size)
    assert wire.parse_header(head) == (size, len(head))
    assert wire.parse_header(b"??" + head, 2) == (size, 2 + len(head))
    for cut in range(len(head)):  # a header not yet whole
        assert wire.parse_header(head[:cut]) is None
    assert wire.missing(head) == size


LONG_FORM_SHORT_FRAME = (-1).to_bytes(4, "big", signed=True) + (5).to_bytes(8, "big") + b"hello"


def test_the_long_form_is_read_alike() -> None:
    """The 12-byte header, constructed for a 5-byte frame: Connection reads it, and so do
    wire.split() and wire.reader()."""
    read_fd, write_fd = os.pipe()
    receiver = Connection(read_fd, writable=False)
    try:
        os.write(write_fd, LONG_FORM_SHORT_FRAME)
        assert receiver.recv_bytes() == b"hello"
        assert wire.split(LONG_FORM_SHORT_FRAME + b"\0\0") == ([b"hello"], 17)
        os.write(write_fd, LONG_FORM_SHORT_FRAME)
        assert next(wire.reader(read_fd)) == b"hello"
    finally:
        receiver.close()
        os.close(write_fd)


def test_split_keeps_a_partial_frame() -> None:
    stream = b"".join(wire.framed(bytes([i]) * i) for i in range(1, 6))
    for cut in range(len(stream) + 1):
        frames, pos = wire.split(stream[:cut])
        rest = stream[pos:cut]
        assert b"".join(wire.framed(f) for f in frames) == stream[:pos]
        assert wire.split(rest)[0] == []  # the rest is an incomplete frame
    assert wire.split(stream) == ([bytes([i]) * i for i in range(1, 6)], len(stream))


def _payloads() -> list[bytes]:
    return [os.urandom(size) if size < 1 << 20 else bytes(range(256)) * (size // 256)
            for size in SIZES]


@contextlib.contextmanager
def _beside(target: Any) -> Iterator[None]:
    """Run `target` beside the caller (the pipe fills up: the other end must read)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    thread.join(BOUND)
    assert not thread.is_alive(), "the writer hung"
    if errors:
        raise errors[0]


def test_our_frames_read_by_connection() -> None:
    read_fd, write_fd = os.pipe()
    receiver = Connection(read_fd, writable=False)
    writer = Connection(write_fd, readable=False)
    payloads = _payloads()

    def write() -> None:
        send = wire.sender(writer)  # inline frames up to READ_SIZE, then send_bytes
        for data in payloads:
            send(data)
        # Several short frames in one write, as the parent sends calls.
        os.write(write_fd, b"".join(wire.framed(d) for d in (b"a", b"", b"bc")))

    try:
        with _beside(write):
            received = [receiver.recv_bytes() for _ in payloads]
            assert received == payloads
            assert [receiver.recv_bytes() for _ in range(3)] == [b"a", b"", b"bc"]
    finally:
        receiver.close()
        writer.close()


def test_connection_frames_read_by_us() -> None:
    read_fd, write_fd = os.pipe()
    writer = Connection(write_fd, readable=False)
    payloads = _payloads()

    def write() -> None:
        for data in payloads:
            writer.send_bytes(data)
        writer.close()

    frames = wire.reader(read_fd)
    try:
        with _beside(write):
            assert [next(frames) for _ in payloads] == payloads
            with pytest.raises(EOFError):
                next(frames)
    finally:
        os.close(read_fd)


def test_messages_round_trip() -> None:
    frame, error = wire.encode_call(7, divmod, (7, 2), {})
    assert error is None and frame is not None
    assert wire.loads(frame) == (7, divmod, (7, 2), {})
    assert wire.loads(bytes(wire.dumps((7, True, (3, 1))))) == (7, True, (3, 1))
    work_id, ok, (exc, text) = wire.loads(bytes(wire.failure_frame(8, KeyError("k"))))
    assert (work_id, ok, type(exc), exc.args) == (8, False, KeyError, ("k",))
    assert text.startswith('\n"""\n') and "KeyError: 'k'" in text
    frame, error = wire.encode_call(9, lambda: None, (), {})  # a lambda will not pickle
    assert frame is None and error is not None and error.__traceback__ is None
    assert "Traceback" in str(error.__cause__)
