"""Parent-side helpers of the reliability trials: /proc readings and bounded child runs.

A child interpreter runs in a session of its own (start_new_session=True): every process
it starts (workers, the forkserver, the resource tracker) inherits its process group, so
`group_members(child.pid)` lists whatever it left behind, whatever the start method.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import pytest
from _support import ROOT


def proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on; None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()


def start_time(pid: int) -> str | None:
    """The process's start time (field 22): with the pid, it names one process."""
    fields = proc_stat(pid)
    return None if fields is None else fields[19]


def alive(pid: int, start: str) -> bool:
    """Process `pid`, started at `start`, still exists and is not a zombie."""
    fields = proc_stat(pid)
    return fields is not None and fields[19] == start and fields[0] != "Z"


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is `pgid`."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = proc_stat(int(name))
            if fields is not None and fields[2] == str(pgid) and fields[0] != "Z":
                out.append(int(name))
    return out


def run_in_session(program: str, hang_guard: float) -> tuple[int, int, str, str]:
    """Run `python -c program` from the repository root in a new session; returns
    (pid, returncode, stdout, stderr). If it has not exited after `hang_guard` seconds
    (a hang detector, not a timing assertion) its whole group is killed and the test
    fails, showing the ends of its output."""
    proc = subprocess.Popen(
        [sys.executable, "-c", program], cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=hang_guard)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the child did not exit within {hang_guard} s (hung)\n{out[-2000:]}"
                    f"\n{err[-4000:]}")
    return proc.pid, proc.returncode, out, err


def abandon(executor: Any) -> None:
    """Failure path only: let the test process exit although `executor` may never finish
    (a regression that loses a call leaves its future pending, and interpreter exit would
    wait for the pool forever, blocking CI instead of failing it). Kills its workers and
    takes its pool out of futures_impl's exit registry (a private name: the test already
    failed; this only keeps the run from hanging after it)."""
    try:
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
    except (OSError, ValueError, AttributeError, RuntimeError):
        pass
    from futures_impl import process as impl_process

    pool = getattr(executor, "_pool", None)
    with impl_process._live_lock:
        impl_process._live_pools.pop(pool, None)  # type: ignore[arg-type]
