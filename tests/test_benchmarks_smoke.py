"""Smoke test of the benchmark harness (``python -m benchmarks --quick``).

It only checks that every scenario ran on both sides and produced positive
per-unit costs, and that the floors were measured: no timing is asserted
(speed is judged by reading the benchmark table, never by the test suite).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys

import pytest

import futures_impl.process
from benchmarks.catalog import ROWS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _issue14_rows_available() -> dict[str, bool]:
    """Can futures_impl run each row of issue 14's options here (keyword, package)?"""
    params = inspect.signature(futures_impl.process.ProcessPoolExecutor).parameters
    return {
        "process_cloudpickle": "serializer" in params
        and importlib.util.find_spec("cloudpickle") is not None,
        "process_recovery": "survive_worker_death" in params,
    }


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
    available = _issue14_rows_available()
    for name, row in rows.items():
        assert not row["errors"], (name, row["errors"])
        if name.endswith("_interps"):  # issue 16: the stdlib's InterpreterPoolExecutor is 3.14+
            ours = importlib.util.find_spec("_interpreters") is not None
            assert set(row["skipped"]) == ({"stdlib"} if ours else {"stdlib", "impl"}), name
            assert row["ratio"] is None and not row["in_geomean"], name
            if ours:
                assert isinstance(row["impl"], float) and row["impl"] > 0, name
            continue
        if not available.get(name, True):  # the option is not built: a clean skip
            assert set(row["skipped"]) == {"impl"}, (name, row["skipped"])
            assert row["impl"] is None and row["ratio"] is None and not row["in_geomean"]
            assert isinstance(row["stdlib"], float) and row["stdlib"] > 0, name
            continue
        assert not row["skipped"], (name, row["skipped"])
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
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list", "-k", "process_"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    names = [ln.split()[0] for ln in proc.stdout.splitlines() if ln.strip()]
    assert names[-2:] == ["process_cloudpickle", "process_recovery"], names


def test_new_rows_skip_cleanly_without_the_option(tmp_path: object) -> None:
    """Pointed at a module without issue 14's keywords (the stdlib, through the hidden
    --impl), the rows of the new options skip that side with the reason and the run
    still succeeds; they stay out of the geometric mean."""
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
            "--impl",
            "concurrent.futures",
            "-k",
            "process_cloudpickle",
            "-k",
            "process_recovery",
            "--json",
            out,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with open(out) as fh:
        doc = json.load(fh)
    rows = {r["scenario"]: r for r in doc["rows"]}
    assert set(rows) == {"process_cloudpickle", "process_recovery"}
    for name, keyword in (("process_cloudpickle", "serializer"), ("process_recovery", "survive")):
        row = rows[name]
        assert not row["errors"], (name, row["errors"])
        assert keyword in row["skipped"]["impl"], row["skipped"]
        assert row["impl"] is None and row["ratio"] is None and not row["in_geomean"]
        assert isinstance(row["stdlib"], float) and row["stdlib"] > 0, name
        assert any("impl skipped" in note for note in row["notes"]), row["notes"]
