"""Run a function over many inputs in parallel, with progress, in completion order.

Why: everyone who uses an executor ends up writing the same loop: submit one
call per input, keep a ``future -> input`` dict, walk ``as_completed``, catch
each error, tick a progress bar, and deal with Ctrl-C.  :class:`Parallelized`
is that loop, built only on futures_impl's public API.

How: ``__enter__`` creates a ThreadPoolExecutor (unless ``executor=`` is given,
e.g. a ProcessPoolExecutor); the loop's first step submits one call per input
(not ``__enter__``: ``as par`` must be bound before a call that reads
``par.stop_event`` runs); iterating yields ``(input, result, error)`` as each
call finishes (``error`` is None on success).  Inputs are checked against
``unpack`` up front (one TypeError naming the options).  Errors never escape
the loop unless ``safe=False`` ("fail fast": the first error cancels the calls
that haven't started and is raised).  When
``num_threads <= 1`` or there is a single input (and no executor was given),
there is no pool: each call runs in the iterating thread when the loop asks
for it.

Interruption: when the block is left by an exception (Ctrl-C's
KeyboardInterrupt above all) the calls that haven't started are cancelled and
the pool is shut down *without* waiting for the running ones; ``.cancelled``
and ``.abandoned`` list their inputs, a one-line report goes to the bar (or
stderr), and the exception propagates.  ``.stop_event`` is set at that moment
so that long tasks can poll it and return early (a thread can't be killed).
The program then ends without waiting for the abandoned calls: the private
pool's workers are daemon threads, and on KeyboardInterrupt/SystemExit a
user-given process pool's workers are killed (``wait_at_exit=True``: the old
way, the exit waits for them); see _parallel_exit for the how and for the
Ctrl-C held back while the calls are submitted or the abort is booked.

Bookkeeping: ``failed`` (inputs whose call raised, in completion order, for an
easy retry), ``errors`` (``(input, exception)`` pairs), ``succeeded``,
``completed``.  All of them are written only by the thread that iterates.

The progress bar is tqdm when installed, else :class:`~futures_impl._progress.SimpleBar`;
``log=True`` (or a ``logging.Logger``) adds one INFO line per finished call,
``[completed/total] <input> -> OK|FAIL (remaining N, elapsed Ns)``, followed by
``: <ExceptionType>: <message>`` for a failure.  When the logger has no handler
(logging not configured) the lines are written above the bar on its stream, so
``log=True`` shows without set-up.  Text must never be glued onto the bar's
line: log records are emitted with the bar cleared (tqdm's
``external_write_mode``), :meth:`Parallelized.write` is the ``print()`` to use
during a run, and the interrupt report is written after the bar's last frame.
``logging`` and tqdm are imported only when used.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Generic,
    TypeVar,
)

from . import _base
from ._parallel_exit import DeferredInterrupt, stop_workers
from ._progress import ProgressMode, SimpleBar, make_bar

if TYPE_CHECKING:
    import logging
    from types import TracebackType

__all__ = ["Parallelized", "parallelized"]

_R = TypeVar("_R")

#: How an input becomes a call: ``"kwargs"`` -> ``fn(**input)`` (the default),
#: ``"args"`` -> ``fn(*input)``, ``"value"`` -> ``fn(input)``.
_UNPACK_MODES = ("kwargs", "args", "value")


def _call_arguments(unpack: str, item: Any) -> tuple[Any, Any]:
    """``(args, kwargs)`` such that ``fn(*args, **kwargs)`` is the call for ``item``.

    The one place the ``unpack`` modes are told apart (the pool's submit and the
    sequential call both use it); ``item`` is passed on as is, so a wrong input
    fails with the same TypeError ``fn(**item)``/``fn(*item)`` would raise.
    """
    if unpack == "kwargs":
        return (), item
    if unpack == "args":
        return item, {}
    return (item,), {}


def _checked_inputs(inputs: Iterable[Any], unpack: str) -> list[Any]:
    """``list(inputs)``, refused with one TypeError when it can't be what ``unpack`` means.

    Checked up front so the mistake is reported once, the same way with a pool or
    without (a pool's submit would raise out of the loop, the sequential path would
    yield one error per input).  A dict as ``inputs`` would be iterated by its keys.
    """
    options = (
        "unpack='kwargs' (the default: each input is a dict of keyword arguments, fn(**d)), "
        "unpack='args' (a tuple of positional arguments, fn(*t)) or "
        "unpack='value' (the input itself is the one argument, fn(x))"
    )
    if isinstance(inputs, Mapping):
        raise TypeError(
            f"inputs is a {type(inputs).__name__}: Parallelized makes one call per item of "
            f"inputs, so it would iterate its keys; pass a list, e.g. [inputs] for one call "
            f"with these keyword arguments. How an item becomes a call: {options}"
        )
    items = list(inputs)
    if unpack == "value":
        return items
    for index, item in enumerate(items):
        if unpack == "kwargs":
            if isinstance(item, dict) or hasattr(item, "keys"):  # what fn(**item) accepts
                continue
            what = "a mapping of keyword arguments"
        else:
            if isinstance(item, tuple) or hasattr(item, "__iter__") or hasattr(item, "__getitem__"):
                continue
            what = "an iterable of positional arguments"
        raise TypeError(
            f"with unpack={unpack!r} each input must be {what}, but input {index} is "
            f"{_short_repr(item)} ({type(item).__name__}); choose how an input becomes "
            f"a call: {options}"
        )
    return items


def _short_repr(item: Any, limit: int = 60) -> str:
    text = repr(item)
    return text if len(text) <= limit else text[: limit - 3] + "..."


LOG_FORMAT = "[%d/%d] %s -> %s (remaining %d, elapsed %.1fs)"
_INFO, _WARNING = 20, 30  # logging's levels (logging is imported only when used)


def _error_text(error: BaseException, limit: int = 200) -> str:
    """``'ValueError: negative: -1'`` on one line, capped: a failure's part of a log line."""
    message = " ".join(str(error).split())
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _external_write_mode(bar: Any) -> Any:
    """A context manager that clears ``bar`` around a write to its terminal."""
    if isinstance(bar, SimpleBar):
        return bar.external_write_mode()
    return type(bar).external_write_mode(file=getattr(bar, "fp", None))  # tqdm's classmethod


def _default_label(item: Any, limit: int = 80) -> str:
    if isinstance(item, dict):
        text = ", ".join(f"{key}={value!r}" for key, value in item.items())
    elif isinstance(item, tuple):
        text = ", ".join(repr(value) for value in item)
    else:
        text = repr(item)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


#: On the main thread, how long one wait for the next result may last before the loop
#: wakes up to let a pending Ctrl-C through (see _completion_order).
MAIN_THREAD_WAKEUP = 0.5


def _completion_order(futures: list[_base.Future[_R]]) -> Iterator[_base.Future[_R]]:
    """``as_completed(futures)``; on the main thread, in slices of MAIN_THREAD_WAKEUP.

    CPython runs a signal handler (Ctrl-C's KeyboardInterrupt) only between bytecodes,
    and an untimed lock wait is woken by a signal only if the signal reaches that very
    thread while it sleeps: one that arrives just before the main thread blocks, or is
    delivered to a worker thread, stays pending until the wait ends, which may be never
    (seen under load: the interrupted run then hangs). A timed wait bounds that delay.
    Each slice re-registers on the futures still pending: O(pending) per slice.
    """
    if threading.current_thread() is not threading.main_thread():
        yield from _base.as_completed(futures)
        return
    pending = set(futures)
    while pending:
        try:
            for fut in _base.as_completed(pending, timeout=MAIN_THREAD_WAKEUP):
                pending.discard(fut)
                yield fut
        except _base.TimeoutError:
            pass  # a slice ended: a pending signal handler has just had its chance


class Parallelized(Generic[_R]):
    """Call ``fn`` once per input on a pool; iterate ``(input, result, error)`` as calls finish.

    ``inputs`` are keyword-argument dicts by default (``unpack="kwargs"``);
    ``unpack="args"`` takes argument tuples and ``unpack="value"`` passes each
    input as the single positional argument. Generic in the result type ``R``.

    Use: ``with Parallelized(fn, inputs) as par: for input, result, error in par: ...``;
    ``__enter__`` starts the run (creates the bar and the pool; the loop's first step
    submits the calls, so a call can read ``par.stop_event``; leaving the block before the
    loop cancels them all). Iterating yields ``(input, result, error)`` in completion
    order: ``error`` is ``None`` on success, otherwise ``result`` is ``None``. Without
    ``with``, the loop starts the run and cleans it up itself; a second loop resumes where
    the first stopped. ``repr()``: ``<Parallelized '<fn name>' <completed>/<total> failed=<n>>``.

    Leaving the block by an exception (Ctrl-C included) sets ``stop_event``, cancels the
    calls not started, shuts a private pool down without waiting, writes a report line if
    any call was cancelled or abandoned (e.g. ``Parallelized interrupted: 3/10 completed,
    5 cancelled before starting, 2 abandoned while running``; ``stopped by <Name>`` when
    the cause is not Ctrl-C; on ``file``/stderr after the bar's last frame, and logged as a
    WARNING when ``log`` is set) and lets the exception propagate. A normal exit waits for
    a private pool. No report is written for a ``break`` out of a loop without ``with``.

    Args:
        fn: The function, called once per input.
        inputs: Read into a list at construction and checked against ``unpack``.
        num_threads: Pool size (``None``: the ThreadPoolExecutor default). ``<= 1``
            (0 and negative values too), or a single input, without ``executor``:
            sequential, no pool (each call runs in the iterating thread).
        desc: The bar's label.
        progress: ``True``/``"auto"``: draw when the stream is a terminal;
            ``"always"``; ``False``/``"never"``.
        executor: An executor to use instead of a private thread pool. It is not shut
            down here, except on ``KeyboardInterrupt``/``SystemExit`` without
            ``wait_at_exit``: then an executor with ``kill_workers()`` (a process pool)
            has its workers killed (which shuts it down).
        unpack: ``"kwargs"``: ``fn(**x)``; ``"args"``: ``fn(*x)``; ``"value"``: ``fn(x)``.
        safe: ``True`` (default): errors are yielded. ``False``: the first error is raised,
            after the calls not yet started are cancelled.
        log: ``True``: the logger ``futures_impl.parallel``; a ``logging.Logger``: that
            logger. One INFO line per call,
            ``[<done>/<total>] <label> -> OK|FAIL (remaining <n>, elapsed <s>s)``, then
            ``: <ExceptionType>: <message>`` for a failure. When the logger has no handler
            (``hasHandlers()`` false at start), the lines are written above the bar on the
            bar's stream instead.
        label: How an input appears in the log. Default: ``k=v!r`` pairs, reprs, capped at
            80 characters.
        file: The bar's stream (default ``sys.stderr``).
        bar_kwargs: Extra arguments for the bar's constructor.
        wait_at_exit: ``False`` (default): after an abort the program's exit does not wait
            for the calls still running (the private pool is a
            ``ThreadPoolExecutor(wait_at_exit=False)``; a user's process pool's workers are
            killed on Ctrl-C). ``True``: the interpreter waits for them at exit, and a
            user's pool is left alone.

    Raises:
        TypeError: ``inputs`` does not fit ``unpack`` (a dict as ``inputs``, an input that
            is not a mapping for ``"kwargs"`` or not iterable for ``"args"``: the message
            names the three options); ``"num_threads must be an int or None, not <type>
            (<value!r>)"``.
        ValueError: ``"unpack must be one of ('kwargs', 'args', 'value'), not <unpack!r>"``;
            ``"progress must be True, False, 'auto', 'always' or 'never', not
            <progress!r>"`` when the bar is created (at start, or first access to ``pbar``).
        RuntimeError: ``"a Parallelized run can only be started once"``.

    Attributes:
        completed: How many calls finished.
        succeeded: Inputs whose call returned, in completion order.
        failed: Inputs whose call raised, in completion order.
        errors: ``(input, exception)`` pairs, in completion order.
        cancelled: After an abort: inputs never started.
        abandoned: After an abort: inputs running at the time.
        interrupted: Whether the abort's cause was ``KeyboardInterrupt``.
        stop_event: A ``threading.Event`` set on abort; long calls may poll it.
        sequential: Whether the run has no pool.
        total: The number of inputs.
    """

    def __init__(
        self,
        fn: Callable[..., _R],
        inputs: Iterable[Any],
        *,
        num_threads: int | None = None,
        desc: str | None = None,
        progress: ProgressMode = True,
        executor: _base.Executor | None = None,
        unpack: str = "kwargs",
        safe: bool = True,
        log: bool | logging.Logger = False,
        label: Callable[[Any], str] | None = None,
        file: Any = None,
        bar_kwargs: dict[str, Any] | None = None,
        wait_at_exit: bool = False,
    ) -> None:
        if unpack not in _UNPACK_MODES:
            raise ValueError(f"unpack must be one of {_UNPACK_MODES}, not {unpack!r}")
        if num_threads is not None and not isinstance(num_threads, int):
            raise TypeError(
                f"num_threads must be an int or None, not {type(num_threads).__name__} "
                f"({num_threads!r})"
            )
        self.fn = fn
        self.inputs: list[Any] = _checked_inputs(inputs, unpack)
        self.total = len(self.inputs)
        self.num_threads = num_threads
        self.desc = desc
        self.progress = progress
        self.unpack = unpack
        self.safe = safe
        self.label: Callable[[Any], str] = label or _default_label
        self._file = file
        self._bar_kwargs = dict(bar_kwargs or {})
        self._log_opt = log
        self._logger: logging.Logger | None = None
        self._log_direct = False  # True: the logger has no handler, lines go above the bar
        self._user_executor = executor
        #: False (default): calls abandoned by an aborted run don't hold the program's
        #: exit (daemon workers; a user's process pool's workers killed on Ctrl-C).
        self.wait_at_exit = bool(wait_at_exit)
        self._executor: _base.Executor | None = None
        self._futures: dict[_base.Future[_R], int] = {}  # future -> input index
        self._pbar: Any = None
        self._started = False
        self._submitted = False  # the pool's calls are submitted when the loop starts
        self._finished = False
        self._start_time = 0.0
        self.sequential = executor is None and (
            (num_threads is not None and num_threads <= 1) or self.total <= 1
        )
        #: Set when the run is aborted (Ctrl-C, an error leaving the block,
        #: fail-fast): long tasks may poll it and return early.
        self.stop_event = threading.Event()
        # Results, written only by the iterating thread.
        self.completed = 0
        self.succeeded: list[Any] = []
        self.failed: list[Any] = []
        self.errors: list[tuple[Any, BaseException]] = []
        self.cancelled: list[Any] = []
        self.abandoned: list[Any] = []
        self.interrupted = False
        self._results: dict[int, _R | None] = {}
        self._running_index = -1  # sequential mode: the input being called

    # -- the bar -----------------------------------------------------------------
    @property
    def pbar(self) -> Any:
        """The progress bar (tqdm when installed, else a SimpleBar); created on first use."""
        if self._pbar is None:
            self._pbar = make_bar(
                self.total, self.desc, self.progress, file=self._file, **self._bar_kwargs
            )
        return self._pbar

    def write(self, *values: object, sep: str = " ", end: str = "\n", file: Any = None) -> None:
        """``print()`` for use during a run: the text goes above the progress bar, not
        onto its line (``tqdm.write`` when the bar is tqdm's).  ``file``: stdout by default,
        like print.  May be called from the calls themselves (any thread)."""
        text = sep.join(map(str, values))
        self._above_bar(text, file if file is not None else sys.stdout, end)

    def _above_bar(self, text: str, stream: Any, end: str = "\n") -> None:
        bar = self._pbar
        if bar is not None and not getattr(bar, "disable", True):
            bar.write(text, file=stream, end=end)
        else:
            print(text, end=end, file=stream, flush=True)

    def _log(self, level: int, text: str) -> None:
        """One line of the progress log (``_logger`` is set): through the logger, with a
        visible bar cleared around it; or, when the logger has no handler, above the bar
        on the bar's stream."""
        logger = self._logger
        assert logger is not None
        if self._log_direct:
            self._above_bar(text, self._file if self._file is not None else sys.stderr)
            return
        bar = self._pbar
        if bar is not None and not getattr(bar, "disable", True):
            with _external_write_mode(bar):
                logger.log(level, "%s", text)
        else:
            logger.log(level, "%s", text)

    # -- life cycle --------------------------------------------------------------
    def __enter__(self) -> Parallelized[_R]:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(exc)

    def __iter__(self) -> Generator[tuple[Any, _R | None, BaseException | None], None, None]:
        owns_lifecycle = not self._started
        if owns_lifecycle:
            self._start()
        try:
            if self.sequential:
                yield from self._run_sequential()
            else:
                yield from self._run_pool()
        except BaseException as exc:
            if owns_lifecycle:
                self._finish(exc)
            raise
        if owns_lifecycle:
            self._finish(None)

    def _start(self) -> None:
        if self._started:
            raise RuntimeError("a Parallelized run can only be started once")
        self._started = True
        self._start_time = time.monotonic()
        if self._log_opt is not False:
            import logging  # deferred on purpose (module doc; tests: test_import_is_light)

            self._logger = (
                self._log_opt
                if isinstance(self._log_opt, logging.Logger)
                else logging.getLogger("futures_impl.parallel")
            )
            # Nothing would print the lines (logging not configured): write them ourselves.
            self._log_direct = not self._logger.hasHandlers()
        self.pbar  # noqa: B018 -- create the bar now so it shows 0/total at once
        if self.sequential:
            return
        if self._user_executor is not None:
            self._executor = self._user_executor
        else:
            from .thread import ThreadPoolExecutor  # deferred: it loads logging (same test)

            self._executor = ThreadPoolExecutor(
                max_workers=self.num_threads or None, wait_at_exit=self.wait_at_exit
            )

    def _submit(self) -> None:
        """Submit one call per input: when the loop starts, not in ``__enter__``.

        So that ``with Parallelized(...) as par:`` has bound ``par`` before any call runs
        (a call may read ``par.stop_event``), as on the sequential path.
        """
        self._submitted = True
        assert self._executor is not None
        submit, fn, unpack = self._executor.submit, self.fn, self.unpack
        try:
            # A Ctrl-C here would lose the future of the call being submitted (running, but
            # reported as cancelled): it is held back and ends the loop between two calls.
            with DeferredInterrupt() as held:
                for index, item in enumerate(self.inputs):
                    if held.received:
                        break
                    args, kwargs = _call_arguments(unpack, item)
                    self._futures[submit(fn, *args, **kwargs)] = index
            held.reraise()
        except BaseException as exc:
            self._finish(exc)
            raise

    def _finish(self, exc: BaseException | None) -> None:
        if self._finished:
            return
        self._finished = True
        try:
            if exc is not None:
                self._abort(exc)
            elif self._executor is not None and self._user_executor is None:
                try:
                    self._executor.shutdown(wait=True)
                except BaseException as late:  # Ctrl-C while waiting for the last calls
                    self._abort(late)
                    raise
        finally:
            if self._pbar is not None:
                self._pbar.close()

    def _abort(self, exc: BaseException) -> None:
        """Cancel what hasn't started, abandon what runs, report, don't wait."""
        self.stop_event.set()
        self.interrupted = isinstance(exc, KeyboardInterrupt)
        with DeferredInterrupt() as held:  # a second Ctrl-C waits for the report (module doc)
            unseen = self._cancel_and_stop(exc)
        why = "interrupted" if self.interrupted else f"stopped by {type(exc).__name__}"
        message = (
            f"Parallelized {why}: {self.completed}/{self.total} completed, "
            f"{len(self.cancelled)} cancelled before starting, "
            f"{len(self.abandoned)} abandoned while running"
        )
        if unseen:
            message += f", {unseen} finished but not yielded"
        if self._logger is not None and not self._log_direct:  # direct: the report is the line
            self._log(_WARNING, message)
        # No report for GeneratorExit: a `break` out of a loop that owns the run (deliberate).
        if (self.cancelled or self.abandoned) and not isinstance(exc, GeneratorExit):
            self._write(message)
        held.reraise()

    def _cancel_and_stop(self, exc: BaseException) -> int:
        """_abort's bookkeeping: sort the calls into cancelled and abandoned, stop the pool;
        return how many finished calls the loop has not yielded."""
        unseen = 0
        if self.sequential:
            rest = range(self.completed, self.total)
            running = self._running_index
            self.abandoned = [self.inputs[i] for i in rest if i == running]
            self.cancelled = [self.inputs[i] for i in rest if i != running]
            return unseen
        for fut, index in self._futures.items():
            item = self.inputs[index]
            if fut.done() and not fut.cancelled():
                if index not in self._results:
                    unseen += 1  # finished; the loop hasn't yielded it
                continue
            if fut.cancel() or fut.cancelled():
                self.cancelled.append(item)
            else:
                self.abandoned.append(item)
        # Interrupted while submitting, or before the loop: the rest was never submitted.
        self.cancelled.extend(self.inputs[len(self._futures) :])
        if self._executor is not None and self._user_executor is None:
            # Its workers are daemon threads unless wait_at_exit=True: the abandoned calls
            # don't hold the interpreter's exit (_parallel_exit's module doc).
            self._executor.shutdown(wait=False, cancel_futures=True)
        elif (
            self._user_executor is not None
            and not self.wait_at_exit
            and isinstance(exc, (KeyboardInterrupt, SystemExit))
        ):
            stop_workers(self._user_executor)  # the program is ending: kill its workers
        return unseen

    def _write(self, message: str) -> None:
        """Write the report after the bar's last frame: the bar is closed first, so no
        frame is drawn below the report."""
        bar = self._pbar
        if bar is not None:
            bar.close()
        print(message, file=self._file if self._file is not None else sys.stderr, flush=True)

    # -- iteration ---------------------------------------------------------------
    def _record(
        self, index: int, result: _R | None, error: BaseException | None
    ) -> tuple[Any, _R | None, BaseException | None]:
        item = self.inputs[index]
        self._results[index] = result
        self.completed += 1
        bar = self._pbar
        if error is None:
            self.succeeded.append(item)
        else:
            self.failed.append(item)
            self.errors.append((item, error))
            if isinstance(bar, SimpleBar):
                bar.failed += 1  # shown in its counts
        if bar is not None:
            bar.update(1)
        logger = self._logger
        if logger is not None and (self._log_direct or logger.isEnabledFor(_INFO)):
            line = LOG_FORMAT % (
                self.completed,
                self.total,
                self.label(item),
                "OK" if error is None else "FAIL",
                self.total - self.completed,
                time.monotonic() - self._start_time,
            )
            self._log(_INFO, line if error is None else f"{line}: {_error_text(error)}")
        return item, result, error

    def _run_sequential(self) -> Iterator[tuple[Any, _R | None, BaseException | None]]:
        for index in range(self.completed, self.total):
            item = self.inputs[index]
            result: _R | None = None
            error: BaseException | None = None
            self._running_index = index
            args, kwargs = _call_arguments(self.unpack, item)
            try:
                result = self.fn(*args, **kwargs)
            except Exception as exc:  # KeyboardInterrupt & co propagate
                error = exc
            self._running_index = -1
            yield self._record(index, result, error)
            if error is not None and not self.safe:
                raise error

    def _run_pool(self) -> Iterator[tuple[Any, _R | None, BaseException | None]]:
        if not self._submitted:
            self._submit()
        results = self._results
        pending = [fut for fut, index in self._futures.items() if index not in results]
        for fut in _completion_order(pending):  # resumes where an earlier loop stopped
            index = self._futures[fut]
            if fut.cancelled():
                # Someone else cancelled it (a shared executor's shutdown...).
                error: BaseException | None = _base.CancelledError()
                result: _R | None = None
            else:
                error = fut.exception()
                result = None if error is not None else fut.result()
            yield self._record(index, result, error)
            if error is not None and not self.safe:
                raise error

    # -- conveniences --------------------------------------------------------------
    def results(self) -> list[_R | None]:
        """Run to the end; return results in input order (None where the call failed)."""
        for _ in self:
            pass
        return [self._results.get(i) for i in range(self.total)]

    def __repr__(self) -> str:
        return (
            f"<Parallelized {getattr(self.fn, '__name__', self.fn)!r} "
            f"{self.completed}/{self.total} failed={len(self.failed)}>"
        )


def parallelized(
    fn: Callable[..., _R], inputs: Iterable[Any], **options: Any
) -> list[tuple[Any, _R | None, BaseException | None]]:
    """Run :class:`Parallelized` to the end and return its tuples in completion order."""
    with Parallelized(fn, inputs, **options) as par:
        return list(par)
