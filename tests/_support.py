"""Shared helpers for the core's tests: module parametrisation and outcome normalisation.

Most tests here run twice, once against `futures_impl` and once against the stdlib's
`concurrent.futures`: a test that passes on the stdlib is known to test real stdlib behaviour,
and a failure only on `futures_impl` is a bug in futures_impl. Differential tests compare
*outcomes* (return values, exception types and messages, log records) after normalising what
legitimately differs between two objects: memory addresses and `id()`s.
"""

from __future__ import annotations

import concurrent.futures as std_futures
import inspect
import os
import re
import subprocess
import sys
import threading
import time
from types import ModuleType
from typing import Any, Callable

import pytest

import futures_impl

MODULES = [
    pytest.param(futures_impl, id="futures_impl"),
    pytest.param(std_futures, id="stdlib"),
]

# Exception classes that each module defines itself; mapped to a module-neutral name.
_OWN_EXCEPTIONS = (
    "CancelledError",
    "TimeoutError",
    "InvalidStateError",
    "BrokenExecutor",
)

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(*args: str, timeout: float) -> tuple[int | None, str, str]:
    """Run `python *args` from the repository root with futures_impl importable.

    Returns (returncode, stdout, stderr); returncode is None when the child did not end
    within `timeout` seconds (it is then killed: a hang fails the test, never blocks it).
    """
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, f"timed out after {timeout} s (hung)\n" + err
    return proc.returncode, out, err


def is_stdlib(mod: ModuleType) -> bool:
    return mod is std_futures


def normalise(text: str, *objects: object) -> str:
    """`text` with hex addresses and the decimal ids of `objects` replaced by placeholders."""
    for obj in objects:
        text = text.replace(str(id(obj)), "<id>")
    return _ADDRESS.sub("0x?", text)


def exc_kind(exc: BaseException, mod: ModuleType) -> str:
    """A module-neutral name for the type of `exc`: `mod.<Name>` for the module's own classes."""
    for name in _OWN_EXCEPTIONS:
        cls = getattr(mod, name, None)
        if cls is not None and type(exc) is cls:
            return "mod." + name
    return type(exc).__qualname__


def outcome(mod: ModuleType, call: Callable[[], Any], *objects: object) -> tuple[Any, ...]:
    """Run `call` and describe what happened in a form comparable across the two modules."""
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - the exception *is* the outcome
        return ("raised", exc_kind(exc, mod), normalise(str(exc), *objects))
    return ("returned", describe_value(value, mod, *objects))


def describe_value(value: Any, mod: ModuleType, *objects: object) -> Any:
    if isinstance(value, BaseException):
        return ("exception", exc_kind(value, mod), normalise(str(value), *objects))
    if isinstance(value, (bool, int, str, type(None), float)):
        return value
    return ("object", type(value).__qualname__, normalise(repr(value), *objects))


WAIT_BOUND = 30.0  # seconds: well under pytest-timeout (120 s), so a regression fails clearly


def wait_until(
    predicate: Callable[[], object], what: str | None = None, timeout: float = WAIT_BOUND
) -> None:
    """Block until `predicate()` is true; fail the test, naming `what`, after `timeout` s.

    This is polling for an observable condition (used where the only signal is a private
    field such as `Future._waiters`), not a sleep that hopes another thread got somewhere.
    The bound is a hang detector, not a timing assertion: it is far above any legitimate
    wait, and on expiry the failure says what was awaited (`what`, else the predicate's own
    description or source line) and the predicate's last value. Called from a helper thread,
    the failure ends that thread: such callers release what the test waits on in `finally`.
    """
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return
        if time.monotonic() >= deadline:
            break
        pause.wait(0.0005)
    pytest.fail(
        f"gave up after {timeout} s waiting for {what or _describe(predicate)} "
        f"(last value of the predicate: {value!r})"
    )


def set_when(
    predicate: Callable[[], object],
    event: threading.Event,
    what: str | None = None,
    timeout: float = WAIT_BOUND,
) -> Callable[[], None]:
    """Set `event` from a daemon thread once `predicate()` is true; return its `join`.

    The event is set even when wait_until gives up (so the test's blocking call returns
    instead of hanging), and the returned join() re-raises that failure in the test's thread.
    """
    failure: list[BaseException] = []

    def body() -> None:
        try:
            wait_until(predicate, what, timeout)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            failure.append(exc)
        finally:
            event.set()

    thread = threading.Thread(target=body, name="set_when", daemon=True)
    thread.start()

    def join() -> None:
        thread.join(timeout + 30)
        assert not thread.is_alive(), "set_when's thread did not end"
        if failure:
            raise failure[0]

    return join


def _describe(predicate: Callable[[], object]) -> str:
    described = getattr(predicate, "what", None)
    if callable(described):
        return str(described())
    try:
        return inspect.getsource(predicate).strip()  # type: ignore[arg-type]
    except (OSError, TypeError):
        return repr(predicate)


def stack_names(thread: threading.Thread) -> list[str]:
    """The function names on `thread`'s Python stack, innermost first."""
    import sys

    frame = sys._current_frames().get(thread.ident)  # type: ignore[arg-type]
    names = []
    while frame is not None:
        name = frame.f_code.co_name
        # Under mutation testing (nox -s mutation) mutmut renames `C.f` to
        # "xǁCǁf__mutmut_orig" / "xǁCǁf__mutmut_7" and `f` to "x_f__mutmut_orig": read the name
        # as written in the source.
        mangled = _MUTMUT_NAME.match(name)
        names.append(mangled.group(1) if mangled else name)
        frame = frame.f_back
    return names


_MUTMUT_NAME = re.compile("^x(?:\u01c1[^\u01c1]*\u01c1|_)(.+?)__mutmut_(?:orig|[0-9]+)$")


def blocked_in(thread: threading.Thread, function: str) -> Callable[[], bool]:
    """A predicate: `thread` is inside a call to `function`, in something it called.

    Implementation-agnostic: it reads the thread's Python stack (sys._current_frames()),
    not private fields. "Blocked" is a best-effort reading: when it says True a little
    early, the test goes through the "already done" path, which gives the same outcome;
    so it may weaken one run of a test, never make a correct implementation fail.
    """
    early = ("__enter__", "acquire", "__exit__", "release", "__init__", "_acquire_restore")

    def check() -> bool:
        if not thread.is_alive():
            return True  # nothing left to wait for
        names = stack_names(thread)
        if function not in names:
            return False
        outermost = len(names) - 1 - names[::-1].index(function)
        return outermost > 0 and names[0] not in early

    def what() -> str:  # for wait_until's failure message
        return (f"thread {thread.name!r} to block in {function}() "
                f"(its stack now, innermost first: {stack_names(thread)})")

    check.what = what  # type: ignore[attr-defined]
    return check


class RecordingHandler:
    """Collects records of the "concurrent.futures" logger (shared by both modules)."""

    def __init__(self) -> None:
        import logging

        self.records: list[logging.LogRecord] = []
        outer = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                outer.records.append(record)

        self._handler = _Handler(level=logging.DEBUG)
        self._logger = logging.getLogger("concurrent.futures")

    def __enter__(self) -> RecordingHandler:
        self._logger.addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self._handler)

    def take(self, *objects: object) -> list[tuple[str, str, str | None]]:
        """The records so far as (level, normalised message, exc type name); then forget them."""
        out = []
        for r in self.records:
            exc_name = r.exc_info[0].__qualname__ if r.exc_info and r.exc_info[0] else None
            out.append((r.levelname, normalise(r.getMessage(), *objects), exc_name))
        self.records.clear()
        return out
