"""ThreadPoolExecutor: construction, threads, initializer, breakage, shutdown, submit.

Each test runs against futures_impl and the stdlib (`mod` fixture). Ordering between the
test and the workers is made with Events, Barriers and Semaphores; nothing sleeps to sync.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _pypy import refcounting
from _support import MODULES, blocked_in, set_when, std_futures, wait_until

pytestmark = pytest.mark.usefixtures("no_thread_leaks")

ROOT = Path(__file__).resolve().parent.parent
BROKEN_MESSAGE = "A thread initializer failed, the thread pool is not usable anymore"


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def thread_module(mod: ModuleType) -> ModuleType:
    return importlib.import_module(mod.__name__ + ".thread")


def capture(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


def wait_idle(ex: Any, n: int = 1) -> None:
    """Block until n workers have reported idle (take their tokens, then give them back)."""
    taken = 0
    while taken < n:
        wait_until(lambda: ex._idle_semaphore.acquire(timeout=0),
                   f"worker {taken + 1} of {n} to report idle (an _idle_semaphore token)")
        taken += 1
    for _ in range(taken):
        ex._idle_semaphore.release()


# ----------------------------------------------------------------------------- construction

@pytest.mark.parametrize("n", [0, -1])
def test_max_workers_must_be_positive(mod: ModuleType, n: int) -> None:
    with pytest.raises(ValueError, match=r"^max_workers must be greater than 0$"):
        mod.ThreadPoolExecutor(max_workers=n)


def test_default_max_workers(mod: ModuleType) -> None:
    cpus = os.process_cpu_count() if sys.version_info >= (3, 13) else os.cpu_count()
    ex = mod.ThreadPoolExecutor()
    try:
        assert ex._max_workers == min(32, (cpus or 1) + 4)
    finally:
        ex.shutdown()


def test_initializer_must_be_callable(mod: ModuleType) -> None:
    with pytest.raises(TypeError, match=r"^initializer must be a callable$"):
        mod.ThreadPoolExecutor(initializer=1)  # type: ignore[arg-type]


def test_executor_is_an_executor(mod: ModuleType) -> None:
    assert issubclass(mod.ThreadPoolExecutor, mod.Executor)
    assert issubclass(thread_module(mod).BrokenThreadPool, mod.BrokenExecutor)
    assert thread_module(mod).ThreadPoolExecutor is mod.ThreadPoolExecutor


# ----------------------------------------------------------------------------- threads

def _names_of_n_concurrent_tasks(ex: Any, n: int) -> set[str]:
    barrier = threading.Barrier(n)

    def task() -> str:
        barrier.wait()
        return threading.current_thread().name

    return {f.result() for f in [ex.submit(task) for _ in range(n)]}


def test_thread_names_with_prefix(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=3, thread_name_prefix="SpecialPool") as ex:
        names = _names_of_n_concurrent_tasks(ex, 3)
        assert {t.name for t in ex._threads} == names
    assert names == {"SpecialPool_0", "SpecialPool_1", "SpecialPool_2"}


def test_thread_names_default(mod: ModuleType) -> None:
    pattern = re.compile(r"^ThreadPoolExecutor-(\d+)_([0-9])$")
    counters = []
    for _ in range(2):
        with mod.ThreadPoolExecutor(max_workers=2) as ex:
            names = _names_of_n_concurrent_tasks(ex, 2)
        matches = [pattern.match(name) for name in names]
        assert all(matches), names
        assert {m.group(2) for m in matches if m} == {"0", "1"}
        (counter,) = {m.group(1) for m in matches if m}
        counters.append(int(counter))
    assert counters[1] > counters[0]


def test_workers_are_not_daemon_threads(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=2) as ex:
        _names_of_n_concurrent_tasks(ex, 2)
        assert len(ex._threads) == 2
        assert all(not t.daemon for t in ex._threads)


def test_saturation(mod: ModuleType) -> None:
    ex = mod.ThreadPoolExecutor(4)
    sem = threading.Semaphore(0)
    fs = [ex.submit(sem.acquire) for _ in range(15 * ex._max_workers)]
    assert len(ex._threads) == ex._max_workers
    for _ in fs:
        sem.release()
    ex.shutdown(wait=True)
    assert all(f.result() is True for f in fs)


def test_idle_thread_reuse(mod: ModuleType) -> None:
    ex = mod.ThreadPoolExecutor()
    try:
        for i in range(5):
            assert ex.submit(pow, 2, i).result() == 2**i
            wait_idle(ex)  # the worker has gone idle (not just finished the future)
        assert len(ex._threads) == 1
    finally:
        ex.shutdown(wait=True)


def test_threads_grow_only_as_needed(mod: ModuleType) -> None:
    ex = mod.ThreadPoolExecutor(max_workers=8)
    try:
        assert len(ex._threads) == 0  # created on demand, not up front
        names = _names_of_n_concurrent_tasks(ex, 3)
        assert len(ex._threads) == 3 and len(names) == 3
        wait_idle(ex, 3)
        for _ in range(6):
            ex.submit(int).result()
            wait_idle(ex)
        assert len(ex._threads) == 3
    finally:
        ex.shutdown(wait=True)


def test_threads_exit_when_executor_is_collected(mod: ModuleType) -> None:
    ex = mod.ThreadPoolExecutor(max_workers=2)
    _names_of_n_concurrent_tasks(ex, 2)
    threads = list(ex._threads)
    del ex
    # A worker that has just finished a call may still hold the executor for a moment (the
    # stdlib's checks its shutdown flag through a strong reference). Under reference
    # counting it is freed when that reference goes; PyPy frees it only at a later
    # collection, so one gc.collect() racing that moment leaves the workers waiting forever
    # (seen in CI). Collect until they have exited (bounded by the test timeout).
    for t in threads:
        while t.is_alive():
            gc.collect()
            t.join(0.01)


# ----------------------------------------------------------------------------- initializer

def test_initializer_runs_once_per_thread(mod: ModuleType) -> None:
    calls: list[tuple[str, Any]] = []
    local = threading.local()

    def init(value: Any, other: Any) -> None:
        calls.append((threading.current_thread().name, (value, other)))
        local.value = value

    with mod.ThreadPoolExecutor(max_workers=2, initializer=init, initargs=("ready", 2)) as ex:
        barrier = threading.Barrier(2)

        def task() -> Any:
            barrier.wait()
            return local.value

        assert [f.result() for f in [ex.submit(task) for _ in range(2)]] == ["ready", "ready"]
        assert [ex.submit(lambda: local.value).result() for _ in range(4)] == ["ready"] * 4
        names = {t.name for t in ex._threads}
    assert sorted(calls) == sorted((name, ("ready", 2)) for name in names)
    assert len(calls) == 2


def test_failing_initializer_breaks_pool(
    mod: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    broken_type = thread_module(mod).BrokenThreadPool
    go = threading.Event()

    def bad_init() -> None:
        go.wait()
        raise ValueError("error in initializer")

    ran: list[int] = []
    with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
        ex = mod.ThreadPoolExecutor(max_workers=2, initializer=bad_init)
        fs = [ex.submit(ran.append, i) for i in range(4)]  # all pending: init blocks
        go.set()
        for f in fs:
            with pytest.raises(broken_type) as info:
                f.result()
            assert str(info.value) == BROKEN_MESSAGE
            assert isinstance(info.value, mod.BrokenExecutor)
        assert ex._broken
        with pytest.raises(broken_type, match=re.escape(BROKEN_MESSAGE)):
            ex.submit(int)
        with pytest.raises(broken_type, match=re.escape(BROKEN_MESSAGE)):
            ex.map(int, ["1"])
        ex.shutdown(wait=True)
    assert ran == []
    records = [r for r in caplog.records if r.name == "concurrent.futures"]
    assert records, "the initializer's exception was not logged"
    for r in records:
        assert r.levelno == logging.CRITICAL
        assert r.getMessage() == "Exception in initializer:"
        assert r.exc_info is not None and r.exc_info[0] is ValueError
    assert "ValueError: error in initializer" in caplog.text


# ----------------------------------------------------------------------------- submit

def test_submit_returns_future_with_result(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=3) as ex:
        f = ex.submit(pow, 2, 8)
        assert isinstance(f, mod.Future)
        assert f.result() == 256
        fs = [ex.submit(pow, i, 2) for i in range(200)]
        assert [f.result() for f in fs] == [i * i for i in range(200)]


def test_submit_keyword_fn_is_positional_only(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=1) as ex:
        f = ex.submit(capture, 1, self=2, fn=3)
        assert f.result() == ((1,), {"self": 2, "fn": 3})
        assert ex.submit(pow, 2, exp=3).result() == 8
        with pytest.raises(TypeError):
            ex.submit(fn=capture, arg=1)
        with pytest.raises(TypeError):
            ex.submit(arg=1)
        with pytest.raises(TypeError):
            ex.submit()


def test_task_exceptions_are_stored(mod: ModuleType) -> None:
    def kb() -> None:
        raise KeyboardInterrupt

    with mod.ThreadPoolExecutor(max_workers=1) as ex:
        f = ex.submit(divmod, 1, 0)
        with pytest.raises(ZeroDivisionError):
            f.result()
        assert isinstance(ex.submit(sys.exit, 3).exception(), SystemExit)
        assert isinstance(ex.submit(kb).exception(), KeyboardInterrupt)
        assert ex.submit(int, "4").result() == 4  # the worker survived all of it


def test_cancelled_pending_task_never_runs(mod: ModuleType) -> None:
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def blocker() -> str:
        started.set()
        release.wait()
        return "blocker"

    with mod.ThreadPoolExecutor(max_workers=1) as ex:
        first = ex.submit(blocker)
        started.wait()
        second = ex.submit(ran.append, "second")
        third = ex.submit(ran.append, "third")
        assert second.cancel() is True
        assert first.cancel() is False  # running
        release.set()
        assert first.result() == "blocker"
        assert third.result() is None
    assert second.cancelled() and ran == ["third"]


def test_running_future_state(mod: ModuleType) -> None:
    started, release = threading.Event(), threading.Event()

    def task() -> int:
        started.set()
        release.wait()
        return 5

    with mod.ThreadPoolExecutor(max_workers=1) as ex:
        f = ex.submit(task)
        started.wait()
        assert f.running() and not f.done()
        assert f._state == "RUNNING"
        release.set()
        assert f.result() == 5


# ----------------------------------------------------------------------------- shutdown

def test_shutdown_wait_true_finishes_everything(mod: ModuleType) -> None:
    ex = mod.ThreadPoolExecutor(max_workers=3)
    fs = [ex.submit(pow, 3, i) for i in range(30)]
    threads = list(ex._threads)
    ex.shutdown(wait=True)
    assert all(f.done() for f in fs)
    assert all(not t.is_alive() for t in threads)
    ex.shutdown()  # a second shutdown is harmless
    ex.shutdown(wait=False)


def test_shutdown_wait_false_returns_while_task_runs(mod: ModuleType) -> None:
    started, release = threading.Event(), threading.Event()

    def task() -> str:
        started.set()
        release.wait()
        return "done"

    ex = mod.ThreadPoolExecutor(max_workers=2)
    f = ex.submit(task)
    queued = ex.submit(str, "queued")
    started.wait()
    threads = list(ex._threads)
    ex.shutdown(wait=False)
    assert not f.done()  # shutdown did not wait for it (it cannot finish before release)
    release.set()
    assert f.result() == "done"
    assert queued.result() == "queued"  # not cancelled: cancel_futures defaults to False
    for t in threads:
        t.join()


@pytest.mark.parametrize("wait", [False, True])
def test_shutdown_cancel_futures(mod: ModuleType, wait: bool) -> None:
    """shutdown(cancel_futures=True) cancels every queued call and leaves the running one be.

    The exact state is asserted, per module: the stdlib leaves the cancelled futures
    CANCELLED (so a later wait() on them never counts them done); futures_impl settles them
    (CANCELLED_AND_NOTIFIED) before shutdown() returns, on purpose (README, "Differences
    from the stdlib"; tests/test_deliberate_differences.py). Each done-callback runs once.
    """
    started, release = threading.Event(), threading.Event()

    def task() -> str:
        started.set()
        release.wait()
        return "ran"

    ex = mod.ThreadPoolExecutor(max_workers=1)
    running = ex.submit(task)
    started.wait()
    pending = [ex.submit(str, i) for i in range(5)]
    calls: list[Any] = []
    for f in pending:
        f.add_done_callback(calls.append)
    threads = list(ex._threads)
    caller = threading.current_thread()
    if wait:
        join = set_when(blocked_in(caller, "shutdown"), release)
        ex.shutdown(wait=True, cancel_futures=True)
        join()
        assert running.done()
    else:
        ex.shutdown(wait=False, cancel_futures=True)
    # Observed as shutdown() returns (with wait=False, the running call is still blocked).
    states = [f._state for f in pending]
    settled = mod.wait(pending, timeout=0)
    release.set()
    if mod is std_futures:
        assert states == ["CANCELLED"] * 5
        assert settled.done == set()
    else:
        assert states == ["CANCELLED_AND_NOTIFIED"] * 5
        assert settled.done == set(pending)
    assert all(f.cancelled() and f.done() for f in pending)
    assert sorted(map(id, calls)) == sorted(map(id, pending))  # each callback exactly once
    assert running.result(timeout=60) == "ran"
    assert not running.cancelled()
    for t in threads:
        t.join(60)
        assert not t.is_alive()


def test_submit_after_shutdown(mod: ModuleType) -> None:
    ex = mod.ThreadPoolExecutor(max_workers=1)
    ex.shutdown()
    with pytest.raises(RuntimeError) as info:
        ex.submit(int)
    assert type(info.value) is RuntimeError
    assert str(info.value) == "cannot schedule new futures after shutdown"
    with pytest.raises(RuntimeError, match=r"^cannot schedule new futures after shutdown$"):
        ex.map(int, [1])


def test_context_manager(mod: ModuleType) -> None:
    with mod.ThreadPoolExecutor(max_workers=2) as ex:
        assert isinstance(ex, mod.ThreadPoolExecutor)
        fs = [ex.submit(pow, 2, i) for i in range(10)]
        threads = list(ex._threads)
    assert all(f.done() for f in fs)
    assert all(not t.is_alive() for t in threads)
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(int)


def test_context_manager_propagates_exception_and_waits(mod: ModuleType) -> None:
    started, release = threading.Event(), threading.Event()
    caller = threading.current_thread()

    def task() -> str:
        started.set()
        release.wait()
        return "finished"

    with pytest.raises(KeyError):
        with mod.ThreadPoolExecutor(max_workers=1) as ex:
            f = ex.submit(task)
            started.wait()
            join = set_when(blocked_in(caller, "shutdown"), release)
            raise KeyError("body")
    join()
    assert f.result() == "finished"  # __exit__ waited (shutdown(wait=True))


def test_exit_returns_false(mod: ModuleType) -> None:
    ex = mod.ThreadPoolExecutor(max_workers=1)
    assert ex.__enter__() is ex
    assert not ex.__exit__(KeyError, KeyError("x"), None)


# ----------------------------------------------------------------------------- interpreter exit

EXIT_SCRIPT = """
import atexit, sys, threading
sys.path.insert(0, {root!r})
import {module} as cf
ex = cf.ThreadPoolExecutor(max_workers=1)
go = threading.Event()
if {used!r}:
    def task():
        go.wait()  # starts once the main thread has printed; then races the exit
        # A workload the interpreter must wait for at exit (no synchronisation involved).
        total = 0
        for i in range(200000):
            total += i
        print("task finished", total, flush=True)
    ex.submit(task)
def late():
    try:
        ex.submit(int)
    except RuntimeError as exc:
        print("late submit:", exc, flush=True)
atexit.register(late)
print("main done", flush=True)
go.set()
"""


def _run_exit_script(module: str, used: bool) -> list[str]:
    script = EXIT_SCRIPT.format(root=str(ROOT), module=module, used=used)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout.splitlines()


def test_interpreter_exit_joins_running_workers() -> None:
    lines = _run_exit_script("futures_impl", used=True)
    assert lines[:2] == ["main done", f"task finished {sum(range(200000))}"], lines


def test_submit_at_interpreter_exit_unused_pool() -> None:
    expected = ["main done",
                "late submit: cannot schedule new futures after interpreter shutdown"]
    assert _run_exit_script("concurrent.futures", used=False) == expected
    assert _run_exit_script("futures_impl", used=False) == expected


def test_submit_at_interpreter_exit_used_pool_like_stdlib() -> None:
    """The stdlib's workers mark their executor shut down when the interpreter exits, so a
    late submit on a pool that had workers says "after shutdown" (observed 3.9-3.13)."""
    theirs = _run_exit_script("concurrent.futures", used=True)
    ours = _run_exit_script("futures_impl", used=True)
    assert ours == theirs


def test_interpreter_exit_without_threading_register_atexit() -> None:
    """Embedded interpreters may lack threading._register_atexit: the pool must fall back
    (e.g. to atexit) and the process must still finish its task and exit, not hang."""
    script = EXIT_SCRIPT.format(root=str(ROOT), module="futures_impl", used=True)
    script = "import threading\ndel threading._register_atexit\n" + textwrap.dedent(script)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["main done", f"task finished {sum(range(200000))}"], proc.stdout


@refcounting
def test_no_stale_references(mod: ModuleType) -> None:
    """Issue 16284 in the stdlib: a finished task's callable and arguments are released."""
    import weakref

    class MyObject:
        def my_method(self) -> None:
            pass

    collected = threading.Event()
    with mod.ThreadPoolExecutor(max_workers=1) as ex:
        obj = MyObject()
        ref = weakref.ref(obj, lambda _: collected.set())
        ex.submit(obj.my_method)  # the future is deliberately discarded
        del obj
        collected.wait()  # bounded by the test timeout, not by a guess
        assert ref() is None


@pytest.mark.parametrize("cancel_futures", [False, True])
@pytest.mark.parametrize("round_", range(5))
def test_submit_races_shutdown(mod: ModuleType, cancel_futures: bool, round_: int) -> None:
    """Each submit either raises RuntimeError or yields a future that shutdown(wait=True)
    sees to the end: finished (or cancelled, with cancel_futures). None is left pending."""
    ex = mod.ThreadPoolExecutor(max_workers=3)
    n_submitters = 4
    barrier = threading.Barrier(n_submitters + 1)
    accepted: list[Any] = []
    refused: list[BaseException] = []
    lock = threading.Lock()

    def submitter() -> None:
        barrier.wait()
        for i in range(200):
            try:
                f = ex.submit(pow, i, 2)
            except RuntimeError as exc:
                with lock:
                    refused.append(exc)
                return
            with lock:
                accepted.append(f)

    threads = [threading.Thread(target=submitter) for _ in range(n_submitters)]
    for t in threads:
        t.start()
    barrier.wait()
    ex.shutdown(wait=True, cancel_futures=cancel_futures)
    for t in threads:
        t.join()
    with lock:
        snapshot = list(accepted)
    assert all(f.done() for f in snapshot)
    if not cancel_futures:
        assert not any(f.cancelled() for f in snapshot)
    assert all(str(e) == "cannot schedule new futures after shutdown" for e in refused)
    assert len(ex._threads) <= 3


FORK_SCRIPT = """
import os, sys
sys.path.insert(0, {root!r})
import {module} as cf

# The parent has a pool with idle workers when it forks (forking while other threads run
# tasks is unsafe in general, for the stdlib too). A child must be able to use a new pool.
parent_pool = cf.ThreadPoolExecutor(max_workers=2)
assert parent_pool.submit(pow, 2, 3).result() == 8
failures = 0
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        try:
            with cf.ThreadPoolExecutor(max_workers=2) as ex:
                ok = [f.result() for f in [ex.submit(pow, 3, 2) for _ in range(4)]] == [9] * 4
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    failures += status != 0
assert parent_pool.submit(pow, 2, 4).result() == 16
parent_pool.shutdown()
print("failures", failures)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("module", ["futures_impl", "concurrent.futures"])
def test_pool_usable_in_forked_child(module: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c",
         textwrap.dedent(FORK_SCRIPT.format(root=str(ROOT), module=module))],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "failures 0", proc.stdout + proc.stderr


def test_submit_from_a_task_during_shutdown(mod: ModuleType) -> None:
    """Once shutdown() has begun, a task's own submit() is refused, and shutdown still ends."""
    caller = threading.current_thread()
    shutting_down = threading.Event()
    started = threading.Event()

    def task() -> str:
        started.set()
        shutting_down.wait()
        try:
            ex.submit(int)
        except RuntimeError as exc:
            return str(exc)
        return "accepted"

    ex = mod.ThreadPoolExecutor(max_workers=1)
    f = ex.submit(task)
    started.wait()
    join = set_when(blocked_in(caller, "shutdown"), shutting_down)
    ex.shutdown(wait=True)
    join()
    assert f.result() == "cannot schedule new futures after shutdown"
