"""ProcessPoolExecutor(worker_state=..., worker_exit=...), worker_state() and
pass_worker_state(fn) (issue 14).

worker_state runs once in each worker, after the initializer; its value is that worker's
state (distinct per worker, found by worker_state() and passed by pass_worker_state);
worker_exit(state) runs when a worker leaves normally: at shutdown and when retired by
max_tasks_per_child; a failing worker_exit is logged and the pool goes on; a failing
worker_state breaks the pool like a failing initializer.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap

import _hooks_helpers as helpers
import pytest
from _support import wait_until

from futures_impl.process import (
    BrokenProcessPool,
    ProcessPoolExecutor,
    pass_worker_state,
    worker_state,
)

pytestmark = pytest.mark.usefixtures("no_thread_leaks")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = multiprocessing.get_all_start_methods()
NOT_FORK = [m for m in METHODS if m != "fork"]  # max_tasks_per_child refuses fork
RESULT_TIMEOUT = 60  # seconds: a bound, never reached unless something hangs


def exits(directory: str) -> dict[int, str]:
    """pid -> the state repr that worker's exit hook wrote (see helpers.record_exit)."""
    found = {}
    for name in os.listdir(directory):
        if name.startswith("exit-") and not name.endswith(".tmp"):
            with open(os.path.join(directory, name)) as f:
                found[int(name[5:])] = f.read()
    return found


@pytest.mark.parametrize("method", METHODS)
def test_each_worker_has_its_own_state(method: str) -> None:
    ctx = multiprocessing.get_context(method)
    barrier = ctx.Barrier(2)
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=helpers.init, initargs=(barrier,),
                             worker_state=helpers.make_state) as executor:
        # Two calls that wait for each other: they run in two workers at once.
        met = [executor.submit(pass_worker_state(helpers.meet)) for _ in range(2)]
        results = [f.result(RESULT_TIMEOUT) for f in met]
        more = [executor.submit(pass_worker_state(helpers.report)) for _ in range(6)]
        results += [f.result(RESULT_TIMEOUT) for f in more]
        looked = [executor.submit(helpers.looked_up).result(RESULT_TIMEOUT) for _ in range(2)]
    pids = {pid for _, pid, _ in results}
    assert len({pid for _, pid, _ in results[:2]}) == 2  # two workers
    for state, pid, made in results:
        assert state == {"pid": pid, "after_init": True, "made": 1}  # once, after init
        assert made == 1
    for state, pid in looked:  # worker_state() finds the same object
        assert pid in pids and state["pid"] == pid


def test_worker_state_outside_a_worker() -> None:
    with pytest.raises(RuntimeError, match="only available in a ProcessPoolExecutor worker"):
        worker_state()
    with pytest.raises(RuntimeError, match="only available"):
        pass_worker_state(helpers.report)()


@pytest.mark.parametrize("method", METHODS)
def test_worker_state_in_a_pool_without_one(method: str) -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method),
                             worker_exit=helpers.exit_fails) as executor:
        for call in (worker_state, pass_worker_state(helpers.report)):
            exc = executor.submit(call).exception(RESULT_TIMEOUT)
            assert isinstance(exc, RuntimeError) and "worker_state=" in str(exc), exc
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as executor:
        exc = executor.submit(worker_state).exception(RESULT_TIMEOUT)  # no hooks at all
        assert isinstance(exc, RuntimeError) and "worker_state=" in str(exc), exc


@pytest.mark.parametrize("method", METHODS)
def test_worker_exit_runs_at_shutdown(method: str, tmp_path: object) -> None:
    directory = str(tmp_path)
    ctx = multiprocessing.get_context(method)
    barrier = ctx.Barrier(2)
    executor = ProcessPoolExecutor(
        2, mp_context=ctx, initializer=helpers.init, initargs=(barrier,),
        worker_state=helpers.pid_state,
        worker_exit=functools.partial(helpers.record_exit, directory),
    )
    try:
        met = [executor.submit(pass_worker_state(helpers.meet)) for _ in range(2)]
        pids = {pid for _, pid, _ in (f.result(RESULT_TIMEOUT) for f in met)}
        assert len(pids) == 2
        assert exits(directory) == {}  # the workers are still there
    finally:
        executor.shutdown(wait=True)
    assert exits(directory) == {pid: repr(pid) for pid in pids}


@pytest.mark.parametrize("method", METHODS)
def test_worker_exit_without_worker_state_gets_none(method: str, tmp_path: object) -> None:
    directory = str(tmp_path)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method),
                             worker_exit=functools.partial(helpers.record_exit,
                                                           directory)) as executor:
        pid = executor.submit(helpers.getpid).result(RESULT_TIMEOUT)
    assert exits(directory) == {pid: "None"}


@pytest.mark.parametrize("method", NOT_FORK)
def test_worker_exit_runs_when_a_worker_retires(method: str, tmp_path: object) -> None:
    directory = str(tmp_path)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method),
                             max_tasks_per_child=1, worker_state=helpers.pid_state,
                             worker_exit=functools.partial(helpers.record_exit,
                                                           directory)) as executor:
        pids = []
        for _ in range(3):
            pid = executor.submit(helpers.getpid).result(RESULT_TIMEOUT)
            pids.append(pid)
            # Retired after one call: its exit hook runs now, not at shutdown.
            wait_until(lambda pid=pid: pid in exits(directory), f"the exit of worker {pid}")
    assert len(set(pids)) == 3
    assert exits(directory) == {pid: repr(pid) for pid in pids}


FAILING_EXIT = textwrap.dedent("""
    import multiprocessing, sys
    sys.path.insert(0, %r)
    import _hooks_helpers as helpers
    from futures_impl.process import ProcessPoolExecutor

    if __name__ == "__main__":
        method = sys.argv[1]
        limit = None if method == "fork" else 1
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method),
                                 max_tasks_per_child=limit, worker_state=helpers.pid_state,
                                 worker_exit=helpers.exit_fails) as ex:
            pids = [ex.submit(helpers.getpid).result(60) for _ in range(3)]
        print(len(set(pids)), flush=True)
""") % (os.path.join(ROOT, "tests"),)


@pytest.mark.parametrize("method", METHODS)
def test_a_failing_worker_exit_is_logged_and_the_pool_goes_on(method: str) -> None:
    """With fork: one worker, stopped at shutdown; otherwise max_tasks_per_child=1: three
    workers, each retired (its exit hook fails each time and the pool starts the next)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", FAILING_EXIT, method], cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = proc.communicate(timeout=100)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"hung: {err}")
    workers = 1 if method == "fork" else 3
    assert proc.returncode == 0, err
    assert out.strip() == str(workers)
    assert err.count("Exception in worker_exit:") == workers, err
    assert err.count("ValueError: worker_exit failed on purpose (state ") == workers, err


@pytest.mark.parametrize("method", METHODS)
def test_a_failing_worker_state_breaks_the_pool(method: str) -> None:
    """As a failing initializer does (the stdlib's behaviour for that one)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method),
                             worker_state=helpers.state_fails) as executor:
        with pytest.raises(BrokenProcessPool):
            executor.submit(helpers.getpid).result(RESULT_TIMEOUT)


@pytest.mark.parametrize("method", METHODS)
def test_lambda_hooks_with_cloudpickle(method: str, tmp_path: object) -> None:
    directory = str(tmp_path)
    with ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context(method), serializer="cloudpickle",
        worker_state=lambda: ("lambda state", os.getpid()),
        worker_exit=lambda state: helpers.record_exit(directory, state[0]),
    ) as executor:
        state, pid = executor.submit(pass_worker_state(lambda s: s)).result(RESULT_TIMEOUT)
    assert state == "lambda state"
    assert exits(directory) == {pid: repr("lambda state")}


def test_bad_hooks_fail_at_construction() -> None:
    with pytest.raises(TypeError, match="worker_state must be a callable"):
        ProcessPoolExecutor(1, worker_state=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="worker_exit must be a callable"):
        ProcessPoolExecutor(1, worker_exit="print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a callable"):
        pass_worker_state(3)  # type: ignore[arg-type]
    for method in NOT_FORK:  # a lambda cannot be pickled for a spawned worker
        with pytest.raises(TypeError, match=f"cannot be sent to '{method}' workers"):
            ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method),
                                worker_state=lambda: 1)


def test_pass_worker_state_pickles() -> None:
    wrapped = pass_worker_state(helpers.report)
    again = pickle.loads(pickle.dumps(wrapped))
    assert isinstance(again, pass_worker_state) and again.__wrapped__ is helpers.report
    assert again.__name__ == "report"
    # As a decorator: pickled by the name it decorates.
    assert pickle.loads(pickle.dumps(helpers.decorated)) is helpers.decorated


@pytest.mark.parametrize("method", METHODS)
def test_a_decorated_function_runs_with_its_state(method: str) -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method),
                             worker_state=helpers.pid_state) as executor:
        pid = executor.submit(helpers.getpid).result(RESULT_TIMEOUT)
        assert executor.submit(helpers.decorated, 5).result(RESULT_TIMEOUT) == (pid, 5)


@pytest.mark.skipif("fork" not in METHODS, reason="the nested pool forks")
def test_a_worker_forked_from_a_worker_does_not_inherit_its_state() -> None:
    ctx = multiprocessing.get_context("spawn" if "spawn" in METHODS else "fork")
    with ProcessPoolExecutor(1, mp_context=ctx, worker_state=helpers.pid_state) as executor:
        state, inner = executor.submit(pass_worker_state(helpers.nested_state)).result(
            RESULT_TIMEOUT)
    assert isinstance(state, int)
    assert "RuntimeError" in inner and "worker_state=" in inner, inner
