"""Profile one scenario: ``python -m benchmarks.profile SCENARIO [--side impl] [-n N]``.

Runs the scenario once to warm up, then once under cProfile, covering every
thread (3.12+: one profiler sees them all; up to 3.11 each new thread gets its own
profiler), so pool workers and manager threads show up too; the stats are merged
and printed (``--sort``, ``--limit``), or dumped with ``--out FILE`` for
``python -m pstats FILE``.  Profiles are for finding *where* time goes (call
counts, lock operations per unit); the table from ``python -m benchmarks``
stays the measure of *how much*.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import threading
from typing import Any

from .scenarios import FUNCTIONS
from .worker import Api


def profile(name: str, side: str, module: str, n: int) -> tuple[pstats.Stats, int]:
    api = Api(side, module)
    fn = FUNCTIONS[name]
    fn(api, max(1, n // 10))  # warm-up, unprofiled
    profilers: list[cProfile.Profile] = []
    main = cProfile.Profile()
    if sys.version_info >= (3, 12):
        # cProfile runs on sys.monitoring: one profiler sees every thread, and a second
        # one cannot be enabled (a per-thread profiler would kill the thread).
        main.enable()
        try:
            _secs, units = fn(api, n)
        finally:
            main.disable()
    else:
        # Up to 3.11 a profiler sees only the thread that enabled it: give every new
        # thread its own.  _bootstrap_inner (private, present 3.9-3.13) calls run(), so
        # wrapping it also covers Thread subclasses that override run().
        plock = threading.Lock()
        original = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

        def bootstrap(self: threading.Thread) -> None:
            prof = cProfile.Profile()
            with plock:
                profilers.append(prof)
            prof.enable()
            try:
                original(self)
            finally:
                prof.disable()

        threading.Thread._bootstrap_inner = bootstrap  # type: ignore[attr-defined]
        try:
            main.enable()
            _secs, units = fn(api, n)
            main.disable()
        finally:
            threading.Thread._bootstrap_inner = original  # type: ignore[attr-defined]
    stats = pstats.Stats(main)
    for prof in profilers:
        try:
            stats.add(prof)
        except TypeError:  # a thread that never ran any Python code
            pass
    return stats, units


def main(argv: Any = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    p.add_argument("scenario", choices=sorted(FUNCTIONS))
    p.add_argument("--side", default="impl", choices=["impl", "stdlib", "loky"])
    p.add_argument("--impl", default="futures_impl", help="module of the impl side")
    p.add_argument("-n", type=int, default=2000, help="scenario size")
    p.add_argument("--sort", default="tottime")
    p.add_argument("--limit", type=int, default=25)
    p.add_argument("--out", help="dump merged stats to this file")
    args = p.parse_args(argv)
    stats, units = profile(args.scenario, args.side, args.impl, args.n)
    print(
        f"# {args.scenario} [{args.side}] n={args.n} units={units}; "
        f"{stats.total_calls} calls ({stats.total_calls / units:.1f} per unit)",  # type: ignore[attr-defined]
        file=sys.stderr,
    )
    if args.out:
        stats.dump_stats(args.out)
    stats.sort_stats(args.sort).print_stats(args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
