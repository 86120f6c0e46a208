"""The branch-coverage gate that ends `nox -s coverage`: python tests/_coverage_gate.py REPORT.

Why: issue 12's rule, "no module below 85% branches without a reason written down", kept by
CI instead of by memory. How: reads coverage's JSON report (`coverage json`) and the table
of exceptions, tests/coverage_exceptions.toml (docs/coverage.md shows its format). Every
measured module must reach the threshold, unless the table lists it with a reason; a listed
module may also set `at_least`, a lower floor it must still reach (so an excepted module
cannot silently lose more). Entries are keyed by the module's path as the report names it
(`futures_impl/thread.py`): an entry that matches no measured module (a file renamed or
removed) is a warning, not a failure, so moving files never breaks the gate by itself.
Exit status 1 when a module fails, or when the table itself is malformed.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

tomllib: Any
try:  # 3.11+; before, coverage[toml] brings tomli (the coverage session runs on 3.13)
    import tomllib
except ImportError:  # pragma: no cover
    try:
        import tomli as tomllib
    except ImportError:  # the test venvs of 3.9/3.10: check() still works, main() does not
        tomllib = None

EXCEPTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coverage_exceptions.toml")


def branch_percent(summary: dict[str, Any]) -> float:
    """A module's branch coverage in percent (100 when it has no branch)."""
    n = summary["num_branches"]
    return 100.0 * summary["covered_branches"] / n if n else 100.0


def check(
    files: dict[str, dict[str, Any]], table: dict[str, Any]
) -> tuple[list[str], list[str], list[str]]:
    """(failures, warnings, notes) for the report's `files` against the exceptions `table`."""
    threshold = float(table.get("threshold", 85.0))
    exceptions: dict[str, Any] = table.get("exceptions", {})
    failures: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    for path, entry in exceptions.items():
        if not str(entry.get("reason", "")).strip():
            failures.append(f"{path}: an exception needs a non-empty reason")
    measured = {name.replace(os.sep, "/"): entry["summary"] for name, entry in files.items()}
    for path, summary in sorted(measured.items()):
        percent = branch_percent(summary)
        if percent >= threshold:
            if path in exceptions:
                notes.append(f"{path}: {percent:.1f}% reaches {threshold:.0f}% in this run: its "
                             "exception can go once it stays there")
            continue
        excepted = exceptions.get(path)
        if excepted is None:
            failures.append(f"{path}: {percent:.1f}% of branches < {threshold:.0f}%, and no "
                            f"exception for it in {os.path.basename(EXCEPTIONS)}")
            continue
        floor = excepted.get("at_least")
        if floor is not None and percent < float(floor):
            failures.append(f"{path}: {percent:.1f}% of branches < its exception's floor "
                            f"at_least = {float(floor):.1f}")
        else:
            floor_text = f", floor {float(floor):.1f}%" if floor is not None else ""
            notes.append(f"{path}: {percent:.1f}% (excepted{floor_text}: "
                         f"{excepted['reason'].strip()[:60]}...)")
    for path in sorted(set(exceptions) - set(measured)):
        warnings.append(f"{path}: listed in {os.path.basename(EXCEPTIONS)} but not measured "
                        "(renamed or removed?): the entry is stale")
    return failures, warnings, notes


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: _coverage_gate.py COVERAGE_JSON [EXCEPTIONS_TOML]", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        files = json.load(f)["files"]
    with open(argv[1] if len(argv) == 2 else EXCEPTIONS, "rb") as f:
        table = tomllib.load(f)
    failures, warnings, notes = check(files, table)
    for line in notes:
        print(f"note: {line}")
    for line in warnings:
        print(f"WARNING: {line}")
    for line in failures:
        print(f"FAILED: {line}")
    if failures:
        print(f"branch-coverage gate: {len(failures)} failure(s) (docs/coverage.md says how to "
              "add a test or, with a reason, an exception)")
        return 1
    print(f"branch-coverage gate: every module >= {float(table.get('threshold', 85.0)):.0f}% "
          "or excepted with a reason")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
