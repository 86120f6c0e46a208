"""Compares futures_impl with the stdlib test by test, and judges the run.

Why: "behaves like concurrent.futures" means: on every (interpreter, suite)
pair, every test has the same outcome against futures_impl as against that
interpreter's stdlib.  Known, accepted differences live in
``known_differences.txt``; the run fails on any other difference, and on a
listed test that no longer differs (so the list only shrinks and stays true).

How: ``Outcomes`` maps (pair key, test id) to (outcome, detail) per variant.
``compare`` yields the differing tests; ``judge`` splits them against the
known list, considering only tests that ran in this run (``--quick``, ``-k``
and ``--python`` run subsets, and must not call unrun entries stale).  The
known-differences file has one ``PAIR TEST_ID`` per line (``#`` comments; the
generated comment says stdlib -> futures_impl outcomes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

OUTCOMES = ("passed", "failed", "error", "skipped")
KNOWN_HEADER = """\
# Tests whose outcome against futures_impl differs from the stdlib's, per
# (interpreter, suite) pair: "PAIR TEST_ID  # stdlib -> futures_impl".
# `python -m conformance` fails when a test differs that is not listed here,
# and when a listed test (that ran) no longer differs.  Regenerate with
# `python -m conformance --update-known` (partial runs update only the tests
# they ran).  The list may only shrink.
"""


@dataclass
class Outcomes:
    # (pair_key, test_id) -> (outcome, detail), one dict per variant
    stdlib: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    impl: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def keys(self) -> list[tuple[str, str]]:
        return sorted(set(self.stdlib) | set(self.impl))


@dataclass
class Difference:
    pair: str
    test_id: str
    stdlib: str
    impl: str
    detail: str  # the futures_impl failure text (or the stdlib's, when only it fails)
    known: bool = False
    flaky: bool = False


def counts(
    results: dict[tuple[str, str], tuple[str, str]], pair: str | None = None
) -> tuple[int, int, int]:
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


def compare(outcomes: Outcomes) -> list[Difference]:
    diffs = []
    for key in outcomes.keys():
        base = outcomes.stdlib.get(key, ("absent", ""))
        impl = outcomes.impl.get(key, ("absent", ""))
        if base[0] != impl[0]:
            detail = impl[1] if impl[0] not in ("passed",) else base[1]
            diffs.append(Difference(key[0], key[1], base[0], impl[0], detail))
    return diffs


def read_known(path: str) -> dict[tuple[str, str], str]:
    known: dict[tuple[str, str], str] = {}
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
    diffs: list[Difference], known: dict[tuple[str, str], str], ran: set[tuple[str, str]]
) -> tuple[list[Difference], list[tuple[str, str]]]:
    """(unexpected differences, listed tests that ran and no longer differ)."""
    differing = {(d.pair, d.test_id) for d in diffs}
    for d in diffs:
        d.known = (d.pair, d.test_id) in known
    unexpected = [d for d in diffs if not d.known]
    fixed = sorted(k for k in known if k in ran and k not in differing)
    return unexpected, fixed


def write_known(
    path: str, diffs: list[Difference], known: dict[tuple[str, str], str], ran: set[tuple[str, str]]
) -> int:
    """Rewrite the list: entries for tests that ran are replaced by this run's differences."""
    entries = {k: v for k, v in known.items() if k not in ran}
    for d in diffs:
        entries[(d.pair, d.test_id)] = f"{d.stdlib} -> {d.impl}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(KNOWN_HEADER)
        for (pair, test_id), comment in sorted(entries.items()):
            f.write("{} {}{}\n".format(pair, test_id, "  # " + comment if comment else ""))
    return len(entries)


def first_line(detail: str) -> str:
    """The most telling line of a failure text: the exception line, else the first."""
    lines = [ln for ln in detail.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    for ln in reversed(lines):
        if not ln.startswith(" ") and ("Error" in ln or "Exception" in ln or ":" in ln):
            return ln.strip()[:200]
    return lines[0].strip()[:200]


def indent(text: str, prefix: str = "      ", max_lines: int = 60) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) > max_lines:
        head, tail = max_lines // 3, max_lines - max_lines // 3
        cut = f"... ({len(lines) - max_lines} lines cut) ..."
        lines = lines[:head] + [cut] + lines[-tail:]
    return "\n".join(prefix + ln for ln in lines)
