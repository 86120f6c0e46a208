"""CPython main's newest tests outside map() and the process pool, and the private names
main's tests reach.

The scenario ports are split by topic: tests/test_newest_map.py (executor.py: map variants,
buffersize, falsy exceptions), tests/test_newest_process.py (test_process_pool.py and
test_shutdown.py), and this file (test_future.py, test_thread_pool.py, private names).
docs/newest-scenarios.md lists every ported CPython test and its outcome here.
"""

from __future__ import annotations

import os
import textwrap
from typing import Any

import pytest
from _support import run_python

import futures_impl
from futures_impl import process

BOUND = 60.0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --------------------------------------------------------------------------- private names

# What main's tests reach inside concurrent.futures and futures_impl provides: a test that
# patches or reads them works the same way on futures_impl.
EXECUTOR_NAMES = [
    "_processes",  # test_killed_child, test_saturation, test_force_shutdown_workers, ...
    "_executor_manager_thread",  # test_shutdown_gh_132969, _run_stranded_worker_exit_test
    "_call_queue",  # test_del_shutdown, test_shutdown_no_wait
    "_mp_context",  # test_max_tasks_per_child_defaults_to_spawn_context
    "_max_workers",  # test_saturation
    "_broken",  # test_init.py FailingInitializerMixin
    "_force_shutdown",  # test_terminate_workers, test_force_shutdown_workers_invalid_op
    "_shutdown_lock",  # _run_unreplaceable_worker_exit_test
    "_force_shutting_down",  # _run_unreplaceable_worker_exit_test
]
MODULE_NAMES = [
    "_TERMINATE",  # test_terminate_workers
    "_KILL",  # test_kill_workers
    "_RemoteTraceback",  # test_traceback, test_traceback_when_child_process_terminates_abruptly
    "_ExecutorManagerThread",  # test_gh105829_should_not_deadlock_if_wakeup_pipe_full
    "_ThreadWakeup",  # test_gh105829_should_not_deadlock_if_wakeup_pipe_full
    "_check_system_limits",  # util.py, test_init.py
    "_spawn_worker",  # test_failed_worker_replacement_breaks_pool (patched)
]


@pytest.mark.parametrize("name", EXECUTOR_NAMES)
def test_process_executor_private_names(name: str) -> None:
    with futures_impl.ProcessPoolExecutor(1) as ex:
        assert hasattr(ex, name)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_process_module_private_names(name: str) -> None:
    assert hasattr(process, name)


def test_force_shutdown_lock_and_flag_are_usable() -> None:
    """_run_unreplaceable_worker_exit_test does `with executor._shutdown_lock:` and sets
    `executor._force_shutting_down = True`."""
    with futures_impl.ProcessPoolExecutor(1) as ex:
        with ex._shutdown_lock:
            assert ex._force_shutting_down is False


def test_future_get_snapshot() -> None:
    """test_future.py test_get_snapshot: (done, cancelled, result, exception) in one read."""
    f: Any = futures_impl.Future()
    assert f._get_snapshot() == (False, False, None, None)
    f.set_result(42)
    assert f._get_snapshot() == (True, False, 42, None)
    f = futures_impl.Future()
    exc = ValueError("test error")
    f.set_exception(exc)
    assert f._get_snapshot() == (True, False, None, exc)
    f = futures_impl.Future()
    f.cancel()
    assert f._get_snapshot() == (True, True, None, None)


# --------------------------------------------------------------------------- test_future.py


def test_class_str_follows_running_stdlib() -> None:
    """test_future.py test_class_str. Main's public classes name the package
    (<class 'concurrent.futures.Future'>); the 3.9-3.13 stdlib's name their module
    (<class 'concurrent.futures._base.Future'>), and futures_impl follows the running
    interpreter's stdlib (README differences): the same text with futures_impl's name."""
    import concurrent.futures as cf

    for name in ("Future", "CancelledError", "Executor", "InvalidStateError",
                 "BrokenExecutor", "TimeoutError"):
        ours = str(getattr(futures_impl, name)).replace("futures_impl", "concurrent.futures")
        assert ours == str(getattr(cf, name))


# --------------------------------------------------------------------------- test_thread_pool.py


_FORK_FROM_POOL = textwrap.dedent("""
    import multiprocessing, warnings
    warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() with threads
    import futures_impl

    def fork_and_return_exitcode():
        p = multiprocessing.get_context("fork").Process(target=int)
        p.start()
        p.join(20)  # exiting takes milliseconds; a child still alive after this is hung
        if p.exitcode is None:
            p.kill()
            p.join(20)
            return "hung"
        return p.exitcode

    with futures_impl.ThreadPoolExecutor(1) as pool:
        print(pool.submit(fork_and_return_exitcode).result(timeout=60))
""")


def test_process_fork_from_a_threadpool() -> None:
    """test_thread_pool.py test_process_fork_from_a_threadpool (bpo-43944): a process forked
    from a pool's worker thread exits cleanly (it must not try to join the parent's pool
    threads at exit). In a fresh interpreter: forking a pytest-xdist worker is unsafe, and
    the outcome must not depend on what earlier tests left behind."""
    returncode, out, err = run_python("-c", _FORK_FROM_POOL, timeout=BOUND)
    assert returncode is not None, err  # None: the child hung and was killed
    assert returncode == 0, err
    assert out.strip() == "0"
