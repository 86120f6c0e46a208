"""Ctrl-C ends a program that runs Parallelized, even with long calls running (issue 15, item 1).

Before: the KeyboardInterrupt left the `with` block at once, but the interpreter then
joined the private pool's threads, still running the abandoned calls (5 s each here), and
a user ProcessPoolExecutor's `with` waited for its workers' calls. Now, by default, the
private pool's workers are daemon threads (ThreadPoolExecutor(wait_at_exit=False)) and a
user-given process pool's workers are killed on Ctrl-C; `wait_at_exit=True` keeps the
old behaviour.

Each scenario is a child program (its own session: SIGINT goes to its whole process group,
as a terminal sends it) whose calls sleep 5 s and then create a marker file. The test waits
until every call that can run is running ("STARTED" lines, after call 0's quick "RESULT":
all submitted), sends SIGINT, waits for the child's end (a hang guard only), and asserts
the exit status, the report and that no marker exists: the child ended before any running
call could finish, and (process pools) no worker pid is alive to finish one later. Nothing
is timed in an assertion; the time from SIGINT to exit is printed (pytest -s) for the record.
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _child import Child, pid_alive

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")

# argv: executor ("thread" | "process"), "caught" | "uncaught", "default" | "wait"
# (wait_at_exit=True), marker directory, report ("plain" | "slow-report": the report's
# stream blocks until a second Ctrl-C).
PROGRAM = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    # A test run started in the background hands its children SIGINT ignored: restore it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from futures_impl import ProcessPoolExecutor
    from futures_impl.parallel import Parallelized

    EXECUTOR, CATCH, WAIT, MARKERS, REPORT = sys.argv[1:6]

    def say(text):  # one write per line: lines from several threads/processes never mix
        os.write(1, (text + "\\n").encode())

    def task(i):
        if i == 0:
            return 0  # its RESULT line shows that every call is submitted
        say(f"STARTED {i} {os.getpid()}")
        time.sleep(5)
        with open(os.path.join(MARKERS, f"finished-{i}"), "w"):
            pass
        say(f"FINISHED {i}")
        return i

    class SlowReport:
        # The report's stream: it shows the line, then blocks (as a slow terminal or pipe
        # would) until a second Ctrl-C interrupts the write.
        def write(self, text):
            if "interrupted" in text:
                say("REPORT " + text.strip())
                say("REPORTING")
                threading.Event().wait(60)
            return len(text)

        def flush(self):
            pass

    def run(executor):
        options = {"wait_at_exit": True} if WAIT == "wait" else {}
        if REPORT == "slow-report":
            options["file"] = SlowReport()
        par = Parallelized(task, range(11), unpack="value", num_threads=2,
                           executor=executor, progress=False, **options)
        try:
            with par:
                for item, result, error in par:
                    say(f"RESULT {item} {error!r}")
        finally:
            say(f"CANCELLED {len(par.cancelled)} ABANDONED {len(par.abandoned)}")

    def main():
        if EXECUTOR == "process":
            # The workers ignore the Ctrl-C sent to the process group: only Parallelized's
            # kill can stop their calls (and with wait_at_exit=True, every one finishes).
            with ProcessPoolExecutor(2, initializer=signal.signal,
                                     initargs=(signal.SIGINT, signal.SIG_IGN)) as pool:
                run(pool)
        else:
            run(None)

    if CATCH == "caught":
        try:
            main()
        except KeyboardInterrupt:
            say("CAUGHT KeyboardInterrupt")
    else:
        main()
    """
)


def _interrupted(
    tmp_path: Path, executor: str, catch: str = "caught", wait: str = "default",
    report: str = "plain",
) -> tuple[Child, int | None, float, set[int]]:
    """Run PROGRAM, Ctrl-C it once both workers run a call; (child, exit status, seconds
    from the (last) SIGINT to the child's exit, the workers' pids)."""
    child = Child("-c", PROGRAM, executor, catch, wait, str(tmp_path), report,
                  new_session=True)
    pids: set[int] = set()
    try:
        # Ready: call 0 yielded (every call was submitted before the loop's first result)
        # and two slow calls running (num_threads=2, or 2 process workers: both busy).
        yielded = started = 0
        while not (yielded and started == 2):
            line = child.expect("")
            if line.startswith("RESULT 0 "):
                yielded += 1
            elif line.startswith("STARTED"):
                started += 1
                pids.add(int(line.split()[2]))
        child.interrupt()
        sent = time.monotonic()
        if report == "slow-report":
            child.expect("REPORTING")
            child.interrupt()  # the second Ctrl-C, while the report is being written
            sent = time.monotonic()
        code = child.finish()
        elapsed = time.monotonic() - sent
    finally:
        child.kill()  # no-op once it has ended; its process group otherwise
    return child, code, elapsed, pids - {child.proc.pid}


def _markers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("finished-"))


def _late(lines: list[str]) -> list[str]:
    """Lines of calls that finished after call 0 (the one quick call)."""
    return [line for line in lines
            if line.startswith(("RESULT", "FINISHED")) and not line.startswith("RESULT 0 ")]


def _cleanup(pids: set[int]) -> None:
    for pid in pids:  # a failed run must not leave a worker behind
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("executor", ["thread", "process"])
@pytest.mark.parametrize("catch", ["caught", "uncaught"])
def test_ctrl_c_ends_the_program_without_waiting_for_running_calls(
    tmp_path: Path, executor: str, catch: str
) -> None:
    child, code, elapsed, pids = _interrupted(tmp_path, executor, catch)
    try:
        print(f"\n[{executor}, {catch}] SIGINT to exit: {elapsed:.3f} s "
              f"({sys.version_info[0]}.{sys.version_info[1]})")
        out, err = child.stdout, child.stderr
        assert code == (0 if catch == "caught" else -signal.SIGINT), out + err
        lines = out.splitlines()
        if catch == "caught":
            assert "CAUGHT KeyboardInterrupt" in lines, out + err
        else:
            assert "KeyboardInterrupt" in err  # the traceback of an uncaught Ctrl-C
        assert _late(lines) == [], out
        # The report: nothing completed, the queued calls cancelled, the running ones
        # abandoned (a process pool may have sent a call ahead to a busy worker: it
        # counts as running).
        counts = [line for line in lines if line.startswith("CANCELLED")]
        assert len(counts) == 1, out
        cancelled, abandoned = int(counts[0].split()[1]), int(counts[0].split()[3])
        assert cancelled + abandoned == 10 and abandoned >= 2, out
        if executor == "thread":
            assert (cancelled, abandoned) == (8, 2), out
        assert (f"Parallelized interrupted: 1/11 completed, {cancelled} cancelled before "
                f"starting, {abandoned} abandoned while running") in err, err
        # Ended while the running calls were still asleep; no worker left to finish one.
        assert _markers(tmp_path) == [], out + err
        assert not [pid for pid in pids if pid_alive(pid)], (pids, out, err)
    finally:
        _cleanup(pids)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_wait_at_exit_keeps_waiting_for_the_running_calls(tmp_path: Path, executor: str) -> None:
    """The opt-in (and the control for the test above: the same program lets the running
    calls finish, their markers appear)."""
    child, code, elapsed, pids = _interrupted(tmp_path, executor, wait="wait")
    try:
        print(f"\n[{executor}, wait_at_exit=True] SIGINT to exit: {elapsed:.3f} s")
        out, err = child.stdout, child.stderr
        assert code == 0, out + err
        assert "CAUGHT KeyboardInterrupt" in out.splitlines()
        counts = next(line for line in out.splitlines() if line.startswith("CANCELLED"))
        abandoned = int(counts.split()[3])
        assert "Parallelized interrupted: 1/11 completed" in err, err
        # Every call running at the Ctrl-C (for a process pool: or sent ahead to a busy
        # worker) ran to its end before the program ended.
        assert len(_markers(tmp_path)) == abandoned, (out, err)
        assert out.count("FINISHED") == abandoned
    finally:
        _cleanup(pids)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_second_ctrl_c_during_the_report(tmp_path: Path, executor: str) -> None:
    """The report's stream blocks; a second Ctrl-C interrupts it: the program still ends
    at once (caught by its `except KeyboardInterrupt`), the cancelled and abandoned calls
    are all accounted for, and no call finishes."""
    child, code, elapsed, pids = _interrupted(tmp_path, executor, report="slow-report")
    try:
        print(f"\n[{executor}, second Ctrl-C] SIGINT to exit: {elapsed:.3f} s")
        out, err = child.stdout, child.stderr
        assert code == 0, out + err
        lines = out.splitlines()
        assert "CAUGHT KeyboardInterrupt" in lines, out + err
        report = next(line for line in lines if line.startswith("REPORT "))
        counts = next(line for line in lines if line.startswith("CANCELLED"))
        cancelled, abandoned = int(counts.split()[1]), int(counts.split()[3])
        assert cancelled + abandoned == 10 and abandoned >= 2, out
        assert report == (f"REPORT Parallelized interrupted: 1/11 completed, {cancelled} "
                          f"cancelled before starting, {abandoned} abandoned while running")
        assert _late(lines) == [], out
        assert _markers(tmp_path) == [], out + err
        assert not [pid for pid in pids if pid_alive(pid)], (pids, out, err)
    finally:
        _cleanup(pids)
