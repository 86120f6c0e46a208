"""Runs (part of) CPython's concurrent.futures suite inside the interpreter under test.

Why: the runner isolates every test class in its own process (a hang or a
crash costs one class) and must keep the results of the tests that reported
before a crash.  So this worker streams one JSON object per line to a file,
flushed after each test; the runner reads whatever is there once the process
exits or is killed.

How: ``worker.py OUT list`` loads the suite (honouring ``load_tests``, so the
3.12+ package suite loads its submodules) and writes the test ids grouped by
class.  ``worker.py OUT run DUMP_AFTER CLASS [TEST_ID...]`` runs that class (or those of
its tests) through a flat ``unittest.TestSuite``, which still runs
setUpModule/tearDownModule, setUpClass/tearDownClass and module cleanups.
After DUMP_AFTER seconds (just before the runner's timeout kills it)
faulthandler dumps every thread's stack to stderr, which the runner keeps in
the class's log.  Like regrtest with its defaults,
``test.support.use_resources`` is empty (so 'cpu'/'walltime' tests skip) and
``support.verbose`` is 0.

The substitution itself is done by the venv's import hook
(``_futures_impl_conformance``), switched on by the runner's environment;
this worker only reports what the hook did and which file
``concurrent.futures`` really is.  Events: ``hook``, ``import_error``,
``classes`` (list mode), ``result`` (one per test: passed/failed/error/
skipped, with the failure text), ``fixture_error`` (setUpClass,
setUpModule... failing) and ``done``.  Runs on Python 3.9+, stdlib only.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import time
import traceback
import unittest
from collections.abc import Iterator
from typing import Any

SUITE_MODULE = "test.test_concurrent_futures"


class _Events:
    def __init__(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8")

    def emit(self, **event: Any) -> None:
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()


def _hook_state() -> dict[str, Any]:
    hook = sys.modules.get("_futures_impl_conformance")
    if hook is None:
        return {"loaded": False}
    state = dict(hook.STATE)
    state["loaded"] = True
    return state


def _substitution_report() -> dict[str, Any]:
    """Which files back concurrent.futures and its submodules right now."""
    mods = {}
    for name in sorted(sys.modules):
        if name == "concurrent.futures" or name.startswith("concurrent.futures."):
            mod = sys.modules[name]
            twin = sys.modules.get("futures_impl" + name[len("concurrent.futures"):])
            mods[name] = {
                "module": getattr(mod, "__name__", None),
                "file": getattr(mod, "__file__", None),
                "same_object_as_futures_impl": twin is mod,
            }
    return mods


def _configure_support() -> None:
    from test import support  # type: ignore[import-not-found]

    support.use_resources = []  # regrtest's default: no -u resources
    support.verbose = 0
    support.failfast = False


def _iter_tests(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _iter_tests(item)
        else:
            yield item


def _class_key(test: unittest.TestCase) -> str:
    cls = type(test)
    return f"{cls.__module__}.{cls.__qualname__}"


def _load(events: _Events) -> list[unittest.TestCase] | None:
    """Import the suite and return its tests, or None after an import_error."""
    _configure_support()
    try:
        module = __import__(SUITE_MODULE, fromlist=["*"])
    except BaseException:  # SkipTest, ImportError, anything: report it
        events.emit(event="import_error", detail=traceback.format_exc())
        return None
    events.emit(event="substitution", modules=_substitution_report())
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(module)
    tests = list(_iter_tests(suite))
    if loader.errors:
        events.emit(event="import_error", detail="\n".join(map(str, loader.errors)))
    return tests


class StreamingResult(unittest.TestResult):
    """Writes one ``result`` event per test as soon as the test finishes."""

    def __init__(self, events: _Events) -> None:
        super().__init__()
        self.events = events
        self._current: list[str] | None = None  # [outcome, detail] of the running test
        self._started = 0.0

    def _text(self, test: Any, err: Any) -> str:
        return str(self._exc_info_to_string(err, test))  # type: ignore[attr-defined]

    def startTest(self, test: Any) -> None:
        super().startTest(test)
        self._current = ["passed", ""]
        self._started = time.monotonic()
        self.events.emit(event="start", id=test.id())

    def _set(self, outcome: str, detail: str) -> None:
        rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
        if self._current is None:
            return
        if rank[outcome] >= rank[self._current[0]]:
            self._current[0] = outcome
        if detail:
            self._current[1] += detail

    def _fixture(self, test: Any, kind: str, err: Any) -> None:
        # unittest's _ErrorHolder: setUpClass/setUpModule/cleanups failing,
        # reported outside startTest/stopTest.
        self.events.emit(
            event="fixture_error" if kind != "skipped" else "fixture_skip",
            description=str(test),
            detail=self._text(test, err) if kind != "skipped" else err,
        )

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        if not isinstance(test, unittest.TestCase):
            self._fixture(test, "error", err)
        else:
            self._set("error", self._text(test, err))

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._set("failed", self._text(test, err))

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        if not isinstance(test, unittest.TestCase):
            self._fixture(test, "skipped", reason)
        elif self._current is None:
            # 3.12+: a test skipped by decorator gets no startTest/stopTest.
            self.events.emit(event="result", id=test.id(), outcome="skipped", detail=reason,
                             duration=0.0)
        else:
            self._set("skipped", reason)

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        self._set("failed", "unexpected success")

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._set("failed" if failed else "error", f"{subtest}\n{self._text(test, err)}")

    def stopTest(self, test: Any) -> None:
        super().stopTest(test)
        if self._current is not None:
            outcome, detail = self._current
            self.events.emit(
                event="result",
                id=test.id(),
                outcome=outcome,
                detail=detail,
                duration=round(time.monotonic() - self._started, 3),
            )
        self._current = None


def main(argv: list[str]) -> int:
    out, mode = argv[0], argv[1]
    events = _Events(out)
    events.emit(event="hook", state=_hook_state(), executable=sys.executable,
                version=sys.version.split()[0], pid=os.getpid())
    if mode == "run":
        dump_after = float(argv[2])
        if dump_after > 0:
            faulthandler.dump_traceback_later(dump_after, exit=False)
        argv = argv[:2] + argv[3:]
    tests = _load(events)
    if tests is None:
        events.emit(event="done")
        return 0
    if mode == "list":
        classes: dict[str, list[str]] = {}
        for test in tests:
            classes.setdefault(_class_key(test), []).append(test.id())
        import multiprocessing

        events.emit(
            event="classes",
            classes=[[k, v] for k, v in classes.items()],
            start_method=multiprocessing.get_start_method(allow_none=False),
        )
    elif mode == "run":
        wanted_class = argv[2]
        wanted_ids = set(argv[3:])
        selected = [
            t for t in tests
            if _class_key(t) == wanted_class and (not wanted_ids or t.id() in wanted_ids)
        ]
        result = StreamingResult(events)
        unittest.TestSuite(selected).run(result)
        events.emit(event="substitution", modules=_substitution_report())
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    events.emit(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
