"""What a process pool checks before it starts: the system's limits and its arguments.

A leaf (standard library only). It imports without `multiprocessing` (an embedder's
trimmed stdlib may lack the package): `_check_system_limits()` then names what is
missing. The facade re-exports `_check_system_limits` and
`_MAX_WINDOWS_WORKERS` at `futures_impl.process`, where CPython's suites import them.

`_check_system_limits()` asks once per interpreter and remembers the answer in
`_answer`, written whole by the first caller (a race between two first callers only
repeats the same question).
"""

from __future__ import annotations

import importlib
import operator
import os
import sys

from .._defaults import AUTO, auto_workers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from typing import Any

_MAX_WINDOWS_WORKERS = 63 - 2  # WaitForMultipleObjects limit, minus two internal handles
_FORK = "'fork'"
_MAX_TASKS_WITH_FORK = (  # the stdlib's message, word for word (its tests match it)
    f"max_tasks_per_child is incompatible with the {_FORK} multiprocessing start method; "
    "supply a different mp_context."
)

# The answer, once asked: a 1-tuple holding why a pool cannot work here (or None).
_answer: tuple[str | None] | None = None


def _check_system_limits() -> None:
    """Raise NotImplementedError where a process pool cannot work."""
    global _answer
    if _answer is None:
        _answer = (_system_limitation(),)
    why_not = _answer[0]
    if why_not is not None:
        raise NotImplementedError(why_not)


def _system_limitation() -> str | None:
    """Why a process pool cannot work here, or None."""
    # Imported here, not at the top: these imports are the question (each may fail in a
    # trimmed interpreter), and futures_impl.process must import there all the same.
    try:
        importlib.import_module("multiprocessing")  # absent from some embedders' stdlib
        importlib.import_module("_multiprocessing")
        importlib.import_module("multiprocessing.connection")
        importlib.import_module("multiprocessing.synchronize")  # fails without sem_open
    except ImportError as exc:
        return (
            "ProcessPoolExecutor needs a working multiprocessing module "
            f"(with _multiprocessing and sem_open): {exc}"
        )
    limited = None  # no select.poll (Windows): the portable path waits without it
    try:
        nsems_max = os.sysconf("SC_SEM_NSEMS_MAX")
    except (AttributeError, ValueError, OSError):
        # Unknown, or not ours to ask (PermissionError in a strict sandbox,
        # CPython issue 155912): assume enough.
        nsems_max = -1
    if nsems_max != -1 and nsems_max < 256:
        limited = f"system provides too few semaphores ({nsems_max} available, 256 necessary)"
    return limited


def worker_count(requested: int | str | None) -> int:
    """max_workers as given, checked; by default one per CPU (at most 61 on Windows);
    "auto": one per CPU of `futures_impl.cpu_count()` (affinity and cgroup quota)."""
    if requested is None or requested == AUTO:  # other strings fail below, as the stdlib's
        if requested is None:
            count = getattr(os, "process_cpu_count", os.cpu_count)() or 1
        else:
            count = auto_workers(AUTO, threads=False)
        if sys.platform == "win32":
            count = min(_MAX_WINDOWS_WORKERS, count)
        return int(count)
    value: Any = requested  # another string fails this `<=` with the stdlib's TypeError
    if value <= 0:
        raise ValueError("max_workers must be greater than 0")
    if sys.platform == "win32" and requested > _MAX_WINDOWS_WORKERS:
        raise ValueError(f"max_workers must be <= {_MAX_WINDOWS_WORKERS}")
    if isinstance(requested, float) and sys.version_info < (3, 10):
        # The stdlib refuses a float here, with the message of 3.9's int conversion.
        raise TypeError("integer argument expected, got float")
    return operator.index(value)  # 2.5 and 2.0 refused now, as the stdlib does, not at submit


def context_for(given: BaseContext | None, max_tasks: int | None) -> BaseContext:
    """The context to use: the given one, else spawn for recycled workers, else the default."""
    if given is not None:
        return given
    import multiprocessing  # here: limits.py imports without it (tests/test_embedded_host)

    return multiprocessing.get_context(None if max_tasks is None else "spawn")


def check_max_tasks(max_tasks: object, start_method: str) -> None:
    """Refuse a max_tasks_per_child that is not a positive int, or one used with fork."""
    # Recycling re-creates workers from a fresh interpreter: forking the parent, with its
    # threads, again and again would not give that.
    if max_tasks is None:
        return
    if not isinstance(max_tasks, int):
        raise TypeError("max_tasks_per_child must be an integer")
    if max_tasks < 1:
        raise ValueError("max_tasks_per_child must be >= 1")
    if start_method == "fork":
        raise ValueError(_MAX_TASKS_WITH_FORK)


def checked_timeout(value: object, name: str) -> float | None:
    """task_timeout= and submit_with(timeout=): seconds > 0, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {value!r}")
    if not value > 0:  # also refuses NaN
        raise ValueError(f"{name} must be > 0, not {value!r}")
    return float(value)
