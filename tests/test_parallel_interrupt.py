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


@pytest.mark.timeout(90)
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("mode", ["pool", "sequential"])
def test_sigint_mid_run_cancels_pending_and_exits(mode: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
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
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
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
