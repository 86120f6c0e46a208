"""``python -m conformance``: CPython's concurrent.futures suites against futures_impl.

Why: the project's central claim -- futures_impl behaves like
concurrent.futures -- is proved by the test suites CPython ships, run on every
local interpreter against futures_impl in place of the stdlib, and compared
test by test with a baseline run of the same suite against the real stdlib.

How: discover (interpreter, suite) pairs (``discover``), give each interpreter
a private venv carrying the substitution hook (``venvs``), list the suite's
test classes against the stdlib, prove with a probe that the substitution
reaches fork/forkserver/spawn and ``-I``/``-E`` children, then run every class
twice -- stdlib and futures_impl, interleaved so that both see the same load
-- one worker process per class with a per-class timeout (``runner``).
Unexpected differences are re-run once (both variants) to tell flakes from
real differences; then ``report`` compares and judges against
``known_differences.txt``.  Exit status: 0 when the only differences are the
listed ones and every listed test that ran still differs, 1 otherwise, 2 when
nothing could be run or the substitution did not hold.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import time
from typing import Any, Optional

from . import discover, report, runner, venvs

HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN_FILE = os.path.join(HERE, "known_differences.txt")
RESULTS_DIR = os.path.join(HERE, "results")
MAX_RETRIED = 40  # more unexpected outcomes than this are a real change, not flakes
QUICK_DROP = ("ProcessPoolFork", "ProcessPoolForkserver", "ProcessPoolSpawn")


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Run CPython's concurrent.futures test suites against futures_impl and the "
        "stdlib on every local interpreter, and compare them test by test.",
    )
    p.add_argument("--quick", action="store_true",
                   help="one start method per process-pool class (the interpreter's default)")
    p.add_argument("--python", action="append", metavar="VERSION",
                   help="only interpreters whose label or version starts with VERSION "
                   "(e.g. 3.12, 3.11.2, pyenv-3.11); repeatable")
    p.add_argument("--interpreter", action="append", metavar="PATH",
                   help="use this python instead of discovering interpreters; repeatable")
    p.add_argument("--suite", metavar="PATH",
                   help="test_concurrent_futures.py or package directory to use instead of the "
                   "interpreters' own")
    p.add_argument("-k", "--match", action="append", metavar="PATTERN",
                   help="only tests whose id contains PATTERN (or matches it, with *); repeatable")
    p.add_argument("--json", metavar="FILE", help="write all results, with failure texts, to FILE")
    p.add_argument("--jobs", "-j", type=int, default=2, help="worker processes at once (default 2)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds per test class before its process tree is killed (default 120; "
                   "the slowest class takes ~25 s)")
    p.add_argument("--retries", type=int, default=1,
                   help="re-runs of classes with unexpected outcomes, to tell flakes (default 1)")
    p.add_argument("--known", default=KNOWN_FILE, metavar="FILE",
                   help="known-differences file (default conformance/known_differences.txt)")
    p.add_argument("--update-known", action="store_true",
                   help="rewrite the known-differences file from this run (tests that ran only)")
    p.add_argument("--impl-root", default=runner.REPO, metavar="DIR",
                   help="directory holding the futures_impl package to test (default: this repo)")
    p.add_argument("--only", choices=runner.VARIANTS,
                   help="run one variant only (no comparison; for debugging)")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="where the per-interpreter venvs live "
                   "(default ~/.cache/futures_impl-conformance)")
    p.add_argument("--results-dir", default=None, metavar="DIR",
                   help="per-class logs (default: a new conformance/results/RUN/, "
                   "the last 5 runs kept)")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per finished class")
    return p.parse_args(argv)


def _selected(interp: discover.Interpreter, wanted: Optional[list[str]]) -> bool:
    if not wanted:
        return True
    return any(
        interp.label == w or interp.version == w or interp.label.startswith(w)
        or interp.version.startswith(w + ".") or interp.version == w
        or interp.label.split("-", 1)[1].startswith(w + ".")
        for w in wanted
    )


def _matches(test_id: str, patterns: Optional[list[str]]) -> bool:
    if not patterns:
        return True
    for pat in patterns:
        if "*" in pat or "?" in pat:
            if fnmatch.fnmatchcase(test_id, pat) or fnmatch.fnmatchcase(test_id, "*" + pat + "*"):
                return True
        elif pat in test_id:
            return True
    return False


def _quick_keep(cls: str, start_method: str) -> bool:
    name = cls.rsplit(".", 1)[-1]
    for prefix in sorted(QUICK_DROP, key=len, reverse=True):
        if name.startswith(prefix):
            method = prefix[len("ProcessPool"):].lower()
            return method == start_method
    return True


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _new_results_dir(keep: int = 5) -> str:
    """A fresh per-run log directory (concurrent runs must not share one); prune old ones."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    runs = sorted(d for d in os.listdir(RESULTS_DIR) if d.startswith("run-"))
    for old in runs[: max(0, len(runs) - keep + 1)]:
        if not _alive(old.rsplit("-", 1)[-1]):  # never a run still going on
            shutil.rmtree(os.path.join(RESULTS_DIR, old), ignore_errors=True)
    path = os.path.join(RESULTS_DIR, time.strftime("run-%Y%m%d-%H%M%S") + f"-{os.getpid()}")
    os.makedirs(path)
    return path


def _say(msg: str = "") -> None:
    print(msg, flush=True)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    cache = args.cache or venvs.default_cache()
    impl_root = os.path.abspath(args.impl_root)
    variants = (args.only,) if args.only else runner.VARIANTS
    if args.results_dir is None:
        args.results_dir = _new_results_dir()

    # 1. pairs
    pairs: list[discover.Pair] = []
    if args.interpreter:
        found = []
        for path in args.interpreter:
            interp = discover.query(path)
            if interp is None:
                major, minor = discover.MIN_VERSION
                _say(f"error: {path} is not a CPython {major}.{minor}+ interpreter")
                return 2
            found.append(interp)
    else:
        found = discover.interpreters()
    for interp in found:
        if not _selected(interp, args.python):
            continue
        pair, hint = discover.pair_for(interp, args.suite)
        if pair is None:
            _say("skip: " + hint)
        else:
            pairs.append(pair)
    if not pairs:
        _say("error: no (interpreter, suite) pair to run%s" % (
            " for --python {}".format(", ".join(args.python)) if args.python else ""))
        return 2

    # 2. venvs, class lists, substitution probes
    envs: dict[str, runner.Env] = {}
    plan: dict[str, list[tuple[str, list[str]]]] = {}
    errors: dict[str, str] = {}
    for pair in pairs:
        try:
            python = venvs.ensure(pair.interp, cache)
        except (RuntimeError, OSError) as exc:
            errors[pair.key] = str(exc)
            _say(f"error: {pair.key}: {exc}")
            continue
        env = runner.Env(pair, python, impl_root)
        log_dir = os.path.join(args.results_dir, pair.key.replace(":", "__"))
        classes, start_method, list_error = runner.list_classes(env, log_dir)
        if list_error or not classes:
            errors[pair.key] = "the suite does not load against the stdlib:\n" + list_error
            _say("error: {}: suite {} does not load against the stdlib:\n{}".format(
                pair.key, pair.suite, report.indent(list_error, "  ", 20)))
            continue
        if runner.IMPL in variants:
            ok, msg, _ = runner.probe(env)
            if not ok:
                _say(f"error: {pair.key}: the substitution does not hold: {msg}")
                return 2
            if msg:
                _say(f"note: {pair.key}: futures_impl misbehaves in the probe: "
                     f"{msg[:500]}")
        selected = []
        for cls, ids in classes:
            if args.quick and not _quick_keep(cls, start_method):
                continue
            ids = [t for t in ids if _matches(t, args.match)]
            if ids:
                selected.append((cls, ids))
        envs[pair.key] = env
        plan[pair.key] = selected
        n_tests = sum(len(ids) for _, ids in selected)
        quick = f" (--quick: {start_method} start method only)" if args.quick else ""
        _say(f"{pair.key}: {pair.interp.executable} with suite {pair.suite}: "
             f"{n_tests} tests in {len(selected)} classes{quick}")

    # 3. run: stdlib and futures_impl of the same class side by side
    tasks = [
        runner.Task(envs[key], variant, cls, ids, subset=bool(args.match), timeout=args.timeout)
        for key in plan
        for cls, ids in plan[key]
        for variant in variants
    ]
    outcomes = report.Outcomes()
    pending = {(t.env.pair.key, t.variant): 0 for t in tasks}
    for t in tasks:
        pending[(t.env.pair.key, t.variant)] += 1
    timings: dict[tuple[str, str], float] = {}
    class_log: list[dict[str, Any]] = []

    def store(res: runner.TaskResult) -> None:
        key = res.task.env.pair.key
        target = outcomes.stdlib if res.task.variant == runner.STDLIB else outcomes.impl
        for test_id, outcome in res.results.items():
            target[(key, test_id)] = outcome

    def on_done(res: runner.TaskResult) -> None:
        store(res)
        key, variant = res.task.env.pair.key, res.task.variant
        timings[(key, variant)] = timings.get((key, variant), 0.0) + res.duration
        warnings = [ln for ln in res.log.splitlines() if ln.startswith("Warning -- ")]
        class_log.append({"pair": key, "variant": variant, "class": res.task.cls,
                          "status": res.status, "duration": round(res.duration, 2),
                          "env_warnings": warnings})
        p, f, s = report.counts({(key, t): o for t, o in res.results.items()})
        if args.verbose or res.status != "ok":
            name = res.task.cls.rsplit(".", 1)[-1][:62]
            status = "" if res.status == "ok" else f"  ** {res.status.upper()} **"
            counted = f"{p:3d}/{f}/{s}"
            _say(f"  {key:<28} {variant:<12} {name:<62} {counted} {res.duration:6.1f}s{status}")
        pending[(key, variant)] -= 1
        if pending[(key, variant)] == 0:
            side = outcomes.stdlib if variant == runner.STDLIB else outcomes.impl
            p, f, s = report.counts(side, key)
            _say(f"{key} {variant}: {p} passed, {f} failed, {s} skipped "
                 f"({timings[(key, variant)]:.0f}s of class time)")

    runner.run_tasks(tasks, args.jobs, args.results_dir, on_done)
    ran = set(outcomes.keys())

    # 4. compare; re-run unexpected outcomes once to tell flakes
    known = report.read_known(args.known)
    diffs = report.compare(outcomes) if len(variants) == 2 else []
    unexpected, fixed = report.judge(diffs, known, ran)
    flaky: set[tuple[str, str]] = set()
    # (pair, test) -> (stdlib, futures_impl) outcomes before re-runs
    first_attempt: dict[tuple[str, str], tuple[Any, Any]] = {}
    for attempt in range(args.retries if len(variants) == 2 else 0):
        suspects = {(d.pair, d.test_id) for d in unexpected} | set(fixed)
        if not suspects:
            break
        if len(suspects) > MAX_RETRIED:
            _say(f"{len(suspects)} unexpected outcomes: too many to be flakes, not re-running")
            break
        _say(f"re-running {len(suspects)} test(s) with unexpected outcomes "
             f"(attempt {attempt + 1})")
        before = {k: (outcomes.stdlib.get(k), outcomes.impl.get(k)) for k in suspects}
        for k, v in before.items():
            first_attempt.setdefault(k, v)
        retry_tasks = []
        for key in plan:
            for cls, ids in plan[key]:
                again = [t for t in ids if (key, t) in suspects]
                if any(p == key and t.startswith(cls + "::") for p, t in suspects):
                    again = ids  # a failing class fixture: re-run the whole class
                if again:
                    for side in (outcomes.stdlib, outcomes.impl):  # drop its fixture errors
                        for k in [k for k in side if k[0] == key and k[1].startswith(cls + "::")]:
                            del side[k]
                    for variant in variants:
                        retry_tasks.append(runner.Task(envs[key], variant, cls, again, subset=True,
                                                       timeout=args.timeout))
        runner.run_tasks(retry_tasks, args.jobs, os.path.join(args.results_dir, "retry"), store)
        for k in suspects:
            after = (outcomes.stdlib.get(k), outcomes.impl.get(k))
            was_diff = (before[k][0] or ("absent",))[0] != (before[k][1] or ("absent",))[0]
            now_diff = (after[0] or ("absent",))[0] != (after[1] or ("absent",))[0]
            if was_diff != now_diff:
                flaky.add(k)
        diffs = report.compare(outcomes)
        unexpected, fixed = report.judge(diffs, known, ran)
    for d in diffs:
        d.flaky = (d.pair, d.test_id) in flaky

    # 5. report
    _say()
    _say(f"{'interpreter':<26} {'suite':<12} {'stdlib p/f/s':>14} {'futures_impl p/f/s':>18} "
         f"{'differ':>8}")
    for pair in pairs:
        key = pair.key
        if key in errors:
            first = errors[key].splitlines()[0][:60]
            _say(f"{pair.interp.label:<26} {pair.suite_label:<12}  ERROR: {first}")
            continue
        b = report.counts(outcomes.stdlib, key)
        i = report.counts(outcomes.impl, key)
        n = sum(1 for d in diffs if d.pair == key)
        bs = "/".join(map(str, b)) if runner.STDLIB in variants else "-"
        is_ = "/".join(map(str, i)) if runner.IMPL in variants else "-"
        _say(f"{pair.interp.label:<26} {pair.suite_label:<12} {bs:>14} {is_:>18} {n:8d}")
    shown: dict[str, str] = {}  # failure text -> first test printed with it
    if diffs:
        _say()
        n_known = sum(d.known for d in diffs)
        _say(f"Tests whose outcome differs from the stdlib ({len(diffs)}; {n_known} listed in "
             f"{os.path.relpath(args.known)}):")
        for d in diffs:
            mark = "known" if d.known else "NEW"
            _say("  [{}] {} {}: stdlib {}, futures_impl {}{}".format(
                mark, d.pair, d.test_id, d.stdlib, d.impl, " (flaky)" if d.flaky else ""))
            if d.known:
                if d.detail:
                    _say("      " + report.first_line(d.detail))
            elif d.detail and d.detail in shown:
                _say(f"      same failure text as {shown[d.detail]}")
            else:
                shown.setdefault(d.detail, d.test_id)
                _say(report.indent(d.detail or "(no failure text)"))
    _env_warnings(class_log, pairs)
    flaky_same = sorted(k for k in flaky if k not in {(d.pair, d.test_id) for d in diffs})
    if flaky_same:
        _say()
        _say("Flaky: differed at first, matched on re-run (not failing the run):")
    for k in flaky_same:
        base, impl = first_attempt.get(k, (None, None))
        base, impl = base or ("absent", ""), impl or ("absent", "")
        _say(f"  [flaky] {k[0]} {k[1]}: stdlib {base[0]}, futures_impl {impl[0]} at first")
        text = impl[1] if impl[0] != "passed" else base[1]
        if text and text in shown:
            _say(f"      same failure text as {shown[text]}")
        elif text:
            shown.setdefault(text, k[1])
            _say(report.indent(text))
    if fixed:
        _say()
        _say(f"Listed in {os.path.relpath(args.known)} but no longer differing "
             "(remove them, or run --update-known):")
        for pair_key, test_id in fixed:
            _say(f"  {pair_key} {test_id}")
    if args.update_known:
        n = report.write_known(args.known, diffs, known, ran)
        _say(f"\nwrote {os.path.relpath(args.known)}: {n} known difference(s)")
        unexpected, fixed = [], []
    if args.json:
        _write_json(args.json, pairs, errors, outcomes, diffs, unexpected, fixed, class_log,
                    timings)

    wall = time.monotonic() - started
    verdict = "OK" if not (unexpected or fixed or errors) else "FAILED"
    _say()
    _say(f"class logs: {os.path.relpath(args.results_dir)}")
    _say(f"conformance {verdict}: {len(unexpected)} unexpected difference(s), "
         f"{len(fixed)} stale known difference(s), {len(errors)} pair(s) in error; "
         f"wall time {wall:.0f}s")
    p, f, s = report.counts(outcomes.impl if runner.IMPL in variants else outcomes.stdlib)
    _say(f"{p} passed, {f} failed, {s} skipped")
    if errors and not outcomes.impl and not outcomes.stdlib:
        return 2
    return 0 if verdict == "OK" else 1


def _env_warnings(class_log: list[dict[str, Any]], pairs: list[discover.Pair]) -> None:
    """Report regrtest's "env changed" symptoms (dangling threads, children...) per pair.

    Informational: they change no test outcome, but regrtest would flag them,
    and threading_cleanup's retries make the affected tests seconds slower.
    """
    lines = []
    for pair in pairs:
        per_variant = {}
        for variant in runner.VARIANTS:
            entries = [c for c in class_log if c["pair"] == pair.key and c["variant"] == variant]
            hit = [c for c in entries if c["env_warnings"]]
            per_variant[variant] = hit
        if any(per_variant.values()):
            sample = next(
                (w for c in per_variant[runner.IMPL] for w in c["env_warnings"]
                 if "Dangling thread" in w and "MainThread" not in w),
                "",
            )
            lines.append(
                f"  {pair.key}: stdlib {len(per_variant[runner.STDLIB])} class(es), "
                f"futures_impl {len(per_variant[runner.IMPL])} class(es)"
                + (f"; e.g. {sample[:150]}" if sample else "")
            )
    if lines:
        _say()
        _say("Environment warnings (regrtest's 'env changed'; outcomes unaffected; "
             "see the class logs under --results-dir):")
        for line in lines:
            _say(line)


def _write_json(  # type: ignore[no-untyped-def]
    path, pairs, errors, outcomes, diffs, unexpected, fixed, class_log, timings
) -> None:
    names = ("passed", "failed", "skipped")
    data = {
        "pairs": [
            {
                "key": p.key, "interpreter": p.interp.label, "executable": p.interp.executable,
                "version": p.interp.version, "suite": p.suite, "suite_label": p.suite_label,
                "error": errors.get(p.key),
                "stdlib": dict(zip(names, report.counts(outcomes.stdlib, p.key))),
                "futures_impl": dict(zip(names, report.counts(outcomes.impl, p.key))),
                "class_seconds": {
                    v: round(timings.get((p.key, v), 0.0), 1) for v in runner.VARIANTS
                },
            }
            for p in pairs
        ],
        "tests": [
            {"pair": k[0], "id": k[1],
             "stdlib": outcomes.stdlib.get(k, ("absent", ""))[0],
             "futures_impl": outcomes.impl.get(k, ("absent", ""))[0],
             "stdlib_detail": outcomes.stdlib.get(k, ("", ""))[1],
             "futures_impl_detail": outcomes.impl.get(k, ("", ""))[1]}
            for k in outcomes.keys()
        ],
        "differences": [vars(d) for d in diffs],
        "unexpected": [[d.pair, d.test_id] for d in unexpected],
        "stale_known": [list(k) for k in fixed],
        "classes": class_log,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
