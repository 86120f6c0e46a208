"""Runs test classes in isolated worker processes, within bounds.

Why: a suite run against an implementation under construction may hang or
crash; that must cost one test class, not the whole run, and the results of
the tests that reported before the crash must survive.

How: each ``Task`` (one pair, one variant -- ``stdlib`` or ``futures_impl`` --,
one test class, optionally a subset of its tests) is one ``child/worker.py``
process started in a new session (so it leads its own process group) with a
fresh temporary working directory.  The worker streams JSON lines to a file.
On timeout the runner kills the whole process group (pool workers,
forkserver, ``script_helper`` children included) with SIGKILL; after a normal
exit it kills the group too, so no straggler outlives its class.  Results are
then read back from the file: tests that reported keep their outcome, tests
that did not get ``error`` with the reason (timeout, crash, import error,
failing setUpClass...).  ``run_tasks`` runs tasks on ``jobs`` threads, each
owning at most one worker process at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .discover import Pair

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKER = os.path.join(HERE, "child", "worker.py")
PROBE = os.path.join(HERE, "child", "probe.py")

STDLIB = "stdlib"
IMPL = "futures_impl"
VARIANTS = (STDLIB, IMPL)

ROOT_VAR = "FUTURES_IMPL_CONFORMANCE_ROOT"
SUITE_VAR = "FUTURES_IMPL_CONFORMANCE_SUITE"


@dataclass
class Env:
    """Everything needed to start a worker for one pair."""

    pair: Pair
    python: str  # the pair's venv python
    impl_root: str  # directory holding the futures_impl package to substitute

    def environ(self, variant: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("FUTURES_IMPL_CONFORMANCE_")
            and k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH")
        }
        if self.pair.suite_label != "own":
            env[SUITE_VAR] = self.pair.suite
        if variant == IMPL:
            env[ROOT_VAR] = self.impl_root
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # don't litter the suites' directories
        return env


@dataclass
class Task:
    env: Env
    variant: str
    cls: str
    test_ids: list[str]  # the tests expected from this class
    subset: bool = False  # pass test_ids to the worker (retries, -k)
    timeout: float = 300.0


@dataclass
class TaskResult:
    task: Task
    results: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (outcome, detail)
    status: str = "ok"  # ok, timeout, crashed
    returncode: int | None = None
    duration: float = 0.0
    log: str = ""
    hook: dict[str, Any] = field(default_factory=dict)
    substitution: dict[str, Any] = field(default_factory=dict)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def list_classes(env: Env, log_dir: str) -> tuple[list[tuple[str, list[str]]], str, str]:
    """(classes, default start method, error) of the pair's suite, loaded against the stdlib."""
    os.makedirs(log_dir, exist_ok=True)
    out = os.path.join(log_dir, "list.jsonl")
    if os.path.exists(out):
        os.remove(out)
    cwd = tempfile.mkdtemp(prefix="cf-conformance-")
    try:
        proc = subprocess.run(
            [env.python, WORKER, out, "list"], cwd=cwd, env=env.environ(STDLIB),
            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    classes: list[tuple[str, list[str]]] = []
    method, error = "fork", ""
    for event in _read_events(out):
        if event["event"] == "classes":
            classes = [(c, ids) for c, ids in event["classes"]]
            method = event.get("start_method", method)
        elif event["event"] == "import_error":
            error += event["detail"]
    if not classes and not error:
        error = f"listing failed (rc={proc.returncode}): {_tail(proc.stderr)}"
    return classes, method, error


def probe(env: Env) -> tuple[bool, str, dict[str, Any]]:
    """Check the substitution in the probe process and its fork/forkserver/spawn/-I/-E children.

    Returns (ok, message, raw).  ``ok`` is False only when some child did not
    get the substitution (a mechanism failure); futures_impl failing to import
    is reported in ``message`` but is the suite's business.
    """
    cwd = tempfile.mkdtemp(prefix="cf-conformance-")
    proc = subprocess.Popen(
        [env.python, PROBE], cwd=cwd, env=env.environ(IMPL), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        stdout, stderr = proc.communicate()
    finally:
        _kill_group(proc.pid)
        shutil.rmtree(cwd, ignore_errors=True)
    try:
        raw = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return False, f"probe failed (rc={proc.returncode}): {_tail(stderr)}", {}
    problems, notes = [], []
    root = os.path.realpath(env.impl_root) + os.sep
    for child, rep in raw.items():
        hook = rep.get("hook", {})
        got = rep.get("concurrent.futures", {})
        if not hook.get("active"):
            problems.append(f"{child}: substitution hook not active")
        elif "error" in got:
            notes.append(f"{child}: {got['error']}")
        elif got.get("asyncio") != 6:
            notes.append(f"{child}: asyncio.run_in_executor check: {got.get('asyncio')}")
        elif not (got.get("same_object") and got.get("submodules_same")) or not os.path.realpath(
            got.get("file") or ""
        ).startswith(root):
            problems.append(f"{child}: concurrent.futures is {got.get('file')}, not futures_impl")
    if problems:
        return False, "; ".join(problems), raw
    return True, "; ".join(sorted(set(notes))), raw


def _read_events(path: str) -> list[dict[str, Any]]:
    events = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass  # a line cut short by a kill
    except OSError:
        pass
    return events


def run_task(task: Task, log_dir: str, stop: threading.Event) -> TaskResult:
    os.makedirs(log_dir, exist_ok=True)
    base = os.path.join(log_dir, task.cls.rsplit(".", 1)[-1])
    out, log_path = base + ".jsonl", base + ".log"
    for path in (out, log_path):
        if os.path.exists(path):
            os.remove(path)
    argv = [task.env.python, WORKER, out, "run", str(max(task.timeout - 10, 1)), task.cls]
    if task.subset:
        argv += task.test_ids
    cwd = tempfile.mkdtemp(prefix="cf-conformance-")
    result = TaskResult(task)
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=task.env.environ(task.variant), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = start + task.timeout
        try:
            while True:
                try:
                    result.returncode = proc.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    if stop.is_set() or time.monotonic() > deadline:
                        result.status = "timeout" if not stop.is_set() else "interrupted"
                        _kill_group(proc.pid)
                        result.returncode = proc.wait()
                        break
        finally:
            _kill_group(proc.pid)  # stragglers: forkservers, pool workers, grandchildren
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    result.duration = time.monotonic() - start
    shutil.rmtree(cwd, ignore_errors=True)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        result.log = f.read()
    _collect(result, _read_events(out))
    return result


def _wrong_modules(variant: str, modules: dict[str, Any]) -> list[str]:
    """The concurrent.futures[.X] modules the worker saw that are not the variant's own."""
    wrong = []
    for name, info in modules.items():
        is_impl = bool(info.get("same_object_as_futures_impl"))
        if is_impl != (variant == IMPL):
            wrong.append(f"{name}={info.get('file')}")
    return wrong


def _collect(result: TaskResult, events: list[dict[str, Any]]) -> None:
    task = result.task
    reasons: list[str] = []
    fixture_skip = ""
    last_started = None
    done = False
    for event in events:
        kind = event["event"]
        if kind == "hook":
            result.hook = event.get("state", {})
        elif kind == "substitution":
            result.substitution = event.get("modules", {})
        elif kind == "start":
            last_started = event["id"]
        elif kind == "result":
            result.results[event["id"]] = (event["outcome"], event.get("detail", ""))
        elif kind == "import_error":
            reasons.append("suite import failed:\n" + event["detail"])
        elif kind == "fixture_error":
            desc = event["description"]
            reasons.append("{} failed:\n{}".format(desc, event["detail"]))
            if any(t in result.results for t in task.test_ids):
                # A fixture failing after tests reported (tearDownClass,
                # tearDownModule, cleanups): a failure of its own.
                pseudo = f"{task.cls}::{desc.split(' ')[0]}"
                result.results[pseudo] = ("error", event["detail"])
        elif kind == "fixture_skip":
            fixture_skip = "{} skipped: {}".format(event["description"], event["detail"])
        elif kind == "done":
            done = True
    if result.status == "ok" and (not done or result.returncode != 0):
        result.status = "crashed"
    wrong = _wrong_modules(task.variant, result.substitution)
    if wrong:
        # The suite did not test what it claims to: void every outcome.
        result.status = "substitution-failed"
        reasons = [f"concurrent.futures modules not from {task.variant}: {', '.join(wrong)}"]
        result.results = {}
    if result.status == "timeout":
        reasons.insert(0, f"class timed out after {task.timeout:.0f}s (killed); "
                          f"last test started: {last_started}\n{_tail(result.log)}")
    elif result.status == "crashed":
        reasons.insert(0, f"worker died (exit code {result.returncode}) during {last_started}"
                          f"\n{_tail(result.log)}")
    elif result.status == "interrupted":
        reasons.insert(0, "interrupted")
    for test_id in task.test_ids:
        if test_id not in result.results:
            if fixture_skip and not reasons:
                result.results[test_id] = ("skipped", fixture_skip)
            else:
                result.results[test_id] = ("error", "\n".join(reasons) or "test did not run")


def run_tasks(
    tasks: list[Task],
    jobs: int,
    log_root: str,
    on_done: Callable[[TaskResult], None],
) -> list[TaskResult]:
    """Run ``tasks`` on ``jobs`` threads, in order; call ``on_done`` as each finishes."""
    results: list[TaskResult | None] = [None] * len(tasks)
    lock = threading.Lock()  # guards next_index and on_done calls
    stop = threading.Event()
    next_index = [0]

    def worker() -> None:
        while not stop.is_set():
            with lock:
                i = next_index[0]
                if i >= len(tasks):
                    return
                next_index[0] += 1
            task = tasks[i]
            log_dir = os.path.join(log_root, task.env.pair.key.replace(":", "__"), task.variant)
            res = run_task(task, log_dir, stop)
            results[i] = res
            with lock:
                on_done(res)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            t.join()
        raise
    return [r for r in results if r is not None]
