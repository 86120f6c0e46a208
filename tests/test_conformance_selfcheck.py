"""Self-check of the conformance runner (``python -m conformance``).

A runner that always says "identical" would make the project's main claim
worthless, so these tests run it for real -- on the ``FutureTests`` class of
the current interpreter's concurrent.futures suite -- with deliberately broken
stand-ins for futures_impl, and assert that it notices:

* an empty ``futures_impl`` package: the suite cannot even import, every test
  must be reported as differing and the run must fail;
* futures_impl with ``Future.result`` sabotaged: exactly the tests that look at
  results must differ, the others must match -- which proves the substitution
  reaches the very objects the suite uses, test by test;
* the real futures_impl: identical to the stdlib on the same class (skipped,
  with the reason, while futures_impl cannot yet load the suite).

Each test is bounded by a pytest timeout and the runner's own per-class
timeout.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CLASS = "FutureTests"

SABOTAGE = '''

# --- sabotage appended by tests/test_conformance_selfcheck.py ---
_conformance_real_result = Future.result


def _conformance_broken_result(self, timeout=None):
    return ("sabotaged", _conformance_real_result(self, timeout))


Future.result = _conformance_broken_result
'''

# The suites import these names from concurrent.futures.process at module
# level; a stub process module lets FutureTests (which never starts a process
# pool) run against a futures_impl that has no process pool yet.
PROCESS_STUB = '''
from ._base import BrokenExecutor, Executor


class BrokenProcessPool(BrokenExecutor):
    pass


class ProcessPoolExecutor(Executor):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("process pool stub (conformance self-check)")


def _check_system_limits():
    raise NotImplementedError("process pool stub (conformance self-check)")
'''


def run_conformance(tmp_path: Path, impl_root: Path) -> tuple[int, str, dict]:
    known = tmp_path / "known.txt"
    known.write_text("")
    out_json = tmp_path / "result.json"
    cmd = [
        sys.executable, "-m", "conformance",
        "--interpreter", sys.executable,
        "-k", CLASS,
        "--impl-root", str(impl_root),
        "--known", str(known),
        "--results-dir", str(tmp_path / "results"),
        "--json", str(out_json),
        "--retries", "0",
        "--timeout", "120",
    ]
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=280, stdin=subprocess.DEVNULL
    )
    output = proc.stdout + proc.stderr
    if "error: no (interpreter, suite) pair" in output:
        pytest.skip(f"no concurrent.futures test suite for {sys.executable}: {output[-500:]}")
    assert out_json.exists(), output
    data = json.loads(out_json.read_text())
    return proc.returncode, output, data


def outcomes(data: dict) -> dict[str, tuple[str, str]]:
    return {t["id"]: (t["stdlib"], t["futures_impl"]) for t in data["tests"]}


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.mark.timeout(300)
def test_empty_stub_is_reported_as_failing(tmp_path: Path) -> None:
    stub = tmp_path / "stub"
    (stub / "futures_impl").mkdir(parents=True)
    (stub / "futures_impl" / "__init__.py").write_text('"""Broken stand-in: exports nothing."""\n')

    code, output, data = run_conformance(tmp_path, stub)

    results = outcomes(data)
    assert len(results) >= 15, output  # FutureTests has 20+ tests on 3.9-3.13
    assert all(base == "passed" for base, _ in results.values()), output
    assert all(impl == "error" for _, impl in results.values()), output
    assert code == 1, output
    assert len(data["unexpected"]) == len(results)
    assert last_line(output) == f"0 passed, {len(results)} failed, 0 skipped"


def _copy_impl(tmp_path: Path) -> Path:
    if importlib.util.find_spec("futures_impl._base") is None:
        pytest.skip("futures_impl._base does not exist yet")
    stub = tmp_path / "stub"
    shutil.copytree(
        REPO / "futures_impl", stub / "futures_impl", ignore=shutil.ignore_patterns("__pycache__")
    )
    return stub


@pytest.mark.timeout(300)
def test_sabotaged_future_result_is_caught_test_by_test(tmp_path: Path) -> None:
    stub = _copy_impl(tmp_path)
    pkg = stub / "futures_impl"
    with open(pkg / "_base.py", "a") as f:
        f.write(SABOTAGE)
    if not (pkg / "process.py").exists():
        (pkg / "process.py").write_text(PROCESS_STUB)

    code, output, data = run_conformance(tmp_path, stub)

    results = outcomes(data)
    differing = {t for t, (base, impl) in results.items() if base != impl}
    same = {t for t, (base, impl) in results.items() if base == impl == "passed"}
    by_name = {t.rsplit(".", 1)[-1] for t in differing}
    assert "test_result_with_success" in by_name, output
    assert "test_result_with_timeout" in by_name, output
    # Tests that never call result() still pass: the substitution is per object,
    # not a blanket failure.
    assert {t.rsplit(".", 1)[-1] for t in same} >= {"test_cancel", "test_done"}, output
    assert code == 1, output
    diff_text = "\n".join(
        d["detail"]
        for d in data["differences"]
        if d["test_id"].endswith("test_result_with_success")
    )
    assert "sabotaged" in diff_text, diff_text


@pytest.mark.timeout(300)
def test_real_futures_impl_matches_stdlib_on_future_tests(tmp_path: Path) -> None:
    missing = [m for m in ("futures_impl._base", "futures_impl.thread", "futures_impl.process")
               if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip("futures_impl cannot load the suite yet: missing {}".format(", ".join(missing)))

    code, output, data = run_conformance(tmp_path, REPO)

    results = outcomes(data)
    assert len(results) >= 15, output
    assert {t: r for t, r in results.items() if r[0] != r[1]} == {}, output
    assert code == 0, output


# --- the known-differences rule and the selection options, without running suites ---


def test_judge_flags_new_and_stale_differences(tmp_path: Path) -> None:
    from conformance import run, verdict

    outcomes = run.Outcomes(
        stdlib={("p:own", "t.A.test_1"): ("passed", ""), ("p:own", "t.A.test_2"): ("passed", ""),
                ("p:own", "t.A.test_3"): ("passed", "")},
        impl={("p:own", "t.A.test_1"): ("failed", "boom"), ("p:own", "t.A.test_2"): ("passed", ""),
              ("p:own", "t.A.test_3"): ("error", "bang")},
    )
    diffs = verdict.compare(outcomes)
    assert [(d.test_id, d.stdlib, d.impl) for d in diffs] == [
        ("t.A.test_1", "passed", "failed"), ("t.A.test_3", "passed", "error")]
    known = {("p:own", "t.A.test_1"): "", ("p:own", "t.A.test_2"): "",
             ("p:own", "t.B.not_run"): "", ("q:own", "t.A.test_3"): ""}
    unexpected, stale = verdict.judge(diffs, known, set(outcomes.keys()))
    assert [d.test_id for d in unexpected] == ["t.A.test_3"]  # listed for another pair only
    assert stale == [("p:own", "t.A.test_2")]  # listed, ran, no longer differs; not_run is kept

    path = tmp_path / "known.txt"
    assert verdict.write_known(str(path), diffs, known, set(outcomes.keys())) == 4
    assert verdict.read_known(str(path)).keys() == {
        ("p:own", "t.A.test_1"), ("p:own", "t.A.test_3"), ("p:own", "t.B.not_run"),
        ("q:own", "t.A.test_3")}


def test_quick_keeps_one_start_method_and_match_selects() -> None:
    from conformance import plan

    assert plan._quick_keep("m.ProcessPoolForkWaitTest", "fork")
    assert not plan._quick_keep("m.ProcessPoolForkserverWaitTest", "fork")
    assert not plan._quick_keep("m.ProcessPoolSpawnWaitTest", "fork")
    assert plan._quick_keep("m.ProcessPoolForkserverWaitTest", "forkserver")
    assert not plan._quick_keep("m.ProcessPoolForkWaitTest", "forkserver")
    assert plan._quick_keep("m.ThreadPoolWaitTests", "fork")
    assert plan._quick_keep("m.FutureTests", "spawn")
    assert plan._matches("a.FutureTests.test_done", ["FutureTests"])
    assert plan._matches("a.FutureTests.test_done", ["Future*done"])
    assert not plan._matches("a.FutureTests.test_done", ["WaitTest"])
    assert plan._matches("anything", None)


def test_outcomes_are_voided_when_the_worker_saw_the_wrong_modules() -> None:
    from conformance import runner

    stdlib_file = "/usr/lib/python3.11/concurrent/futures/__init__.py"
    stdlib_seen = {"concurrent.futures": {"file": stdlib_file,
                                          "same_object_as_futures_impl": False}}
    impl_seen = {"concurrent.futures": {"file": "/repo/futures_impl/__init__.py",
                                        "same_object_as_futures_impl": True}}
    assert runner._wrong_modules(runner.IMPL, impl_seen) == []
    assert runner._wrong_modules(runner.STDLIB, stdlib_seen) == []
    assert runner._wrong_modules(runner.IMPL, stdlib_seen) == [f"concurrent.futures={stdlib_file}"]
    assert runner._wrong_modules(runner.STDLIB, impl_seen) != []
