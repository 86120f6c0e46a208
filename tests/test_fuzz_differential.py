"""Differential fuzzer: random programs run on futures_impl and on the stdlib, traces compared.

Hypothesis generates small programs over a ThreadPoolExecutor (1-4 workers): submit, map
(timeout, chunksize, buffersize), cancel, release a call's gate, result()/exception() with
timeouts, done-callbacks that record, raise, re-enter their future or submit to the pool,
wait()/as_completed() (every return_when, timeouts, blocking) over a mix of pool futures and
the *other* module's futures, called through either module's wait/as_completed, and
shutdown(wait, cancel_futures). Each program runs once on `futures_impl` and once on
`concurrent.futures`; the two traces (outcome of every call, exception types and messages,
done-callback order and arguments, log records, the state of every future and which calls
ran) must be equal. The program model and the deterministic scheduling (every call blocks on
a gate the program opens) are in tests/_fuzz_programs.py.

A second test writes a small script that leaves work pending (gated, queued, cancelled, with
callbacks) and lets the interpreter exit, runs it under both implementations in
subprocesses (bounded), and compares what they print and how they exit.

Profiles (see tests/conftest.py and docs/fuzzing.md):
    default/"ci": 300 examples per test (a few tens of seconds);
    HYPOTHESIS_PROFILE=fuzz-long: 10,000 examples per test (hours on a loaded machine);
    HYPOTHESIS_PROFILE=dev: 50, for a quick loop.
Differences that are known bugs being fixed, or deliberate (README "Differences from the
stdlib"), are excluded or normalised at the one place they arise, with a comment that starts
"FUZZ-EXCLUDED(" or "NORMALISED" (grep for them).
"""

from __future__ import annotations

import concurrent.futures as std_futures
import os
from typing import Any

import pytest
from _fuzz_programs import Run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import futures_impl

# ------------------------------------------------------------------ program strategies

IDX = st.integers(0, 7)
VALUES = st.sampled_from([None, 0, 1, "text", (1, 2)])
SPECS = st.one_of(
    st.tuples(st.just("value"), VALUES),
    st.tuples(st.just("raise"), st.sampled_from(["ValueError", "KeyError", "ZeroDivisionError"])),
)
REFS = st.lists(
    st.one_of(st.tuples(st.just("task"), IDX), st.tuples(st.just("foreign"), IDX)),
    max_size=5,
)
MODES = st.sampled_from([0, "short", "block"])
RETURN_WHEN = st.sampled_from(["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"])

SUBMIT = st.tuples(st.just("submit"), SPECS, st.booleans())
RELEASE = st.tuples(st.just("release"), IDX)
CALLBACK = st.tuples(
    st.just("callback"), IDX,
    st.sampled_from(["record", "raise", "reenter", "submit", "cancel_other"]), IDX,
)
STEPS = st.one_of(
    SUBMIT,
    SUBMIT,
    SUBMIT,
    RELEASE,
    RELEASE,
    RELEASE,
    CALLBACK,
    CALLBACK,
    st.tuples(st.just("cancel"), IDX),
    st.tuples(st.just("result"), IDX, MODES),
    st.tuples(st.just("exception"), IDX, MODES),
    st.tuples(st.just("wait"), REFS, RETURN_WHEN, MODES, st.booleans()),
    st.tuples(st.just("as_completed"), REFS, MODES, st.booleans()),
    st.tuples(st.just("foreign"), st.sampled_from(["pending", "result", "exception", "cancel"])),
    st.tuples(st.just("settle_foreign"), IDX,
              st.sampled_from(["result", "exception", "running", "cancel"])),
    st.tuples(
        st.just("map"), st.lists(st.integers(0, 9), max_size=4),
        st.sampled_from([None, 0, 60]), st.sampled_from([1, 2]), st.sampled_from([None, 1, 2]),
    ),
    st.tuples(st.just("map_next"), IDX, st.booleans()),
    st.tuples(st.just("map_close"), IDX),
    st.tuples(st.just("shutdown"), st.booleans(), st.booleans()),
)
# (max_workers, steps): a few submits first, so that most steps have something to act on.
PROGRAMS = st.tuples(
    st.integers(1, 4),
    st.builds(lambda first, rest: first + rest,
              st.lists(SUBMIT, min_size=1, max_size=4), st.lists(STEPS, min_size=10, max_size=40)),
)


def _examples(ci: int) -> int:
    """`ci` examples under the default profile; the loaded profile's count otherwise."""
    profile = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    return ci if profile == "ci" else settings.default.max_examples


FUZZ = settings(
    max_examples=_examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _where(a: Any, b: Any, path: str = "") -> str:
    """The path to the first place where `a` and `b` differ, and the two values there."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _where(x, y, f"{path}[{i}]")
        if len(a) != len(b):
            return f"{path}: lengths {len(a)} != {len(b)}"
    return f"{path}:\n    futures_impl: {a!r}\n    stdlib:       {b!r}"


def _first_difference(ours: list[Any], theirs: list[Any]) -> str:
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            steps = [entry[0] for entry in ours[:i]
                     if isinstance(entry[0], tuple) and isinstance(entry[0][0], str)]
            return (f"traces differ at entry {i} (after steps {steps!r})\n"
                    f"futures_impl: {a!r}\nstdlib:       {b!r}\nfirst difference at "
                    + _where(a, b))
    return f"trace lengths differ: futures_impl {len(ours)}, stdlib {len(theirs)}"


@pytest.mark.timeout(900)
@FUZZ
@given(program=PROGRAMS)
def test_thread_pool_programs(program: tuple[int, list[tuple[Any, ...]]]) -> None:
    theirs = Run(std_futures, program).execute()
    ours = Run(futures_impl, program).execute()
    assert ours == theirs, _first_difference(ours, theirs)
