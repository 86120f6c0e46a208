"""Steps 1-3 of a run: find the pairs, select them, prepare their environments.

Why: everything decided before a single test runs -- which interpreters, which
suites, which classes and tests -- is one value, ``Plan``, that the run step
consumes; errors that make the run pointless stop it here with exit status 2.

How: ``find_pairs`` discovers interpreters (or takes ``--interpreter``), keeps
the ``--python`` ones, and pairs each with a suite (``discover``).
``prepare`` gives each pair its venv (``venvs``), lists the suite's classes
against the stdlib, proves the substitution with the probe, and keeps the
classes and tests that ``--quick`` and ``-k`` select.  A pair that cannot be
prepared is recorded in ``Plan.errors`` and the others go on.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
from dataclasses import dataclass, field

from . import discover, runner, venvs
from .text import indent, say

QUICK_DROP = ("ProcessPoolFork", "ProcessPoolForkserver", "ProcessPoolSpawn")


class Stop(Exception):
    """The run cannot go on; ``code`` is the exit status (the message was printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Plan:
    pairs: list[discover.Pair]  # every pair selected, including those in error
    variants: tuple[str, ...]  # runner.VARIANTS, or the one --only names
    envs: dict[str, runner.Env] = field(default_factory=dict)  # pair key -> env
    classes: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)  # key -> tests
    errors: dict[str, str] = field(default_factory=dict)  # pair key -> why it cannot run


def find_pairs(args: argparse.Namespace) -> list[discover.Pair]:
    """Discover interpreters and suites; the (interpreter, suite) pairs --python selects."""
    if args.interpreter:
        found = []
        for path in args.interpreter:
            interp = discover.query(path)
            if interp is None:
                major, minor = discover.MIN_VERSION
                say(f"error: {path} is not a CPython or PyPy {major}.{minor}+ interpreter")
                raise Stop(2)
            found.append(interp)
    else:
        found = discover.interpreters()
    pairs = []
    for interp in found:
        if not _selected(interp, args.python):
            continue
        pair, hint = discover.pair_for(interp, args.suite)
        if pair is None:
            say("skip: " + hint)
        else:
            pairs.append(pair)
    if not pairs:
        say("error: no (interpreter, suite) pair to run%s" % (
            " for --python {}".format(", ".join(args.python)) if args.python else ""))
        raise Stop(2)
    return pairs


def prepare(pairs: list[discover.Pair], args: argparse.Namespace) -> Plan:
    """Venvs, class lists, substitution probes, and the tests --quick and -k select."""
    plan = Plan(pairs, (args.only,) if args.only else runner.VARIANTS)
    cache = args.cache or venvs.default_cache()
    impl_root = os.path.abspath(args.impl_root)
    for pair in pairs:
        try:
            python = venvs.ensure(pair.interp, cache)
        except (RuntimeError, OSError) as exc:
            plan.errors[pair.key] = str(exc)
            say(f"error: {pair.key}: {exc}")
            continue
        env = runner.Env(pair, python, impl_root)
        log_dir = os.path.join(args.results_dir, pair.key.replace(":", "__"))
        classes, start_method, list_error = runner.list_classes(env, log_dir)
        if list_error or not classes:
            plan.errors[pair.key] = "the suite does not load against the stdlib:\n" + list_error
            say("error: {}: suite {} does not load against the stdlib:\n{}".format(
                pair.key, pair.suite, indent(list_error, "  ", 20)))
            continue
        if runner.IMPL in plan.variants:
            _probe(env)
        selected = []
        for cls, ids in classes:
            if args.quick and not _quick_keep(cls, start_method):
                continue
            ids = [t for t in ids if _matches(t, args.match)]
            if ids:
                selected.append((cls, ids))
        plan.envs[pair.key] = env
        plan.classes[pair.key] = selected
        n_tests = sum(len(ids) for _, ids in selected)
        quick = f" (--quick: {start_method} start method only)" if args.quick else ""
        say(f"{pair.key}: {pair.interp.executable} with suite {pair.suite}: "
            f"{n_tests} tests in {len(selected)} classes{quick}")
    return plan


def _probe(env: runner.Env) -> None:
    """Stop the run unless the substitution reaches every kind of child."""
    ok, msg, _ = runner.probe(env)
    if not ok:
        say(f"error: {env.pair.key}: the substitution does not hold: {msg}")
        raise Stop(2)
    if msg:
        say(f"note: {env.pair.key}: futures_impl misbehaves in the probe: {msg[:500]}")


def _selected(interp: discover.Interpreter, wanted: list[str] | None) -> bool:
    if not wanted:
        return True
    return any(
        interp.label == w or interp.version == w or interp.label.startswith(w)
        or interp.version.startswith(w + ".")
        or interp.label.split("-", 1)[1].startswith(w + ".")
        for w in wanted
    )


def _matches(test_id: str, patterns: list[str] | None) -> bool:
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
