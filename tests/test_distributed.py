"""DaskExecutor on a real Dask cluster: futures_impl's Futures settled from Dask's.

One LocalCluster per xdist worker (module scope): 2 worker processes of 1 thread on
127.0.0.1, no dashboard, `allowed-failures` 1 (so a worker killed once is retried and a
call that kills every worker it runs on fails after two deaths). Workers are blocked
with Dask `Event`s (tests/_dask_tasks.py), never with sleeps; every blocking call has a
timeout. One test deploys a cluster the way a user does: `dask scheduler` and two
`dask worker` commands, the executor given only the address.

Skipped when `distributed` is not installed (the `dask` extra; Python 3.10+). Importing
futures_impl.distributed without Dask is tests/test_distributed_import.py's (all versions).
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    import dask
    import distributed
except ImportError:
    pytest.skip(
        "Dask distributed is not installed (pip install 'futures_impl[dask]'; it supports "
        "Python 3.10+, so the extra installs nothing on 3.9)",
        allow_module_level=True,
    )

import _dask_tasks as tasks

import futures_impl
import futures_impl.aio
from futures_impl.distributed import DaskExecutor, RemoteTraceback
from futures_impl.parallel import Parallelized

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60  # seconds, for any one blocking call on the loaded machine


@pytest.fixture(scope="module", autouse=True)
def dask_pickling() -> Iterator[None]:
    """Dask's process-wide pickling of exceptions (tblib, installed by `import distributed`)
    for this module's tests only: conftest undid it after collection, and it is undone again
    after them, so other modules' fork-started workers pickle as without Dask."""
    import copyreg

    import tblib.pickling_support

    saved = dict(copyreg.dispatch_table)
    tblib.pickling_support.install()
    try:
        yield
    finally:
        copyreg.dispatch_table.clear()
        copyreg.dispatch_table.update(saved)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0",
        )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close(timeout=TIMEOUT)
        cluster.close(timeout=TIMEOUT)


@pytest.fixture
def executor(client: Any) -> Iterator[DaskExecutor]:
    client.wait_for_workers(2, timeout=TIMEOUT)  # a killed worker is back (its nanny)
    ex = DaskExecutor(client=client)
    try:
        yield ex
    finally:  # not wait=True: a future that never settles (a bug) must not hang teardown
        ex.shutdown(wait=False, cancel_futures=True)


def event(client: Any) -> Any:
    return distributed.Event(f"test-{uuid.uuid4().hex}", client=client)


def block_both_workers(ex: DaskExecutor) -> tuple[Any, list[futures_impl.Future[Any]]]:
    """Two calls that hold the two workers until the returned event is set."""
    client = ex.client
    release = event(client)
    started = [event(client) for _ in range(2)]
    held = [ex.submit(tasks.hold, release.name, s.name) for s in started]
    for s in started:
        assert s.wait(TIMEOUT), "a worker never started its call"
    return release, held


def new_keys(client: Any, before: set[Any]) -> set[Any]:
    return set(client.futures) - before


# -- submit, map, wait, as_completed ----------------------------------------------------------
def test_submit_returns_our_future_and_runs_every_call(executor: DaskExecutor) -> None:
    f = executor.submit(pow, 2, 10)
    assert isinstance(f, futures_impl.Future)
    assert f.result(TIMEOUT) == 1024
    # pure=False: the same call submitted twice runs twice (Dask would otherwise share it)
    a, b = executor.submit(tasks.fresh), executor.submit(tasks.fresh)
    assert a.result(TIMEOUT) != b.result(TIMEOUT)
    # every keyword goes to the function, even names Client.submit would read
    kw = executor.submit(dict, key="k", pure=True, workers=1)
    assert kw.result(TIMEOUT) == {"key": "k", "pure": True, "workers": 1}
    assert executor.submit(lambda x: x + 1, 41).result(TIMEOUT) == 42  # cloudpickle
    assert executor.submit(tasks.where).result(TIMEOUT) != os.getpid()


@pytest.mark.parametrize("chunksize", [1, 7, 100])
def test_map_yields_in_order(executor: DaskExecutor, chunksize: int) -> None:
    out = executor.map(pow, range(30), [3] * 30, timeout=TIMEOUT, chunksize=chunksize)
    assert list(out) == [x**3 for x in range(30)]
    assert list(executor.map(pow, [], [], chunksize=chunksize)) == []


def test_map_chunks_are_tasks(executor: DaskExecutor) -> None:
    before = set(executor.client.futures)
    release, held = block_both_workers(executor)
    keys_before = set(executor.client.futures)
    results = executor.map(abs, range(-10, 0), chunksize=4, timeout=TIMEOUT)
    assert len(new_keys(executor.client, keys_before)) == 3  # 10 calls in chunks of 4
    release.set()
    assert list(results) == list(range(10, 0, -1))
    assert [f.result(TIMEOUT) for f in held] == [release.name] * 2
    del before


def test_map_refuses_a_chunksize_below_one(executor: DaskExecutor) -> None:
    with pytest.raises(ValueError, match="chunksize must be >= 1"):
        executor.map(abs, [1], chunksize=0)


def _fail_at_5(x: int) -> int:
    if x == 5:
        raise ValueError(f"bad {x}")
    return x


def test_map_error_at_its_item_like_the_process_pool(executor: DaskExecutor) -> None:
    """Differential: the stdlib's process pool with the same chunks yields the same items,
    then raises the same error, then stops."""
    import concurrent.futures
    import multiprocessing

    def run(ex: Any) -> tuple[list[int], str]:
        got: list[int] = []
        it = ex.map(_fail_at_5, range(10), chunksize=3, timeout=TIMEOUT)
        with pytest.raises(ValueError) as info:
            for x in it:
                got.append(x)
        assert next(it, "end") == "end"
        return got, str(info.value)

    # forkserver: this process runs Dask's threads (fork would warn, rightly)
    context = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        expected = run(pool)
    assert run(executor) == expected == ([0, 1, 2], "bad 5")


def test_map_timeout(executor: DaskExecutor) -> None:
    release = event(executor.client)
    try:
        it = executor.map(tasks.hold, [release.name], timeout=0.5)
        with pytest.raises(futures_impl.TimeoutError):
            next(it)
    finally:
        release.set()


def test_wait_and_as_completed(executor: DaskExecutor) -> None:
    release = event(executor.client)
    slow = executor.submit(tasks.hold, release.name)
    quick = [executor.submit(abs, -i) for i in range(4)]
    done, not_done = futures_impl.wait(quick, timeout=TIMEOUT)
    assert done == set(quick) and not not_done
    first = futures_impl.wait([slow, *quick], timeout=TIMEOUT,
                              return_when=futures_impl.FIRST_COMPLETED)
    assert slow in first.not_done
    order = []
    for f in futures_impl.as_completed([slow, *quick], timeout=TIMEOUT):
        order.append(f)
        if len(order) == 4:
            release.set()
    assert order[-1] is slow and set(order[:4]) == set(quick)


# -- errors -----------------------------------------------------------------------------------
def test_exception_carries_the_remote_traceback(executor: DaskExecutor) -> None:
    f = executor.submit(tasks.fail, "boom")
    error = f.exception(TIMEOUT)
    assert type(error) is ValueError and str(error) == "boom"
    cause = error.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "_dask_tasks.py" in str(cause) and "in fail" in str(cause)
    assert "ValueError: boom" in str(cause)
    with pytest.raises(ValueError, match="boom"):
        f.result(0)


def test_a_result_that_cannot_be_fetched_fails_the_future(executor: DaskExecutor) -> None:
    f = executor.submit(tasks.unloadable)
    error = f.exception(TIMEOUT)  # settled, never left pending
    assert type(error) is RuntimeError
    assert str(error) == "this result cannot be unpickled here"


# -- cancellation -----------------------------------------------------------------------------
async def _until(dask_scheduler: Any, key: Any, known: bool, timeout: float) -> bool:
    """On the scheduler: whether `key` is (`known`) or is not among its tasks within
    `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (key in dask_scheduler.tasks) != known and loop.time() < deadline:
        await asyncio.sleep(0.01)  # polls the scheduler's own state (no event for it)
    return (key in dask_scheduler.tasks) == known


def test_cancel_a_pending_call_cancels_its_dask_task(executor: DaskExecutor) -> None:
    client = executor.client
    release, held = block_both_workers(executor)
    ran = event(client)
    before = set(client.futures)
    pending = executor.submit(tasks.mark, ran.name, "ran")
    (key,) = new_keys(client, before)
    # The scheduler reads a submission asynchronously and ignores a release of a key it
    # does not know yet (docs/distributed.md, "Cancelling"): cancel once it knows the call.
    assert client.run_on_scheduler(_until, key=key, known=True, timeout=TIMEOUT)
    assert not pending.running()  # ours are never reported running (module doc)
    assert pending.cancel() and pending.cancelled()
    done, _ = futures_impl.wait([pending], timeout=0)
    assert pending in done  # acknowledged: wait() counts it
    # The release reaches the scheduler through the client's stream, asynchronously: wait
    # (on the scheduler, bounded) until it has forgotten the call, then free the workers.
    assert client.run_on_scheduler(_until, key=key, known=False, timeout=TIMEOUT)
    release.set()
    assert [f.result(TIMEOUT) for f in held] == [release.name] * 2
    # Both workers free; the release went before this call in the client's stream, so
    # the scheduler has forgotten the cancelled call by the time this one returns.
    assert executor.submit(abs, -1).result(TIMEOUT) == 1
    assert key not in client.futures
    assert not client.run_on_scheduler(lambda dask_scheduler: key in dask_scheduler.tasks)
    assert not ran.is_set()
    with pytest.raises(futures_impl.CancelledError):
        pending.result(0)


def test_cancel_from_dask_cancels_ours(executor: DaskExecutor) -> None:
    client = executor.client
    release = event(client)
    before = set(client.futures)
    f = executor.submit(tasks.hold, release.name)
    (key,) = new_keys(client, before)
    try:
        client.cancel([distributed.Future(key, client)])
        done, _ = futures_impl.wait([f], timeout=TIMEOUT)
        assert f in done and f.cancelled()
    finally:
        release.set()


def test_shutdown_cancel_futures(client: Any) -> None:
    client.wait_for_workers(2, timeout=TIMEOUT)
    ex = DaskExecutor(client=client)
    release, held = block_both_workers(ex)
    queued = [ex.submit(abs, -i) for i in range(3)]
    ex.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in [*held, *queued])
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(abs, 1)
    release.set()
    ex.shutdown()  # again: harmless
    assert client.status == "running"  # a given client stays open
    assert client.submit(abs, -3).result(TIMEOUT) == 3


def test_shutdown_waits(executor: DaskExecutor) -> None:
    release = event(executor.client)
    f = executor.submit(tasks.hold, release.name)
    release.set()
    executor.shutdown(wait=True)
    assert f.done() and f.result(0) == release.name
    assert "shut down" in repr(executor)


# -- the rest of futures_impl over Dask -------------------------------------------------------
def _square(x: int) -> int:
    if x == 3:
        raise KeyError(x)
    return x * x


def test_parallelized_with_progress(executor: DaskExecutor) -> None:
    out = io.StringIO()
    with Parallelized(_square, range(6), executor=executor, unpack="value",
                      progress="always", file=out, desc="dask") as par:
        seen = {item: (result, error) for item, result, error in par}
    assert {k: v[0] for k, v in seen.items() if v[1] is None} == {0: 0, 1: 1, 2: 4, 4: 16,
                                                                   5: 25}
    assert isinstance(seen[3][1], KeyError) and par.failed == [3]
    assert "dask" in out.getvalue() and "6/6" in out.getvalue()


def test_asyncio_interop(executor: DaskExecutor) -> None:
    async def main() -> list[int]:
        a = futures_impl.aio.wrap_future(executor.submit(pow, 2, 8))
        b = futures_impl.aio.run_in_executor(executor, abs, -7)
        return list(await asyncio.wait_for(asyncio.gather(a, b), TIMEOUT))

    assert asyncio.run(main()) == [256, 7]


# -- workers dying ----------------------------------------------------------------------------
def test_worker_killed_once_the_call_is_retried(executor: DaskExecutor) -> None:
    flag = event(executor.client)
    f = executor.submit(tasks.die_once, flag.name)
    pid = f.result(TIMEOUT)  # the second run, on a live worker
    assert flag.is_set() and pid != os.getpid()


def test_worker_killed_every_time_fails_with_killed_worker(executor: DaskExecutor) -> None:
    f = executor.submit(tasks.die)
    error = f.exception(TIMEOUT * 2)
    assert isinstance(error, distributed.KilledWorker)
    assert error.__cause__ is None  # raised by the scheduler: no traceback of a call


# -- clusters the executor makes or joins ---------------------------------------------------
def test_own_local_cluster_is_closed_at_shutdown() -> None:
    with DaskExecutor(n_workers=1, host="127.0.0.1", dashboard_address=":0") as ex:
        assert ex.submit(pow, 3, 3).result(TIMEOUT) == 27
        client = ex.client
        cluster = client.cluster
        assert len(cluster.workers) == 1 and "outstanding" in repr(ex)
    assert client.status == "closed" and cluster.status.name == "closed"


def test_own_cluster_shutdown_without_wait_closes_after_the_calls() -> None:
    ex = DaskExecutor(n_workers=1, host="127.0.0.1", dashboard_address=":0")
    client = ex.client
    release = event(client)
    f = ex.submit(tasks.hold, release.name)
    ex.shutdown(wait=False)  # returns at once; a thread closes the cluster afterwards
    (closer,) = [t for t in threading.enumerate() if t.name == "futures_impl-dask-shutdown"]
    assert client.status == "running" and not f.done()
    release.set()
    assert f.result(TIMEOUT) == release.name
    closer.join(TIMEOUT)
    assert not closer.is_alive() and client.status == "closed"


def test_client_and_address_are_exclusive(client: Any) -> None:
    with pytest.raises(ValueError, match="not both"):
        DaskExecutor(client=client, address="tcp://127.0.0.1:1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_real_deployment_scheduler_and_two_workers_by_address() -> None:
    """`dask scheduler` and two `dask worker` commands, as on a cluster; the executor
    gets only the address. All three are killed (process groups) at the end."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    common = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE,
              "start_new_session": True}
    port = address.rsplit(":", 1)[1]
    commands = [
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", port, "--no-dashboard", "--no-show"],
        *[[sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
           "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"] for _ in range(2)],
    ]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            procs.append(subprocess.Popen(command, **common))  # type: ignore[call-overload]
        with DaskExecutor(address=address, timeout=TIMEOUT) as ex:
            ex.client.wait_for_workers(2, timeout=TIMEOUT)
            assert list(ex.map(pow, range(20), [2] * 20, chunksize=5, timeout=TIMEOUT)) == [
                x * x for x in range(20)
            ]
            pids = {f.result(TIMEOUT) for f in [ex.submit(tasks.where) for _ in range(4)]}
            assert os.getpid() not in pids
            assert futures_impl.wait([ex.submit(abs, -1)], timeout=TIMEOUT).done
            client = ex.client
        assert client.status == "closed"
        assert all(p.poll() is None for p in procs), "the cluster outlives the executor"
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in procs:
            p.communicate(timeout=TIMEOUT)
