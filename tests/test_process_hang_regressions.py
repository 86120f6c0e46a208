"""Regression tests for the stdlib process pool's known hangs (issue 14).

Each is bounded (a wait with a timeout, or a child interpreter run under a hang guard) and
passes here on every interpreter; each docstring gives the CPython issue and says what the
stdlib does in the same scenario, observed by running it in a child interpreter under a
timeout (not in the test: it would hang the test for the whole guard).

Earlier, narrower tests of the same issues: tests/test_process_pool.py
(test_max_tasks_per_child_map_completes, gh-111498, 60 items) and
tests/test_newest_process.py (test_gc_during_max_tasks_worker_exit_gh152967 and
test_shutdown_no_wait_max_tasks_gh119592, in-process futures). These add the long map,
chunked and lazily fed, and the interpreter exit.
"""

from __future__ import annotations

import itertools
import multiprocessing
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import _trial_helpers as th
import pytest
from _support import wait_until
from _trial_support import group_members, run_in_session

from futures_impl.process import ProcessPoolExecutor

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

BOUND = 60.0  # seconds: a hang detector for any one wait, never a timing assertion
HANG_GUARD = 90.0  # seconds for a child interpreter to exit: a hang detector only
TESTS = str(Path(__file__).resolve().parent)


# -- gh-111498: map() over far more items than max_tasks_per_child x workers --------------


def _long_map(method: str, items: int, per_child: int, chunksize: int, lazy: bool,
              guard: float = BOUND) -> None:
    """map() over `items` calls with workers recycled every `per_child` tasks; `guard`: the
    map's timeout, a hang detector only."""
    ctx = multiprocessing.get_context(method)
    source: Any = (i for i in range(items)) if lazy else range(items)
    with ProcessPoolExecutor(2, mp_context=ctx, max_tasks_per_child=per_child) as ex:
        out = list(ex.map(th.busy_square, source, chunksize=chunksize, timeout=guard))
    assert [v for _, v in out] == [i * i for i in range(items)]
    # The workers were recycled all along: none ran more than its budget of map tasks
    # (one task is one chunk), and many took part.
    per_pid = Counter(pid for pid, _ in out)
    assert max(per_pid.values()) <= per_child * chunksize
    assert len(per_pid) >= items // (per_child * chunksize)


@pytest.mark.timeout(240)
@pytest.mark.parametrize(("chunksize", "lazy"), [(1, False), (1, True), (7, False)],
                         ids=["chunksize=1", "chunksize=1-generator", "chunksize=7"])
def test_map_much_longer_than_max_tasks_per_child_gh111498(chunksize: int, lazy: bool) -> None:
    """gh-111498: map() over an iterable much longer than max_tasks_per_child x workers
    (here 1,000 items, 2 workers retiring after 2 tasks: 250 times the budget) returns
    every result in order.

    The stdlib hangs here (3.11, 3.12, 3.13, observed: the same map over 1,000 items never
    returned within 60 s, chunksize 1 and 7, forkserver); 3.9 and 3.10 have no
    max_tasks_per_child."""
    _long_map("forkserver", items=1000, per_child=2, chunksize=chunksize, lazy=lazy)


@pytest.mark.timeout(240)
def test_map_with_one_task_per_child_spawn_gh111498() -> None:
    """gh-111498 with spawn and max_tasks_per_child=1: a fresh interpreter per call (60
    calls, 30 times the pool's size)."""
    _long_map("spawn", items=60, per_child=1, chunksize=1, lazy=True)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("per_child", [1, 3, 10])
def test_map_much_longer_than_max_tasks_per_child_long_gh111498(per_child: int) -> None:
    _long_map("forkserver", items=2000 * per_child, per_child=per_child, chunksize=1,
              lazy=True, guard=600.0)


# -- gh-152967: collected, or shut down without waiting, while a max-tasks worker exits --

_EXIT_PROGRAM = textwrap.dedent("""
    import gc, multiprocessing, sys, weakref
    sys.path.insert(0, {tests!r})
    import _process_helpers as helpers
    import _trial_helpers as th
    from futures_impl import TimeoutError as FuturesTimeout
    from futures_impl.process import BrokenProcessPool, ProcessPoolExecutor

    if __name__ == "__main__":
        ctx = multiprocessing.get_context({method!r})
        gate = ctx.Event()
        ex = ProcessPoolExecutor(1, mp_context=ctx, max_tasks_per_child=1,
                                 initializer=helpers.set_started, initargs=(gate,))
        # The only worker runs the first call until the gate opens; it then leaves at its
        # limit, after what follows, with five calls still queued.
        futures = [ex.submit(helpers.wait_started)] + [ex.submit(th.square, i)
                                                       for i in range(5)]
        if {shutdown!r}:
            ex.shutdown(wait=False)
        if {collect!r}:
            ref = weakref.ref(ex)
            del ex
            gc.collect()
            print("COLLECTED", ref() is None, flush=True)
        gate.set()
        if {wait!r}:
            for f in futures:
                try:
                    print("RESULT", f.result(timeout=60), flush=True)
                except BrokenProcessPool:
                    print("BROKEN", flush=True)
                except FuturesTimeout:
                    print("PENDING", flush=True)
        print("EXITING", flush=True)
""")


@pytest.mark.timeout(240)
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
@pytest.mark.parametrize("then", ["wait", "exit"],
                         ids=["futures awaited, then exit", "exit at once"])
@pytest.mark.parametrize(("shutdown", "collect"), [(True, False), (False, True), (True, True)],
                         ids=["shutdown(wait=False)", "collected", "both"])
def test_exit_while_max_tasks_worker_leaves_gh152967(
    method: str, then: str, shutdown: bool, collect: bool
) -> None:
    """gh-152967: the executor is shut down with wait=False and/or garbage collected while
    its only worker (max_tasks_per_child=1) is about to leave at its limit, five calls
    still queued. Each queued future settles (its result, or BrokenProcessPool: futures_impl
    runs them, see README "Differences from the stdlib, on purpose"), and the interpreter
    exits, awaiting them first or not, leaving no process behind.

    The stdlib hangs here (3.11, 3.12, 3.13, forkserver, observed): the queued futures stay
    pending (result(timeout=30) times out) and interpreter exit then hangs; of the six cases
    only "shutdown(wait=False), exit at once" exits."""
    program = _EXIT_PROGRAM.format(tests=TESTS, method=method, shutdown=shutdown,
                                   collect=collect, wait=then == "wait")
    child, returncode, out, err = run_in_session(program, HANG_GUARD)
    assert returncode == 0, err[-4000:]
    lines = out.splitlines()
    assert lines[-1] == "EXITING", out
    if collect:
        assert "COLLECTED True" in lines, out
    if then == "wait":
        settled = [line for line in lines if line.startswith(("RESULT", "BROKEN", "PENDING"))]
        assert settled[0] == "RESULT True", out
        assert all(line == f"RESULT {i * i}" or line == "BROKEN"
                   for i, line in zip(itertools.count(), settled[1:])), out
        assert len(settled) == 6, out
    wait_until(lambda: not group_members(child),
               what="the child's workers and helper processes to exit")
    assert "Traceback" not in err, err[-4000:]
