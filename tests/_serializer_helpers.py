"""Serializers and calls for tests/test_process_serializer.py (importable by spawned workers)."""

from __future__ import annotations

import io
import pickle
from typing import Any


class Tagged:
    """pickle behind a tag: a frame written or read by the default pickler instead fails,
    so every call, result and exception that arrives intact went through this object."""

    TAG = b"TAGGED:"

    def dumps(self, obj: Any) -> bytes:
        return self.TAG + pickle.dumps(obj)

    def loads(self, data: bytes) -> Any:
        data = bytes(data)
        if not data.startswith(self.TAG):
            raise ValueError("not a Tagged frame")
        return pickle.loads(data[len(self.TAG):])


TAGGED = Tagged()


class _NoExceptionsPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BaseException):
            raise TypeError("this serializer refuses exceptions")
        return NotImplemented


class NoExceptions:
    """A serializer that cannot write any exception (its own errors included)."""

    @staticmethod
    def dumps(obj: Any) -> bytes:
        buf = io.BytesIO()
        _NoExceptionsPickler(buf).dump(obj)
        return buf.getvalue()

    @staticmethod
    def loads(data: bytes) -> Any:
        return pickle.loads(data)


class ReturnsText:
    """dumps() returns str: not a serializer for a pipe."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return repr(obj)

    @staticmethod
    def loads(data: bytes) -> Any:
        raise AssertionError("never reached")


def fail_with(message: str) -> None:
    raise ValueError(message)


def twice(x: int) -> int:
    return 2 * x


class ExceptionsAsText:
    """Brings a failed call's exception back as its repr (as a JSON serializer would):
    the parent must not take that text for an exception."""

    @staticmethod
    def dumps(obj: Any) -> bytes:
        if isinstance(obj, tuple) and len(obj) == 3 and obj[1] is False:
            work_id, _, (exc, text) = obj
            obj = (work_id, False, (repr(exc), text))
        return pickle.dumps(obj)

    @staticmethod
    def loads(data: bytes) -> Any:
        return pickle.loads(data)
