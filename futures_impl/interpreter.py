"""InterpreterPoolExecutor: calls run in isolated interpreters of this process (3.14 API).

Why: CPU-bound Python code runs in parallel in one process. Each worker owns a
subinterpreter with its own GIL and its own modules, `sys` and `__main__`, so nothing is
shared by accident; no process is started, so a worker costs milliseconds, not a fork.

How: a ThreadPoolExecutor subclass built on the thread pool's 3.14 extension points
(thread.WorkerContext, `prepare_context`, `BROKEN`). Each worker thread creates its
interpreter when it starts (`_InterpreterContext.initialize`), runs every call it takes
in it, and destroys it when it leaves (`finalize`): shutdown(), the garbage collection
of the pool and the interpreter's exit (which joins the workers) destroy them all.

- A call is pickled in the submitting thread (`resolve_task`), so a call that cannot be
  sent (a lambda, a nested function) fails at submit(); functions travel by reference,
  so they must be module-level in a module the worker can import (sys.path is copied;
  a function of the main script, `__main__.f`, is not found there). A string is a
  script, executed in the worker interpreter's `__main__` (3.14's alphas took scripts;
  the final 3.14 refuses them: README, "Differences").
- The pickled call goes in as bytes (a shareable object), a small runner installed in
  the worker's `__main__` (_RUNNER) unpickles and runs it, and pickles back either the
  result or the exception (plus its type name, message and traceback text) through a
  cross-interpreter queue owned by the worker (`_interpqueues`).
- Errors, as 3.14 documents them: the original exception is re-raised in the caller
  with `__cause__` set to an ExecutionFailed carrying the type name, message and the
  traceback text from the worker interpreter; when the original cannot be pickled or
  unpickled, the ExecutionFailed itself is raised. A failing initializer breaks the
  pool: BrokenInterpreterPool, a BrokenThreadPool.

Which interpreters: those with the private `_interpreters` and `_interpqueues` modules
(CPython 3.13). 3.12's `_xxsubinterpreters` has only run_string: it could run a
pickled call (with `_xxinterpchannels` to send results back), but its modules are
experimental, its interpreters share state the 3.13 ones isolate, and CPython never
shipped an executor on it; it is not supported. Where the modules are missing, importing
this module works and creating a pool raises NotImplementedError; the package leaves
InterpreterPoolExecutor out of `__all__` there, as 3.14 does.

Thread-safety: an interpreter and its queue are used only by the worker thread that
created them (and destroyed by it), so this module has no lock of its own.
"""

from __future__ import annotations

import pickle
import sys
import types

from . import thread as _thread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

# CPython's private modules (no type stubs: Any). None where missing.
_interpreters: Any
_interpqueues: Any
try:
    _interpreters = __import__("_interpreters")
    _interpqueues = __import__("_interpqueues")
except ImportError:
    _interpreters = _interpqueues = None

__all__ = ["BrokenInterpreterPool", "ExecutionFailed", "InterpreterPoolExecutor"]

# Installed once in each worker interpreter's __main__ (where scripts run, and whose
# dict is the runner's globals). `_fi_path` and `_fi_queue` are set before it runs.
_RUNNER = """\
import pickle as _fi_pickle, sys as _fi_sys
import _interpqueues as _fi_queues
_fi_sys.path[:] = _fi_path

def _fi_run(payload):
    try:
        if isinstance(payload, str):
            exec(payload, globals())
            result = None
        else:
            fn, args, kwargs = _fi_pickle.loads(payload)
            result = fn(*args, **kwargs)
        data = _fi_pickle.dumps((True, result, None))
    except BaseException as exc:
        import traceback as _fi_traceback  # on failure only: it costs ~2 ms to import

        kind = type(exc)
        if isinstance(payload, str):  # so that the traceback shows the script's lines
            import linecache
            linecache.cache["<string>"] = (len(payload), None, payload.splitlines(True), "<string>")
        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        info = (kind.__name__, kind.__qualname__, kind.__module__, str(exc),
                "".join(_fi_traceback.format_exception_only(kind, exc)).strip(),
                "".join(_fi_traceback.format_exception(kind, exc, tb)))
        try:
            original = _fi_pickle.dumps(exc)
        except BaseException:
            original = None
        data = _fi_pickle.dumps((False, info, original))
        del exc, tb
    _fi_queues.put(_fi_queue, data, 0, 1)
"""
# Run for each call: one small code object, compiled once here.
_CALL = compile("_fi_run(_fi_task)", "<futures_impl worker>", "exec")


class BrokenInterpreterPool(_thread.BrokenThreadPool):
    """A worker interpreter failed its initializer; the pool runs nothing more."""


class ExecutionFailed(Exception):
    """A call raised in a worker interpreter (3.14: concurrent.interpreters.ExecutionFailed).

    `excinfo` describes the exception as the worker saw it: `type` (with `__name__`,
    `__qualname__`, `__module__`), `msg`, `formatted` ("Type: msg") and `errdisplay`
    (the traceback text).
    """

    def __init__(self, excinfo: Any) -> None:
        super().__init__(excinfo.formatted)
        self.excinfo = excinfo

    def __str__(self) -> str:
        info = self.excinfo
        if not info.errdisplay:
            return str(info.formatted)
        return f"{info.formatted}\n\nUncaught in the interpreter:\n\n{info.errdisplay}"


def _excinfo(info: tuple[str, str, str, str, str, str]) -> types.SimpleNamespace:
    name, qualname, module, msg, formatted, errdisplay = info
    kind = types.SimpleNamespace(__name__=name, __qualname__=qualname, __module__=module)
    return types.SimpleNamespace(type=kind, msg=msg, formatted=formatted, errdisplay=errdisplay)


def _resolve_task(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | bytes:
    """A call as the worker receives it: a script (str) or the pickled call (bytes)."""
    if isinstance(fn, str):
        if args or kwargs:
            raise ValueError(f"a script does not take arguments, got {args!r} {kwargs!r}")
        return fn
    if not callable(fn):
        raise TypeError(f"expected a callable or a script (str), got {fn!r}")
    return pickle.dumps((fn, args, kwargs))


class _InterpreterContext(_thread.WorkerContext):
    """One worker's interpreter and result queue. Used only by that worker's thread."""

    @classmethod
    def prepare(
        cls, initializer: Any, initargs: tuple[Any, ...], **ctxkwargs: Any
    ) -> tuple[Callable[[], _thread.WorkerContext], Callable[..., Any]]:
        if ctxkwargs:
            raise TypeError(f"unexpected context arguments: {', '.join(sorted(ctxkwargs))}")
        init_task = None if initializer is None else _resolve_task(initializer, initargs, {})

        def create_context() -> _thread.WorkerContext:
            return cls(init_task)

        return create_context, _resolve_task

    def __init__(self, init_task: str | bytes | None) -> None:
        self.init_task = init_task
        self.interp: int | None = None
        self.queue: int | None = None

    def initialize(self) -> None:
        self.queue = _interpqueues.create(0, 0, 1)  # unbounded, pickled bytes, drop unbound
        self.interp = _interpreters.create()
        _interpreters.set___main___attrs(
            self.interp, {"_fi_path": tuple(sys.path), "_fi_queue": self.queue}
        )
        failure = _interpreters.exec(self.interp, _RUNNER)
        if failure is not None:
            raise ExecutionFailed(failure)
        if self.init_task is not None:
            self.run(self.init_task)

    def finalize(self) -> None:
        interp, self.interp = self.interp, None
        queue, self.queue = self.queue, None
        try:
            if interp is not None:
                _interpreters.destroy(interp)
        finally:
            if queue is not None:
                _interpqueues.destroy(queue)

    def run(self, task: str | bytes) -> Any:
        failure = _interpreters.exec(self.interp, _CALL, {"_fi_task": task})
        if not _interpqueues.get_count(self.queue):
            # The runner itself failed (it reports everything else): what exec() saw.
            raise ExecutionFailed(failure or _excinfo(("", "", "", "", "no result", "")))
        ok, value, original = pickle.loads(_interpqueues.get(self.queue)[0])
        if ok:
            return value
        failed = ExecutionFailed(_excinfo(value))
        if original is not None:
            try:
                exc = pickle.loads(original)
            except Exception:
                exc = None
            if isinstance(exc, BaseException):
                try:
                    raise exc from failed
                finally:
                    del exc, failed
        raise failed


class InterpreterPoolExecutor(_thread.ThreadPoolExecutor):
    """An executor that runs each call in one of up to `max_workers` isolated interpreters.

    Calls (module-level functions, their arguments and results) are pickled; a string is
    run as a script in the worker interpreter's __main__. See the module docstring.
    """

    BROKEN = BrokenInterpreterPool

    @classmethod
    def prepare_context(
        cls, initializer: Any, initargs: tuple[Any, ...], **ctxkwargs: Any
    ) -> tuple[Callable[[], _thread.WorkerContext], Callable[..., Any]]:
        return _InterpreterContext.prepare(initializer, initargs, **ctxkwargs)

    def __init__(
        self,
        max_workers: int | None = None,
        thread_name_prefix: str = "",
        initializer: Callable[..., object] | str | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        """The 3.14 arguments: initializer (a module-level function or a script) and its
        initargs are pickled and run in each worker interpreter when it starts."""
        if _interpreters is None:
            raise NotImplementedError(
                "InterpreterPoolExecutor needs CPython's _interpreters module (3.13 and"
                f" later); Python {sys.version.split()[0]} does not have it"
            )
        if initializer is not None and not isinstance(initializer, str) and not callable(
            initializer
        ):
            raise TypeError("initializer must be a callable or a script")
        # The base class checks and stores the arguments, then calls prepare_context with
        # them; a script initializer is not callable, so it goes to the contexts alone.
        script = initializer if isinstance(initializer, str) else None
        function = None if isinstance(initializer, str) else initializer
        super().__init__(max_workers, thread_name_prefix, function, initargs)
        if script is not None:
            self._initializer = script  # type: ignore[assignment]
            self._set_up_contexts(script, initargs)
