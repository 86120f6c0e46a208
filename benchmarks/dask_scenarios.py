"""The Dask rows (issue 18): DaskExecutor against process pools and against Dask itself.

On demand only: ``python -m benchmarks -k dask`` (``catalog.DASK_ROWS`` are not in the
default run, nor in the smoke test); a side raises ``Skip`` when ``distributed`` is not
installed. The two columns are not always the stdlib and futures_impl here, so every row
says what its columns are (``catalog``'s notes):

- ``dask_map_vs_stdlib_pool`` / ``dask_map_vs_our_pool``: ``map`` of N tiny calls
  (``ident``), ``chunksize=100``: a stdlib (resp. futures_impl) ``ProcessPoolExecutor(2)``
  in the first column, ``DaskExecutor`` on a ``LocalCluster`` of 2 worker processes (1
  thread each) in the second.
- ``dask_submit_result`` / ``dask_submit_batch``: the wrapper's cost per call, on the same
  client: Dask's own ``client.submit(..., pure=False)`` then ``.result()`` in the first
  column, ``DaskExecutor(client=...).submit`` then ``.result()`` in the second; one call at
  a time (latency), or N submitted then N results (throughput).

Setup is not timed: the cluster starts once per measuring process (and is reused by its
warm-up and repetitions), pools are created and primed before the clock starts.
"""

from __future__ import annotations

from typing import Any, Callable

from ._tasks import ident
from .scenarios import PROCS, Result, Skip, _process_pool, now

CHUNKSIZE = 100
_client: Any = None


def _dask_client() -> Any:
    """One LocalCluster (PROCS worker processes, 1 thread each) per measuring process."""
    global _client
    if _client is None:
        try:
            import distributed
        except ImportError:
            raise Skip("distributed is not installed (pip install 'futures_impl[dask]')") from None
        import logging

        cluster = distributed.LocalCluster(
            n_workers=PROCS, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0", silence_logs=logging.ERROR,
        )
        _client = distributed.Client(cluster, set_as_default=False)
        _client.wait_for_workers(PROCS, timeout=60)
    return _client


def _dask_executor() -> Any:
    from futures_impl.distributed import DaskExecutor

    return DaskExecutor(client=_dask_client())


def _pool_map(ex: Any, n: int) -> Result:
    try:
        t0 = now()
        for _ in ex.map(ident, range(n), chunksize=CHUNKSIZE):
            pass
        t = now() - t0
    finally:
        ex.shutdown(wait=True)
    return t, n


def _dask_map(n: int) -> Result:
    ex = _dask_executor()
    ex.submit(ident, 0).result(60)  # the workers have imported the task's module
    return _pool_map(ex, n)


def dask_map_vs_stdlib_pool(api: Any, n: int) -> Result:
    if api.side == "stdlib":
        return _pool_map(_process_pool(api), n)
    return _dask_map(n)


def dask_map_vs_our_pool(api: Any, n: int) -> Result:
    if api.side == "stdlib":
        import futures_impl

        return _pool_map(_process_pool(futures_impl), n)
    return _dask_map(n)


def _submitter(api: Any) -> Callable[..., Any]:
    client = _dask_client()
    if api.side == "stdlib":
        return lambda fn, arg: client.submit(fn, arg, pure=False)
    return _dask_executor().submit  # type: ignore[no-any-return]


def dask_submit_result(api: Any, n: int) -> Result:
    submit = _submitter(api)
    submit(ident, 0).result(60)
    t0 = now()
    for i in range(n):
        submit(ident, i).result()
    return now() - t0, n


def dask_submit_batch(api: Any, n: int) -> Result:
    submit = _submitter(api)
    submit(ident, 0).result(60)
    t0 = now()
    fs = [submit(ident, i) for i in range(n)]
    for f in fs:
        f.result()
    return now() - t0, n


FUNCTIONS: dict[str, Callable[[Any, int], Result]] = {
    f.__name__: f
    for f in (dask_map_vs_stdlib_pool, dask_map_vs_our_pool, dask_submit_result,
              dask_submit_batch)
}
