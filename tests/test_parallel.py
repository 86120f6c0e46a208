"""Tests for futures_impl.parallel (Parallelized) and its progress bar.

Races are ordered with Events (each wait bounded, so a bug fails instead of
hanging).  Every bar test runs twice: with tqdm and with tqdm hidden, so the
built-in bar is exercised even where tqdm is installed.
"""

from __future__ import annotations

import io
import logging
import multiprocessing as mp
import operator
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import futures_impl
from futures_impl import _progress
from futures_impl.parallel import Parallelized, parallelized

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAIT = 30.0  # upper bound for every Event wait: a failure, never a pause

pytestmark = pytest.mark.timeout(60)


def square(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x * x


# -- basic behaviour --------------------------------------------------------------------


def test_yields_every_input_with_result_and_no_error() -> None:
    inputs = [{"x": i} for i in range(20)]
    with Parallelized(square, inputs, num_threads=4, progress=False) as par:
        seen = list(par)
    assert sorted(kw["x"] for kw, _, _ in seen) == list(range(20))
    assert all(result == kw["x"] ** 2 and error is None for kw, result, error in seen)
    assert par.completed == 20 and par.failed == [] and len(par.succeeded) == 20


def test_yields_in_completion_order() -> None:
    release_first = threading.Event()

    def task(i: int) -> int:
        if i == 0:
            assert release_first.wait(WAIT)
        return i

    order = []
    with Parallelized(task, [{"i": 0}, {"i": 1}], num_threads=2, progress=False) as par:
        for kwargs, _result, _error in par:
            order.append(kwargs["i"])
            release_first.set()  # input 0 can finish only after input 1 was yielded
    assert order == [1, 0]


def test_errors_are_yielded_and_collected_for_retry() -> None:
    inputs = [{"x": x} for x in (1, -2, 3, -4)]
    errors: dict[int, BaseException | None] = {}
    with Parallelized(square, inputs, num_threads=3, progress=False) as par:
        for kwargs, result, error in par:
            errors[kwargs["x"]] = error
            assert (result is None) == (error is not None)
    assert isinstance(errors[-2], ValueError) and errors[1] is None
    assert sorted(kw["x"] for kw in par.failed) == [-4, -2]
    assert sorted(str(exc) for _, exc in par.errors) == ["negative: -2", "negative: -4"]
    # Retry just the failed inputs (fixed up) with a second run.
    retry = [{"x": -kw["x"]} for kw in par.failed]
    assert sorted(r or 0 for _, r, _ in parallelized(square, retry, progress=False)) == [4, 16]


def test_unpack_args_and_value_and_results_in_input_order() -> None:
    par = Parallelized(operator.pow, [(2, i) for i in range(6)], unpack="args", progress=False)
    assert par.results() == [1, 2, 4, 8, 16, 32]
    par = Parallelized(square, [3, -1, 5], unpack="value", num_threads=2, progress=False)
    assert par.results() == [9, None, 25]
    with pytest.raises(ValueError, match="unpack"):
        Parallelized(square, [], unpack="star")


def test_same_input_object_twice_is_two_calls() -> None:
    same = {"x": 2}
    assert Parallelized(square, [same, same], progress=False).results() == [4, 4]


def test_iterating_without_with_block_runs_and_cleans_up() -> None:
    par = Parallelized(square, [{"x": i} for i in range(5)], num_threads=2, progress=False)
    assert sorted(r or 0 for _, r, _ in par) == [0, 1, 4, 9, 16]
    with pytest.raises(RuntimeError, match="once"):
        par.__enter__()


def test_empty_inputs() -> None:
    with Parallelized(square, [], progress=False) as par:
        assert list(par) == []
    assert par.total == 0 and par.sequential


# -- safe=False (fail fast) and interruption ------------------------------------------


def _gated_task_factory() -> Any:
    gate = threading.Event()
    one_started = threading.Event()

    def task(i: int) -> int:
        if i == 0:
            assert one_started.wait(WAIT)
            raise ValueError("first one fails")
        if i == 1:
            one_started.set()
        assert gate.wait(WAIT)
        return i

    return task, gate


def test_fail_fast_raises_first_error_and_cancels_the_rest(capsys: Any) -> None:
    task, gate = _gated_task_factory()
    inputs = [{"i": i} for i in range(10)]
    try:
        with pytest.raises(ValueError, match="first one fails"):
            with Parallelized(task, inputs, num_threads=2, safe=False, progress=False) as par:
                for _ in par:
                    pass
    finally:
        gate.set()
    assert par.stop_event.is_set()
    assert {"i": 1} in par.abandoned  # was running: can't be cancelled
    left = par.cancelled + par.abandoned
    assert sorted(kw["i"] for kw in left) == list(range(1, 10))
    assert all(kw in par.cancelled for kw in inputs[3:])  # never started
    assert "stopped by ValueError" in capsys.readouterr().err


def test_keyboard_interrupt_in_loop_body_cancels_pending_and_reports(capsys: Any) -> None:
    started = threading.Barrier(3)  # the first three calls, one per worker
    gate = threading.Event()

    def task(i: int) -> int:
        started.wait(WAIT)
        if i > 0:
            assert gate.wait(WAIT)
        return i

    inputs = [{"i": i} for i in range(7)]
    try:
        with pytest.raises(KeyboardInterrupt):
            with Parallelized(task, inputs, num_threads=3, progress=False) as par:
                for _ in par:  # input 0, once inputs 1 and 2 are running
                    raise KeyboardInterrupt
    finally:
        gate.set()
    assert par.interrupted and par.stop_event.is_set()
    # Input 0's worker may have taken input 3 before the interrupt.
    abandoned = sorted(kw["i"] for kw in par.abandoned)
    assert abandoned in ([1, 2], [1, 2, 3])
    assert sorted(kw["i"] for kw in par.cancelled) == list(range(len(abandoned) + 1, 7))
    err = capsys.readouterr().err
    cancelled, running = 6 - len(abandoned), len(abandoned)
    report = f"interrupted: 1/7 completed, {cancelled} cancelled before starting, {running} aband"
    assert report in err


def test_sequential_interrupt_reports_the_rest_as_cancelled() -> None:
    def task(i: int) -> int:
        if i == 2:
            raise KeyboardInterrupt
        return i

    with pytest.raises(KeyboardInterrupt):
        with Parallelized(task, [{"i": i} for i in range(5)], num_threads=1, progress=False) as p:
            for _ in p:
                pass
    assert p.completed == 2 and [kw["i"] for kw in p.cancelled] == [3, 4]
    assert p.abandoned == [{"i": 2}]  # the call the interrupt came out of


# -- sequential fast path ---------------------------------------------------------------


@pytest.mark.parametrize("num_threads,n", [(1, 5), (0, 5), (None, 1), (8, 1)])
def test_sequential_fast_path_runs_lazily_in_the_caller(num_threads: Any, n: int) -> None:
    me = threading.get_ident()
    calls: list[int] = []

    def task(i: int) -> int:
        calls.append(i)
        return threading.get_ident()

    with Parallelized(task, [{"i": i} for i in range(n)], num_threads=num_threads) as par:
        assert par.sequential
        assert calls == []  # nothing runs before the loop asks for it
        it = iter(par)
        first = next(it)
        assert calls == [0] and first[1] == me
        rest = list(it)
    assert len(rest) == n - 1 and all(r[1] == me for r in rest)


def test_given_executor_is_used_and_left_open() -> None:
    with futures_impl.ThreadPoolExecutor(max_workers=2, thread_name_prefix="mine") as ex:

        def task(i: int) -> str:
            return threading.current_thread().name

        with Parallelized(task, [{"i": 0}], executor=ex, progress=False) as par:
            assert not par.sequential
            names = [r for _, r, _ in par]
        assert names[0] is not None and names[0].startswith("mine")
        assert ex.submit(int, "3").result(WAIT) == 3  # still usable


def test_process_pool_executor() -> None:
    process = pytest.importorskip("futures_impl.process")
    # spawn: forking a multi-threaded test process is deprecated (3.12+ warns).
    with process.ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as ex:
        with Parallelized(
            operator.pow, [(2, 3), (0, -1), (3, 2)], unpack="args", executor=ex, progress=False
        ) as par:
            got = {args: (result, type(error)) for args, result, error in par}
        assert got == {
            (2, 3): (8, type(None)),
            (0, -1): (None, ZeroDivisionError),
            (3, 2): (9, type(None)),
        }
        runner: Parallelized[Any] = Parallelized(dict, [{"a": 1}, {"b": 2}], executor=ex)
        with runner as pd:
            assert sorted(map(str, (r for _, r, _ in pd))) == ["{'a': 1}", "{'b': 2}"]


# -- progress bar and log ---------------------------------------------------------------


def test_pbar_is_tqdm_or_builtin(bar_mode: str) -> None:
    with Parallelized(square, [{"x": 1}], progress=False) as par:
        if bar_mode == "tqdm":
            import tqdm  # type: ignore[import-untyped, unused-ignore]

            assert isinstance(par.pbar, tqdm.tqdm)
        else:
            assert isinstance(par.pbar, _progress.SimpleBar)
        # The methods people call on .pbar exist in both worlds.
        par.pbar.set_postfix({"status": "x"}, last=1)
        par.pbar.set_postfix_str("s")
        par.pbar.set_description("d")
        par.pbar.refresh()
        list(par)


def test_bar_draws_when_forced_and_counts_to_total(bar_mode: str) -> None:
    out = io.StringIO()
    inputs = [{"x": i} for i in range(3)]
    with Parallelized(
        square, inputs, num_threads=2, desc="squares", progress="always", file=out
    ) as par:
        for _ in par:
            par.pbar.set_postfix(status="ok")
    text = out.getvalue()
    assert "squares" in text and "3/3" in text and "status=ok" in text


def test_bar_silent_when_not_a_terminal_unless_asked(bar_mode: str) -> None:
    out = io.StringIO()  # isatty() is False
    with Parallelized(square, [{"x": 1}, {"x": 2}], desc="quiet", file=out) as par:
        list(par)
    assert out.getvalue() == ""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_by_default_on_a_terminal(bar_mode: str) -> None:
    out = FakeTerminal()
    with Parallelized(square, [{"x": 1}, {"x": 2}], desc="tty", file=out) as par:
        list(par)
    assert "tty" in out.getvalue() and "2/2" in out.getvalue()


def test_bar_write_goes_through(bar_mode: str) -> None:
    out = io.StringIO()
    with Parallelized(square, [{"x": 1}], progress="always", file=out) as par:
        par.pbar.write("hello above the bar", file=out)
        list(par)
    assert "hello above the bar" in out.getvalue()


def test_invalid_progress_value() -> None:
    with pytest.raises(ValueError, match="progress"):
        with Parallelized(square, [{"x": 1}], progress="sometimes"):
            pass


def test_simple_bar_without_total_and_reset() -> None:
    out = io.StringIO()
    bar = _progress.SimpleBar(desc="n", file=out, disable=False, mininterval=0)
    bar.update(2)
    assert "2it" in bar.format_line()
    bar.reset(total=4)
    bar.update()
    assert "1/4" in bar.format_line() and "25%" in bar.format_line()
    bar.close()
    bar.close()
    assert out.getvalue().endswith("\n")


def test_progress_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="futures_impl.parallel")
    inputs = [{"x": 2}, {"x": -1}, {"x": 3}]
    with Parallelized(square, inputs, num_threads=2, progress=False, log=True) as par:
        list(par)
    lines = [r.getMessage() for r in caplog.records if r.name == "futures_impl.parallel"]
    assert len(lines) == 3
    pattern = re.compile(
        r"^\[(\d)/3\] x=(-?\d) -> (OK|FAIL) \(remaining (\d), elapsed [\d.]+s\)"
        r"(: ValueError: negative: -1)?$"
    )
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    assert [int(m.group(1)) for m in parsed if m] == [1, 2, 3]
    assert [int(m.group(4)) for m in parsed if m] == [2, 1, 0]
    status = {m.group(2): m.group(3) for m in parsed if m}
    assert status == {"2": "OK", "-1": "FAIL", "3": "OK"}
    assert [bool(m.group(5)) for m in parsed if m] == [s == "FAIL" for s in status.values()]


def test_progress_log_to_a_given_logger_with_label(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("my.runner")
    caplog.set_level(logging.INFO, logger="my.runner")
    with Parallelized(
        square, [{"x": 4}], progress=False, log=logger, label=lambda kw: f"job-{kw['x']}"
    ) as par:
        list(par)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["[1/1] job-4 -> OK"]


def test_import_is_light() -> None:
    code = (
        "import sys, futures_impl.parallel\n"
        "heavy = [m for m in ('logging', 'tqdm', 'futures_impl.thread', 'multiprocessing',"
        " 'asyncio') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _generator() -> Iterator[dict[str, int]]:
    yield from ({"x": i} for i in range(4))


def test_inputs_may_be_a_generator() -> None:
    with Parallelized(square, _generator(), num_threads=2, progress=False) as par:
        assert par.total == 4
        assert sorted(r or 0 for _, r, _ in par) == [0, 1, 4, 9]


def test_interrupt_while_submitting_reports_the_unsubmitted_inputs_as_cancelled(
    capsys: Any,
) -> None:
    gate = threading.Event()

    class InterruptedPool(futures_impl.ThreadPoolExecutor):
        calls = 0

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            InterruptedPool.calls += 1
            if InterruptedPool.calls == 3:
                raise KeyboardInterrupt  # Ctrl-C lands in the submission loop
            return super().submit(fn, *args, **kwargs)

    def task(i: int) -> int:
        assert gate.wait(WAIT)
        return i

    pool = InterruptedPool(max_workers=1)
    par = Parallelized(task, [{"i": i} for i in range(6)], executor=pool, progress=False)
    try:
        with pytest.raises(KeyboardInterrupt):
            with par:
                list(par)  # the loop submits the calls
    finally:
        gate.set()
        pool.shutdown(wait=True)
    assert par.interrupted
    assert [kw["i"] for kw in par.cancelled][-4:] == [2, 3, 4, 5]
    assert sorted(kw["i"] for kw in par.cancelled + par.abandoned) == list(range(6))
    assert "interrupted: 0/6 completed" in capsys.readouterr().err


@pytest.mark.parametrize("num_threads", [1, 3])
def test_a_second_loop_resumes_where_the_first_stopped(num_threads: int) -> None:
    inputs = [{"x": i} for i in range(6)]
    with Parallelized(square, inputs, num_threads=num_threads, progress=False) as par:
        first = []
        for kwargs, _, _ in par:
            first.append(kwargs["x"])
            if len(first) == 2:
                break
        rest = [kwargs["x"] for kwargs, _, _ in par]
        assert sorted(first + rest) == list(range(6))
        assert par.results() == [i * i for i in range(6)]
    assert par.completed == 6


def test_break_out_of_a_run_without_with_cancels_the_rest_quietly(capsys: Any) -> None:
    gate = threading.Event()

    def task(i: int) -> int:
        if i > 0:
            assert gate.wait(WAIT)
        return i

    par = Parallelized(task, [{"i": i} for i in range(5)], num_threads=2, progress=False)
    loop = iter(par)
    try:
        assert next(loop)[0] == {"i": 0}
        loop.close()  # what a `break` does once the generator is collected
    finally:
        gate.set()
    assert par.stop_event.is_set()
    assert sorted(kw["i"] for kw in par.cancelled + par.abandoned) == [1, 2, 3, 4]
    assert capsys.readouterr().err == ""


def test_interrupt_report_goes_to_the_bar_stream(bar_mode: str, capsys: Any) -> None:
    out = FakeTerminal()
    gate = threading.Event()

    def task(i: int) -> int:
        assert gate.wait(WAIT)
        return i

    try:
        with pytest.raises(KeyboardInterrupt):
            with Parallelized(task, [{"i": i} for i in range(4)], num_threads=2, file=out):
                raise KeyboardInterrupt
    finally:
        gate.set()
    assert "Parallelized interrupted: 0/4 completed" in out.getvalue()
    assert "interrupted" not in capsys.readouterr().out


def test_reachable_as_lazy_attributes_of_the_package() -> None:
    import futures_impl.aio

    assert futures_impl.parallel.Parallelized is Parallelized
    assert futures_impl.aio.AsyncExecutor.__name__ == "AsyncExecutor"


@pytest.mark.parametrize("num_threads", [1, 3], ids=["sequential", "pool"])
def test_each_unpack_mode_makes_the_same_call_in_both_runners(num_threads: int) -> None:
    def echo(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return args, kwargs

    cases = {
        "kwargs": ([{"a": 1}, {}], [((), {"a": 1}), ((), {})]),
        "args": ([(1, 2), [3], ()], [((1, 2), {}), ((3,), {}), ((), {})]),
        "value": ([{"a": 1}, (1, 2)], [(({"a": 1},), {}), (((1, 2),), {})]),
    }
    for unpack, (inputs, calls) in cases.items():
        par = Parallelized(echo, inputs, unpack=unpack, num_threads=num_threads, progress=False)
        assert par.sequential is (num_threads == 1)
        assert par.results() == calls, unpack
    # A wrong input is refused up front, the same way in both runners.
    with pytest.raises(TypeError, match="mapping.*unpack='value'"):
        Parallelized(echo, [5, 6], unpack="kwargs", num_threads=num_threads, progress=False)
