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
    """A worker died abruptly or could not be used; the pool cannot run anything."""

    __module__ = _FACADE


class _RemoteTraceback(Exception):
    """`__cause__` of errors from a worker; `.tb` holds the worker-side traceback text."""

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
