"""What a newcomer hits in Parallelized and its bar (issue 15, part 4).

The natural ``with Parallelized(...) as par:`` form with calls reading ``par.stop_event``;
inputs that are not what ``unpack`` says, refused up front; ``num_threads`` and
``max_workers`` validation (differential against the stdlib where it applies); output
written above the bar; ``log=True`` visible without logging set-up; the built-in bar's
rate, ETA, width, failures and its last frame after an interrupted run.  Races are ordered
with Events (each wait bounded).  Bar tests run with tqdm (where installed) and without.
"""

from __future__ import annotations

import concurrent.futures as stdlib_futures
import io
import logging
import os
import re
import subprocess
import sys
import threading
from typing import Any

import pytest

import futures_impl
from futures_impl.parallel import Parallelized

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAIT = 30.0  # upper bound for every Event wait: a failure, never a pause

pytestmark = pytest.mark.timeout(60)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def square(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x * x


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# -- stop_event in the natural `with ... as par:` form ------------------------------------


@pytest.mark.parametrize("num_threads", [1, 3], ids=["sequential", "pool"])
def test_calls_can_read_par_stop_event_in_the_with_form(num_threads: int) -> None:
    def task(i: int) -> bool:
        return par.stop_event.is_set()  # `par` is bound by the `as` clause

    with Parallelized(task, [{"i": i} for i in range(6)], num_threads=num_threads) as par:
        got = list(par)
    assert [error for _, _, error in got] == [None] * 6
    assert [result for _, result, _ in got] == [False] * 6


def test_running_calls_see_stop_event_when_the_loop_is_interrupted() -> None:
    started = {1: threading.Event(), 2: threading.Event()}
    stopped = {1: threading.Event(), 2: threading.Event()}

    def task(i: int) -> str:
        if i == 0:  # finishes once the two long calls are running
            assert started[1].wait(WAIT) and started[2].wait(WAIT)
            return "quick"
        started[i].set()
        if par.stop_event.wait(WAIT):
            stopped[i].set()
            return "stopped early"
        return "ran to the end"

    with pytest.raises(KeyboardInterrupt):
        with Parallelized(task, [{"i": i} for i in range(3)], num_threads=3, progress=False) as par:
            for _ in par:
                raise KeyboardInterrupt
    assert stopped[1].wait(WAIT) and stopped[2].wait(WAIT)
    assert sorted(kw["i"] for kw in par.abandoned) == [1, 2]


def test_nothing_runs_before_the_loop_and_a_block_left_early_cancels_all(capsys: Any) -> None:
    calls: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        with Parallelized(calls.append, [1, 2, 3], unpack="value", num_threads=2) as par:
            assert calls == []
            raise KeyboardInterrupt
    assert calls == [] and par.cancelled == [1, 2, 3] and par.abandoned == []
    assert "0/3 completed, 3 cancelled before starting" in capsys.readouterr().err


# -- inputs that are not what `unpack` says -----------------------------------------------


@pytest.mark.parametrize("num_threads", [None, 1, 4])
def test_inputs_that_are_not_mappings_are_refused_up_front(num_threads: Any) -> None:
    with pytest.raises(TypeError) as info:
        Parallelized(square, [1, 2, 3], num_threads=num_threads, progress=False)
    message = str(info.value)
    assert "input 0 is 1 (int)" in message
    for option in ("unpack='kwargs'", "unpack='args'", "unpack='value'"):
        assert option in message
    # What the message proposes works.
    par = Parallelized(square, [1, 2, 3], num_threads=num_threads, unpack="value")
    assert par.results() == [1, 4, 9]


def test_a_later_bad_input_is_named_by_its_index() -> None:
    with pytest.raises(TypeError, match=r"input 2 is 'x=3' \(str\)"):
        Parallelized(square, [{"x": 1}, {"x": 2}, "x=3"], num_threads=2)
    with pytest.raises(TypeError, match=r"unpack='args'.*input 1 is 5 \(int\)"):
        Parallelized(pow, [(2, 3), 5], unpack="args")


def test_a_dict_as_inputs_is_refused() -> None:
    for unpack in ("kwargs", "args", "value"):
        with pytest.raises(TypeError, match=r"inputs is a dict.*\[inputs\].*unpack='value'"):
            Parallelized(square, {"x": 3}, unpack=unpack)
    assert Parallelized(square, [{"x": 3}]).results() == [9]


def test_mapping_like_and_iterable_inputs_are_accepted() -> None:
    class Row:  # neither dict nor Mapping, but fn(**row) accepts it
        def keys(self) -> list[str]:
            return ["x"]

        def __getitem__(self, key: str) -> int:
            return 4

    assert Parallelized(square, [Row()], progress=False).results() == [16]
    assert Parallelized(pow, [[2, 3], iter((3, 2))], unpack="args").results() == [8, 9]
    assert Parallelized(square, {"a": 1}.keys(), unpack="value", progress=False)  # not a dict


# -- num_threads and max_workers ----------------------------------------------------------


@pytest.mark.parametrize("num_threads", [-3, -1, 0, 1])
def test_num_threads_at_most_one_runs_sequentially(num_threads: int) -> None:
    me = threading.get_ident()
    par = Parallelized(
        lambda i: threading.get_ident(), [{"i": 1}, {"i": 2}], num_threads=num_threads
    )
    assert par.sequential
    assert par.results() == [me, me]


@pytest.mark.parametrize("num_threads", [2.5, 2.0, "2"])
def test_num_threads_must_be_an_int(num_threads: Any) -> None:
    with pytest.raises(TypeError, match="num_threads must be an int or None"):
        Parallelized(square, [{"x": 1}], num_threads=num_threads)


def _construct(cls: Any, max_workers: Any) -> tuple[str, str]:
    try:
        executor = cls(max_workers=max_workers)
    except Exception as exc:  # the outcome compared, whatever it is
        return type(exc).__name__, str(exc)
    try:
        return "ok", repr(executor.submit(abs, -3).result(timeout=WAIT))
    finally:
        executor.shutdown(wait=True)


@pytest.mark.parametrize("max_workers", [2.5, 2.0, 0.5, "2", 0, -1])
def test_process_pool_max_workers_refused_at_construction_like_the_stdlib(max_workers: Any) -> None:
    pytest.importorskip("futures_impl.process")
    ours = _construct(futures_impl.ProcessPoolExecutor, max_workers)
    theirs = _construct(stdlib_futures.ProcessPoolExecutor, max_workers)
    assert ours == theirs
    assert ours[0] != "ok"


@pytest.mark.parametrize("max_workers", [2.5, 2.0, True])
def test_thread_pool_max_workers_like_the_stdlib(max_workers: Any) -> None:
    ours = _construct(futures_impl.ThreadPoolExecutor, max_workers)
    assert ours == _construct(stdlib_futures.ThreadPoolExecutor, max_workers)


# -- output and the bar -------------------------------------------------------------------


def lines_of(text: str) -> list[str]:
    """What a terminal shows: each line's last carriage-return segment, trailing blanks cut."""
    return [line.split("\r")[-1].rstrip() for line in text.split("\n")]


def test_par_write_puts_text_above_the_bar(bar_mode: str) -> None:
    out = Terminal()
    inputs = [{"x": i} for i in range(3)]
    with Parallelized(square, inputs, num_threads=2, desc="sq", file=out) as par:
        for kwargs, result, _ in par:
            par.write("got", kwargs["x"], "->", result, file=out)
    shown = lines_of(out.getvalue())
    got = [line for line in shown if "got" in line]
    assert sorted(got) == ["got 0 -> 0", "got 1 -> 1", "got 2 -> 4"]  # never glued to a frame
    assert "3/3" in shown[-2] and shown[-1] == ""  # the bar's last frame, below them


def test_par_write_defaults_to_stdout_like_print(bar_mode: str, capsys: Any) -> None:
    with Parallelized(square, [{"x": 2}], progress=False) as par:
        for _, result, _ in par:
            par.write("result", result)
    assert capsys.readouterr().out == "result 4\n"


def test_log_lines_with_logging_configured_are_not_glued_to_the_bar(bar_mode: str) -> None:
    out = Terminal()
    logger = logging.getLogger("test_parallel_newcomer.glue")
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        inputs = [{"x": x} for x in (1, -2, 3)]
        with Parallelized(square, inputs, num_threads=2, desc="sq", file=out, log=logger) as par:
            list(par)
    finally:
        logger.removeHandler(handler)
    shown = lines_of(out.getvalue())
    logged = [line for line in shown if "-> " in line]
    assert len(logged) == 3 and all(line.startswith("[") for line in logged), shown
    assert any(
        "-> FAIL (remaining" in line and line.endswith(": ValueError: negative: -2")
        for line in logged
    ), logged


def test_log_true_is_visible_without_logging_set_up() -> None:
    code = (
        "from futures_impl.parallel import Parallelized\n"
        "def square(x):\n"
        "    if x < 0:\n"
        "        raise ValueError(f'negative: {x}')\n"
        "    return x * x\n"
        "with Parallelized(square, [{'x': 2}, {'x': -1}], num_threads=2, log=True) as par:\n"
        "    list(par)\n"
        "print('done')\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "done\n"
    lines = sorted(proc.stderr.splitlines(), key=lambda line: "x=2" in line)
    assert len(lines) == 2, proc.stderr
    assert re.fullmatch(
        r"\[\d/2\] x=-1 -> FAIL \(remaining \d, elapsed [\d.]+s\): ValueError: negative: -1",
        lines[0],
    )
    assert re.fullmatch(r"\[\d/2\] x=2 -> OK \(remaining \d, elapsed [\d.]+s\)", lines[1])


def test_log_true_uses_logging_once_it_is_configured() -> None:
    code = (
        "import logging\n"
        "logging.basicConfig(level=logging.INFO, format='LOG %(name)s %(message)s')\n"
        "from futures_impl.parallel import Parallelized\n"
        "print(Parallelized(abs, [-3], unpack='value', log=True).results())\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[3]\n"
    assert re.fullmatch(r"LOG futures_impl.parallel \[1/1\] -3 -> OK \(.*\)\n", proc.stderr)


def test_interrupted_run_leaves_no_frame_after_its_report(bar_mode: str) -> None:
    out = Terminal()
    gate = threading.Event()

    def task(i: int) -> int:
        if i > 0:
            assert gate.wait(WAIT)
        return i

    try:
        with pytest.raises(KeyboardInterrupt):
            with Parallelized(task, [{"i": i} for i in range(4)], num_threads=2, file=out) as par:
                for _ in par:
                    raise KeyboardInterrupt
    finally:
        gate.set()
    text = out.getvalue()
    assert text.endswith("\n")
    shown = lines_of(text)
    assert shown[-1] == "" and shown[-2].startswith("Parallelized interrupted: 1/4 completed")
    assert "1/4" in shown[-3]  # the bar's last frame, above the report
    assert "\r" not in text[text.index("Parallelized interrupted") :]


def test_the_builtin_bar_counts_failures(bar_mode: str) -> None:
    out = Terminal()
    inputs = [{"x": x} for x in (1, -2, 3, -4, 5)]
    with Parallelized(square, inputs, num_threads=2, file=out) as par:
        list(par)
    last = lines_of(out.getvalue())[-2]
    assert "5/5" in last
    assert ("(2 failed)" in last) is (bar_mode == "builtin")
