"""How a process pool reports failure: its exceptions, their messages, the remote traceback.

A leaf (it imports only `_base`), so the pool, the manager loop, the worker side and the
facade can all import it at the top of their files. The classes say they live in
`futures_impl.process` (their `__module__`), where users and CPython's suites import them:
that is the name tracebacks print and pickles refer to, as before the move.

Traceback text travels as a string (a traceback object cannot be pickled): it becomes
the `__cause__` of the error the caller sees, a `_RemoteTraceback` whose str() is the
text. `format_remote()` is the one formatter for it: the worker's exceptions, a call that
cannot be pickled, a result that cannot be unpickled, a worker that exits abruptly and
an error in the manager loop are all framed by it.
"""

from __future__ import annotations

from .. import _base

_FACADE = "futures_impl.process"


class BrokenProcessPool(_base.BrokenExecutor):
    """A worker died abruptly or could not be used; the pool cannot run anything.

    Two texts, the stdlib's (`ABRUPT` in `futures_impl/_process/errors.py`): the pool's,
    raised by `submit()` once the pool is broken ("A child process ... is not usable
    anymore"), and each unsettled future's own instance ("A process in the process pool
    was ... while the future was running or pending."), whose `__cause__`, a
    `_RemoteTraceback`, says which process died, how, and what it was running. A worker
    that cannot be started gives the `NOT_STARTED` pair. See `ProcessPoolExecutor`,
    "Failures".
    """

    __module__ = _FACADE


class _RemoteTraceback(Exception):
    """`__cause__` of errors from a worker; `.tb` holds the worker-side traceback text.

    `_RemoteTraceback(tb)`: `str()` returns `tb`.
    """

    __module__ = _FACADE

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


# Quotes around the text: the worker's own tracebacks use the stdlib's `"""`; what the
# parent itself writes (an exit code, an unreadable result, its own bug) uses `'''`.
REMOTE = '"""'
LOCAL = "'''"


def format_remote(error: BaseException | str, quote: str = REMOTE) -> str:
    """The text of a _RemoteTraceback: `error`'s formatted traceback (or a message),
    between two lines of `quote`, as the stdlib frames it."""
    if isinstance(error, str):
        text = error + "\n"
    else:
        # Deferred: a worker process loads `traceback` (over a millisecond) only when a
        # call fails, so starting a worker stays as cheap as before. The parent has it
        # loaded already (the stdlib's process module loads it; so does ours, through
        # multiprocessing).
        import traceback

        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return f"\n{quote}\n{text}{quote}"


# The BrokenProcessPool texts are observable behaviour (reference notes, section 3.5).
# Each breakage is a pair: (the pool's message, each unsettled future's message).
_ABRUPTLY = "terminated abruptly"
_NOT_STARTED = "could not be started"
ABRUPT = (
    f"A child process {_ABRUPTLY}, the process pool is not usable anymore",
    f"A process in the process pool was {_ABRUPTLY} while the future was running or pending.",
)
NOT_STARTED = (
    f"A worker process {_NOT_STARTED}, the process pool is not usable anymore",
    f"A worker process {_NOT_STARTED} to run the future.",
)
FORCED = (
    "The process pool was forcefully shut down (terminate_workers()/kill_workers())",
    "The process pool was forcefully shut down before the future could run.",
)
RESULT_UNREADABLE = "The result of the call could not be unpickled in the parent process."
MANAGER_FAILED = "the process pool's manager thread failed"


# -- the robust pool's per-call errors (opt-in options; see docs/process.md) ------------


class WorkerDiedError(BrokenProcessPool):
    """The worker running this call died (survive_worker_death=True): only this call
    failed; the pool replaced the worker and goes on. A BrokenProcessPool, so code
    written for the stdlib's pool still catches it.

    Its message says how the worker ended, e.g.
    `exit code -9 (SIGKILL: not sent by the pool; killed by the OOM killer?)`.

    Attributes:
        pid: The worker's process id.
        exitcode: Its exit code (negative: killed by that signal).
        signal: The signal's name, or `None`.
        call: What the worker was running, e.g. `"mod.f(1, 'a')"` (cut short), or `None`.
    """

    __module__ = _FACADE

    def __init__(self, message: str, pid: int = 0, exitcode: int | None = None,
                 signal: str | None = None, call: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.exitcode = exitcode
        self.signal = signal
        self.call = call

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.args[0], self.pid, self.exitcode, self.signal, self.call))


class TaskTimeoutError(_base.TimeoutError):
    """The call ran longer than its timeout (task_timeout= or submit_with(timeout=)):
    its worker was killed and replaced; the other calls and the pool go on.

    A subclass of `futures_impl.TimeoutError`.

    Attributes:
        timeout: The timeout, in seconds.
        pid: The worker killed.
        call: What it ran, `"module.qualname(args...)"`, cut short.
    """

    __module__ = _FACADE

    def __init__(self, message: str, timeout: float = 0.0, pid: int = 0,
                 call: str | None = None) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.pid = pid
        self.call = call

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.args[0], self.timeout, self.pid, self.call))


def describe_call(fn: object, args: tuple[object, ...], kwargs: dict[str, object]) -> str:
    """`module.qualname(args...)`, each argument's repr cut short: for error messages."""
    import reprlib  # deferred: only a dead or timed-out worker needs it

    short = reprlib.Repr()
    short.maxstring = 40
    short.maxother = 60  # "<module.Class object>" of an object read from a frame
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = 4
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:
        name = short.repr(fn)
    else:
        module = getattr(fn, "__module__", None)
        name = f"{module}.{name}" if module else name
    parts = [short.repr(arg) for arg in args[:6]]
    if len(args) > 6:
        parts.append("...")
    parts += [f"{key}={short.repr(value)}" for key, value in list(kwargs.items())[:4]]
    if len(kwargs) > 4:
        parts.append("...")
    text = f"{name}({', '.join(parts)})"
    return text if len(text) <= 200 else text[:197] + "..."


def exit_description(exitcode: int | None, killed_by_pool: bool) -> tuple[str, str | None]:
    """("exit code -9 (SIGKILL...)", "SIGKILL"): how a worker ended, for messages."""
    if exitcode is None:
        return "an unknown exit code", None
    if exitcode >= 0:
        return f"exit code {exitcode}", None
    import signal  # deferred: only a dead worker needs it

    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        return f"exit code {exitcode}", None
    text = f"exit code {exitcode} ({name}"
    if name == "SIGKILL" and not killed_by_pool:
        text += ": not sent by the pool; killed by the OOM killer?"
    return text + ")", name
