"""The core used as the stdlib is used in the wild (issue 10, items 2, 3, 4 and 8).

Every test runs the same scenario on the stdlib's concurrent.futures and on futures_impl
(or on every pairing of the two) and expects the stdlib's outcome:

- item 2: a future whose result() raised is freed by reference counting alone (no cycle
  exception -> traceback -> frame -> future), on every path that raises;
- item 3: the stdlib's wait()/as_completed() on futures_impl futures, ours on the stdlib's,
  and a mix of both kinds in one call, with thread pools of both kinds;
- item 4: re-entry from the same thread (under `with f._condition:`, from a callback, from
  a subclass's __repr__) does what the stdlib does, and never deadlocks;
- item 8: DoneAndNotDoneFutures is the stdlib's namedtuple, and wait(FIRST_EXCEPTION)
  returns at once on a set_exception(None) during the wait.

Nothing here sleeps to order threads: blocked threads are detected from their stacks
(_support.blocked_in) or from the waiter lists; every join has a bound.
"""

from __future__ import annotations

import concurrent.futures as std_futures
import copy
import gc
import pickle
import sys
import threading
import weakref
from types import ModuleType
from typing import Any, Callable

import pytest
from _pypy import refcounting
from _support import MODULES, blocked_in, exc_kind, normalise, set_when, wait_until

import futures_impl

pytestmark = pytest.mark.usefixtures("no_thread_leaks")

BOUND = 30.0  # seconds: a bound on joins and blocking calls, never an expected duration
RETURN_WHENS = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"]


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def base_of(mod: ModuleType) -> ModuleType:
    return sys.modules[mod.__name__ + "._base"]


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run fn in a daemon thread; `out` receives ("returned", v) or ("raised", exc)."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(("returned", fn()))
        except BaseException as exc:  # noqa: BLE001 - the exception is the outcome
            out.append(("raised", exc))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def joined(t: threading.Thread) -> bool:
    t.join(BOUND)
    return not t.is_alive()


# ================================================================ item 2: no cycle on raise

class Boom(Exception):
    pass


def _raise(x: object) -> None:
    raise Boom(x)


def _raises(exc_type: type[BaseException], call: Callable[[], Any]) -> None:
    """Like pytest.raises, but keeps no reference to the exception (pytest's ExceptionInfo
    would keep its traceback, and so the frames holding the future, alive)."""
    try:
        call()
    except exc_type:
        return
    raise AssertionError(f"{exc_type.__name__} not raised")


def _failed_and_read(mod: ModuleType, path: str) -> weakref.ref[Any]:
    """A future that failed and whose result() raised on `path`; returns a weakref to it.

    The future is held only in `box`, emptied before returning: the caught exception's
    traceback keeps this frame (and the closures) alive, so they must not hold it.
    """
    box = [mod.Future()]
    main = threading.current_thread()

    class _Settle:
        """set_when's "event": settling the future releases the blocked call, also when
        the wait for it gives up (then the returned join() re-raises that failure)."""

        def set(self) -> None:
            box[0].set_exception(Boom("x"))

    def settle_when_blocked_in(method: str) -> Callable[[], None]:
        return set_when(blocked_in(main, method), _Settle())  # type: ignore[arg-type]

    if path == "result-finished":
        box[0].set_exception(Boom("x"))
        _raises(Boom, lambda: box[0].result())
    elif path == "result-finished-timeout":
        box[0].set_exception(Boom("x"))
        _raises(Boom, lambda: box[0].result(timeout=BOUND))
    elif path == "result-blocking":
        join = settle_when_blocked_in("result")
        _raises(Boom, lambda: box[0].result(timeout=BOUND))
        join()
    elif path == "result-cancelled":
        box[0].cancel()
        _raises(mod.CancelledError, lambda: box[0].result())
    elif path == "exception-blocking":
        join = settle_when_blocked_in("exception")
        assert isinstance(box[0].exception(timeout=BOUND), Boom)
        join()
    else:
        raise AssertionError(path)
    ref = weakref.ref(box[0])
    box.clear()
    return ref


@refcounting
@pytest.mark.parametrize(
    "path",
    ["result-finished", "result-finished-timeout", "result-blocking", "result-cancelled",
     "exception-blocking"],
)
def test_raising_result_leaves_no_reference_cycle(mod: ModuleType, path: str) -> None:
    gc.collect()
    gc.disable()
    try:
        ref = _failed_and_read(mod, path)
        assert ref() is None, "the future outlived its last reference (a reference cycle)"
    finally:
        gc.enable()


@refcounting
def test_pool_future_whose_result_raised_is_freed(mod: ModuleType) -> None:
    gc.collect()
    with mod.ThreadPoolExecutor(1) as ex:
        gc.disable()
        try:
            box = [ex.submit(_raise, 1)]
            _raises(Boom, lambda: box[0].result(timeout=BOUND))
            ref = weakref.ref(box[0])
            box.clear()
            assert ref() is None, "the future outlived its last reference (a reference cycle)"
        finally:
            gc.enable()


@refcounting
def test_map_futures_are_freed_after_a_raising_result(mod: ModuleType) -> None:
    refs: list[weakref.ref[Any]] = []

    class Recording(mod.ThreadPoolExecutor):  # type: ignore[name-defined,misc]
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            future = super().submit(*args, **kwargs)
            refs.append(weakref.ref(future))
            return future

    gc.collect()
    with Recording(1) as ex:
        gc.disable()
        try:
            results = [ex.map(_raise, [1, 2])]
            _raises(Boom, lambda: next(results[0]))
            results.clear()
            ex.submit(int).result(timeout=BOUND)  # the worker is past both calls
            assert [r() is None for r in refs[:2]] == [True, True]
        finally:
            gc.enable()


# ================================================================ item 3: mixed use

def _fail_when(gate: threading.Event) -> None:
    gate.wait(BOUND)
    raise Boom("a")


def _succeed_when(gate: threading.Event) -> str:
    gate.wait(BOUND)
    return "b"


KINDS = {"stdlib": (std_futures,), "ours": (futures_impl,), "mixed": (futures_impl, std_futures)}
WAITERS = [pytest.param(std_futures, id="stdlib-wait"), pytest.param(futures_impl, id="our-wait")]


def _registered(f: Any) -> bool:
    """True once some wait()/as_completed() waiter sits in f's list (both kinds have one)."""
    return bool(f._waiters)


@pytest.mark.parametrize("waiting", WAITERS)
@pytest.mark.parametrize("kinds", list(KINDS))
@pytest.mark.parametrize("return_when", RETURN_WHENS + ["as_completed"])
def test_wait_and_as_completed_across_implementations(
    waiting: ModuleType, kinds: str, return_when: str
) -> None:
    """Future `a` (fails) and `b` (returns) come from thread pools of the kind(s) named;
    `waiting`'s wait()/as_completed() blocks on them while a and then b settle. The
    outcome must be the stdlib-only one: right sets, callbacks run, a result() caller
    woken, and both pools still run work afterwards."""
    pools = [m.ThreadPoolExecutor(2) for m in KINDS[kinds]]
    gate_a, gate_b = threading.Event(), threading.Event()
    try:
        a = pools[0].submit(_fail_when, gate_a)
        b = pools[-1].submit(_succeed_when, gate_b)
        seen: list[str] = []
        a.add_done_callback(lambda f: seen.append("a-callback"))
        b.add_done_callback(lambda f: seen.append("b-callback"))
        reader, read = in_thread(lambda: b.result(timeout=BOUND))
        names = {a: "a", b: "b"}
        if return_when == "as_completed":
            order: list[str] = []

            def consume() -> list[str]:
                for f in waiting.as_completed([a, b], timeout=BOUND):
                    order.append(names[f])
                return order

            t, out = in_thread(consume)
            wait_until(lambda: _registered(a) and _registered(b))
            gate_a.set()
            wait_until(lambda: order or not t.is_alive())
            gate_b.set()
            assert joined(t)
            assert out == [("returned", ["a", "b"])]
        else:
            t, out = in_thread(lambda: waiting.wait([a, b], timeout=BOUND, return_when=return_when))
            wait_until(lambda: _registered(a) and _registered(b))
            gate_a.set()
            if return_when != "ALL_COMPLETED":
                assert joined(t)
            gate_b.set()
            assert joined(t)
            ((how, (done, not_done)),) = out
            assert how == "returned"
            expected = ({"a"}, {"b"}) if return_when != "ALL_COMPLETED" else ({"a", "b"}, set())
            got = ({names[f] for f in done}, {names[f] for f in not_done})
            assert got == expected
        assert joined(reader) and read == [("returned", "b")]
        assert isinstance(a.exception(timeout=BOUND), Boom)
        assert sorted(seen) == ["a-callback", "b-callback"]
        assert not a._waiters and not b._waiters, "a waiter was left registered"
        for pool in pools:  # no worker died
            assert pool.submit(int, "7").result(timeout=BOUND) == 7
    finally:
        gate_a.set()
        gate_b.set()
        for pool in pools:
            pool.shutdown(wait=True)


@pytest.mark.parametrize("waiting", WAITERS)
@pytest.mark.parametrize("kinds", list(KINDS))
def test_cancelled_queued_future_reported_across_implementations(
    waiting: ModuleType, kinds: str
) -> None:
    """A queued future cancelled while a wait(ALL_COMPLETED) blocks on it counts once the
    pool's worker acknowledges the cancel (add_cancelled)."""
    pools = [m.ThreadPoolExecutor(1) for m in KINDS[kinds]]
    gates = [threading.Event() for _ in pools]
    try:
        blockers = [p.submit(g.wait, BOUND) for p, g in zip(pools, gates)]
        queued = [p.submit(int, "1") for p in pools]
        t, out = in_thread(lambda: waiting.wait(queued, timeout=BOUND))
        wait_until(lambda: all(_registered(f) for f in queued))
        for f in queued:
            assert f.cancel()
        for g in gates:
            g.set()
        assert joined(t)
        ((how, (done, not_done)),) = out
        assert how == "returned" and done == set(queued) and not not_done
        assert all(f._state == "CANCELLED_AND_NOTIFIED" for f in queued)
        assert [b.result(timeout=BOUND) for b in blockers] == [True] * len(pools)
    finally:
        for g in gates:
            g.set()
        for pool in pools:
            pool.shutdown(wait=True)


@pytest.mark.parametrize("waiting", WAITERS)
@pytest.mark.parametrize("kinds", list(KINDS))
@pytest.mark.parametrize("return_when", RETURN_WHENS + ["as_completed"])
def test_timeouts_across_implementations(waiting: ModuleType, kinds: str, return_when: str) -> None:
    """Timing out leaves no waiter behind, and the futures settle normally afterwards."""
    futures = [m.Future() for m in KINDS[kinds] for _ in range(2)]
    if return_when == "as_completed":
        with pytest.raises(waiting.TimeoutError):
            next(iter(waiting.as_completed(futures, timeout=0.01)))
    else:
        done, not_done = waiting.wait(futures, timeout=0.01, return_when=return_when)
        assert not done and not_done == set(futures)
    assert not any(f._waiters for f in futures)
    seen: list[Any] = []
    for f in futures:
        f.add_done_callback(seen.append)
        f.set_result(1)
    assert seen == futures


def test_stdlib_wait_registers_its_own_waiter_on_our_future() -> None:
    """What the stdlib's wait() leaves in our future's `_waiters` (observed, not assumed):
    an object with add_result/add_exception/add_cancelled, which our settling must call."""
    f = futures_impl.Future()
    t, out = in_thread(lambda: std_futures.wait([f], timeout=BOUND))
    wait_until(lambda: _registered(f))
    (waiter,) = f._waiters
    assert {"add_result", "add_exception", "add_cancelled"} <= set(dir(waiter))
    assert type(waiter).__module__ == "concurrent.futures._base"
    f.set_result(3)
    assert joined(t) and out[0][1].done == {f}


@pytest.mark.parametrize("waiting", WAITERS)
def test_mixed_futures_already_settled(waiting: ModuleType) -> None:
    """No waiter at all: the first pass sees both kinds settled."""
    ours, theirs = futures_impl.Future(), std_futures.Future()
    ours.set_result(1)
    theirs.set_exception(Boom("t"))
    done, not_done = waiting.wait([ours, theirs], return_when="FIRST_EXCEPTION")
    assert done == {ours, theirs} and not not_done
    assert set(waiting.as_completed([ours, theirs])) == {ours, theirs}


# ================================================================ item 4: re-entry

OPS: dict[str, Callable[[Any], Any]] = {
    "result0": lambda f: f.result(0),
    "exception0": lambda f: f.exception(0),
    "result_timeout": lambda f: f.result(0.01),
    "done": lambda f: f.done(),
    "cancel": lambda f: f.cancel(),
    "add_done_callback": lambda f: f.add_done_callback(lambda g: None),
    "set_result": lambda f: f.set_result(1),
    "set_exception": lambda f: f.set_exception(Boom("e")),
    "set_running": lambda f: f.set_running_or_notify_cancel(),
    "repr": lambda f: repr(f),
    "wait0": lambda f: tuple(map(len, base_of_future(f).wait([f], timeout=0))),
    "as_completed0": lambda f: len(list(base_of_future(f).as_completed([f], timeout=0))),
    "nested_condition": lambda f: (f._condition.acquire(), f._condition.release()),
}
SETUPS: dict[str, Callable[[Any], Any]] = {
    "pending": lambda f: None,
    "running": lambda f: f.set_running_or_notify_cancel(),
    "finished": lambda f: f.set_result(5),
    "failed": lambda f: f.set_exception(Boom("f")),
    "cancelled": lambda f: f.cancel(),
}


def base_of_future(f: Any) -> ModuleType:
    return futures_impl if isinstance(f, futures_impl.Future) else std_futures


def _describe(mod: ModuleType, f: Any, got: list[Any]) -> Any:
    """A module-neutral description of `got` (one outcome) and f's state."""
    ((how, value),) = got
    if isinstance(value, BaseException):
        what = (exc_kind(value, mod), normalise(str(value), f))
    else:
        what = normalise(value, f) if isinstance(value, str) else value
    return how, what, f._state


def _reentry_outcome(mod: ModuleType, setup: str, op: str) -> Any:
    f = mod.Future()
    SETUPS[setup](f)

    def under_condition() -> Any:
        with f._condition:
            return OPS[op](f)

    t, got = in_thread(under_condition)
    t.join(BOUND)
    if t.is_alive():
        return "DEADLOCK"
    return _describe(mod, f, got)


@pytest.mark.parametrize("setup", list(SETUPS))
@pytest.mark.parametrize("op", list(OPS))
def test_reentry_under_condition_matches_stdlib(setup: str, op: str) -> None:
    ours = _reentry_outcome(futures_impl, setup, op)
    assert ours != "DEADLOCK"
    assert ours == _reentry_outcome(std_futures, setup, op)


def _from_callback(mod: ModuleType) -> list[Any]:
    f = mod.Future()
    seen: list[Any] = []

    def callback(g: Any) -> None:
        seen.append(g.result(0))
        seen.append(g.cancel())
        g.add_done_callback(lambda h: seen.append("nested callback"))
        with g._condition:
            seen.append(g.done())
        try:
            g.set_result(3)
        except mod.InvalidStateError:
            seen.append("InvalidStateError")

    f.add_done_callback(callback)
    f.set_result(1)
    return seen


def test_reentry_from_a_callback_matches_stdlib() -> None:
    t, got = in_thread(lambda: _from_callback(futures_impl))
    assert joined(t), "deadlock"
    assert got == [("returned", _from_callback(std_futures))]


def _repr_reentry(mod: ModuleType, swallow: bool, start: str) -> Any:
    class Reentrant(mod.Future):  # type: ignore[name-defined,misc]
        def __repr__(self) -> str:
            try:
                return "R:" + repr(self.exception(0))
            except BaseException as exc:
                if not swallow:
                    raise
                return "R-" + type(exc).__name__

    f = Reentrant()
    SETUPS[start](f)

    def again() -> None:
        f.set_result(1)

    t, got = in_thread(again)
    t.join(BOUND)
    if t.is_alive():
        return "DEADLOCK"
    return _describe(mod, f, got)


@pytest.mark.parametrize("swallow", [True, False])
@pytest.mark.parametrize("start", ["cancelled", "finished", "failed"])
def test_subclass_repr_reentering_from_invalid_state_error(swallow: bool, start: str) -> None:
    """set_result on a done future formats InvalidStateError with repr(self); a __repr__
    that calls self.exception(0) re-enters under the future's lock."""
    ours = _repr_reentry(futures_impl, swallow, start)
    assert ours != "DEADLOCK"
    assert ours == _repr_reentry(std_futures, swallow, start)


@pytest.mark.parametrize("levels", [1, 2])
@pytest.mark.parametrize("method", ["result", "exception"])
def test_blocking_under_held_condition_releases_it(
    mod: ModuleType, levels: int, method: str
) -> None:
    """`with f._condition: f.result()` sleeps with the lock fully released (as
    Condition.wait does), so another thread can settle the future meanwhile."""
    f = mod.Future()

    def hold_and_block() -> Any:
        for _ in range(levels):
            f._condition.acquire()
        try:
            return getattr(f, method)(timeout=BOUND)
        finally:
            for _ in range(levels):
                f._condition.release()

    t, got = in_thread(hold_and_block)
    wait_until(blocked_in(t, method))
    setter, _ = in_thread(lambda: f.set_result(9))
    assert joined(setter) and joined(t)
    assert got == [("returned", 9 if method == "result" else None)]


def test_condition_wait_with_nested_hold_is_woken_by_notify(mod: ModuleType) -> None:
    f = mod.Future()
    holding = threading.Event()

    def nested_wait() -> bool:
        with f._condition, f._condition:
            holding.set()
            return bool(f._condition.wait(BOUND))

    t, got = in_thread(nested_wait)
    assert holding.wait(BOUND)

    def notify() -> None:
        with f._condition:  # taken only once wait() has released both levels
            f._condition.notify_all()

    n, _ = in_thread(notify)
    assert joined(n) and joined(t)
    assert got == [("returned", True)]


@pytest.mark.parametrize("method", ["wait", "notify", "notify_all"])
def test_condition_methods_need_the_lock(mod: ModuleType, method: str) -> None:
    f = mod.Future()
    with pytest.raises(RuntimeError) as info:
        getattr(f._condition, method)()
    assert "un-acquired lock" in str(info.value)


# ================================================================ item 8: smaller differences

def _namedtuple_facts(mod: ModuleType) -> dict[str, Any]:
    cls = base_of(mod).DoneAndNotDoneFutures
    value = cls({1}, {2})
    facts: dict[str, Any] = {}

    def fact(name: str, fn: Callable[[], Any]) -> None:
        try:
            got = fn()
        except Exception as exc:  # noqa: BLE001 - the exception is the fact
            facts[name] = ("raised", type(exc).__name__, str(exc).replace(mod.__name__, "M"))
        else:
            facts[name] = ("returned", repr(got).replace(mod.__name__, "M"))

    fact("match_args", lambda: getattr(cls, "__match_args__", "absent"))
    fact("fields", lambda: cls._fields)
    fact("field_defaults", lambda: getattr(cls, "_field_defaults", "absent"))
    fact("make2", lambda: cls._make([{1}, {2}]))
    fact("make1", lambda: cls._make([{1}]))
    fact("make3", lambda: cls._make([1, 2, 3]))
    fact("replace", lambda: value._replace(done={3}))
    fact("replace_unknown", lambda: value._replace(spam=1))
    fact("replace_two_unknown", lambda: value._replace(spam=1, eggs=2))
    fact("asdict", lambda: value._asdict())
    fact("repr", lambda: value)
    fact("pickle", lambda: pickle.loads(pickle.dumps(value)))
    fact("pickled_type", lambda: type(pickle.loads(pickle.dumps(value))).__name__)
    fact("copy", lambda: copy.copy(value))
    fact("deepcopy", lambda: copy.deepcopy(value))
    fact("eq_tuple", lambda: value == ({1}, {2}))
    fact("keywords", lambda: cls(done=1, not_done=2))
    fact("too_few", lambda: cls(1))
    fact("doc", lambda: cls.__doc__)
    fact("field_doc", lambda: cls.done.__doc__)
    fact("qualname", lambda: (cls.__qualname__, cls.__module__))
    fact("bases", lambda: [c.__name__ for c in cls.__mro__])
    fact("attribute", lambda: (value.done, value.not_done))
    fact("set_attribute", lambda: setattr(value, "done", 1))
    fact("wait_type", lambda: type(mod.wait([], timeout=0)) is cls)
    return facts


def test_done_and_not_done_futures_is_the_stdlib_namedtuple() -> None:
    assert _namedtuple_facts(futures_impl) == _namedtuple_facts(std_futures)


@pytest.mark.skipif(sys.version_info < (3, 10), reason="match statement: 3.10+")
def test_done_and_not_done_futures_in_a_match_statement(mod: ModuleType) -> None:
    f = mod.Future()
    f.set_result(1)
    source = (
        "match wait([f]):\n"
        "    case DoneAndNotDoneFutures(done, not_done):\n"
        "        got = (done, not_done)\n"
        "    case _:\n"
        "        got = None\n"
    )
    scope = {"wait": mod.wait, "f": f, "DoneAndNotDoneFutures": base_of(mod).DoneAndNotDoneFutures}
    exec(source, scope)  # noqa: S102 - 3.9 cannot parse a match statement in this file
    assert scope["got"] == ({f}, set())


def _first_exception_none(mod: ModuleType, when: str) -> Any:
    a, b = mod.Future(), mod.Future()
    if when == "before":
        a.set_exception(None)
        done, not_done = mod.wait([a, b], timeout=0, return_when=mod.FIRST_EXCEPTION)
        return done == {a}, not_done == {b}
    t, out = in_thread(lambda: mod.wait([a, b], return_when=mod.FIRST_EXCEPTION))
    wait_until(blocked_in(t, "wait"))
    a.set_exception(None)
    t.join(BOUND / 3)  # a bound: a wait() that did not return at once sees b settle next
    returned_at_once = not t.is_alive()
    b.set_result(2)
    assert joined(t)
    ((how, (done, not_done)),) = out
    return returned_at_once, done == {a}, not_done == {b}


@pytest.mark.parametrize("when", ["before", "during"])
def test_first_exception_and_set_exception_none(when: str) -> None:
    """The stdlib's wait(FIRST_EXCEPTION) returns when set_exception(None) happens during
    the wait (the waiter is told "exception"), not when it happened before (the future's
    exception() is None)."""
    assert _first_exception_none(futures_impl, when) == _first_exception_none(std_futures, when)


# ================================================================ item 7: signals and locks

class Injected(BaseException):
    """Stands for a KeyboardInterrupt raised by a signal handler."""


def _after_call_offsets(code: Any) -> set[int]:
    """Offsets of the instructions that follow a call. A signal handler's exception is
    raised *at* the call, once it returns; raising it at the next instruction is the same,
    unless the two lie in different exception-table ranges (3.11+: the last call of a try
    body is followed by the unprotected copy of its finally), which are left out."""
    import dis

    entries = getattr(dis.Bytecode(code), "exception_entries", [])

    def handler(offset: int) -> Any:
        for entry in entries:
            if entry.start <= offset < entry.end:
                return entry.target
        return None

    instructions = list(dis.get_instructions(code))
    return {
        b.offset
        for a, b in zip(instructions, instructions[1:])
        if a.opname.startswith("CALL") and handler(a.offset) == handler(b.offset)
    }


def _base_codes() -> set[Any]:
    from futures_impl import _base, _compat

    codes = set()
    for namespace in (_base.Future, _base._Waiter, _compat._FutureCondition, _base, _compat):
        for value in vars(namespace).values():
            code = getattr(value, "__code__", None)
            if code is not None and value.__module__ in (_base.__name__, _compat.__name__):
                codes.add(code)
    return codes


def _inject(op: Callable[[], Any], k: int) -> str | None:
    """Run op() with an exception raised at the k-th point of futures_impl._base's Future
    and _Waiter methods where 3.10+ may run a signal handler: right after a call returns.
    Returns where it was raised (None: op has fewer than k+1 such points)."""
    targets = _base_codes()
    seen = [0]
    where: list[str] = []
    offsets: dict[Any, set[int]] = {}

    def local(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            if frame.f_lasti in offsets.setdefault(code, _after_call_offsets(code)):
                seen[0] += 1
                if seen[0] == k + 1:
                    where.append(f"{code.co_name}@{frame.f_lasti}")
                    raise Injected(where[0])
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code in targets else None

    sys.settrace(tracer)
    try:
        op()
    except Injected:
        pass
    finally:
        sys.settrace(None)
    return where[0] if where else None


def _lock_ops() -> dict[str, Callable[[], tuple[Callable[[], Any], list[Any]]]]:
    """name -> a factory of (operation, the locks it must not leave held)."""
    from futures_impl import _base

    def plain(call: Callable[[Any], Any], setup: Callable[[Any], Any] = lambda f: None) -> Any:
        def make() -> tuple[Callable[[], Any], list[Any]]:
            f = futures_impl.Future()
            setup(f)
            return (lambda: call(f)), [f._lock]
        return make

    def with_waiter(call: Callable[[Any], Any], return_when: str) -> Any:
        def make() -> tuple[Callable[[], Any], list[Any]]:
            f = futures_impl.Future()
            waiter = _base._Waiter(return_when)
            _base._register(waiter, [f], [])
            return (lambda: call(f)), [f._lock, waiter._lock]
        return make

    def timed_out(f: Any) -> None:
        try:
            f.result(0)
        except futures_impl.TimeoutError:
            pass

    def timed_out_holding(f: Any) -> None:
        with f._condition, f._condition:  # the sleep releases both levels, then re-takes
            timed_out(f)

    def condition_wait(f: Any) -> None:
        with f._condition, f._condition:
            f._condition.wait(0)

    return {
        "set_result": plain(lambda f: f.set_result(1)),
        "set_exception": plain(lambda f: f.set_exception(Boom())),
        "cancel": plain(lambda f: f.cancel()),
        "add_done_callback": plain(lambda f: f.add_done_callback(lambda g: None)),
        "add_done_callback-done": plain(lambda f: f.add_done_callback(lambda g: None),
                                        lambda f: f.set_result(1)),
        "set_running": plain(lambda f: f.set_running_or_notify_cancel()),
        "notify_cancel": plain(lambda f: f.set_running_or_notify_cancel(), lambda f: f.cancel()),
        "result-timeout": plain(timed_out),
        "result-timeout-holding": plain(timed_out_holding),
        "condition-wait": plain(condition_wait),
        "set_result-waiter": with_waiter(lambda f: f.set_result(1), "ALL_COMPLETED"),
        "set_exception-waiter": with_waiter(lambda f: f.set_exception(Boom()), "FIRST_EXCEPTION"),
    }


def _held(lock: Any) -> bool:
    """Held by this thread (an RLock knows; a raw lock, with no owner, is held by anyone)."""
    return bool(lock._is_owned()) if hasattr(lock, "_is_owned") else bool(lock.locked())


@pytest.mark.skipif(
    sys.version_info < (3, 10),
    reason="3.9 may run a signal handler before almost any instruction: no pure-Python "
    "lock use (not even `with`) is watertight there",
)
@pytest.mark.skipif(sys.gettrace() is not None, reason="needs sys.settrace (coverage/debugger)")
@pytest.mark.parametrize("name", list(_lock_ops()))
def test_interrupt_after_any_call_leaves_no_lock_held(name: str) -> None:
    """An asynchronous exception raised wherever 3.10+ checks for signals (after each call
    returns) inside the Future's and the waiter's methods never leaves a lock held."""
    make = _lock_ops()[name]
    _inject(make()[0], -1)  # warm-up: the first traced call of a code object may not report
    leaked = []
    k = 0
    while True:
        op, locks = make()
        where = _inject(op, k)
        if where is None:
            break
        if any(_held(lock) for lock in locks):
            leaked.append(where)
        k += 1
    assert k > 0, "no injection point was reached: the test exercises nothing"
    assert leaked == []
