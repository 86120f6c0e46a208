"""map(..., chunksize=n) on the parent side: arguments cut into chunks, results flattened.

Each chunk of argument tuples is one call item (`worker.process_chunk` runs it in the
worker); the chunks' results come back as lists and are yielded one by one, in order.
"""

from __future__ import annotations

import itertools

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any, TypeVar

    _T = TypeVar("_T")


def chunks(iterables: tuple[Iterable[Any], ...], size: int) -> Iterator[tuple[Any, ...]]:
    arguments = zip(*iterables)
    while True:
        chunk = tuple(itertools.islice(arguments, size))
        if not chunk:
            return
        yield chunk


def flatten(chunks: Iterator[list[_T]]) -> Iterator[_T]:
    """Yield each chunk's results in order, holding no reference to yielded ones."""
    try:
        for chunk in chunks:
            chunk.reverse()
            while chunk:
                yield chunk.pop()
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
