"""The branch-coverage gate of `nox -s coverage` (tests/_coverage_gate.py) applies its rule.

Every module below the threshold fails unless tests/coverage_exceptions.toml excepts it
with a reason (and it still reaches the exception's `at_least` floor, if given); an
exception naming no measured module is a warning only (files move: futures_impl/_process_*
to futures_impl/_process/), and the real table parses and gives every entry a reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import _coverage_gate as gate
import pytest


def report(**percent_of: tuple[int, int]) -> dict[str, dict[str, Any]]:
    """A coverage JSON `files` mapping for futures_impl/NAME.py: (covered branches, branches)."""
    return {f"futures_impl/{name}.py": {"summary": {"covered_branches": hit, "num_branches": n}}
            for name, (hit, n) in percent_of.items()}


def test_modules_at_or_above_the_threshold_pass() -> None:
    files = report(a=(85, 100), b=(0, 0))  # no branch: 100%
    assert gate.check(files, {"threshold": 85}) == ([], [], [])


def test_a_module_below_the_threshold_fails_without_an_exception() -> None:
    failures, warnings, _ = gate.check(report(a=(84, 100)), {"threshold": 85})
    assert failures == ["futures_impl/a.py: 84.0% of branches < 85%, and no exception for "
                        "it in coverage_exceptions.toml"]
    assert warnings == []


def test_an_exception_with_a_reason_lets_it_pass_down_to_its_floor() -> None:
    table = {"threshold": 85, "exceptions": {
        "futures_impl/a.py": {"reason": "platform paths", "at_least": 80}}}
    failures, _, notes = gate.check(report(a=(80, 100)), table)
    assert failures == []
    assert notes == ["futures_impl/a.py: 80.0% (excepted, floor 80.0%: platform paths...)"]
    failures, _, _ = gate.check(report(a=(79, 100)), table)
    assert failures == ["futures_impl/a.py: 79.0% of branches < its exception's floor "
                        "at_least = 80.0"]


def test_an_exception_without_a_reason_is_a_failure() -> None:
    table = {"exceptions": {"futures_impl/a.py": {"reason": "  "}}}
    failures, _, _ = gate.check(report(a=(10, 100)), table)
    assert failures == ["futures_impl/a.py: an exception needs a non-empty reason"]


def test_a_stale_exception_is_a_warning_not_a_failure() -> None:
    table = {"exceptions": {"futures_impl/_process_pool.py": {"reason": "moved"}}}
    failures, warnings, _ = gate.check(report(_process_manager=(99, 100)), table)
    assert failures == []
    assert warnings == ["futures_impl/_process_pool.py: listed in coverage_exceptions.toml but "
                        "not measured (renamed or removed?): the entry is stale"]


def test_an_exception_no_longer_needed_is_noted() -> None:
    table = {"exceptions": {"futures_impl/a.py": {"reason": "was low"}}}
    failures, warnings, notes = gate.check(report(a=(90, 100)), table)
    assert (failures, warnings) == ([], [])
    assert notes == ["futures_impl/a.py: 90.0% reaches 85% in this run: its exception can go once "
                     "it stays there"]


def test_main_exit_status_and_the_real_table(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    if gate.tomllib is None:
        pytest.skip("neither tomllib (3.11+) nor tomli is importable")
    data = tmp_path / "coverage.json"
    data.write_text(json.dumps({"files": report(ok=(9, 10))}))
    assert gate.main([str(data)]) == 0  # the repository's table: parses, stale at worst
    with open(gate.EXCEPTIONS, "rb") as f:
        table = gate.tomllib.load(f)
    assert all(str(e.get("reason", "")).strip() for e in table.get("exceptions", {}).values())
    data.write_text(json.dumps({"files": report(low=(1, 10))}))
    assert gate.main([str(data)]) == 1
    assert "FAILED: futures_impl/low.py: 10.0%" in capsys.readouterr().out
