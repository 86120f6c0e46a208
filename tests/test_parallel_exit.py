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

import http.server
import io
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _child import Child, pid_alive

from futures_impl import ThreadPoolExecutor
from futures_impl._parallel_exit import DeferredInterrupt
from futures_impl.parallel import Parallelized

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


# -- examples/cli_runner.py (seed 002's --parallel N pattern) under Ctrl-C ------------------


class _SlowServer(http.server.BaseHTTPRequestHandler):
    """``/page/<n>``: answered at once; ``/slow/<n>``: held until `release` is set."""

    cond = threading.Condition()
    slow_requests = 0
    release = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/slow/"):
            with self.cond:
                type(self).slow_requests += 1
                self.cond.notify_all()
            self.release.wait(60)
        data = b"x" * 10
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def _processes_fetching(url: str) -> list[int]:
    """Pids of live processes whose command line contains `url` (the example's tasks)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if url in cmdline and pid_alive(int(entry)):
            found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the task processes in /proc")
@pytest.mark.parametrize("parallel", [2, 1])
def test_cli_runner_ctrl_c(parallel: int) -> None:
    """`cli_runner.py --parallel 2` with 2 tasks hanging on the server and 2 queued (or
    `--parallel 1`, sequential: 1 hanging): one SIGINT to the runner alone (`kill -INT`:
    its tasks' processes don't get it, as they would from a terminal) ends it with status
    130 and its report, before any hanging task could finish (the server answers them
    only after the runner's end), and no task process is left."""
    _SlowServer.slow_requests = 0
    _SlowServer.release = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowServer)
    server.daemon_threads = True
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "examples", "cli_runner.py")
    # The runner logs to stderr: fd 2 joins stdout, so lines can be awaited in order.
    wrapper = ("import os, runpy, sys; os.dup2(1, 2); sys.argv = sys.argv[1:]; "
               "runpy.run_path(sys.argv[0], run_name='__main__')")
    child = Child("-c", wrapper, script, base_url, "page/0", "slow/1", "slow/2", "slow/3",
                  "slow/4", "--parallel", str(parallel), new_session=True)
    try:
        child.expect("[1/5] page/0 -> OK")  # every task submitted (the loop has begun)
        with _SlowServer.cond:  # both workers' tasks are waiting for the server
            assert _SlowServer.cond.wait_for(lambda: _SlowServer.slow_requests >= parallel, 60)
        child.proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        code = child.finish()
        elapsed = time.monotonic() - sent
        left = _processes_fetching(f"{base_url}/slow/")
        print(f"\n[cli_runner --parallel {parallel}] SIGINT to exit: {elapsed:.3f} s")
    finally:
        _SlowServer.release.set()
        child.kill()
        server.shutdown()
        server.server_close()
    out = child.stdout
    assert code == 130, out
    if parallel > 1:
        assert "interrupted: 2 cancelled before starting, 2 abandoned while running" in out
    assert "interrupted: 1/5 tasks finished" in out
    assert "Traceback" not in out
    assert not [line for line in out.splitlines() if "slow/" in line and "->" in line], out
    assert _SlowServer.slow_requests == parallel  # the queued tasks never started
    assert left == [], out


# -- DeferredInterrupt: a Ctrl-C held back while calls are submitted or an abort is booked --


@pytest.fixture
def default_sigint() -> Iterator[None]:
    """Python's own SIGINT handler for the test (a runner may have installed another)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_deferred_interrupt_holds_a_ctrl_c_until_reraise(default_sigint: None) -> None:
    reached = False
    with DeferredInterrupt() as held:
        signal.raise_signal(signal.SIGINT)  # its handler runs before the next line
        reached = True
    assert reached and held.received
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    with pytest.raises(KeyboardInterrupt):
        held.reraise()
    held.reraise()  # raised once only


def test_deferred_interrupt_a_second_ctrl_c_raises_at_once(default_sigint: None) -> None:
    reached = False
    with pytest.raises(KeyboardInterrupt):
        with DeferredInterrupt():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
            reached = True
    assert not reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_deferred_interrupt_leaves_other_handlers_and_threads_alone(default_sigint: None) -> None:
    seen: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    with DeferredInterrupt() as held:
        signal.raise_signal(signal.SIGINT)  # the user's handler runs, not ours
    assert seen == [signal.SIGINT] and not held.received
    signal.signal(signal.SIGINT, signal.default_int_handler)
    handlers: list[object] = []

    def elsewhere() -> None:  # signal.signal() works on the main thread only
        with DeferredInterrupt():
            handlers.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(60)
    assert handlers == [signal.default_int_handler]


class _PoolKilledByCtrlC(ThreadPoolExecutor):
    """A user executor whose kill_workers() gets a second Ctrl-C in the middle."""

    killed = False

    def kill_workers(self) -> None:
        signal.raise_signal(signal.SIGINT)  # a second Ctrl-C during the abort's bookkeeping
        self.killed = True
        self.shutdown(wait=False, cancel_futures=True)


def test_second_ctrl_c_during_the_abort_is_raised_after_the_report(default_sigint: None) -> None:
    release = threading.Event()
    report = io.StringIO()
    pool = _PoolKilledByCtrlC(max_workers=1)
    try:
        par = Parallelized(release.wait, [60] * 3, unpack="value", executor=pool,
                           progress=False, file=report)
        with pytest.raises(KeyboardInterrupt) as caught:
            with par:
                raise KeyboardInterrupt  # the first Ctrl-C (the loop has not started)
        # The held one, raised after the bookkeeping and the report (its context: the first).
        assert isinstance(caught.value.__context__, KeyboardInterrupt)
        assert pool.killed
        assert "Parallelized interrupted: 0/3 completed, 3 cancelled before starting" in (
            report.getvalue())
    finally:
        release.set()
        pool.shutdown(wait=True)
