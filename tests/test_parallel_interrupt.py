"""Ctrl-C (a real SIGINT) delivered to a process iterating a Parallelized run.

The child prints READY once both workers are inside a task and every call is
submitted (so the signal lands mid-run, while the main thread waits for
results), the test sends SIGINT, and the child
must: see KeyboardInterrupt come out of the ``with`` block, report the
cancelled work, leave no non-daemon thread behind, and exit.  The tasks are
cooperative (they wait on ``par.stop_event``, set by the interruption): a
running thread can't be killed, and the test shows the documented way to
stop one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import warnings

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = textwrap.dedent(
    """
    import sys, threading
    from futures_impl.parallel import Parallelized

    SEQUENTIAL = sys.argv[1] == "sequential"
    lock = threading.Lock()
    started = []
    entered = threading.Event()  # the with block is entered: every call is submitted

    def task(i):
        with lock:
            started.append(i)
            ready = len(started) == (1 if SEQUENTIAL else 2)
        if ready:
            entered.wait(60)
            print("READY", flush=True)
        # Returns at once when the run is aborted; 60 s bounds a broken test.
        par.stop_event.wait(60)
        return i

    par = Parallelized(task, [{"i": i} for i in range(10)],
                       num_threads=1 if SEQUENTIAL else 2, progress=False)
    try:
        with par:
            entered.set()
            for kwargs, result, error in par:
                print("RESULT", kwargs, result, error, flush=True)
    except KeyboardInterrupt:
        print("CAUGHT KeyboardInterrupt", flush=True)
    print("CANCELLED", len(par.cancelled), "ABANDONED", len(par.abandoned), flush=True)
    for t in threading.enumerate():
        if t is not threading.main_thread() and not t.daemon:
            t.join(30)
    alive = [t.name for t in threading.enumerate()
             if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    print("ALIVE", alive, flush=True)
    """
)


# The child dumps every thread's stack and exits 1 if it is still alive after this many
# seconds (it normally ends within a second or two of the SIGINT): a hang shows where.
_CHILD_WATCHDOG = 40


def _interrupted_run(mode: str) -> tuple[int | None, str, str]:
    # The child restores Python's SIGINT handler first: a test run started as a background
    # job (or under nohup) hands its children SIGINT *ignored*, and the signal would be lost.
    watchdog = (f"import faulthandler, signal, sys\n"
                f"signal.signal(signal.SIGINT, signal.default_int_handler)\n"
                f"faulthandler.dump_traceback_later({_CHILD_WATCHDOG}, exit=True)\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", watchdog + CHILD, mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=_CHILD_WATCHDOG + 20)
    finally:
        if proc.poll() is None:
            proc.kill()
            out, err = proc.communicate()
    return proc.returncode, out, err


@pytest.mark.timeout(240)
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("mode", ["pool", "sequential"])
def test_sigint_mid_run_cancels_pending_and_exits(mode: str) -> None:
    # One retry, reported: twice in CI on 3.11 (tqdm installed, xdist under load) a child of
    # this kind or test_sigint_stress's ended oddly at interpreter exit after printing every
    # line (a 60 s hang; an exit by SIGINT with no traceback); hundreds of runs here did not
    # reproduce it. A second failure fails the test with both children's output (and, for a
    # hang, the watchdog's stack dump).
    returncode, out, err = _interrupted_run(mode)
    if returncode != 0:
        first = f"first run: exit {returncode}\n{out}\n{err}"
        returncode, out, err = _interrupted_run(mode)
        assert returncode == 0, first + f"\nretry: exit {returncode}\n{out}\n{err}"
        warnings.warn(f"test_sigint_mid_run_cancels_pending_and_exits[{mode}] needed a "
                      f"retry; {first}", stacklevel=1)
    lines = out.splitlines()
    assert "CAUGHT KeyboardInterrupt" in lines
    assert not any(line.startswith("RESULT") for line in lines)  # nothing had finished
    if mode == "pool":
        assert "CANCELLED 8 ABANDONED 2" in lines
        expected = "interrupted: 0/10 completed, 8 cancelled before starting, 2 abandoned"
    else:  # the call the signal interrupted was running in the main thread
        assert "CANCELLED 9 ABANDONED 1" in lines
        expected = "interrupted: 0/10 completed, 9 cancelled before starting, 1 abandoned"
    assert expected in err
    assert "ALIVE []" in lines


MISSED_SIGNAL_CHILD = textwrap.dedent(
    """
    import signal, threading
    from futures_impl.parallel import Parallelized

    lock = threading.Lock()
    started = []
    entered = threading.Event()  # the with block is entered: every call is submitted

    def task(i):
        with lock:
            started.append(i)
            last = len(started) == 2
        if last:
            entered.wait(30)
            # SIGINT delivered to this worker thread: its C-level handler runs here and
            # only flags the signal; the main thread, asleep in a lock wait, is not woken.
            # (The same happens when a SIGINT arrives just before the main thread blocks.)
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        # Returns at once when the run is aborted; 30 s bounds a broken test.
        par.stop_event.wait(30)
        return i

    par = Parallelized(task, range(6), unpack="value", num_threads=2, progress=False)
    try:
        with par:
            entered.set()
            for item, result, error in par:
                print("RESULT", item, flush=True)
    except KeyboardInterrupt:
        print("CAUGHT KeyboardInterrupt", flush=True)
    print("COMPLETED", par.completed, "CANCELLED", len(par.cancelled),
          "ABANDONED", len(par.abandoned), flush=True)
    """
)


@pytest.mark.timeout(90)
@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_sigint_that_misses_the_sleeping_main_thread_still_interrupts() -> None:
    """Before the fix, the main thread slept in an untimed wait until a task finished (30 s
    here, forever for a task that waits for the run to stop): the interrupt then found
    finished calls, not the two running ones. Now the wait is sliced on the main thread."""
    restore = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    proc = subprocess.run(
        [sys.executable, "-c", restore + MISSED_SIGNAL_CHILD],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "CAUGHT KeyboardInterrupt",
        "COMPLETED 0 CANCELLED 4 ABANDONED 2",
    ], proc.stdout + proc.stderr
