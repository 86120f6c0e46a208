"""Orchestration: ``python -m benchmarks [--quick] [--json FILE] [-k PATTERN]``.

Theory of operation
-------------------
Every measurement runs in a fresh interpreter (``benchmarks.worker``) with a
timeout, so one side's threads, caches or leaked workers can never touch the
other side.  For each row the runner does ``rounds`` rounds; each round runs
one subprocess per side, alternating the order (A B, B A, A B, ...), so slow
drift and bursts of load from other programs on the 2 noisy cores hit both
sides alike.  Each subprocess does one warm-up then ``reps`` timed
repetitions; the row's cost for a side is the median of all its per-unit
samples, and the ratio is median(futures_impl) / median(stdlib).  Floors are
measured the same way (one side) in the same run.  Ratios are the result,
absolute times are context.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

from . import report
from .catalog import DASK_ROWS, FLOORS_BY_NAME, ROWS, Row

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class WorkerFailed(Exception):
    pass


def _env() -> dict[str, str]:
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = ROOT + (os.pathsep + path if path else "")
    return env


def run_worker(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one measurement subprocess; kill its whole process group on timeout."""
    spec = dict(spec, root=ROOT)
    cmd = [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise WorkerFailed(f"timeout after {timeout:g}s") from None
    finally:
        # pool workers that outlive their parent would skew the next measurement
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if proc.returncode != 0:
        tail = (err or "").strip().splitlines()[-1:]
        raise WorkerFailed(f"exit {proc.returncode}: " + " | ".join(tail))
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        raise WorkerFailed("no result line")
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def _selected(patterns: list[str]) -> list[Row]:
    if not patterns:
        return list(ROWS)  # not DASK_ROWS: those run only when a pattern asks for them

    def match(name: str) -> bool:
        return any(p in name or fnmatch.fnmatchcase(name, p) for p in patterns)

    return [r for r in ROWS + DASK_ROWS if match(r.name)]


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def measure_floor(name: str, args: argparse.Namespace) -> dict[str, Any]:
    fl = FLOORS_BY_NAME[name]
    n = fl.quick if args.quick else fl.full
    reps = 1 if args.quick else (args.reps or fl.reps)
    samples: list[float] = []
    errors: list[str] = []
    for _ in range(args.rounds):
        spec = {
            "kind": "floor",
            "name": name,
            "side": "floor",
            "module": args.impl,
            "n": n,
            "warmup_n": max(1, n // 10),
            "reps": reps,
        }
        try:
            samples.extend(run_worker(spec, args.timeout)["samples"])
        except WorkerFailed as e:
            errors.append(str(e))
    return {
        "name": name,
        "label": fl.label,
        "n": n,
        "samples": samples,
        "median": _median(samples),
        "errors": errors,
    }


def measure_row(row: Row, sides: list[str], args: argparse.Namespace) -> dict[str, Any]:
    n = row.quick if args.quick else row.full
    reps = 1 if args.quick else (args.reps or row.reps)
    samples: dict[str, list[float]] = {s: [] for s in sides}
    cpu: dict[str, list[float]] = {s: [] for s in sides}
    mem: dict[str, list[int]] = {s: [] for s in sides}
    errors: dict[str, list[str]] = {s: [] for s in sides}
    skipped: dict[str, str] = {}
    has_buffersize: dict[str, Any] = {}
    paired: list[float] = []
    for rnd in range(args.rounds):
        order = sides if rnd % 2 == 0 else sides[::-1]
        this_round: dict[str, float] = {}
        for side in order:
            if side in skipped:  # it said why once; the next rounds would say the same
                continue
            spec = {
                "kind": "import" if row.name == "import" else "scenario",
                "name": row.name,
                "side": side,
                "module": args.impl,
                "n": n,
                "warmup_n": max(1, n // 10),
                "reps": reps,
                "mem": row.mem and rnd == 0,
            }
            try:
                res = run_worker(spec, args.timeout)
            except WorkerFailed as e:
                errors[side].append(str(e))
                continue
            if res.get("skipped"):
                skipped[side] = res["skipped"]
                continue
            samples[side].extend(res["samples"])
            cpu[side].extend(res.get("cpu_samples") or [])
            if res["samples"]:
                this_round[side] = statistics.median(res["samples"])
            if res.get("mem_peak") is not None:
                mem[side].append(res["mem_peak"])
            if res.get("has_buffersize") is not None:
                has_buffersize[side] = res["has_buffersize"]
        if "stdlib" in this_round and "impl" in this_round:
            paired.append(this_round["impl"] / this_round["stdlib"])
    return {
        "scenario": row.name,
        "n": n,
        "sides": sides,
        "samples": samples,
        "median": {s: _median(v) for s, v in samples.items()},
        "cpu_samples": cpu,
        "cpu_median": {s: _median(v) for s, v in cpu.items()},
        "mem_peak": {s: max(v) if v else None for s, v in mem.items()},
        "errors": {s: v for s, v in errors.items() if v},
        "skipped": skipped,
        "has_buffersize": has_buffersize,
        "paired_ratios": paired,
    }


def _git_commit() -> str | None:
    try:
        r = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        d = subprocess.run(
            ["git", "status", "--porcelain", "--", "futures_impl"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = "+dirty" if d.stdout.strip() else ""
        return (r.stdout.strip() + dirty) or None
    except (OSError, subprocess.SubprocessError):
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="futures_impl vs concurrent.futures, interleaved, one interpreter.",
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes, 2 rounds (smoke test)")
    p.add_argument("--json", metavar="FILE", help="also write the full results as JSON")
    p.add_argument(
        "-k",
        "--match",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only rows whose name contains PATTERN (or fnmatch); repeatable",
    )
    p.add_argument(
        "--rounds", type=int, default=None, help="subprocess rounds per side (default 6, quick 2)"
    )
    p.add_argument(
        "--reps", type=int, default=None, help="timed repetitions per subprocess (default per row)"
    )
    p.add_argument(
        "--timeout", type=float, default=None, help="seconds per subprocess (default 120, quick 60)"
    )
    p.add_argument("--no-loky", action="store_true", help="skip the loky column")
    p.add_argument("--list", action="store_true", help="list the rows and exit")
    # Hidden: point the "futures_impl" side at another module (e.g. concurrent.futures
    # to check the harness itself: every ratio should then be ~1).
    p.add_argument("--impl", default="futures_impl", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 2 if args.quick else 6
    if args.timeout is None:
        args.timeout = 60.0 if args.quick else 120.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = _selected(args.match)
    if args.list:
        for r in rows:
            print(f"{r.name:28} per {r.unit:7} {r.desc}")
        return 0
    if not rows:
        print("no scenario matches", args.match, file=sys.stderr)
        return 2
    loky_version = None
    if not args.no_loky and importlib.util.find_spec("loky") is not None:
        import loky  # type: ignore[import-untyped]

        loky_version = getattr(loky, "__version__", "?")
    meta = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "impl_module": args.impl,
        "loky": loky_version,
        "git": _git_commit(),
        "quick": args.quick,
        "rounds": args.rounds,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    t_start = time.perf_counter()
    print(
        f"# python {meta['python']} | {args.impl} vs concurrent.futures"
        f" | loky {loky_version or 'not installed'} | {args.rounds} rounds"
        f"{' (quick)' if args.quick else ''}",
        file=sys.stderr,
    )

    floor_names = sorted({r.floor for r in rows if r.floor})
    floors = {}
    for name in floor_names:
        floors[name] = measure_floor(name, args)
        print(f"  {report.floor_line(floors[name])}", file=sys.stderr)

    results = []
    for row in rows:
        sides = ["stdlib", "impl"]
        if row.process and loky_version:
            sides.append("loky")
        t_row = time.perf_counter()
        res = measure_row(row, sides, args)
        res["seconds"] = round(time.perf_counter() - t_row, 1)
        results.append(res)
        print(f"  {report.progress_line(row, res)}", file=sys.stderr)

    meta["seconds"] = round(time.perf_counter() - t_start, 1)
    doc = report.build(meta, rows, results, floors)
    print(report.render(doc))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=1)
    failed = any(r["errors"] for r in results)
    return 1 if failed else 0
