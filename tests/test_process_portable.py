"""The process pool's portable path (issue 17: a pool that is not Linux-only).

On Windows the pool must use only multiprocessing connections and process sentinels,
waited on with multiprocessing.connection.wait (docs/process.md, "The portable path").
Windows cannot run here, so these tests force that path on Linux (FUTURES_IMPL_PORTABLE=1,
read when a pool is created) and check that it really is taken: no raw pipe fd is read or
written on either side, and the wake-up is a connection. `nox -s portable` runs every
tests/test_process_*.py file and the conformance run with the switch set.
"""

from __future__ import annotations

import concurrent.futures as std_futures
import concurrent.futures.process  # noqa: F401 - std_futures.process is not loaded lazily
import multiprocessing
import os
from types import SimpleNamespace
from typing import Any

import _process_helpers as helpers
import pytest

from futures_impl._process import manager as _process_manager
from futures_impl._process import pool as _process_pool
from futures_impl._process import portable, wire
from futures_impl.process import BrokenProcessPool, ProcessPoolExecutor

BOUND = 60.0
METHODS = [m for m in ("fork", "forkserver", "spawn")
           if m in multiprocessing.get_all_start_methods()]


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(portable.ENV, "1")


def _no_raw_fd_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every raw pipe read/write of the parent's manager and pool, and of the wire
    helpers (inherited by fork workers), fail loudly: the portable path must not use them."""
    def refuse(*_args: Any) -> Any:
        raise AssertionError("raw fd I/O on the portable path")

    for module in (_process_manager, _process_pool, wire):
        stub = SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("_")})
        stub.read = stub.write = stub.pipe = refuse
        monkeypatch.setattr(module, "os", stub)


def _shutdown(ex: Any) -> None:
    ex.shutdown(wait=False, cancel_futures=True)
    for p in list((ex._processes or {}).values()):
        p.join(BOUND)
    ex.shutdown(wait=True)


def test_default_path_on_linux_is_not_portable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(portable.ENV, raising=False)
    assert portable.wanted() is False
    monkeypatch.setenv(portable.ENV, "1")
    assert portable.wanted() is True


@pytest.mark.parametrize("method", METHODS)
def test_portable_path_uses_connections_only(method: str, forced: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Small calls (inline writes), a large one (the writer thread), chunked map: the
    same results as the stdlib's, with every raw fd read/write refused."""
    _no_raw_fd_io(monkeypatch)
    ctx = multiprocessing.get_context(method)
    big = b"z" * (1 << 20)
    ex = ProcessPoolExecutor(2, mp_context=ctx)
    try:
        assert ex._pool.portable
        assert ex._pool.wakeup._conns is not None  # the wake-up is a connection pair
        got = (list(ex.map(helpers.square, range(200))),
               list(ex.map(helpers.square, range(200), chunksize=16)),
               ex.submit(helpers.length, big).result(BOUND),
               ex.submit(helpers.identity, big).result(BOUND) == big)
    finally:
        _shutdown(ex)
    with std_futures.ProcessPoolExecutor(2, mp_context=ctx) as std:
        want = (list(std.map(helpers.square, range(200))),
                list(std.map(helpers.square, range(200), chunksize=16)),
                std.submit(helpers.length, big).result(BOUND),
                std.submit(helpers.identity, big).result(BOUND) == big)
    assert got == want


@pytest.mark.parametrize("limit", [None, 0])
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_dead_worker_breaks_the_pool_on_the_portable_path(
        method: str, limit: int | None, forced: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that dies breaks the pool, as in the stdlib; with limit 0 the manager
    cannot wait on all its handles at once (a Windows Python before 3.12 with more than
    63) and looks at the sentinels in batches."""
    if limit is not None:
        monkeypatch.setattr(_process_manager, "_WAIT_LIMIT", limit)
    ctx = multiprocessing.get_context(method)
    outcomes = []
    for kind in (std_futures.ProcessPoolExecutor, ProcessPoolExecutor):
        ex = kind(1, mp_context=ctx)
        try:
            assert ex.submit(helpers.square, 3).result(BOUND) == 9
            future = ex.submit(helpers.exit_now, 3)
            with pytest.raises(Exception) as info:
                future.result(BOUND)
            outcomes.append(type(info.value).__name__)
            with pytest.raises(Exception) as again:
                ex.submit(helpers.square, 1).result(BOUND)
            outcomes.append(type(again.value).__name__)
        finally:
            ex.shutdown(wait=True)
    assert outcomes[:2] == outcomes[2:] == [BrokenProcessPool.__name__] * 2


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_retired_workers_leave_cleanly_with_batched_sentinels(
        method: str, forced: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """max_tasks_per_child on the portable path with the sentinels looked at in batches:
    each retired worker is reaped, a new one takes over."""
    import multiprocessing.connection as mp_connection

    monkeypatch.setattr(_process_manager, "_WAIT_LIMIT", 0)
    real_wait, looks = mp_connection.wait, []

    def wait(objects: Any, timeout: Any = None) -> Any:
        if timeout == 0 and len(objects) == 1 and isinstance(objects[0], int):
            looks.append(objects[0])  # a sentinel looked at without blocking
        return real_wait(objects, timeout)

    monkeypatch.setattr(mp_connection, "wait", wait)
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(2, mp_context=ctx, max_tasks_per_child=2) as ex:
        pids = {pid for _, pid in ex.map(helpers.getpid_after, range(12))}
    assert looks  # the batched way was taken
    # (not compared with the stdlib: its map() can hang with max_tasks_per_child, gh-115634)
    assert len(pids) >= 6  # 12 calls, at most 2 per worker
