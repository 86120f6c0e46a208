"""Smoke test of the benchmark harness (``python -m benchmarks --quick``).

It only checks that every scenario ran on both sides and produced positive
per-unit costs, and that the floors were measured: no timing is asserted
(speed is judged by reading the benchmark table, never by the test suite).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchmarks.catalog import ROWS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.timeout(600)
def test_quick_run_covers_every_scenario(tmp_path: object) -> None:
    out = os.path.join(str(tmp_path), "bench.json")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--rounds",
            "1",
            "--no-loky",
            "--json",
            out,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with open(out) as fh:
        doc = json.load(fh)
    rows = {r["scenario"]: r for r in doc["rows"]}
    assert set(rows) == {r.name for r in ROWS}
    for name, row in rows.items():
        assert not row["errors"], (name, row["errors"])
        for side in ("stdlib", "impl"):
            assert isinstance(row[side], float) and row[side] > 0, (name, side, row[side])
        assert row["ratio"] > 0, name
        assert row["cpu_ratio"] is not None and row["cpu_ratio"] >= 0, name
        assert row["floor"] is not None and row["floor"]["cost"] > 0, name
    assert doc["meta"]["impl_module"] == "futures_impl"
    assert doc["summary"]["geomean"] > 0
    # the table is printed on stdout, one line per scenario
    for name in rows:
        assert name in proc.stdout


def test_selection_and_list() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list", "-k", "wait_"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    names = [ln.split()[0] for ln in proc.stdout.splitlines() if ln.strip()]
    assert names == ["wait_first_100", "wait_first_2000", "wait_all_done"]
