"""Worker lifecycle hooks: each worker's state object and its exit hook (issue 14).

A pool created with `worker_state=` or `worker_exit=` sends every worker the pair
`(worker_state, worker_exit)`: as objects to a forked worker, as bytes (pickled by the
pool's serializer when it is created, so a bad hook fails there and, with cloudpickle,
lambdas work) to a spawned one. In the worker, `start()` runs after the initializer: it
calls worker_state() once and keeps the result in `_state`; `leave()` calls
worker_exit(state) when the worker leaves normally (the stop frame at shutdown, or
retired by max_tasks_per_child; not when killed or when the parent is gone).
A worker_state() that raises is the initializer's case: logged, the worker exits, the
pool breaks. A worker_exit() that raises is logged; the pool goes on.

`worker_state()` and `pass_worker_state` are public (as `futures_impl.process`'s).
Module globals, written only by the worker's one thread (worker_main): `_in_worker`,
`_state`. Runs in every worker: imports nothing heavy (logging only when a hook fails).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Hooks = tuple[Callable[[], Any] | None, Callable[[Any], object] | None]

_NO_STATE: Any = object()  # `_state` of a worker whose pool has no worker_state
_in_worker = False  # this process is a pool's worker (set by worker_main)
_state: Any = _NO_STATE


def worker_state() -> Any:
    """The calling worker's state: what the pool's `worker_state` callable returned in it.

    Raises RuntimeError outside a worker process, or when the pool has no worker_state.
    """
    if _state is _NO_STATE:
        if not _in_worker:
            raise RuntimeError(
                "worker_state() is only available in a ProcessPoolExecutor worker process"
            )
        raise RuntimeError(
            "this worker has no state: create the ProcessPoolExecutor with "
            "worker_state=<a callable returning the state>"
        )
    return _state


class pass_worker_state:  # noqa: N801 - a function-like public name
    """`pass_worker_state(fn)`: a picklable callable; the worker calls fn(state, *args,
    **kwargs) with its state (see worker_state()). Also a decorator for module-level
    functions (pickled then by the decorated name)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise TypeError("pass_worker_state() needs a callable")
        self.__wrapped__ = fn
        for name in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                setattr(self, name, getattr(fn, name))
            except AttributeError:
                pass

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(worker_state(), *args, **kwargs)

    def __reduce__(self) -> Any:
        # Decorated: the module's name is this wrapper (the function has no name of its
        # own to be pickled by), so pickle the wrapper by that name.
        module = sys.modules.get(getattr(self, "__module__", ""))
        found: Any = module
        for part in str(getattr(self, "__qualname__", "<>")).split("."):
            found = getattr(found, part, None)
        if found is self:
            return self.__qualname__
        return pass_worker_state, (self.__wrapped__,)

    def __repr__(self) -> str:
        return f"pass_worker_state({self.__wrapped__!r})"


def start(sent: Hooks | bytes, loads: Callable[[bytes], Any]) -> Hooks:
    """In a new worker, after its initializer: compute its state. Exits if that fails."""
    global _state
    hooks: Hooks = loads(sent) if isinstance(sent, bytes) else sent
    make_state, _ = hooks
    if make_state is not None:
        try:
            _state = make_state()
        except BaseException:  # noqa: BLE001 - logged, then the pool is broken
            _log("critical", "Exception in worker_state:")
            sys.exit(1)  # as a failing initializer: the parent breaks the pool
    return hooks


def leave(hooks: Hooks) -> None:
    """The worker is leaving normally: run worker_exit(state); log what it raises."""
    _, on_exit = hooks
    if on_exit is None:
        return
    try:
        on_exit(None if _state is _NO_STATE else _state)
    except BaseException:  # noqa: BLE001 - logged; the worker still exits cleanly
        _log("error", "Exception in worker_exit:")


def _log(level: str, message: str) -> None:
    import logging

    getattr(logging.getLogger("concurrent.futures"), level)(message, exc_info=True)


def prepare(make_state: Any, on_exit: Any, dumps: Callable[[Any], bytes | memoryview],
            start_method: str) -> Hooks | bytes | None:
    """The constructor's worker_state and worker_exit, checked, as sent to each worker:
    None (no hooks), the pair (fork), or the pair pickled by `dumps` (spawn, forkserver)."""
    for name, hook in (("worker_state", make_state), ("worker_exit", on_exit)):
        if hook is not None and not callable(hook):
            raise TypeError(f"{name} must be a callable or None, not {type(hook).__name__}")
    if make_state is None and on_exit is None:
        return None
    pair: Hooks = (make_state, on_exit)
    if start_method == "fork":
        return pair
    try:
        return bytes(dumps(pair))
    except Exception as exc:
        raise TypeError(
            f"worker_state/worker_exit cannot be sent to {start_method!r} workers (define "
            f"them at module level, or use serializer='cloudpickle'): {exc}"
        ) from exc
