"""Step 4 of a run: every planned class, against the stdlib and against futures_impl.

Why: the comparison is only fair when both variants of a class run under the
same load, so they run side by side; and a run takes minutes, so each pair's
totals are printed as soon as its last class finishes.

How: ``run_plan`` turns the ``Plan`` into ``runner.Task``s (class by class,
both variants next to each other), runs them on ``--jobs`` workers
(``runner.run_tasks``) and gathers the outcomes into a ``Run``: ``Outcomes``
(one dict per variant), class time per (pair, variant), and one log record per
class (status, duration, regrtest's "env changed" warnings) for the report
and ``--json``.  ``rerun`` runs chosen tests again into the same ``Outcomes``
(the judge step uses it to tell flakes).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any

from . import runner
from .plan import Plan
from .text import say

Key = tuple[str, str]  # (pair key, test id)


@dataclass
class Outcomes:
    # (pair_key, test_id) -> (outcome, detail), one dict per variant
    stdlib: dict[Key, tuple[str, str]] = field(default_factory=dict)
    impl: dict[Key, tuple[str, str]] = field(default_factory=dict)

    def keys(self) -> list[Key]:
        return sorted(set(self.stdlib) | set(self.impl))

    def store(self, res: runner.TaskResult) -> None:
        key = res.task.env.pair.key
        target = self.stdlib if res.task.variant == runner.STDLIB else self.impl
        for test_id, outcome in res.results.items():
            target[(key, test_id)] = outcome


@dataclass
class Run:
    outcomes: Outcomes = field(default_factory=Outcomes)
    timings: dict[tuple[str, str], float] = field(default_factory=dict)  # (pair, variant) -> s
    class_log: list[dict[str, Any]] = field(default_factory=list)  # one record per class run


def counts(results: dict[Key, tuple[str, str]], pair: str | None = None) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for (p, _), (outcome, _) in results.items():
        if pair is not None and p != pair:
            continue
        if outcome == "passed":
            passed += 1
        elif outcome == "skipped":
            skipped += 1
        elif outcome in ("failed", "error", "absent"):
            failed += 1
    return passed, failed, skipped


def run_plan(plan: Plan, args: argparse.Namespace) -> Run:
    """Run every planned class in every variant; progress lines as classes and pairs finish."""
    tasks = [
        runner.Task(plan.envs[key], variant, cls, ids, subset=bool(args.match),
                    timeout=args.timeout)
        for key in plan.classes
        for cls, ids in plan.classes[key]
        for variant in plan.variants
    ]
    run = Run()
    pending = {(t.env.pair.key, t.variant): 0 for t in tasks}
    for t in tasks:
        pending[(t.env.pair.key, t.variant)] += 1

    def on_done(res: runner.TaskResult) -> None:
        run.outcomes.store(res)
        key, variant = res.task.env.pair.key, res.task.variant
        run.timings[(key, variant)] = run.timings.get((key, variant), 0.0) + res.duration
        warnings = [ln for ln in res.log.splitlines() if ln.startswith("Warning -- ")]
        run.class_log.append({"pair": key, "variant": variant, "class": res.task.cls,
                              "status": res.status, "duration": round(res.duration, 2),
                              "env_warnings": warnings})
        if args.verbose or res.status != "ok":
            p, f, s = counts({(key, t): o for t, o in res.results.items()})
            name = res.task.cls.rsplit(".", 1)[-1][:62]
            status = "" if res.status == "ok" else f"  ** {res.status.upper()} **"
            counted = f"{p:3d}/{f}/{s}"
            say(f"  {key:<28} {variant:<12} {name:<62} {counted} {res.duration:6.1f}s{status}")
        pending[(key, variant)] -= 1
        if pending[(key, variant)] == 0:
            side = run.outcomes.stdlib if variant == runner.STDLIB else run.outcomes.impl
            p, f, s = counts(side, key)
            say(f"{key} {variant}: {p} passed, {f} failed, {s} skipped "
                f"({run.timings[(key, variant)]:.0f}s of class time)")

    runner.run_tasks(tasks, args.jobs, args.results_dir, on_done)
    return run


def rerun(plan: Plan, outcomes: Outcomes, suspects: set[Key], args: argparse.Namespace) -> None:
    """Run the ``suspects`` again in both variants, replacing their outcomes.

    A suspect named ``Class::fixture`` (a failing class fixture) re-runs its whole class.
    """
    tasks = []
    for key in plan.classes:
        for cls, ids in plan.classes[key]:
            again = [t for t in ids if (key, t) in suspects]
            if any(p == key and t.startswith(cls + "::") for p, t in suspects):
                again = ids
            if again:
                for side in (outcomes.stdlib, outcomes.impl):  # drop its fixture errors
                    for k in [k for k in side if k[0] == key and k[1].startswith(cls + "::")]:
                        del side[k]
                for variant in plan.variants:
                    tasks.append(runner.Task(plan.envs[key], variant, cls, again, subset=True,
                                             timeout=args.timeout))
    runner.run_tasks(tasks, args.jobs, os.path.join(args.results_dir, "retry"), outcomes.store)
