"""The program model of the differential fuzzer (tests/test_fuzz_differential.py).

A *program* is a pool size plus a list of steps (plain tuples, so hypothesis can shrink
them). `Run(mod, program).execute()` interprets it against one implementation (`futures_impl`
or the stdlib's `concurrent.futures`) and returns a *trace*: every observable, normalised so
that the two traces of one program are equal exactly when the two behave alike.

Deterministic scheduling. Every call the pool runs blocks on its own gate (an Event) until
the program opens it ("release"), or was opened before it started ("preopen"). After every
step the interpreter *settles*: it predicts, from what it observes (which calls started,
which gates are open, which futures are cancelled), what the pool must do next if it runs
up to `max_workers` calls at a time in submission order (the documented thread-pool
contract), and waits, each wait bounded, for exactly that: a call to start, a released call
to finish and run its done-callbacks (a sentinel callback the call adds to its own future
when its gate opens runs last), a cancelled queued future to be reached by a worker. So
which calls have started or finished at each step is a property of the program, never of
timing, and only one thread acts at a time. A bounded wait that expires is recorded in the
trace ("stuck") and ends the run: a hang is a difference, never a hang of the test.

Timeouts are used only where the outcome is determined: timeout=0, or a short timeout on a
future whose gate stays closed while the main thread waits (nothing else runs meanwhile).

Steps (indices are taken modulo the number of tasks / maps / foreign futures, so every
step is valid whatever came before; a step with nothing to act on records "skip"):
    ("submit", spec, preopen)                  spec: ("value", v) | ("raise", kind)
    ("map", xs, timeout, chunksize, buffersize)
    ("map_next", j) / ("map_close", j)
    ("release", k) / ("cancel", k)
    ("result", k, mode) / ("exception", k, mode)        mode: 0 | "short" | "block"
    ("callback", k, action, other)
    ("wait", refs, return_when, mode, other_module) / ("as_completed", refs, mode, other_module)
    ("foreign", how)  / ("settle_foreign", j, how)       futures of the *other* module
    ("shutdown", wait, cancel_futures)
"""

from __future__ import annotations

import concurrent.futures as std_futures
import itertools
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

from _support import RecordingHandler, describe_value, exc_kind, normalise

import futures_impl

BOUND = 5.0  # seconds any single blocking step may take before the run is declared stuck
SHORT = 0.005  # a "short" timeout, used only where nothing can change while it runs
STDLIB_HAS_BUFFERSIZE = sys.version_info >= (3, 14)

_pool_ids = itertools.count()

# FUZZ-EXCLUDED(issue 10 item 3), lifted once the fix landed (4be8466): set to True to
# leave foreign futures out of wait()/as_completed() and call each module's own functions.
# Reproducer of the bug it covered: futures_impl.wait([stdlib_future], timeout=0) raised
# AttributeError ('Future' object has no attribute '_lock').
MIXED_EXCLUDED = False


class Stuck(Exception):
    """A bounded wait expired: the run stops and the trace says where."""


@dataclass
class Task:
    tid: int
    gate: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    registered: threading.Event = field(default_factory=threading.Event)
    future: Any = None
    consumed: bool = False  # a cancelled queued future a worker has passed over
    drained: bool = False  # cancelled by shutdown(cancel_futures=True)
    actions: list[str] = field(default_factory=list)  # its done-callbacks' actions


@dataclass
class MapState:
    iterator: Any
    timeout: float | None = None
    tids: list[int] = field(default_factory=list)
    yielded: int = 0
    over: bool = False


def task_value(spec: tuple[str, Any]) -> Callable[[], Any]:
    kind, arg = spec

    def call() -> Any:
        if kind == "raise":
            raise make_exception(arg)
        return arg

    return call


def make_exception(kind: str) -> BaseException:
    return {"ValueError": ValueError, "KeyError": KeyError, "ZeroDivisionError": ZeroDivisionError}[
        kind
    ]("boom " + kind)


def map_fn(x: int) -> int:
    if x % 4 == 3:
        raise ValueError(f"map item {x}")
    return x * 10


def reference_buffered_map(
    pool: Any, fn: Callable[..., Any], xs: list[int], timeout: float | None, buffersize: int
) -> Iterator[Any]:
    """Executor.map(buffersize=) as the 3.14 docs describe it, on top of submit(): at most
    `buffersize` calls submitted whose results have not been yielded; input read lazily;
    results in input order; on error or close, the calls not yet yielded are cancelled, like
    the unbuffered map() of the running stdlib. Each next() submits the call for the next
    input before it waits for the oldest (3.14's order; futures_impl's too)."""
    import collections
    import time

    deadline = None if timeout is None else time.monotonic() + timeout
    args = iter(xs)
    queued: collections.deque[Any] = collections.deque(
        pool.submit(fn, x) for x in itertools.islice(args, buffersize)
    )

    def results() -> Iterator[Any]:
        try:
            more = True
            while queued:
                for x in itertools.islice(args, 1 if more else 0):
                    try:
                        queued.append(pool.submit(fn, x))
                    except RuntimeError:
                        # Shut down: yield what was submitted, then stop (3.14.x's
                        # behaviour as futures_impl cites it, cpython#146392; not in the docs).
                        more = False
                # 3.10+ cancels the call whose result timed out (it is still queued
                # when the finally clause runs); 3.9 does not (observed, both stdlibs).
                head = queued[0] if sys.version_info >= (3, 10) else queued.popleft()
                if deadline is None:
                    value = head.result()
                else:
                    value = head.result(deadline - time.monotonic())
                if sys.version_info >= (3, 10):
                    queued.popleft()
                yield value
        finally:
            for f in queued:
                f.cancel()

    return results()


def _satisfied(futures: list[Any], return_when: str) -> bool:
    """Whether wait(futures, return_when) must return at once (what the stdlib counts as
    done: FINISHED or CANCELLED_AND_NOTIFIED; a cancelled future no one was notified of
    does not count)."""
    done = [f for f in futures if f._state in ("FINISHED", "CANCELLED_AND_NOTIFIED")]
    if len(done) == len(futures):
        return True
    if return_when == "FIRST_COMPLETED":
        return bool(done)
    return any(f._state == "FINISHED" and f.exception(0) is not None for f in done)


def _initializer_ok() -> None:
    pass


def _initializer_fails() -> None:
    raise OSError("initializer fails")


def _stack_has(thread: threading.Thread, names: tuple[str, ...]) -> bool:
    frame = sys._current_frames().get(thread.ident)  # type: ignore[arg-type]
    while frame is not None:
        if frame.f_code.co_name in names:
            return True
        frame = frame.f_back
    return False


class Run:
    """One program against one implementation."""

    def __init__(self, mod: ModuleType, program: tuple[int, str, list[tuple[Any, ...]]]) -> None:
        self.mod = mod
        self.other = std_futures if mod is futures_impl else futures_impl
        self.max_workers, self.initializer, self.steps = program
        self.trace: list[Any] = []
        self.calls: list[Any] = []  # callback records, appended by whichever thread runs them
        self.tasks: list[Task] = []
        self.by_id: dict[int, int] = {}  # id(future) -> tid
        self.maps: list[MapState] = []
        self.foreign: list[Any] = []
        self.current_map: MapState | None = None
        self.labels = itertools.count(1)
        self.prefix = f"fuzz{next(_pool_ids)}"
        self.pool = self._make_pool()
        self.shutdown_called = False

    # ------------------------------------------------------------------ the pool
    def _make_pool(self) -> Any:
        run = self

        class Pool(self.mod.ThreadPoolExecutor):  # type: ignore[name-defined,misc]
            # Every call goes through submit() (map() included: Executor.map is built on
            # submit in both implementations), so each call gets a gate and a task id.
            def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
                return run._submit(super().submit, fn, args)

        initializer = {"none": None, "ok": _initializer_ok, "fail": _initializer_fails}
        return Pool(max_workers=self.max_workers, thread_name_prefix=self.prefix,
                    initializer=initializer[self.initializer])

    def _submit(
        self, submit: Callable[..., Any], fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> Any:
        task = Task(len(self.tasks))

        def body() -> Any:
            task.started.set()
            if not task.gate.wait(BOUND * 4):
                raise RuntimeError("gate never opened")
            task.registered.wait(BOUND)
            task.future.add_done_callback(lambda f: task.finished.set())
            return fn(*args)

        future = submit(body)
        task.future = future
        self.tasks.append(task)
        self.by_id[id(future)] = task.tid
        if self.current_map is not None:
            self.current_map.tids.append(task.tid)
        task.registered.set()
        return future

    # ------------------------------------------------------------------ observation
    def ref(self, obj: Any) -> Any:
        if id(obj) in self.by_id:
            return ("task", self.by_id[id(obj)])
        for j, f in enumerate(self.foreign):
            if f is obj:
                return ("foreign", j)
        return describe_value(obj, self.mod)

    def outcome(self, call: Callable[[], Any], mod: ModuleType | None = None) -> Any:
        mod = mod or self.mod
        try:
            value = call()
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            return ("raised", exc_kind(exc, mod), normalise(str(exc), *self.everything()))
        return ("returned", self.describe(value, mod))

    def describe(self, value: Any, mod: ModuleType) -> Any:
        if id(value) in self.by_id or any(value is f for f in self.foreign):
            return self.ref(value)
        if isinstance(value, BaseException):
            return describe_value(value, mod)
        return describe_value(value, mod)

    def future_state(self, f: Any, mod: ModuleType) -> Any:
        return (
            f.done(), f.running(), f.cancelled(),
            self.outcome(lambda: f.result(timeout=0), mod),
            self.outcome(lambda: f.exception(timeout=0), mod),
        )

    def everything(self) -> list[Any]:
        return [t.future for t in self.tasks] + self.foreign

    def snapshot(self) -> Any:
        return (
            [(t.started.is_set(), self.future_state(t.future, self.mod)) for t in self.tasks],
            [self.future_state(f, self.other) for f in self.foreign],
        )

    # ------------------------------------------------------------------ settling
    def wait_for(self, event: threading.Event, what: str) -> None:
        if not event.wait(BOUND):
            raise Stuck(what)

    def poll_until(self, predicate: Callable[[], bool], what: str) -> None:
        pause = threading.Event()
        for _ in range(int(BOUND / 0.0005)):
            if predicate():
                return
            pause.wait(0.0005)
        raise Stuck(what)

    def workers(self) -> list[threading.Thread]:
        return [t for t in threading.enumerate()
                if t.name.startswith(self.prefix + "_") and t.is_alive()]

    def queue(self) -> list[Task]:
        return [t for t in self.tasks
                if not t.started.is_set() and not t.consumed and not t.drained]

    def running(self) -> list[Task]:
        return [t for t in self.tasks if t.started.is_set() and not t.finished.is_set()]

    def settle(self) -> None:
        """Wait until the pool is quiescent: every started call blocked on a closed gate, and
        either max_workers calls started or nothing left in the queue."""
        if self.initializer == "fail":
            # A worker fails its initializer, fails every queued future (BrokenThreadPool)
            # and exits: quiescent once no worker is alive. Nothing ever starts.
            self.poll_until(lambda: not self.workers(), "workers with a failed initializer")
            return
        while True:
            running = self.running()
            releasing = [t for t in running if t.gate.is_set()]
            if releasing:
                self.wait_for(releasing[0].finished, f"task {releasing[0].tid} to finish")
                continue
            waiting = self.queue()
            if not waiting or len(running) >= self.max_workers:
                return
            head = waiting[0]
            if head.future.cancelled():
                self.poll_until(lambda f=head.future: f._state == "CANCELLED_AND_NOTIFIED",
                                f"worker to pass cancelled task {head.tid}")
                head.consumed = True
            else:
                self.wait_for(head.started, f"task {head.tid} to start")

    def helper(self, work: Callable[[], None]) -> Callable[[], None]:
        """Run `work` in a helper thread (while the main thread blocks in the call under
        test); returns a function that joins it, bounded, and re-raises its Stuck."""
        failure: list[BaseException] = []

        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                failure.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()

        def join() -> None:
            thread.join(BOUND * 2)
            if thread.is_alive():
                raise Stuck("helper thread")
            if failure:
                raise Stuck(f"helper: {failure[0]}")

        return join

    def release(self, task: Task) -> None:
        task.gate.set()
        self.settle()

    def ensure_done(self, task: Task) -> None:
        """Open gates, oldest running call first, until `task` is done (or can never be)."""
        for _ in range(len(self.tasks) + 2):
            if task.future.done():
                return
            if not task.started.is_set():
                task.gate.set()  # it will finish as soon as a worker reaches it
                blocked = [t for t in self.running() if not t.gate.is_set()]
                if not blocked:
                    self.settle()
                    if not task.started.is_set() and not task.future.done():
                        return  # no worker will ever come (shut down with it drained)
                    continue
                self.release(blocked[0])
            else:
                self.release(task)

    # ------------------------------------------------------------------ steps
    def execute(self) -> list[Any]:
        with RecordingHandler() as log:
            try:
                for step in self.steps:
                    before = len(self.calls)
                    try:
                        result = getattr(self, "step_" + step[0])(*step[1:])
                        self.settle()
                    except Stuck as exc:
                        self.trace.append((step, "stuck", str(exc)))
                        break
                    self.trace.append((step, result, self.calls[before:],
                                       log.take(*self.everything())))
                    self.trace.append(self.snapshot())
            finally:
                self.teardown()
        return self.trace

    def teardown(self) -> None:
        for t in self.tasks:
            t.gate.set()
        for f in self.foreign:
            if not f.done():
                f.cancel()
        # Not cancel_futures=True: the stdlib may deadlock there (see step_shutdown).
        self.pool.shutdown(wait=False)
        for thread in self.workers():
            thread.join(BOUND)

    def task(self, k: int) -> Task | None:
        return self.tasks[k % len(self.tasks)] if self.tasks else None

    def step_submit(self, spec: tuple[str, Any], preopen: bool) -> Any:
        tids = len(self.tasks)
        result = self.outcome(lambda: self.pool.submit(task_value(spec)))
        if preopen and len(self.tasks) > tids:
            self.tasks[-1].gate.set()
        return result

    def step_release(self, k: int) -> Any:
        task = self.task(k)
        if task is None:
            return "skip"
        self.release(task)
        return task.tid

    def step_cancel(self, k: int) -> Any:
        task = self.task(k)
        if task is None:
            return "skip"
        return self.outcome(task.future.cancel)

    def _get(self, k: int, mode: Any, method: str) -> Any:
        task = self.task(k)
        if task is None:
            return "skip"
        call = getattr(task.future, method)
        if mode == 0:
            return self.outcome(lambda: call(timeout=0))
        if mode == "short" or task.drained:
            # Quiescent: nothing can settle this future while the main thread waits.
            return self.outcome(lambda: call(timeout=SHORT))
        # "block": a call blocked in result()/exception(), woken by the call finishing.
        if task.started.is_set() and not task.future.done():
            helper = self.helper(lambda: self.release(task))
            result = self.outcome(lambda: call(timeout=BOUND))
            helper()
            return result
        self.ensure_done(task)
        if not task.future.done():
            return self.outcome(lambda: call(timeout=SHORT))
        return self.outcome(lambda: call(timeout=BOUND))

    def step_result(self, k: int, mode: Any) -> Any:
        return self._get(k, mode, "result")

    def step_exception(self, k: int, mode: Any) -> Any:
        return self._get(k, mode, "exception")

    def step_callback(self, k: int, action: str, other: int) -> Any:
        task = self.task(k)
        if task is None:
            return "skip"
        label = next(self.labels)
        mod = self.mod
        task.actions.append(action)

        def cb(f: Any) -> None:
            record: list[Any] = [label, self.ref(f), f.done(), f.running(), f.cancelled(),
                                 self.outcome(lambda: f.result(timeout=0)),
                                 self.outcome(lambda: f.exception(timeout=0))]
            self.calls.append(record)
            if action == "raise":
                raise ValueError(f"callback {label} fails")
            if action == "reenter":
                record.append(normalise(repr(f)))
                record.append(self.outcome(f.cancel))
                if not task.drained:
                    # NORMALISED: see refs() (what shutdown(cancel_futures=True) cancels).
                    done, not_done = mod.wait([f], timeout=0)
                    record.append((len(done), len(not_done)))
                f.add_done_callback(lambda g: self.calls.append((label, "nested", self.ref(g))))
            elif action == "submit":
                record.append(self.outcome(lambda: self.pool.submit(task_value(("value", label)))))
            elif action == "shutdown":
                # shutdown(wait=False) from a callback (a worker thread, or the thread that
                # cancels); never cancel_futures here: the model's queue is the program's.
                record.append(self.outcome(lambda: self.pool.shutdown(wait=False)))
            elif action == "cancel_other":
                target = self.task(other)
                assert target is not None
                record.append((target.tid, self.outcome(target.future.cancel)))

        return self.outcome(lambda: task.future.add_done_callback(cb))

    def refs(self, refs: list[tuple[str, int]]) -> list[Any]:
        futures = []
        for kind, i in refs:
            if kind == "task" and self.tasks:
                t = self.task(i)
                assert t is not None
                # NORMALISED (README "Differences": shutdown(cancel_futures=True) leaves what
                # it cancels CANCELLED_AND_NOTIFIED, the stdlib leaves it CANCELLED, so the
                # stdlib's wait()/as_completed() never count it done): leave those out.
                if not t.drained:
                    futures.append(t.future)
            elif kind == "foreign" and self.foreign and not MIXED_EXCLUDED:
                futures.append(self.foreign[i % len(self.foreign)])
        return futures

    def will_finish(self, futures: list[Any]) -> list[Task]:
        """The tasks to release so that every future in `futures` finishes, or None."""
        tasks = [self.tasks[self.by_id[id(f)]] for f in futures if id(f) in self.by_id]
        if any(f._state not in ("FINISHED", "CANCELLED_AND_NOTIFIED") for f in futures
               if id(f) not in self.by_id):
            return None  # type: ignore[return-value]  # a foreign future no one will settle
        if any(t.future._state == "CANCELLED" for t in tasks):
            return None  # type: ignore[return-value]  # waits count it done only once notified
        todo = [t for t in tasks if not t.future.done()]
        if any(not t.started.is_set() for t in todo):
            return None  # type: ignore[return-value]
        return todo

    def _blocking(self, futures: list[Any], call: Callable[[float], Any]) -> Any:
        """`call(BOUND)` while a helper releases, one by one, the calls `futures` wait for;
        `call(SHORT)` if some future in `futures` would never finish."""
        todo = self.will_finish(futures)
        if todo is None:
            return call(SHORT)

        def release_all() -> None:
            for t in todo:
                self.release(t)

        helper = self.helper(release_all)
        result = call(BOUND)
        helper()
        return result

    def step_wait(self, refs: list[Any], return_when: str, mode: Any, other_module: bool) -> Any:
        futures = self.refs(refs)
        wait = (self.other if other_module and not MIXED_EXCLUDED else self.mod).wait
        index = self.ref

        def call(timeout: float) -> Any:
            def go() -> Any:
                done, not_done = wait(futures, timeout=timeout, return_when=return_when)
                return sorted(map(index, done)), sorted(map(index, not_done))
            return self.outcome(go)

        if mode == "block" and return_when == "ALL_COMPLETED":
            return self._blocking(futures, call)
        if mode == "block" and _satisfied(futures, return_when):
            return call(BOUND)  # returns at once: the condition already holds
        return call(0 if mode == 0 else SHORT)

    def step_as_completed(self, refs: list[Any], mode: Any, other_module: bool) -> Any:
        futures = self.refs(refs)
        mod = self.other if other_module and not MIXED_EXCLUDED else self.mod
        as_completed = mod.as_completed

        def call(timeout: float) -> Any:
            yielded: list[Any] = []

            def go() -> None:
                for f in as_completed(futures, timeout=timeout):
                    yielded.append(self.ref(f))

            result = self.outcome(go)
            # Futures finished before or while the call starts come out in no documented
            # order: compare what was yielded as a multiset.
            return result, sorted(yielded)

        if mode == "block":
            return self._blocking(futures, call)
        return call(0 if mode == 0 else SHORT)

    def step_foreign(self, how: str) -> Any:
        f = self.other.Future()
        self.foreign.append(f)
        if how == "result":
            f.set_result(len(self.foreign))
        elif how == "exception":
            f.set_exception(KeyError("foreign"))
        elif how == "exception_none":
            f.set_exception(None)
        elif how == "cancel":
            f.cancel()
        return how

    def step_settle_foreign(self, j: int, how: str) -> Any:
        if not self.foreign:
            return "skip"
        f = self.foreign[j % len(self.foreign)]
        if how == "result":
            return self.outcome(lambda: f.set_result(j), self.other)
        if how == "exception":
            return self.outcome(lambda: f.set_exception(KeyError("foreign")), self.other)
        if how == "exception_none":
            return self.outcome(lambda: f.set_exception(None), self.other)
        if how == "running":
            return self.outcome(f.set_running_or_notify_cancel, self.other)
        return self.outcome(f.cancel, self.other)

    def step_map(self, xs: list[int], timeout: Any, chunksize: int, buffersize: Any) -> Any:
        if self.initializer == "fail" and len(xs) > 1:
            # map() submits its calls one after another while the first call's worker fails
            # its initializer: which submit is refused depends on timing.
            return "skip"
        state = MapState(iterator=None, timeout=timeout)
        holder: list[Any] = []
        self.current_map = state
        try:
            if buffersize is not None and self.mod is std_futures and not STDLIB_HAS_BUFFERSIZE:
                result = self.outcome(lambda: holder.append(reference_buffered_map(
                    self.pool, map_fn, xs, timeout, buffersize)))
            else:
                kwargs: dict[str, Any] = {"timeout": timeout, "chunksize": chunksize}
                if buffersize is not None:
                    kwargs["buffersize"] = buffersize
                result = self.outcome(lambda: holder.append(self.pool.map(map_fn, xs, **kwargs)))
        finally:
            self.current_map = None
        if holder:
            state.iterator = holder[0]
            self.maps.append(state)
        return result, list(state.tids)

    def step_map_next(self, j: int, hurry: bool) -> Any:
        if not self.maps:
            return "skip"
        state = self.maps[j % len(self.maps)]
        if not state.over and state.yielded < len(state.tids):
            head = self.tasks[state.tids[state.yielded]]
            if not (hurry and state.timeout == 0):
                # Make the call next() waits for finish first (a blocked next() with no
                # deadline would never return). With timeout=0 and `hurry`, the deadline
                # has passed and the head's gate stays closed: a determined TimeoutError.
                self.ensure_done(head)
                if not head.future.done() and state.timeout != 0:
                    return "skip"  # no worker will ever run it: next() would block forever
        self.current_map = state
        try:
            result = self.outcome(lambda: next(state.iterator))
        finally:
            self.current_map = None
        if result[0] == "returned":
            state.yielded += 1
        else:
            state.over = True
        return result

    def step_map_close(self, j: int) -> Any:
        if not self.maps:
            return "skip"
        state = self.maps[j % len(self.maps)]
        state.over = True
        return self.outcome(state.iterator.close)

    def step_shutdown(self, wait: bool, cancel_futures: bool) -> Any:
        risky = {"submit", "cancel_other", "shutdown"}
        if cancel_futures and any(risky & set(t.actions) for t in self.queue()):
            # NORMALISED (README "Differences": a done-callback that submits to the pool, run
            # by shutdown(cancel_futures=True), is refused in futures_impl since issue 10
            # item 5; the stdlib deadlocks, 3.9-3.13): not run on either side, since the
            # stdlib would never return. Reproducer (hangs on the stdlib):
            #   ex = ThreadPoolExecutor(1); ex.submit(gate.wait); f = ex.submit(int)
            #   f.add_done_callback(lambda f: ex.submit(int))
            #   ex.shutdown(wait=False, cancel_futures=True)
            # tests/test_thread_pool_robustness.py checks futures_impl's side.
            return "excluded"
        if cancel_futures:
            for t in self.queue():
                t.drained = True
        if not wait or not any(not t.finished.is_set() for t in self.running()):
            return self.outcome(
                lambda: self.pool.shutdown(wait=wait, cancel_futures=cancel_futures))
        caller = threading.current_thread()

        def release_all() -> None:
            # Open the gates only once shutdown() is joining the workers: what it cancels
            # (and what callbacks it runs) is then fixed before anything finishes.
            self.poll_until(lambda: _stack_has(caller, ("join", "_wait_for_tstate_lock")),
                            "shutdown to join its workers")
            while True:
                blocked = [t for t in self.running() if not t.gate.is_set()]
                if not blocked:
                    self.settle()
                    blocked = [t for t in self.running() if not t.gate.is_set()]
                    if not blocked:
                        return
                self.release(blocked[0])

        helper = self.helper(release_all)
        result = self.outcome(lambda: self.pool.shutdown(wait=True, cancel_futures=cancel_futures))
        helper()
        return result
