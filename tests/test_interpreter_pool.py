"""InterpreterPoolExecutor (3.14 API, on CPython's private _interpreters module, 3.13+)
and the thread pool's per-worker context extension points it is built on.

The interpreter tests run where _interpreters exists and skip elsewhere with the reason;
the tests of the extension points (a plain ThreadPoolExecutor subclass) and of the
"missing module" behaviour run everywhere. Every wait is bounded.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any, Callable

import _interp_tasks as tasks
import pytest

import futures_impl
from futures_impl import thread
from futures_impl.interpreter import (
    BrokenInterpreterPool,
    ExecutionFailed,
    InterpreterPoolExecutor,
)

try:
    import _interpreters
except ImportError:
    _interpreters = None

TIMEOUT = 60
needs_interpreters = pytest.mark.skipif(
    _interpreters is None,
    reason="CPython's _interpreters module (3.13+) is missing: no InterpreterPoolExecutor here",
)


def interpreter_ids() -> set[int]:
    assert _interpreters is not None
    return {interp for interp, _ in _interpreters.list_all()}


# -- where the module is missing ------------------------------------------------------------


@pytest.mark.skipif(_interpreters is not None, reason="this interpreter has _interpreters")
def test_missing_module_refuses_creation_and_all_leaves_it_out() -> None:
    assert "InterpreterPoolExecutor" not in futures_impl.__all__
    assert futures_impl.InterpreterPoolExecutor is InterpreterPoolExecutor  # import works
    with pytest.raises(NotImplementedError, match="_interpreters"):
        InterpreterPoolExecutor()


@needs_interpreters
def test_public_where_the_module_exists() -> None:
    assert "InterpreterPoolExecutor" in futures_impl.__all__
    assert issubclass(InterpreterPoolExecutor, futures_impl.ThreadPoolExecutor)
    assert issubclass(BrokenInterpreterPool, thread.BrokenThreadPool)
    assert InterpreterPoolExecutor.BROKEN is BrokenInterpreterPool


# -- isolation: functions and scripts -------------------------------------------------------


@needs_interpreters
def test_functions_run_in_isolated_interpreters() -> None:
    main_id = _interpreters.get_current()[0]
    before = list(tasks.STATE)
    with InterpreterPoolExecutor(max_workers=1) as pool:
        first = pool.submit(tasks.remember, 1).result(TIMEOUT)
        second = pool.submit(tasks.remember, 2).result(TIMEOUT)
    assert first[0] != main_id and first[0] == second[0]  # one worker, its own interpreter
    assert (first[1], second[1]) == (1, 2)  # the worker's module state persists...
    assert tasks.STATE == before  # ...and is not this interpreter's


@needs_interpreters
def test_scripts_run_in_the_worker_main_module() -> None:
    with InterpreterPoolExecutor(max_workers=1) as pool:
        assert pool.submit("answer = 6 * 7").result(TIMEOUT) is None
        assert pool.submit(tasks.read_main, "answer").result(TIMEOUT) == 42
        with pytest.raises(ValueError, match="does not take arguments"):
            pool.submit("x = 1", 2)
    import __main__

    assert not hasattr(__main__, "answer")


# -- exceptions carried back ----------------------------------------------------------------


@needs_interpreters
def test_exception_kept_with_execution_failed_as_cause() -> None:
    with InterpreterPoolExecutor(max_workers=1) as pool:
        future = pool.submit(tasks.fail, "bad input")
        with pytest.raises(ValueError, match="bad input") as caught:
            future.result(TIMEOUT)
    cause = caught.value.__cause__
    assert isinstance(cause, ExecutionFailed)
    assert cause.excinfo.type.__name__ == "ValueError"
    assert cause.excinfo.type.__module__ == "builtins"
    assert cause.excinfo.msg == "bad input"
    assert cause.excinfo.formatted == "ValueError: bad input"
    errdisplay = cause.excinfo.errdisplay
    assert errdisplay.startswith("Traceback (most recent call last):")
    assert "_interp_tasks.py" in errdisplay and "in fail" in errdisplay
    assert "ValueError: bad input" in str(cause) and "in fail" in str(cause)


@needs_interpreters
def test_unpicklable_exception_surfaces_as_execution_failed() -> None:
    with InterpreterPoolExecutor(max_workers=1) as pool:
        with pytest.raises(ExecutionFailed) as caught:
            pool.submit(tasks.fail_unpicklable).result(TIMEOUT)
    info = caught.value.excinfo
    assert (info.type.__name__, info.type.__module__) == ("Unpicklable", "_interp_tasks")
    assert info.msg == "kept only as text"
    assert "in fail_unpicklable" in info.errdisplay


@needs_interpreters
def test_script_exception_carried_back() -> None:
    with InterpreterPoolExecutor(max_workers=1) as pool:
        with pytest.raises(ZeroDivisionError) as caught:
            pool.submit("value = 1 / 0").result(TIMEOUT)
        assert pool.submit("ok = True").result(TIMEOUT) is None  # the worker goes on
    cause = caught.value.__cause__
    assert isinstance(cause, ExecutionFailed)
    assert "value = 1 / 0" in cause.excinfo.errdisplay


# -- shared data: arguments and results are pickled -----------------------------------------


@needs_interpreters
def test_arguments_and_results_are_copies() -> None:
    data: dict[str, Any] = {"items": [1, 2, 3], "blob": b"\x00" * 1000}
    with InterpreterPoolExecutor(max_workers=2) as pool:
        result = pool.submit(tasks.mutate, data).result(TIMEOUT)
        assert list(pool.map(pow, [2, 3, 4], [5, 5, 5], timeout=TIMEOUT)) == [32, 243, 1024]
    assert result == {"items": [1, 2, 3, 4], "blob": b"\x00" * 1000, "seen": True}
    assert data == {"items": [1, 2, 3], "blob": b"\x00" * 1000}  # the caller's is untouched


@needs_interpreters
def test_a_call_that_cannot_be_pickled_fails_at_submit() -> None:
    with InterpreterPoolExecutor(max_workers=1) as pool:
        with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
            pool.submit(lambda: 1)
        with pytest.raises((pickle.PicklingError, TypeError)):
            pool.submit(tasks.remember, threading.Lock())
        with pytest.raises(TypeError, match="callable or a script"):
            pool.submit(42)  # type: ignore[arg-type]
        assert pool.submit(tasks.remember, 5).result(TIMEOUT)[1] == 1


# -- initializer, shutdown ------------------------------------------------------------------


@needs_interpreters
def test_initializer_runs_in_each_worker_interpreter() -> None:
    with InterpreterPoolExecutor(1, initializer=tasks.set_up, initargs=(7,)) as pool:
        assert pool.submit(tasks.state).result(TIMEOUT) == [7]
    script = "import _interp_tasks as t; t.STATE.append(9)"
    with InterpreterPoolExecutor(1, initializer=script) as pool:
        assert pool.submit(tasks.state).result(TIMEOUT) == [9]
    assert 7 not in tasks.STATE and 9 not in tasks.STATE  # ran in the workers only


@needs_interpreters
def test_failing_initializer_breaks_the_pool() -> None:
    before = interpreter_ids()
    pool = InterpreterPoolExecutor(2, initializer=tasks.broken_set_up)
    try:
        future = pool.submit(tasks.remember, 1)
        with pytest.raises(BrokenInterpreterPool) as caught:
            future.result(TIMEOUT)
        assert isinstance(caught.value, thread.BrokenThreadPool)
        with pytest.raises(BrokenInterpreterPool):
            pool.submit(tasks.remember, 2)
    finally:
        pool.shutdown(wait=True)
    assert interpreter_ids() == before  # the failed worker destroyed its interpreter


@needs_interpreters
def test_shutdown_destroys_the_interpreters() -> None:
    before = interpreter_ids()
    pool = InterpreterPoolExecutor(max_workers=3)
    try:
        futures = [pool.submit(tasks.cpu_bound, 20_000) for _ in range(9)]
        for future in futures:
            future.result(TIMEOUT)
        during = interpreter_ids() - before
        assert 1 <= len(during) <= 3
        assert len(during) == len(pool._threads)
    finally:
        pool.shutdown(wait=True)
    assert interpreter_ids() == before


@needs_interpreters
def test_interpreters_destroyed_at_exit_without_shutdown() -> None:
    root = Path(__file__).resolve().parent
    code = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(root.parent)!r}, {str(root)!r}]
        import _interp_tasks, _interpreters
        from futures_impl.interpreter import InterpreterPoolExecutor
        pool = InterpreterPoolExecutor(2)
        print(pool.submit(_interp_tasks.remember, 1).result(60)[1])
        print(len(_interpreters.list_all()) > 1, flush=True)
        """)
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err
    assert out.split() == ["1", "True"]
    assert "Fatal" not in err and "Traceback" not in err


# -- the thread pool's extension points (every version) -------------------------------------


class _RecordingContext(thread.WorkerContext):
    log: list[tuple[str, Any]] = []
    lock = threading.Lock()

    @classmethod
    def prepare(
        cls, initializer: Any, initargs: tuple[Any, ...], **ctxkwargs: Any
    ) -> tuple[Callable[[], thread.WorkerContext], Callable[..., Any]]:
        tag = ctxkwargs.pop("tag", "plain")
        create, resolve = super().prepare(initializer, initargs, **ctxkwargs)

        def resolve_tagged(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            return (tag, resolve(fn, args, kwargs))

        return create, resolve_tagged

    def _record(self, event: str, value: Any = None) -> None:
        with self.lock:
            self.log.append((event, value))

    def initialize(self) -> None:
        self._record("initialize", threading.current_thread().name)
        super().initialize()

    def finalize(self) -> None:
        self._record("finalize", threading.current_thread().name)

    def run(self, task: Any) -> Any:
        tag, inner = task
        self._record("run", tag)
        return super().run(inner)


class _Broken(thread.BrokenThreadPool):
    pass


class _ContextPool(futures_impl.ThreadPoolExecutor):
    BROKEN = _Broken

    @classmethod
    def prepare_context(
        cls, initializer: Any, initargs: tuple[Any, ...], **ctxkwargs: Any
    ) -> tuple[Callable[[], thread.WorkerContext], Callable[..., Any]]:
        return _RecordingContext.prepare(initializer, initargs, **ctxkwargs)


def test_context_per_worker_made_run_and_finalized() -> None:
    _RecordingContext.log = []
    pool = _ContextPool(max_workers=2, thread_name_prefix="ctx")
    try:
        assert pool.submit(pow, 2, 10).result(TIMEOUT) == 1024
        assert list(pool.map(abs, [-1, -2], timeout=TIMEOUT)) == [1, 2]
    finally:
        pool.shutdown(wait=True)
    events = [event for event, _ in _RecordingContext.log]
    workers = {name for event, name in _RecordingContext.log if event == "initialize"}
    assert events.count("run") == 3
    assert {v for e, v in _RecordingContext.log if e == "run"} == {"plain"}
    assert {name for event, name in _RecordingContext.log if event == "finalize"} == workers
    assert events.count("initialize") == events.count("finalize") == len(workers) >= 1


def test_context_keyword_arguments_reach_prepare() -> None:
    _RecordingContext.log = []
    pool = _ContextPool(max_workers=1)
    pool._set_up_contexts(None, (), tag="tagged")  # how a subclass passes its own kwargs
    try:
        assert pool.submit(pow, 3, 2).result(TIMEOUT) == 9
    finally:
        pool.shutdown(wait=True)
    assert ("run", "tagged") in _RecordingContext.log
    with pytest.raises(TypeError, match="unexpected context arguments: bogus"):
        futures_impl.ThreadPoolExecutor.prepare_context(None, (), bogus=1)


def test_failing_context_initializer_breaks_with_the_class_error() -> None:
    _RecordingContext.log = []

    def boom() -> None:
        raise RuntimeError("no")

    pool = _ContextPool(max_workers=1, initializer=boom)
    try:
        with pytest.raises(_Broken):
            pool.submit(pow, 2, 2).result(TIMEOUT)
        with pytest.raises(_Broken):
            pool.submit(pow, 2, 2)
    finally:
        pool.shutdown(wait=True)
    assert [event for event, _ in _RecordingContext.log] == ["initialize", "finalize"]


def test_plain_pool_uses_no_context() -> None:
    assert futures_impl.ThreadPoolExecutor.BROKEN is thread.BrokenThreadPool
    plain = futures_impl.ThreadPoolExecutor
    assert plain.submit is not thread.ThreadPoolExecutor._submit_in_context
    with futures_impl.ThreadPoolExecutor(max_workers=1) as pool:
        assert pool._create_context is None
        assert pool.submit(pow, 2, 3).result(TIMEOUT) == 8
    assert _ContextPool.submit is thread.ThreadPoolExecutor._submit_in_context
