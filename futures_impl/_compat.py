"""Machinery that exists only so that code written against the stdlib's internals works.

Why: nothing in futures_impl needs these. CPython's own test suites and user code reach
into `concurrent.futures._base` for them, so `_base` re-exports each one under the
stdlib's name (`futures_impl._base.X` stays importable), and this module keeps them out
of the way of the Future state machine:

- `_FutureCondition`: what `Future._condition` returns. The stdlib's Future owns a
  threading.Condition; the suites set a state under `with f._condition:` and call
  `notify_all()`, and the stdlib's own wait()/as_completed() lock our futures through it.
  Here it is a stateless view over the future's RLock and gates (docs/design.md, §2).
- `_AcquireFutures`: hold the locks of several futures at once, in one global order.
- `done_and_not_done_class()`: builds `DoneAndNotDoneFutures`, the stdlib's
  collections.namedtuple, on first use (building one costs more than importing `_base`).

How: a leaf module. It imports nothing from this package, so no cycle can go through it;
`_base` loads it on first use (`_base._load_compat`), so `import futures_impl` pays
nothing for it. It reaches a future only through the private methods it names (`_lock`,
`_add_gate_locked`, `_park`, `_wake_locked`).
"""

from __future__ import annotations

import _thread
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (slow to import)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Callable


def _lock_method(name: str) -> Any:
    # `cond.<name>` is the lock's own C method, so `with f._condition:` acquires in C, with
    # no Python frame (where a signal could land) between acquiring and entering the block.
    return property(lambda cond: getattr(cond._lock, name))


class _FutureCondition:
    """The threading.Condition interface, over a Future's own lock and gates.

    Stateless: every instance for the same future behaves as the same condition, so there
    is nothing to create lazily and no race in creating it.
    """

    __slots__ = ("_future", "_lock")

    def __init__(self, future: Any) -> None:
        self._future = future
        self._lock = future._lock

    acquire = _lock_method("acquire")
    release = _lock_method("release")
    __enter__ = _lock_method("__enter__")
    __exit__ = _lock_method("__exit__")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._future!r}>"

    def wait(self, timeout: float | None = None) -> bool:
        if not self._lock._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        future = self._future
        return future._park(future._add_gate_locked(), timeout)  # type: ignore[no-any-return]

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            self.wait(left)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        if not self._lock._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._future._wake_locked(n)

    def notify_all(self) -> None:
        self.notify(-1)


class _AcquireFutures:
    """Hold the locks of several futures at once, always taken in the same global order
    (by id) so that two threads locking overlapping sets cannot deadlock.

    For code that needs one consistent view of many futures. wait() and as_completed() do
    not: they register on one future at a time (see _base._register).
    """

    def __init__(self, futures: Iterable[Any]) -> None:
        self.futures = sorted(futures, key=id)

    def __enter__(self) -> None:
        for future in self.futures:
            future._condition.acquire()

    def __exit__(self, *exc_info: object) -> None:
        for future in self.futures:
            future._condition.release()


# Guards the one-time build below; never held while taking another lock.
_build_lock = _thread.allocate_lock()
_done_and_not_done_futures: Any = None


def done_and_not_done_class(module: str) -> Any:
    """wait()'s answer type, `collections.namedtuple("DoneAndNotDoneFutures", "done
    not_done")` exactly as the stdlib's (so `_make`, `_replace`, `__match_args__`, pickling
    and the error messages are those of the running Python), with `__module__` set to
    `module` (where pickle finds it). Built once, on first use."""
    global _done_and_not_done_futures
    with _build_lock:
        if _done_and_not_done_futures is None:
            import collections

            namedtuple: Any = collections.namedtuple
            _done_and_not_done_futures = namedtuple(
                "DoneAndNotDoneFutures", "done not_done", module=module
            )
        return _done_and_not_done_futures
