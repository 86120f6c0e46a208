"""``python -m conformance``: CPython's concurrent.futures suites against futures_impl.

Why: the project's central claim -- futures_impl behaves like
concurrent.futures -- is proved by the test suites CPython ships, run on every
local interpreter against futures_impl in place of the stdlib, and compared
test by test with a baseline run of the same suite against the real stdlib.

How: ``main`` is the run, one named step after another, each consuming the
plain data the previous one returns: ``plan.find_pairs`` (discover
interpreters and suites, keep the ``--python`` ones), ``plan.prepare`` (a
private venv per interpreter carrying the substitution hook, the suite's
classes listed against the stdlib, a probe proving that the substitution
reaches fork/forkserver/spawn and ``-I``/``-E`` children, the ``--quick``/``-k``
selection) -> ``Plan``; ``run.run_plan`` (every class twice, stdlib and
futures_impl interleaved so that both see the same load, one worker process
per class with a per-class timeout) -> ``Run``; ``verdict.judge_run``
(compare, judge against ``known_differences.txt``, re-run unexpected outcomes
to tell flakes) -> ``Verdict``; ``report.report`` (the table, the
differences, the exit status).  Exit status: 0 when the only differences are the
listed ones and every listed test that ran still differs, 1 otherwise, 2 when
nothing could be run or the substitution did not hold.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

from . import plan, report, run, runner, verdict

HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN_FILE = os.path.join(HERE, "known_differences.txt")
RESULTS_DIR = os.path.join(HERE, "results")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Run CPython's concurrent.futures test suites against futures_impl and the "
        "stdlib on every local interpreter, and compare them test by test.",
    )
    p.add_argument("--quick", action="store_true",
                   help="one start method per process-pool class (the interpreter's default)")
    p.add_argument("--python", action="append", metavar="VERSION",
                   help="only interpreters whose label or version starts with VERSION "
                   "(e.g. 3.12, 3.11.2, pyenv-3.11); repeatable")
    p.add_argument("--interpreter", action="append", metavar="PATH",
                   help="use this python instead of discovering interpreters; repeatable")
    p.add_argument("--suite", metavar="PATH",
                   help="test_concurrent_futures.py or package directory to use instead of the "
                   "interpreters' own")
    p.add_argument("-k", "--match", action="append", metavar="PATTERN",
                   help="only tests whose id contains PATTERN (or matches it, with *); repeatable")
    p.add_argument("--json", metavar="FILE", help="write all results, with failure texts, to FILE")
    p.add_argument("--jobs", "-j", type=int, default=2, help="worker processes at once (default 2)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds per test class before its process tree is killed (default 120; "
                   "the slowest class takes ~25 s)")
    p.add_argument("--retries", type=int, default=1,
                   help="re-runs of classes with unexpected outcomes, to tell flakes (default 1)")
    p.add_argument("--known", default=KNOWN_FILE, metavar="FILE",
                   help="known-differences file (default conformance/known_differences.txt)")
    p.add_argument("--update-known", action="store_true",
                   help="rewrite the known-differences file from this run (tests that ran only)")
    p.add_argument("--impl-root", default=runner.REPO, metavar="DIR",
                   help="directory holding the futures_impl package to test (default: this repo)")
    p.add_argument("--only", choices=runner.VARIANTS,
                   help="run one variant only (no comparison; for debugging)")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="where the per-interpreter venvs live "
                   "(default ~/.cache/futures_impl-conformance)")
    p.add_argument("--results-dir", default=None, metavar="DIR",
                   help="per-class logs (default: a new conformance/results/RUN/, "
                   "the last 5 runs kept)")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per finished class")
    return p.parse_args(argv)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _new_results_dir(keep: int = 5) -> str:
    """A fresh per-run log directory (concurrent runs must not share one); prune old ones."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    runs = sorted(d for d in os.listdir(RESULTS_DIR) if d.startswith("run-"))
    for old in runs[: max(0, len(runs) - keep + 1)]:
        if not _alive(old.rsplit("-", 1)[-1]):  # never a run still going on
            shutil.rmtree(os.path.join(RESULTS_DIR, old), ignore_errors=True)
    path = os.path.join(RESULTS_DIR, time.strftime("run-%Y%m%d-%H%M%S") + f"-{os.getpid()}")
    os.makedirs(path)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    if args.results_dir is None:
        args.results_dir = _new_results_dir()
    try:
        pairs = plan.find_pairs(args)  # 1-2. discover interpreters and suites, select pairs
        prepared = plan.prepare(pairs, args)  # 3. venvs, class lists, probes, tests selected
    except plan.Stop as stop:
        return stop.code
    outcome = run.run_plan(prepared, args)  # 4. stdlib and futures_impl, side by side
    judged = verdict.judge_run(prepared, outcome, args)  # 5. against the known differences
    return report.report(prepared, outcome, judged, args, started)  # 6. report, exit status
