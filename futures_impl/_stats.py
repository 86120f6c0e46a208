"""Snapshots of an executor's state: what the pools' `statistics()` return.

Why: tests and users want to see how busy a pool is (how many workers, how many idle,
how much work waits) without reaching into private fields whose meaning differs between
implementations. A snapshot is taken once, under the pool's lock, and never changes.

How: `Snapshot` is a small immutable record whose fields are its `__slots__`; each
executor has its own subclass (`ThreadPoolStatistics`, and its sibling
`ProcessPoolStatistics` with the process pool's own fields), so comparing, printing
and `as_dict()` come for free.
Nothing is counted per task to fill it: every field is read from state the pool keeps
anyway, so the hot paths pay nothing for it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Snapshot:
    """An immutable record whose fields are the subclass's `__slots__`, in order.

    Compared by type and values, hashable, printable; `as_dict()` gives the fields.
    """

    __slots__: tuple[str, ...] = ()

    def __init__(self, *values: Any) -> None:
        names = self.__slots__
        if len(values) != len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} values ({', '.join(names)})")
        for name, value in zip(names, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is a snapshot: it cannot be changed")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is a snapshot: it cannot be changed")

    def as_dict(self) -> dict[str, Any]:
        """The fields, in order, as a dict."""
        return {name: getattr(self, name) for name in self.__slots__}

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class ThreadPoolStatistics(Snapshot):
    """One look at a ThreadPoolExecutor (`ThreadPoolExecutor.statistics()`).

    Attributes:
        state: `"running"`, `"shut down"` or `"broken"`.
        max_workers: The most threads the pool will start.
        workers: Worker threads alive now.
        idle: The pool's idle credit, at most `workers`: a worker adds one per finished
            call and submit() spends one instead of starting a thread (the stdlib's
            `_idle_semaphore`); exact while nothing runs, an upper bound otherwise.
        queued: Entries in the work queue: calls no worker has taken yet (once the pool
            is shut down, its stop signal may count as one more).
    """

    __slots__ = ("state", "max_workers", "workers", "idle", "queued")

    if TYPE_CHECKING:
        state: str
        max_workers: int
        workers: int
        idle: int
        queued: int


class ProcessPoolStatistics(Snapshot):
    """One look at a ProcessPoolExecutor (`ProcessPoolExecutor.statistics()`).

    Attributes:
        state: `"running"`, `"shut down"` or `"broken"`.
        max_workers: The most worker processes the pool runs at once.
        workers: Worker processes that run or may run calls (not retiring or stopping).
        idle: Of those, the ones holding no call.
        pending: Calls submitted and not settled yet (waiting, sent, or answered and
            about to be settled).
        waiting: Calls no worker holds yet: PENDING, still cancellable (a cancelled one
            counts until dispatch drops it).
        sent: Calls handed to a worker and not answered yet (running, or queued in its
            pipe).
    """

    __slots__ = ("state", "max_workers", "workers", "idle", "pending", "waiting", "sent")

    if TYPE_CHECKING:
        state: str
        max_workers: int
        workers: int
        idle: int
        pending: int
        waiting: int
        sent: int
