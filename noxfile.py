"""The whole test suite, on every local CPython from 3.9 to 3.13: `python3 -m nox`.

Interpreters are found as `python3.X` on PATH or under `pyenv root`; each gets its own
virtualenv with the `test` extra. One session per interpreter runs pytest with xdist and
per-test timeouts; `lint` runs ruff, mypy --strict and the clean-room check; `conformance`
runs CPython's own concurrent.futures suites against futures_impl (see conformance/);
`coverage` runs the suite under coverage on 3.13 (in the default run, it is 3.13's test run)
and fails if a module's branch coverage is below 85% without a written reason
(docs/coverage.md); `docs` builds the documentation site (warnings are errors) and opens
every page in headless Chromium (docs/contributing-docs.md).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import nox

# 3.13's run of the suite is the coverage session's (the same tests, measured): CI runs the
# suite once per interpreter, not twice on 3.13. `nox -s tests` still runs all five.
nox.options.sessions = ["lint", "tests(3.9)", "tests(3.10)", "tests(3.11)", "tests(3.12)",
                         "tests-pypy3", "conformance", "portable", "coverage", "docs"]
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
    # The dask extra installs distributed where it supports the interpreter (3.10+); on 3.9
    # it is empty and tests/test_distributed.py skips, saying why.
    session.install("-e", ".[test,dask]")
    version = (session.run("python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])",
                           silent=True) or "").strip()  # None under --install-only
    if version == TQDM_VERSION:
        session.install("tqdm")
    else:
        session.run("python", "-m", "pip", "uninstall", "-y", "-q", "tqdm", silent=True)
    session.run("python", "-m", "pytest", "-n", "auto", "-p", "no:cacheprovider",
                *session.posargs, env={"HYPOTHESIS_PROFILE": "ci"})


# PyPy (issue 17): Debian's pypy3 (.ci/run installs it on Debian 12). Absent, the session
# skips, saying so. It runs a selected subset, PYPY_TESTS: the future, wait and thread-pool
# tests (729 passed, 60 skipped; 44 s to 1 min 14 s on the loaded 2-core machine). Left out,
# for now: the whole suite took 12 min 40 s on PyPy (the process-pool files most of it), too
# long for CI, and 76 of its tests failed there before the fixes of issue 17, not all sorted
# yet (most: differential tests whose stdlib side is PyPy 7.3.11's broken spawn/forkserver
# pool, and reference-counting assumptions). Tests in the subset that cannot run on PyPy
# skip with a reason (tests/_pypy.py); the process pool on PyPy is covered by the
# conformance run's PyPy pair.
PYPY = shutil.which("pypy3")
PYPY_TESTS = [
    "tests/test_future.py", "tests/test_future_condition.py",
    "tests/test_future_differential.py", "tests/test_wait_as_completed.py",
    "tests/test_wait_stress.py", "tests/test_races.py", "tests/test_compat_surface.py",
    "tests/test_acquire_futures.py", "tests/test_thread_pool.py",
    "tests/test_thread_pool_robustness.py", "tests/test_thread_pool_stop_signals.py",
    "tests/test_thread_pool_subclasses.py", "tests/test_thread_exit_options.py",
    "tests/test_thread_exit_race.py", "tests/test_deliberate_differences.py",
    "tests/test_bounded_submit.py", "tests/test_cancel_on_error.py", "tests/test_newest_map.py",
    "tests/test_install.py", "tests/test_install_edges.py", "tests/test_pypy_compat.py",
    "tests/test_seed_patterns.py", "tests/test_drop_in_core.py", "tests/test_unretrieved.py",
    "tests/test_thread_options.py", "tests/test_executor_map.py",
]


@nox.session(name="tests-pypy3", python=PYPY or False, venv_backend="venv")
def tests_pypy3(session: nox.Session) -> None:
    """PyPy: the future/wait/thread-pool tests (PYPY_TESTS); `-- ARGS` runs others."""
    if not PYPY:
        session.skip("no pypy3 on PATH (on Debian: apt-get install pypy3)")
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-n", "auto", "-p", "no:cacheprovider", "-rs",
                *(session.posargs or PYPY_TESTS), env={"HYPOTHESIS_PROFILE": "ci"})


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
def portable(session: nox.Session) -> None:
    """The process pool's portable path (the one Windows takes), forced on Linux: every
    tests/test_process_*.py file with FUTURES_IMPL_PORTABLE=1 (their start methods: fork,
    forkserver, spawn), then the conformance run (--quick, 3.13's pair) with the switch
    exported (its children inherit the environment). docs/process.md, "The portable path"."""
    session.install("-e", ".[test]")
    env = {"HYPOTHESIS_PROFILE": "ci", "FUTURES_IMPL_PORTABLE": "1"}
    tests = sorted(glob.glob(os.path.join("tests", "test_process_*.py")))
    session.run("python", "-m", "pytest", "-n", "auto", "-p", "no:cacheprovider", *tests,
                *session.posargs, env=env)
    if not session.posargs:
        # One interpreter's pair (the full --quick run, every pair, took ~10 min here).
        session.run("python", "-m", "conformance", "--quick", "--python", "3.13",
                    "--jobs", "4", env=env)


@nox.session(python=find_python("3.11"))
def docs(session: nox.Session) -> None:
    """The documentation site: `mkdocs build --strict` (every warning an error, the reference
    generated from the docstrings, the diagrams rendered by Graphviz) into build/site, then
    every page opened in headless Chromium (docs/_tools/check_site.py: console errors,
    failed requests, pictures, internal links and anchors). docs/contributing-docs.md.
    Needs Debian's `graphviz` and `chromium` (.ci/run installs them); without chromium the
    browser check is skipped with a note, or fails when FUTURES_IMPL_REQUIRE_BROWSER=1 (CI)."""
    session.install("-e", ".[docs]")
    site = os.path.join("build", "site")
    session.run("mkdocs", "build", "--strict", "--clean", "-d", site,
                env={"NO_MKDOCS_2_WARNING": "1"})
    session.run("python", os.path.join("docs", "_tools", "check_site.py"), site)


@nox.session(python=find_python("3.13"))
def coverage(session: nox.Session) -> None:
    """Branch coverage of futures_impl, worker processes and child interpreters included.

    In the default run (CI) it is 3.13's run of the whole suite, under coverage (the default
    sessions leave out tests(3.13): the same tests would run twice). `[tool.coverage.*]` in
    pyproject.toml says how children are measured; the .pth file that starts coverage in child
    interpreters lives in this session's venv only, while it runs. Ends with coverage's report,
    a per-module table of branch coverage alone, and the gate (tests/_coverage_gate.py): a
    module below 85% of branches fails the session unless tests/coverage_exceptions.toml gives a
    reason. docs/coverage.md has the details.
    Arguments go to pytest: `python3 -m nox -s coverage -- tests/test_process_pool.py` (a
    partial run skips the gate).
    """
    session.install("-e", ".[test,coverage,dask]", "tqdm")  # tqdm: the progress bar's paths too
    data = os.path.join("build", "coverage")
    os.makedirs(data, exist_ok=True)
    session.run("python", "-m", "coverage", "erase")
    try:
        # COVERAGE_FILE, absolute: a child started in another directory (tests run some
        # with cwd=tests/ or a tmp dir) otherwise writes its data relative to that cwd,
        # where `combine` never finds it.
        session.run("python", "-m", "coverage", "run", "-m", "pytest", "-n", "2",
                    "-p", "no:cacheprovider", *session.posargs,
                    env={"HYPOTHESIS_PROFILE": "ci",
                         "COVERAGE_FILE": os.path.abspath(os.path.join(data, ".coverage"))})
    finally:  # a failing test still leaves a report of what ran
        session.run("python", "-m", "coverage", "combine", "-q")
        session.run("python", "-m", "coverage", "report")
        report = os.path.join(data, "coverage.json")
        session.run("python", "-m", "coverage", "json", "-q", "-o", report)
        session.log("branch coverage alone, per module:\n" + _branch_table(report))
        if not session.posargs:  # a partial run measures a part: no verdict on the whole
            session.run("python", os.path.join("tests", "_coverage_gate.py"), report)


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


# ----------------------------------------------------------------------------- mutation
# Mutation testing, on demand only (not in nox.options.sessions): docs/mutation.md.
# Two groups, each run in its own copy with its own test subset and bounds: the core
# (futures, wait, the thread pool) and the process pool's parent side, whose broken
# mutants hang until a bound, so it gets fail-fast tests and tighter bounds.
# `-- FILE ...` narrows a run to some of the files (recommended: one group at a time).
MUTATION_FILES = [
    "futures_impl/_base.py",
    "futures_impl/thread.py",
]
MUTATION_PROCESS_FILES = [
    "futures_impl/process.py",
    # the process pool's parent side (worker.py runs in children mutmut cannot see; wire.py
    # is both sides': the parent's framing and pickling moved there from pool and manager)
    "futures_impl/_process/pool.py",
    "futures_impl/_process/manager.py",
    "futures_impl/_process/wire.py",
    "futures_impl/_process/writer.py",
]
# The core's subset each mutant is checked against (~10 s in all on one core with
# MUTATION_ENV; ~2.5 min under mutmut's tracking); mutmut runs, per mutant, only the tests of it
# that called the mutated function.
MUTATION_TESTS = [
    "tests/test_future.py",
    "tests/test_future_condition.py",
    "tests/test_future_differential.py",
    "tests/test_wait_as_completed.py",
    "tests/test_wait_stress.py",
    "tests/test_races.py",
    "tests/test_compat_surface.py",
    "tests/test_thread_pool.py",
    "tests/test_thread_pool_stop_signals.py",
    "tests/test_thread_pool_subclasses.py",
    "tests/test_acquire_futures.py",
    "tests/test_drop_in_core.py",
    "tests/test_executor_map.py",
    "tests/test_thread_pool_robustness.py",
    "tests/test_thread_exit_race.py",
    "tests/test_deliberate_differences.py",
    "tests/test_mutation_kills.py",
]
# The process group's subset: tests whose every wait is bounded by a few seconds, so a
# mutant that breaks the manager fails its first test quickly instead of hanging.
MUTATION_PROCESS_TESTS = [
    "tests/test_process_pool.py",
    "tests/test_process_lifecycle.py",
    "tests/test_process_faults.py",
    "tests/test_process_wire.py",
    "tests/test_mutation_kills.py",
]
# Left out: mutmut's trampolines add frames that a raised exception's traceback keeps, so
# these "no reference cycle" checks fail on the unmutated code under the tool.
MUTATION_DESELECT = "not leaves_no_reference_cycle and not is_freed and not are_freed"
MUTMUT = "mutmut==3.8.1"
# Wall bound per mutant: (its tests' measured time + 1 s) x the multiplier; a hang past it
# is a "timeout" (counted as caught). pytest-timeout fails any one test after the test bound.
MUTATION_TIMEOUT_MULTIPLIER = 5
MUTATION_TEST_TIMEOUT = 30
MUTATION_PROCESS_TIMEOUT_MULTIPLIER = 2
MUTATION_PROCESS_TEST_TIMEOUT = 15
# Hypothesis runs its "dev" profile (50 examples a property, not CI's 500); the wait stress
# tests run 1,000 rounds, not CI's 3,000 (~0.5 s, still thousands of settles racing
# registration).
MUTATION_ENV = {"HYPOTHESIS_PROFILE": "dev", "WAIT_STRESS_ROUNDS": "1000"}


def _mutation_group(session: nox.Session, name: str, files: list[str], tests: list[str],
                    multiplier: int, test_timeout: int) -> None:
    """mutmut over `files` in a private copy of the tree (.nox/mutation/tmp/tree-NAME)."""
    # mutmut writes its mutants/ beside the config it reads: give it a private copy, so the
    # working tree (and anyone else's run in it) never sees a mutated file.
    work = os.path.join(session.create_tmp(), f"tree-{name}")
    shutil.rmtree(work, ignore_errors=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for folder in ("futures_impl", "tests"):
        shutil.copytree(folder, os.path.join(work, folder), ignore=skip)
    shutil.copy2("pyproject.toml", work)
    # In the copy only: tests/_blocking.py must see through mutmut's trampoline frames.
    with open(os.path.join(work, "tests", "conftest.py"), "a") as conftest:
        conftest.write("\n\nimport _mutmut_frames  # noqa: E402 - nox -s mutation\n\n"
                       "_mutmut_frames.install()\n")
    tests = [t for t in tests if os.path.exists(t)]

    def lines(key: str, values: list[str]) -> str:
        return f"{key} =\n" + "".join(f"    {v}\n" for v in values)

    with open(os.path.join(work, "setup.cfg"), "w") as cfg:
        cfg.write("[mutmut]\nsource_paths = futures_impl\n")
        cfg.write(lines("only_mutate", files))
        cfg.write(lines("pytest_add_cli_args_test_selection", tests))
        cfg.write(lines("pytest_add_cli_args", ["-p", "no:cacheprovider", "-p", "no:xdist",
                                                "-o", f"timeout={test_timeout}",
                                                "-k", MUTATION_DESELECT]))
        cfg.write(f"timeout_multiplier = {multiplier}\n")
        cfg.write("use_git_change_detection = false\n")
    with session.chdir(work):
        session.run("mutmut", "run", "--max-children", "2", env=MUTATION_ENV)
        listing = session.run("mutmut", "results", "--all", "true", env=MUTATION_ENV,
                              silent=True) or ""
        status: dict[str, list[str]] = {}
        for line in listing.splitlines():
            mutant, sep, what = line.strip().rpartition(": ")
            if sep:
                status.setdefault(what, []).append(mutant)
        survivors = status.get("survived", [])
        for mutant in survivors:
            session.run("mutmut", "show", mutant, env=MUTATION_ENV)
        total = sum(len(v) for v in status.values())
        counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(status.items()))
        session.log(f"mutation over {', '.join(files)}: {total} mutants: {counts}")
        session.log("survivors:\n    " + "\n    ".join(survivors or ["(none)"]))


@nox.session(python=find_python("3.13"))
def mutation(session: nox.Session) -> None:
    """mutmut over the core and the process files, each group in a throwaway copy of the
    tree; prints the survivors."""
    wanted = session.posargs or MUTATION_FILES + MUTATION_PROCESS_FILES
    unknown = [f for f in wanted if f not in MUTATION_FILES + MUTATION_PROCESS_FILES]
    if unknown:
        session.error(f"not in MUTATION_FILES or MUTATION_PROCESS_FILES: {unknown}")
    # Not the package itself: the tests must import the mutated copy, never this checkout.
    session.install(MUTMUT, "pytest>=7", "pytest-timeout>=2", "hypothesis>=6", "cloudpickle>=2")
    core = [f for f in MUTATION_FILES if f in wanted]
    if core:
        _mutation_group(session, "core", core, MUTATION_TESTS,
                        MUTATION_TIMEOUT_MULTIPLIER, MUTATION_TEST_TIMEOUT)
    process = [f for f in MUTATION_PROCESS_FILES if f in wanted]
    if process:
        _mutation_group(session, "process", process, MUTATION_PROCESS_TESTS,
                        MUTATION_PROCESS_TIMEOUT_MULTIPLIER, MUTATION_PROCESS_TEST_TIMEOUT)
