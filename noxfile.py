"""The whole test suite, on every local CPython from 3.9 to 3.13: `python3 -m nox`.

Interpreters are found as `python3.X` on PATH or under `pyenv root`; each gets its own
virtualenv with the `test` extra. One session per interpreter runs pytest with xdist and
per-test timeouts; `lint` runs ruff, mypy --strict and the clean-room check; `conformance`
runs CPython's own concurrent.futures suites against futures_impl (see conformance/).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import nox

nox.options.sessions = ["lint", "tests", "conformance"]
nox.options.error_on_missing_interpreters = True

VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
# The interpreter whose run also exercises the optional tqdm path (the others run without it).
TQDM_VERSION = "3.11"


def _runs(exe: str, version: str) -> bool:
    try:
        out = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return out == version


def find_python(version: str) -> str:
    """An interpreter of `version`: pyenv's build first (PATH shims may not select it)."""
    candidates = []
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        root = ""
    if root:
        candidates += sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin",
                                                    "python3")), reverse=True)
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    for exe in candidates:
        if _runs(exe, version):
            return exe
    return f"python{version}"  # let nox report it missing


@nox.session
@nox.parametrize("python", [nox.param(find_python(v), id=v) for v in VERSIONS])
def tests(session: nox.Session) -> None:
    """pytest -n auto, every test bounded by a timeout."""
    session.install("-e", ".[test]")
    version = (session.run("python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])",
                           silent=True) or "").strip()  # None under --install-only
    if version == TQDM_VERSION:
        session.install("tqdm")
    else:
        session.run("python", "-m", "pip", "uninstall", "-y", "-q", "tqdm", silent=True)
    session.run("python", "-m", "pytest", "-n", "auto", "-p", "no:cacheprovider",
                *session.posargs, env={"HYPOTHESIS_PROFILE": "ci"})


@nox.session(python=find_python("3.11"))
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict on the package, and the clean-room check (0 overlaps)."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", "futures_impl", "tests", "conformance", "benchmarks",
                "examples", "noxfile.py")
    session.run("mypy", "--strict", "futures_impl")
    # The checker lives beside our CI checkout (../shared/tools), not in the repository: a
    # newcomer's clone skips it, saying so; .ci/run sets FUTURES_IMPL_REQUIRE_CLEANROOM=1,
    # under which a missing checker fails the session.
    cleanroom = os.path.join("..", "shared", "tools", "cleanroom.py")
    if os.path.exists(cleanroom):
        session.run("python", cleanroom, "futures_impl")
    elif os.environ.get("FUTURES_IMPL_REQUIRE_CLEANROOM") == "1":
        session.error(f"clean-room checker not found at {cleanroom} (required by .ci/run)")
    else:
        session.log(f"SKIPPED the clean-room check: {cleanroom} is not here (it is only "
                    "beside the project's CI checkout; .ci/run makes it mandatory)")


@nox.session(python=find_python("3.11"))
def conformance(session: nox.Session) -> None:
    """CPython's concurrent.futures suites, stdlib vs futures_impl, on every interpreter."""
    # The full run (every start method) fits CI's budget with 4 jobs: the suites mostly sleep.
    session.run("python", "-m", "conformance", *(session.posargs or ["--jobs", "4"]))


@nox.session(python=find_python("3.13"))
def coverage(session: nox.Session) -> None:
    """Branch coverage of futures_impl, worker processes and child interpreters included.

    Not in the default run (CI): it runs the whole suite again, under coverage, on one
    interpreter. `[tool.coverage.*]` in pyproject.toml says how children are measured; the
    .pth file that starts coverage in child interpreters lives in this session's venv only,
    while it runs. Ends with coverage's report and a per-module table of branch coverage
    alone. Arguments go to pytest: `python3 -m nox -s coverage -- tests/test_process_pool.py`.
    """
    session.install("-e", ".[test,coverage]", "tqdm")  # tqdm: the progress bar's paths too
    data = os.path.join("build", "coverage")
    os.makedirs(data, exist_ok=True)
    session.run("python", "-m", "coverage", "erase")
    try:
        session.run("python", "-m", "coverage", "run", "-m", "pytest", "-n", "2",
                    "-p", "no:cacheprovider", *session.posargs,
                    env={"HYPOTHESIS_PROFILE": "ci"})
    finally:  # a failing test still leaves a report of what ran
        session.run("python", "-m", "coverage", "combine", "-q")
        session.run("python", "-m", "coverage", "report")
        report = os.path.join(data, "coverage.json")
        session.run("python", "-m", "coverage", "json", "-q", "-o", report)
        session.log("branch coverage alone, per module:\n" + _branch_table(report))


def _branch_table(report: str) -> str:
    import json

    with open(report) as f:
        files = json.load(f)["files"]
    rows, total, covered = [], 0, 0
    for name, entry in sorted(files.items()):
        n, hit = entry["summary"]["num_branches"], entry["summary"]["covered_branches"]
        total, covered = total + n, covered + hit
        rows.append(f"  {name:<36} {hit:>4}/{n:<4} {100.0 * hit / n if n else 100.0:5.1f}%")
    rows.append(f"  {'TOTAL':<36} {covered:>4}/{total:<4} {100.0 * covered / total:5.1f}%")
    return "\n".join(rows)
