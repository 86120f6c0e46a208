"""A command-line runner: ``--parallel N`` subprocess tasks with a progress log.

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
* the exit status is 1 when any task failed.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
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


def run_task(base_url: str, path: str) -> Outcome:
    """Run one task as a subprocess; raises CalledProcessError when it fails."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, f"{base_url}/{path}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return Outcome(path, True, proc.stdout.strip())


def safe_run(base_url: str, path: str) -> Outcome:
    """Never raises: a failure becomes an Outcome with ok=False."""
    try:
        return run_task(base_url, path)
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or [f"exit {exc.returncode}"]
        return Outcome(path, False, last[0])
    except Exception as exc:  # timeout, OSError, ...: still just this task's failure
        return Outcome(path, False, f"{type(exc).__name__}: {exc}")


def run_all(base_url: str, paths: Sequence[str], parallel: int) -> Iterator[Outcome]:
    """Yield one Outcome per path, as they finish."""
    if parallel <= 1 or len(paths) <= 1:
        for path in paths:  # sequential fast path: no pool at all
            yield safe_run(base_url, path)
        return
    with futures_impl.ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [pool.submit(safe_run, base_url, path) for path in paths]
        for future in futures_impl.as_completed(futures):
            yield future.result()  # safe_run doesn't raise


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
    for done, outcome in enumerate(run_all(args.base_url.rstrip("/"), paths, args.parallel), 1):
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
    for outcome in failed:
        print(f"FAILED {outcome.task}: {outcome.detail}")
    print(f"{len(paths) - len(failed)}/{len(paths)} tasks succeeded (parallel={args.parallel})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
