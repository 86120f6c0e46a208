"""Step 5 of a run: judge the differences against the known list, telling flakes.

Why: "behaves like concurrent.futures" means: on every (interpreter, suite)
pair, every test has the same outcome against futures_impl as against that
interpreter's stdlib.  Known, accepted differences live in
``known_differences.txt``; the run fails on any other difference, and on a
listed test that no longer differs (so the list only shrinks and stays true).

How: ``compare`` yields the differing tests of a run's ``Outcomes``; ``judge``
splits them against the known list, considering only tests that ran in this
run (``--quick``, ``-k`` and ``--python`` run subsets, and must not call unrun
entries stale).  ``judge_run`` re-runs the unexpected outcomes up to
``--retries`` times (both variants, ``run.rerun``) and marks as flaky the
tests whose verdict changed, giving a ``Verdict``.  The known-differences file
has one ``PAIR TEST_ID`` per line (``#`` comments; the generated comment says
stdlib -> futures_impl outcomes).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from .plan import Plan
from .run import Key, Outcomes, Run, rerun
from .text import say

OUTCOMES = ("passed", "failed", "error", "skipped")
MAX_RETRIED = 40  # more unexpected outcomes than this are a real change, not flakes
KNOWN_HEADER = """\
# Tests whose outcome against futures_impl differs from the stdlib's, per
# (interpreter, suite) pair: "PAIR TEST_ID  # stdlib -> futures_impl".
# `python -m conformance` fails when a test differs that is not listed here,
# and when a listed test (that ran) no longer differs.  Regenerate with
# `python -m conformance --update-known` (partial runs update only the tests
# they ran).  The list may only shrink.
"""


@dataclass
class Difference:
    pair: str
    test_id: str
    stdlib: str
    impl: str
    detail: str  # the futures_impl failure text (or the stdlib's, when only it fails)
    known: bool = False
    flaky: bool = False


@dataclass
class Verdict:
    known: dict[Key, str]  # the known-differences file as read
    ran: set[Key]  # tests that ran in the first pass
    diffs: list[Difference] = field(default_factory=list)  # after re-runs
    unexpected: list[Difference] = field(default_factory=list)
    fixed: list[Key] = field(default_factory=list)  # listed, ran, no longer differ
    flaky: set[Key] = field(default_factory=set)  # verdict changed on a re-run
    # (pair, test) -> (stdlib, futures_impl) outcomes before re-runs
    first_attempt: dict[Key, tuple[tuple[str, str] | None, tuple[str, str] | None]] = field(
        default_factory=dict)


def judge_run(plan: Plan, run: Run, args: argparse.Namespace) -> Verdict:
    """Compare, judge against --known, and re-run unexpected outcomes to tell flakes."""
    outcomes = run.outcomes
    both = len(plan.variants) == 2
    v = Verdict(read_known(args.known), set(outcomes.keys()))
    v.diffs = compare(outcomes) if both else []
    v.unexpected, v.fixed = judge(v.diffs, v.known, v.ran)
    for attempt in range(args.retries if both else 0):
        suspects = {(d.pair, d.test_id) for d in v.unexpected} | set(v.fixed)
        if not suspects:
            break
        if len(suspects) > MAX_RETRIED:
            say(f"{len(suspects)} unexpected outcomes: too many to be flakes, not re-running")
            break
        say(f"re-running {len(suspects)} test(s) with unexpected outcomes "
            f"(attempt {attempt + 1})")
        before = {k: (outcomes.stdlib.get(k), outcomes.impl.get(k)) for k in suspects}
        for k, pair in before.items():
            v.first_attempt.setdefault(k, pair)
        rerun(plan, outcomes, suspects, args)
        for k in suspects:
            after = (outcomes.stdlib.get(k), outcomes.impl.get(k))
            if _differ(*before[k]) != _differ(*after):
                v.flaky.add(k)
        v.diffs = compare(outcomes)
        v.unexpected, v.fixed = judge(v.diffs, v.known, v.ran)
    for d in v.diffs:
        d.flaky = (d.pair, d.test_id) in v.flaky
    return v


def _differ(base: tuple[str, str] | None, impl: tuple[str, str] | None) -> bool:
    return (base or ("absent",))[0] != (impl or ("absent",))[0]


def compare(outcomes: Outcomes) -> list[Difference]:
    diffs = []
    for key in outcomes.keys():
        base = outcomes.stdlib.get(key, ("absent", ""))
        impl = outcomes.impl.get(key, ("absent", ""))
        if base[0] != impl[0]:
            detail = impl[1] if impl[0] not in ("passed",) else base[1]
            diffs.append(Difference(key[0], key[1], base[0], impl[0], detail))
    return diffs


def read_known(path: str) -> dict[Key, str]:
    known: dict[Key, str] = {}
    if not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as f:
        for line in f:
            text, _, comment = line.partition("#")
            parts = text.split()
            if len(parts) >= 2:
                known[(parts[0], parts[1])] = comment.strip()
    return known


def judge(
    diffs: list[Difference], known: dict[Key, str], ran: set[Key]
) -> tuple[list[Difference], list[Key]]:
    """(unexpected differences, listed tests that ran and no longer differ)."""
    differing = {(d.pair, d.test_id) for d in diffs}
    for d in diffs:
        d.known = (d.pair, d.test_id) in known
    unexpected = [d for d in diffs if not d.known]
    fixed = sorted(k for k in known if k in ran and k not in differing)
    return unexpected, fixed


def write_known(path: str, diffs: list[Difference], known: dict[Key, str], ran: set[Key]) -> int:
    """Rewrite the list: entries for tests that ran are replaced by this run's differences."""
    entries = {k: v for k, v in known.items() if k not in ran}
    for d in diffs:
        entries[(d.pair, d.test_id)] = f"{d.stdlib} -> {d.impl}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(KNOWN_HEADER)
        for (pair, test_id), comment in sorted(entries.items()):
            f.write("{} {}{}\n".format(pair, test_id, "  # " + comment if comment else ""))
    return len(entries)
