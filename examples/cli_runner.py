"""A command-line runner: ``--parallel N`` subprocess tasks with a progress log.

    python -m examples.server &        # first, from the repository root
    python examples/cli_runner.py http://127.0.0.1:8000 --parallel 4
    python examples/cli_runner.py http://127.0.0.1:8000 page/1 status/500

Each task is one subprocess (here: a child Python that downloads one path
and exits non-zero on an HTTP error).  The pattern:

* ``--parallel 1`` (the default) is a plain loop: no pool, no threads, the
  easiest mode to debug;
* ``safe_run`` turns *any* failure of a task (non-zero exit, timeout, a
  missing executable) into a result, so one bad task never stops the others;
* with a pool, results are collected with ``as_completed`` and logged as they
  finish: ``[done/total] <task> -> OK|FAIL (remaining N, elapsed Ns)``;
* the exit status is 1 when any task failed;
* Ctrl-C ends the program at once: the queued tasks are cancelled, no new task
  process starts, the running ones are terminated (a terminal's Ctrl-C reaches
  them too: one process group), a report says what was cancelled and what was
  abandoned, and the exit status is 130.  The pool's workers are daemon threads
  (``wait_at_exit=False``): the interpreter does not wait for the abandoned tasks.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Sequence
from typing import NamedTuple

import futures_impl

log = logging.getLogger("cli_runner")

CHILD = """\
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
    print(len(response.read()), "bytes")
"""


class Outcome(NamedTuple):
    task: str
    ok: bool
    detail: str


class Interrupted(Exception):
    """Raised by run_task once Ctrl-C was pressed: the task is not started."""


# The task processes now running, so that Ctrl-C can end them; `_stopping` is set by
# stop_tasks(). Both guarded by _lock (written by the pool's threads and the main thread).
_lock = threading.Lock()
_running: set[subprocess.Popen[str]] = set()
_stopping = False


def run_task(base_url: str, path: str) -> Outcome:
    """Run one task as a subprocess; raises CalledProcessError when it fails."""
    with _lock:
        if _stopping:
            raise Interrupted("not started: interrupted")
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, f"{base_url}/{path}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _running.add(proc)
    try:
        with proc:
            try:
                out, err = proc.communicate(timeout=60)
            except BaseException:  # a timeout, or Ctrl-C (sequential mode): don't leave it
                proc.kill()
                raise
    finally:
        with _lock:
            _running.discard(proc)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, out, err)
    return Outcome(path, True, out.strip())


def stop_tasks() -> None:
    """Ctrl-C: start no more task processes, terminate the running ones, reap them."""
    global _stopping
    with _lock:
        _stopping = True
        procs = list(_running)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()


def safe_run(base_url: str, path: str) -> Outcome:
    """Never raises: a failure becomes an Outcome with ok=False."""
    try:
        return run_task(base_url, path)
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or [f"exit {exc.returncode}"]
        return Outcome(path, False, last[0])
    except Exception as exc:  # timeout, OSError, ...: still just this task's failure
        return Outcome(path, False, f"{type(exc).__name__}: {exc}")


def run_all(base_url: str, paths: Sequence[str], parallel: int) -> Generator[Outcome, None, None]:
    """Yield one Outcome per path, as they finish."""
    if parallel <= 1 or len(paths) <= 1:
        for path in paths:  # sequential fast path: no pool at all
            yield safe_run(base_url, path)
        return
    # Not `with pool:`: its exit would wait for every task, even after Ctrl-C.
    pool = futures_impl.ThreadPoolExecutor(max_workers=parallel, wait_at_exit=False)
    futures = []
    try:
        for path in paths:
            futures.append(pool.submit(safe_run, base_url, path))
        for future in futures_impl.as_completed(futures):
            yield future.result()  # safe_run doesn't raise
    except BaseException:  # Ctrl-C here, or the caller closed us (its own Ctrl-C)
        cancelled = sum(future.cancel() for future in futures)
        cancelled += len(paths) - len(futures)  # never submitted
        running = sum(not future.done() for future in futures)
        pool.shutdown(wait=False, cancel_futures=True)
        stop_tasks()
        log.warning(
            "interrupted: %d cancelled before starting, %d abandoned while running",
            cancelled,
            running,
        )
        raise
    pool.shutdown()


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("paths", nargs="*", help="paths to fetch (default: a demo set)")
    parser.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="run N tasks at a time (default 1: sequential)",
    )
    args = parser.parse_args(argv or None)
    paths: list[str] = args.paths or [f"page/{i}" for i in range(6)] + ["status/500"]
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    start = time.monotonic()
    failed = []
    done = 0
    outcomes = run_all(args.base_url.rstrip("/"), paths, args.parallel)
    try:
        for outcome in outcomes:
            done += 1
            if not outcome.ok:
                failed.append(outcome)
            log.info(
                "[%d/%d] %s -> %s (remaining %d, elapsed %.1fs)",
                done,
                len(paths),
                outcome.task,
                "OK" if outcome.ok else "FAIL",
                len(paths) - done,
                time.monotonic() - start,
            )
    except KeyboardInterrupt:
        outcomes.close()  # if Ctrl-C landed here, not in run_all: cancel its tasks now
        stop_tasks()  # the sequential path's task, if any
        print(f"interrupted: {done}/{len(paths)} tasks finished", file=sys.stderr)
        return 130  # the shell's status for a program ended by Ctrl-C
    for outcome in failed:
        print(f"FAILED {outcome.task}: {outcome.detail}")
    print(f"{len(paths) - len(failed)}/{len(paths)} tasks succeeded (parallel={args.parallel})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
