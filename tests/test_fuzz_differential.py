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
    default/"ci": 300 programs, 100 exit scripts (~20 s per interpreter; ~60 s loaded);
    HYPOTHESIS_PROFILE=fuzz-long: 10,000 programs, 1,000 exit scripts;
    HYPOTHESIS_PROFILE=dev: 50, for a quick loop.
Differences that are known bugs being fixed, or deliberate (README "Differences from the
stdlib"), are excluded or normalised at the one place they arise, with a comment that starts
"FUZZ-EXCLUDED(" or "NORMALISED" (grep for them).
"""

from __future__ import annotations

import concurrent.futures as std_futures
import os
import subprocess
import sys
from typing import Any

import pytest
from _fuzz_programs import Run
from _support import normalise
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
    st.sampled_from(["record", "raise", "reenter", "submit", "cancel_other", "shutdown"]), IDX,
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
    st.tuples(st.just("foreign"),
              st.sampled_from(["pending", "result", "exception", "exception_none", "cancel"])),
    st.tuples(st.just("settle_foreign"), IDX,
              st.sampled_from(["result", "exception", "exception_none", "running", "cancel"])),
    st.tuples(
        st.just("map"), st.lists(st.integers(0, 9), max_size=4),
        st.sampled_from([None, 0, 60]), st.sampled_from([1, 2]), st.sampled_from([None, 1, 2]),
    ),
    st.tuples(st.just("map_next"), IDX, st.booleans()),
    st.tuples(st.just("map_close"), IDX),
    st.tuples(st.just("shutdown"), st.booleans(), st.booleans()),
)
# (max_workers, initializer, steps); a few submits first, so most steps have a task to act on.
PROGRAMS = st.tuples(
    st.integers(1, 4),
    st.sampled_from(["none", "none", "none", "ok", "fail"]),
    st.builds(lambda first, rest: first + rest,
              st.lists(SUBMIT, min_size=1, max_size=4), st.lists(STEPS, min_size=10, max_size=40)),
)


def _examples(ci: int, long: int | None = None) -> int:
    """`ci` examples under the default profile; under "fuzz-long", `long` if given (the
    subprocess test is ~50x slower per example), else the profile's count; under any other
    profile, that profile's count."""
    profile = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if profile == "ci":
        return ci
    if profile == "fuzz-long" and long is not None:
        return long
    return settings.default.max_examples


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
def test_thread_pool_programs(program: tuple[int, str, list[tuple[Any, ...]]]) -> None:
    theirs = Run(std_futures, program).execute()
    # The stdlib is the reference: if it gets stuck, the program left the model (or the
    # stdlib deadlocks, to be excluded with a comment), so a hang on both sides fails too.
    stuck = [entry for entry in theirs if len(entry) == 3 and entry[1] == "stuck"]
    assert not stuck, f"the stdlib got stuck: {stuck}"
    ours = Run(futures_impl, program).execute()
    assert ours == theirs, _first_difference(ours, theirs)


# ------------------------------------------------------------------ interpreter exit

EXIT_SCRIPT = r'''
import ast, os, sys, threading
if sys.argv[1] == "futures_impl":
    import futures_impl as cf
else:
    import concurrent.futures as cf
workers, tasks, cancels, ending = ast.literal_eval(sys.argv[2])
gates = [threading.Event() for _ in tasks]
ex = cf.ThreadPoolExecutor(workers)
probe = cf.ThreadPoolExecutor(1)

def open_gates_once_exiting():
    # Runs before the executors' own exit hook (registered later, run first): wait until
    # the interpreter-exit flag is set (a submit is refused), then let the calls finish.
    def poll():
        pause = threading.Event()
        while True:
            try:
                probe.submit(int)
            except RuntimeError:
                break
            pause.wait(0.001)
        for gate in gates:
            gate.set()
    threading.Thread(target=poll, daemon=True).start()

def say(*words):
    os.write(1, (" ".join(map(str, words)) + "\n").encode())  # one write: lines never interleave

def call(k, kind, value):
    gates[k].wait()
    say("ran", k)
    if kind == "raise":
        raise ValueError("task %d" % k)
    return value

def callback(k, action):
    def cb(f):
        state = ("cancelled" if f.cancelled() else
                 "raised %r" % (f.exception(),) if f.exception() else "returned %r" % (f.result(),))
        say("callback", k, action, state)
        if action == "raise":
            raise KeyError(k)
        if action == "submit":
            try:
                ex.submit(int)
                say("callback", k, "submitted")
            except RuntimeError as exc:
                # Whether the stdlib says "after shutdown" or "after interpreter shutdown"
                # here depends on which of its threads marks the pool first: not compared.
                say("callback", k, "submit refused:", type(exc).__name__)
    return cb

futures = []
for k, (kind, value, actions) in enumerate(tasks):
    f = ex.submit(call, k, kind, value)
    futures.append(f)
    for action in actions:
        f.add_done_callback(callback(k, action))
# The first `workers` calls are taken by a worker each (their gates hold them); whether a
# worker has taken its call when the cancels below run is a race in both implementations:
# wait until it has, so a cancel's answer is decided by the program, not by the scheduler.
starting = futures[:workers]
pause = threading.Event()
for _ in range(30000):
    if all(f.running() for f in starting):
        break
    pause.wait(0.001)
for k in cancels:
    say("cancel", k, futures[k % len(futures)].cancel())
if ending == "shutdown":
    ex.shutdown(wait=False)
elif ending == "shutdown_cancel":
    ex.shutdown(wait=False, cancel_futures=True)
elif ending == "del":
    del ex
threading._register_atexit(open_gates_once_exiting)
say("states", [(f.running(), f.cancelled(), f.done()) for f in futures])
say("main returns")
'''

EXIT_TASKS = st.lists(
    st.tuples(st.sampled_from(["value", "raise"]), st.integers(0, 9),
              st.lists(st.sampled_from(["print", "raise", "submit"]), max_size=2)),
    min_size=1, max_size=6,
)
EXIT_PROGRAMS = st.tuples(
    st.integers(1, 3), EXIT_TASKS, st.lists(st.integers(0, 5), max_size=3),
    st.sampled_from(["none", "shutdown", "shutdown_cancel", "del"]),
)
EXIT_TIMEOUT = 30.0


def run_exit_program(mod: str, program: Any) -> Any:
    proc = subprocess.Popen(
        [sys.executable, "-c", EXIT_SCRIPT, mod, repr(program)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = proc.communicate(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return ("hung", sorted(out.splitlines()))
    # Calls and callbacks run on several workers once the gates open: compare lines as a
    # multiset. Tracebacks name each implementation's files: keep their last lines only.
    errors = sorted(normalise(line) for line in err.splitlines()
                    if not line.startswith((" ", "Traceback")))
    return (proc.returncode, sorted(out.splitlines()), errors)


@pytest.mark.timeout(900)
@settings(FUZZ, max_examples=_examples(100, long=1000))
@given(program=EXIT_PROGRAMS)
def test_interpreter_exit_with_work_pending(program: Any) -> None:
    workers, tasks, cancels, ending = program
    if ending == "shutdown_cancel" and any("submit" in actions for _, _, actions in tasks):
        # NORMALISED (README "Differences"): a callback that submits, run by
        # shutdown(cancel_futures=True), deadlocks on the stdlib; see _fuzz_programs.py.
        return
    theirs = run_exit_program("stdlib", program)
    ours = run_exit_program("futures_impl", program)
    assert ours == theirs, _where(ours, theirs)
