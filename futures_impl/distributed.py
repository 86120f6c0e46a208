"""DaskExecutor: the Executor interface over a Dask distributed cluster.

Why: code written against futures_impl (submit, map, wait, as_completed, Parallelized,
AsyncExecutor) should scale from one machine to a cluster without a rewrite. Dask
distributed already schedules Python calls over many machines, retries them when a worker
dies and moves their data; this module only adapts its futures to ours.

How: `submit()` hands the call to `Client.submit(..., pure=False)` (every call runs, as
with a pool) and returns a `futures_impl.Future` linked to the Dask future by two done
callbacks:

- Dask -> ours (runs in Dask's callback thread): "finished" sets our result (fetched with
  `.result()`), "error" our exception, with the remote traceback as its `__cause__` (a
  `RemoteTraceback` whose text is the traceback on the worker, as the process pool does),
  "cancelled" cancels ours.
- ours -> Dask (runs in the thread that cancelled ours): a cancelled future acknowledges
  its cancel (so `wait()`/`as_completed()` count it) and releases its Dask future
  (`Future.release()`): with `pure=False` nobody else wants the key, so the scheduler
  forgets the task (a queued one never runs, a running one's result is dropped). Not
  `Future.cancel()`: that goes by its own RPC, which can overtake the submission still
  in the client's batched stream; the scheduler then ignores the cancel (no such key
  yet) and runs the call anyway. A release travels in the same stream, after it.

Our futures never report `running()`: the client is not told when a worker starts a call,
so a future stays PENDING until it is settled and `cancel()` succeeds until then (Dask
drops a running call's result; the call itself may finish on its worker).

`map(chunksize=N)` sends one Dask task per N calls (a function defined in `map`, so
cloudpickle ships it by value: workers need not install futures_impl) and flattens the
results; timeout, `buffersize` and errors follow `Executor.map`, per chunk.

Only the public API of futures_impl is used. `distributed` is imported when an executor
is created, never at import time (`import futures_impl.distributed` stays cheap and works
without Dask); its objects are typed `Any`.

Shared state, guarded by `DaskExecutor._lock`: `_outstanding` (our future -> Dask future,
written by submitting threads and by Dask's callback thread) and `_shutdown` (written by
`shutdown()`). No callback runs and no future is settled under the lock.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterable, Iterator
from typing import Any, Callable, TypeVar

from ._base import Executor, Future, InvalidStateError, wait

__all__ = ["DaskExecutor", "RemoteTraceback"]

_T = TypeVar("_T")

_MISSING = (
    "futures_impl.distributed needs Dask distributed: pip install 'futures_impl[dask]' "
    "(or pip install distributed)"
)


class RemoteTraceback(Exception):
    """The `__cause__` of an exception raised by a call on a Dask worker.

    `str()` is the traceback formatted where the call ran, so a traceback printed here
    shows both sides (`RemoteTraceback(text)`).
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _import_distributed() -> Any:
    try:
        import distributed  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise ModuleNotFoundError(_MISSING, name="distributed") from exc
    return distributed


def _remote_cause(error: BaseException, tb: Any) -> None:
    """Attach the worker's traceback `tb` (tblib-rebuilt frames) to `error`."""
    if tb is None:  # raised by the scheduler (KilledWorker), not by the call
        return
    text = "".join(traceback.format_exception(type(error), error, tb))
    error.__cause__ = RemoteTraceback(f'\n"""\n{text}"""')


class DaskExecutor(Executor):
    """An Executor whose calls run on a Dask distributed cluster.

    Three ways to get a cluster:

    - `DaskExecutor()`: a `LocalCluster` of worker processes on this machine, one per CPU
      (`futures_impl.cpu_count()`), one thread each; `shutdown()` closes it. Arguments go
      to `distributed.Client`, which passes cluster options on (`n_workers=`,
      `dashboard_address=None`, ...). Needs `if __name__ == "__main__":` like any process
      pool.
    - `DaskExecutor(address="tcp://host:8786")`: a client of a running scheduler (started
      with `dask scheduler`); `shutdown()` closes the client, never the cluster.
    - `DaskExecutor(client=client)`: that client; `shutdown()` leaves it open.

    Calls are pickled with cloudpickle (lambdas and closures work) and run with
    `pure=False`: submitting the same call twice runs it twice. Returned futures are
    `futures_impl.Future`s: `wait()`, `as_completed()`, `Parallelized(executor=...)` and
    `AsyncExecutor` take them. They stay pending until settled (never `running()`), and
    `cancel()` succeeds until then: it cancels the Dask task. A Dask future cancelled
    elsewhere (`client.cancel`) cancels ours. A worker that dies mid-call: Dask runs the
    call again elsewhere, up to `distributed.scheduler.allowed-failures` times (default
    3), then the future fails with `distributed.KilledWorker`.

    Args:
        client: A `distributed.Client` to use (not closed by `shutdown()`).
        address: A scheduler's address, e.g. `"tcp://10.0.0.5:8786"`.
        **client_kwargs: More arguments for `distributed.Client` (and its LocalCluster
            when neither `client` nor `address` is given).

    Raises:
        ModuleNotFoundError: distributed is not installed (the message names the
            `futures_impl[dask]` extra).
        ValueError: both `client` and `address`, or `client` with `client_kwargs`.
    """

    def __init__(self, client: Any = None, address: str | None = None,
                 **client_kwargs: Any) -> None:
        if client is not None and (address is not None or client_kwargs):
            raise ValueError("give either client= or address=/client options, not both")
        distributed = _import_distributed()
        self._owns_client = client is None
        if client is None:
            if address is None:
                from . import cpu_count

                options: dict[str, Any] = {"n_workers": cpu_count(), "threads_per_worker": 1,
                                           "processes": True}
                options.update(client_kwargs)
                client = distributed.Client(**options)
            else:
                client = distributed.Client(address, **client_kwargs)
        self._client: Any = client
        self._lock = threading.Lock()
        self._outstanding: dict[Future[Any], Any] = {}
        self._shutdown = False

    @property
    def client(self) -> Any:
        """The `distributed.Client` the calls go through (for Dask's own API)."""
        return self._client

    def __repr__(self) -> str:
        state = "shut down" if self._shutdown else f"{len(self._outstanding)} outstanding"
        return f"<DaskExecutor {self._client.scheduler.address} {state}>"

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Run `fn(*args, **kwargs)` on a Dask worker; return a Future for its outcome.

        Every keyword goes to `fn` (none is read as a `Client.submit` option); the call
        is submitted with `pure=False`. The Future's exception, when the call raised, has
        the worker's traceback as its `__cause__` (a `RemoteTraceback`).

        Raises:
            RuntimeError: `"cannot schedule new futures after shutdown"`.
        """
        future: Future[_T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if kwargs:  # keyword names such as key= or pure= belong to fn, not to Dask
                import functools

                task = self._client.submit(functools.partial(fn, **kwargs), *args, pure=False)
            else:
                task = self._client.submit(fn, *args, pure=False)
            self._outstanding[future] = task
        future.add_done_callback(self._on_our_done)
        task.add_done_callback(lambda task: self._on_dask_done(future, task))
        return future

    def _on_our_done(self, future: Future[Any]) -> None:
        """Our future is done: forget its Dask future; a cancel goes on to Dask."""
        with self._lock:
            task = self._outstanding.pop(future, None)
        if future.cancelled():
            future.set_running_or_notify_cancel()  # acknowledged: wait() counts it
            if task is not None:
                task.release()  # not cancel(): see the module doc

    def _on_dask_done(self, future: Future[Any], task: Any) -> None:
        """Dask's callback thread: settle `future` from the finished Dask `task`."""
        if future.done():  # cancelled by us meanwhile
            return
        try:
            status = task.status
            if status == "finished":
                future.set_result(task.result())
            elif status == "error":
                error = task.exception()
                _remote_cause(error, task.traceback())
                future.set_exception(error)
            else:
                future.cancel()
        except InvalidStateError:  # cancelled by us while we fetched the outcome
            pass
        except BaseException as error:  # the outcome could not be fetched (connection lost)
            try:
                if task.cancelled():
                    future.cancel()
                else:
                    future.set_exception(error)
            except InvalidStateError:
                pass

    def map(
        self,
        fn: Callable[..., _T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
        buffersize: int | None = None,
    ) -> Iterator[_T]:
        """Like `map(fn, *iterables)`, the calls run on the cluster; results in input order.

        `chunksize=N` sends the calls in batches of N, one Dask task each (much less
        overhead for small calls). Otherwise `Executor.map`'s semantics, per task:
        `timeout` counts from this call and `next()` then raises `TimeoutError` (the
        outstanding tasks are cancelled); an exception raised by a call propagates from
        `next()` when its chunk's turn comes (the results before it in the same chunk
        are not yielded, as with `ProcessPoolExecutor`), and the iterator ends;
        `buffersize` counts tasks (chunks).

        Raises:
            ValueError: `"chunksize must be >= 1."`.
            RuntimeError: after shutdown.
        """
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        if chunksize == 1:
            return super().map(fn, *iterables, timeout=timeout, buffersize=buffersize)

        def run_chunk(chunk: list[tuple[Any, ...]]) -> list[_T]:
            # Defined here so that cloudpickle ships it by value (workers need not import
            # futures_impl); `fn` travels with it.
            return [fn(*args) for args in chunk]

        chunks = super().map(run_chunk, _chunked(zip(*iterables), chunksize),
                             timeout=timeout, buffersize=buffersize)
        return _flatten(chunks)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new calls; optionally cancel and wait for the outstanding ones.

        `cancel_futures=True` cancels every future not yet done (and its Dask task: one
        request for all, running ones included, whose results are dropped). `wait=True`
        returns once every outstanding future is done. An executor that made its own
        client closes it (and its LocalCluster) then; with `wait=False`, a background
        thread closes it once the outstanding futures are done. A client given with
        `client=` stays open. Calling it again is harmless.
        """
        with self._lock:
            first = not self._shutdown
            self._shutdown = True
            outstanding = dict(self._outstanding)
        if cancel_futures:
            for future in outstanding:
                future.cancel()  # and its Dask task, by _on_our_done
        if not (first and self._owns_client):
            if wait:
                _wait_all(list(outstanding))
            return
        if wait or not outstanding:
            _wait_all(list(outstanding))
            self._client.close()
        else:
            closer = threading.Thread(target=self._close_after, args=(list(outstanding),),
                                      name="futures_impl-dask-shutdown", daemon=True)
            closer.start()

    def _close_after(self, futures: list[Future[Any]]) -> None:
        _wait_all(futures)
        self._client.close()

    def __enter__(self) -> DaskExecutor:
        return self


def _wait_all(futures: list[Future[Any]]) -> None:
    if futures:
        wait(futures)


def _chunked(arguments: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for args in arguments:
        chunk.append(args)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _flatten(chunks: Iterator[list[_T]]) -> Iterator[_T]:
    try:
        for chunk in chunks:
            yield from chunk
    finally:  # closing this closes the chunks' iterator, which cancels what is left
        chunks.close()  # type: ignore[attr-defined]  # Executor.map returns a generator
