"""The future a process pool hands out when an option needs the future to reach its pool.

A plain `_base.Future` knows nothing of its executor (as in the stdlib), and the default
pool hands out plain ones. With `cancel_running=True`, cancel() on a RUNNING call must ask
the pool to stop the worker running it: `PoolFuture.cancel()` does, through
`robust.cancel_running_call()`, which kills that worker (the pool replaces it), and the future ends
cancelled (`_base._cancel_running`: RUNNING -> CANCELLED_AND_NOTIFIED). A PENDING call is
cancelled as usual, with no worker touched.

The future holds its pool (not the executor, so an abandoned executor is still collected)
and its work id. Lock order: cancel() takes the pool's lock first and the future's after
(the order of docs/design.md), never the other way round.
"""

from __future__ import annotations

from .. import _base

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from .pool import _Pool

    _T = TypeVar("_T")
else:
    _T = "_T"  # as in _base: typing stays unimported at run time


class PoolFuture(_base.Future[_T]):
    """A Future whose cancel() can stop a running call (cancel_running=True pools)."""

    # Written once by the pool before the future is handed out; read-only after.
    _pool: _Pool
    _work_id: int

    def cancel(self) -> bool:
        """Cancel the call: a pending one as usual; a running one by killing the worker
        that runs it (the pool replaces it). False once the call has finished."""
        if super().cancel():
            return True
        if self._state != _base.RUNNING:
            return False
        from .robust import cancel_running_call  # deferred: the pool's machinery

        return cancel_running_call(self._pool, self)


def new_future(pool: _Pool, work_id: int) -> _base.Future[Any]:
    future: PoolFuture[Any] = PoolFuture()
    future._pool = pool
    future._work_id = work_id
    return future
