"""Opt-in: log the exception of a failed Future nobody read (`log_unretrieved=True`).

Why: a call submitted and forgotten (`executor.submit(f)` with the future dropped) that
raises fails in silence. asyncio logs such a task's exception when the future is
collected ("Future exception was never retrieved"); this does the same for an
executor made with `log_unretrieved=True` (ThreadPoolExecutor, ProcessPoolExecutor).

What counts, as in asyncio: a future is "retrieved" once result() or exception() has
returned its outcome (result() raising the call's exception counts; a TimeoutError or
CancelledError does not). A done-callback alone does not count (asyncio's rule too);
one that calls f.exception() or f.result() does. When a FINISHED future with an
exception and never retrieved is collected, one ERROR record goes to the
"concurrent.futures" logger (`_base.LOGGER` if assigned), with the exception's
traceback. Cancelled and successful futures log nothing. A finalizer runs at most once
per object (PEP 442), so a future logs at most once.

How, at no cost when off: the default Future class has no __del__ and its methods are
untouched. A thread pool with the option gets, on its instance, a submit() that calls
the one it would have used and then switches the future's class to a subclass of it
with __del__ and result()/exception() that mark the future read. The subclass adds no
slots (Future keeps a __dict__), so the switch is a plain `__class__` assignment, and
it keeps the name of the class it extends (repr() unchanged); one such subclass per
future class (PoolFuture & co. keep their cancel()). The switch happens before
submit() returns: nobody can have read the future yet, whatever its worker did
meanwhile. The instance's wrapper holds the executor weakly, so the executor is still
freed at once when dropped. A process pool has a hook for this already: its future
factory (`_new_future`, used by submit, submit_with and map) is wrapped to switch
each new future before it is queued.
"""

from __future__ import annotations

import weakref

from . import _base

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    _FutureBase = _base.Future[Any]
else:
    _FutureBase = _base.Future

_MESSAGE = "Future exception was never retrieved\nfuture: %r"


class _Unretrieved(_FutureBase):
    """Mixin (first in the bases of each generated class): marks reads, logs on
    collection. Its flag `_retrieved` is written by the reading threads (a plain
    False -> True store; a lost race only means both readers saw the outcome)."""

    __slots__ = ()
    _retrieved = False

    def result(self, timeout: float | None = None) -> Any:
        try:
            value = super().result(timeout)
        except BaseException as exc:
            if exc is self._exception:
                self._retrieved = True
            raise
        self._retrieved = True
        return value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        exc = super().exception(timeout)
        self._retrieved = True
        return exc

    def __del__(self) -> None:
        exc = self._exception
        if exc is None or self._retrieved:  # an exception is only ever set FINISHED
            return
        try:
            _base._get_logger().error(
                _MESSAGE, self, exc_info=(type(exc), exc, exc.__traceback__)
            )
        except Exception:  # noqa: S110 - interpreter teardown: nowhere left to report
            pass


# future class -> its logging subclass. Written by the first executor that needs one (a
# race only builds the same class twice; either is fine).
_classes: dict[type, type] = {}


def logging_class(cls: type) -> type:
    """The subclass of the future class `cls` that logs unretrieved exceptions."""
    made = _classes.get(cls)
    if made is None:
        if issubclass(cls, _Unretrieved):
            return cls
        made = type(cls.__name__, (_Unretrieved, cls), {"__slots__": ()})
        made.__qualname__ = cls.__qualname__
        made.__module__ = cls.__module__
        _classes[cls] = made
    return made


def hand_out_logging_futures(executor: object, method: str) -> None:
    """Make `executor.<method>` (which returns a new Future) return logging futures."""
    # Another option's wrapper already on the instance (copy_context, max_pending): wrap
    # that one (it holds the executor weakly too); else the class's method.
    wrapped: Callable[..., _base.Future[Any]] | None = vars(executor).get(method)
    unbound: Callable[..., _base.Future[Any]] = getattr(type(executor), method)
    executor_ref = weakref.ref(executor)

    def handing_out(*args: Any, **kwargs: Any) -> _base.Future[Any]:
        if wrapped is not None:
            future = wrapped(*args, **kwargs)
        else:
            owner = executor_ref()
            if owner is None:  # only a saved bound method outlives its executor
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = unbound(owner, *args, **kwargs)
        future.__class__ = logging_class(type(future))
        return future

    handing_out.__name__ = method
    handing_out.__doc__ = unbound.__doc__
    setattr(executor, method, handing_out)


def logging_factory(
    inner: Callable[[Any, int], _base.Future[Any]] | None,
) -> Callable[[Any, int], _base.Future[Any]]:
    """A process pool's future factory (`_new_future(pool, work_id)`, None for plain
    futures) whose futures log unretrieved exceptions."""

    def new_future(pool: Any, work_id: int) -> _base.Future[Any]:
        future: _base.Future[Any] = _base.Future() if inner is None else inner(pool, work_id)
        future.__class__ = logging_class(type(future))
        return future

    return new_future
