"""Step 6 of a run: the report, the optional outputs, and the exit status.

Why: one place says what a run found, in the order a reader needs it: the
per-pair table, each difference (known or NEW) with its failure text, the
environment warnings, the flakes, the stale known entries, then the verdict.

How: ``report`` prints all of it from the ``Plan``, ``Run`` and ``Verdict``,
rewrites the known-differences file on ``--update-known``, writes ``--json``,
and returns the exit status: 0 when the only differences are the listed ones
and every listed test that ran still differs, 1 otherwise, 2 when every pair
failed before running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from . import discover, runner
from .plan import Plan
from .run import Run, counts
from .text import first_line, indent, say
from .verdict import Verdict, write_known


def report(plan: Plan, run: Run, verdict: Verdict, args: argparse.Namespace,
           started: float) -> int:
    """Print the run's findings, write --update-known and --json; the exit status."""
    _table(plan, run, verdict)
    shown = _differences(verdict, args.known)
    _env_warnings(run.class_log, plan.pairs)
    _flakes(verdict, shown)
    if verdict.fixed:
        say()
        say(f"Listed in {os.path.relpath(args.known)} but no longer differing "
            "(remove them, or run --update-known):")
        for pair_key, test_id in verdict.fixed:
            say(f"  {pair_key} {test_id}")
    if args.update_known:
        n = write_known(args.known, verdict.diffs, verdict.known, verdict.ran)
        say(f"\nwrote {os.path.relpath(args.known)}: {n} known difference(s)")
        verdict.unexpected, verdict.fixed = [], []
    if args.json:
        _write_json(args.json, plan, run, verdict)

    outcomes, errors = run.outcomes, plan.errors
    wall = time.monotonic() - started
    ok = not (verdict.unexpected or verdict.fixed or errors)
    say()
    say(f"class logs: {os.path.relpath(args.results_dir)}")
    say(f"conformance {'OK' if ok else 'FAILED'}: {len(verdict.unexpected)} unexpected "
        f"difference(s), {len(verdict.fixed)} stale known difference(s), {len(errors)} pair(s) "
        f"in error; wall time {wall:.0f}s")
    p, f, s = counts(outcomes.impl if runner.IMPL in plan.variants else outcomes.stdlib)
    say(f"{p} passed, {f} failed, {s} skipped")
    if errors and not outcomes.impl and not outcomes.stdlib:
        return 2
    return 0 if ok else 1


def _table(plan: Plan, run: Run, verdict: Verdict) -> None:
    say()
    say(f"{'interpreter':<26} {'suite':<12} {'stdlib p/f/s':>14} {'futures_impl p/f/s':>18} "
        f"{'differ':>8}")
    for pair in plan.pairs:
        key = pair.key
        if key in plan.errors:
            first = plan.errors[key].splitlines()[0][:60]
            say(f"{pair.interp.label:<26} {pair.suite_label:<12}  ERROR: {first}")
            continue
        b = counts(run.outcomes.stdlib, key)
        i = counts(run.outcomes.impl, key)
        n = sum(1 for d in verdict.diffs if d.pair == key)
        bs = "/".join(map(str, b)) if runner.STDLIB in plan.variants else "-"
        is_ = "/".join(map(str, i)) if runner.IMPL in plan.variants else "-"
        say(f"{pair.interp.label:<26} {pair.suite_label:<12} {bs:>14} {is_:>18} {n:8d}")


def _differences(verdict: Verdict, known_path: str) -> dict[str, str]:
    """Print each difference; return failure text -> first test printed with it."""
    shown: dict[str, str] = {}
    diffs = verdict.diffs
    if not diffs:
        return shown
    say()
    n_known = sum(d.known for d in diffs)
    say(f"Tests whose outcome differs from the stdlib ({len(diffs)}; {n_known} listed in "
        f"{os.path.relpath(known_path)}):")
    for d in diffs:
        mark = "known" if d.known else "NEW"
        say("  [{}] {} {}: stdlib {}, futures_impl {}{}".format(
            mark, d.pair, d.test_id, d.stdlib, d.impl, " (flaky)" if d.flaky else ""))
        if d.known:
            if d.detail:
                say("      " + first_line(d.detail))
        elif d.detail and d.detail in shown:
            say(f"      same failure text as {shown[d.detail]}")
        else:
            shown.setdefault(d.detail, d.test_id)
            say(indent(d.detail or "(no failure text)"))
    return shown


def _flakes(verdict: Verdict, shown: dict[str, str]) -> None:
    """Tests that differed at first and matched on a re-run (they do not fail the run)."""
    differing = {(d.pair, d.test_id) for d in verdict.diffs}
    flaky_same = sorted(k for k in verdict.flaky if k not in differing)
    if flaky_same:
        say()
        say("Flaky: differed at first, matched on re-run (not failing the run):")
    for k in flaky_same:
        base, impl = verdict.first_attempt.get(k, (None, None))
        base, impl = base or ("absent", ""), impl or ("absent", "")
        say(f"  [flaky] {k[0]} {k[1]}: stdlib {base[0]}, futures_impl {impl[0]} at first")
        text = impl[1] if impl[0] != "passed" else base[1]
        if text and text in shown:
            say(f"      same failure text as {shown[text]}")
        elif text:
            shown.setdefault(text, k[1])
            say(indent(text))


def _env_warnings(class_log: list[dict[str, Any]], pairs: list[discover.Pair]) -> None:
    """Report regrtest's "env changed" symptoms (dangling threads, children...) per pair.

    Informational: they change no test outcome, but regrtest would flag them,
    and threading_cleanup's retries make the affected tests seconds slower.
    """
    lines = []
    for pair in pairs:
        per_variant = {}
        for variant in runner.VARIANTS:
            entries = [c for c in class_log if c["pair"] == pair.key and c["variant"] == variant]
            per_variant[variant] = [c for c in entries if c["env_warnings"]]
        if any(per_variant.values()):
            sample = next(
                (w for c in per_variant[runner.IMPL] for w in c["env_warnings"]
                 if "Dangling thread" in w and "MainThread" not in w),
                "",
            )
            lines.append(
                f"  {pair.key}: stdlib {len(per_variant[runner.STDLIB])} class(es), "
                f"futures_impl {len(per_variant[runner.IMPL])} class(es)"
                + (f"; e.g. {sample[:150]}" if sample else "")
            )
    if lines:
        say()
        say("Environment warnings (regrtest's 'env changed'; outcomes unaffected; "
            "see the class logs under --results-dir):")
        for line in lines:
            say(line)


def _write_json(path: str, plan: Plan, run: Run, verdict: Verdict) -> None:
    names = ("passed", "failed", "skipped")
    outcomes = run.outcomes
    data = {
        "pairs": [
            {
                "key": p.key, "interpreter": p.interp.label, "executable": p.interp.executable,
                "version": p.interp.version, "suite": p.suite, "suite_label": p.suite_label,
                "error": plan.errors.get(p.key),
                "stdlib": dict(zip(names, counts(outcomes.stdlib, p.key))),
                "futures_impl": dict(zip(names, counts(outcomes.impl, p.key))),
                "class_seconds": {
                    v: round(run.timings.get((p.key, v), 0.0), 1) for v in runner.VARIANTS
                },
            }
            for p in plan.pairs
        ],
        "tests": [
            {"pair": k[0], "id": k[1],
             "stdlib": outcomes.stdlib.get(k, ("absent", ""))[0],
             "futures_impl": outcomes.impl.get(k, ("absent", ""))[0],
             "stdlib_detail": outcomes.stdlib.get(k, ("", ""))[1],
             "futures_impl_detail": outcomes.impl.get(k, ("", ""))[1]}
            for k in outcomes.keys()
        ],
        "differences": [vars(d) for d in verdict.diffs],
        "unexpected": [[d.pair, d.test_id] for d in verdict.unexpected],
        "stale_known": [list(k) for k in verdict.fixed],
        "classes": run.class_log,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
