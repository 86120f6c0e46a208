"""futures_impl.aio against antflow 0.10 itself: the same scripted programs, outcomes compared.

A program written for antflow's ``AsyncExecutor``/``AsyncFuture``/``WaitStrategy`` should run
unchanged after changing only its import (issue 15, part 3).  Each scenario below is written
from antflow's documentation (its guide, seed 003, and its docstrings) and runs once on each
implementation, in a fresh event loop; its outcome (results, exception types, timeouts,
order where defined) must be equal.  ``test_differences_kept`` pins the few places where
futures_impl keeps its own behaviour on purpose (docs/aio.md, "Differences from antflow"):
both sides' outcomes are asserted, so a change on either side is noticed.

antflow comes from the test extra (pyproject.toml); without it the tests are skipped, with
the reason.  It is imported inside the tests only, so the other tests' processes never see it.

Orderings come from asyncio Events; the only real durations are the timeouts of calls that
never finish, and one scenario (map's per-result timeout) whose margins are 5x.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from collections.abc import Awaitable
from types import SimpleNamespace
from typing import Any, Callable

import pytest

import futures_impl.aio

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        importlib.util.find_spec("antflow") is None,
        reason="antflow is not installed (pip install -e .[test] installs it): "
        "the differential test against antflow 0.10 needs it",
    ),
]

BOUND = 30.0  # seconds: a hang detector for one scenario, never an expected duration
Scenario = Callable[[Any], Awaitable[Any]]


@pytest.fixture(scope="module")
def antflow() -> Any:
    module = importlib.import_module("antflow")
    version = getattr(module, "__version__", "")
    if not version.startswith("0.10."):
        pytest.skip(f"antflow {version} installed; these scenarios are for 0.10")
    return module


def api_of(module: Any) -> Any:
    return SimpleNamespace(
        AsyncExecutor=module.AsyncExecutor,
        AsyncFuture=module.AsyncFuture,
        WaitStrategy=module.WaitStrategy,
        ExecutorShutdownError=module.ExecutorShutdownError,
    )


def outcome_of(scenario: Scenario, api: Any) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(scenario(api), BOUND)

    try:
        return ("returned", asyncio.run(bounded()))
    except BaseException as exc:  # noqa: BLE001 - the outcome is what is compared
        return ("raised", kind(exc))


def kind(exc: BaseException) -> str:
    """An exception's type as a program catching it sees it (the TimeoutError classes
    differ before 3.11: antflow raises asyncio's, ours derives from it)."""
    if isinstance(exc, asyncio.TimeoutError):
        return "asyncio.TimeoutError"
    return type(exc).__name__


async def caught(awaitable: Awaitable[Any]) -> Any:
    """``("ok", value)`` or ``("raised", kind)``; messages are not compared (not API)."""
    try:
        return ("ok", await awaitable)
    except BaseException as exc:  # noqa: BLE001
        return ("raised", kind(exc))


async def split(awaitable: Awaitable[Any]) -> Any:
    """A wait()'s outcome as sizes: ``("ok", (len(done), len(not_done)))`` or the raise."""
    outcome = await caught(awaitable)
    if outcome[0] == "ok":
        done, not_done = outcome[1]
        return ("ok", (len(done), len(not_done)))
    return outcome


class Gauge:
    def __init__(self) -> None:
        self.now = 0
        self.max = 0

    def enter(self) -> None:
        self.now += 1
        self.max = max(self.max, self.now)

    def leave(self) -> None:
        self.now -= 1


# -- scenarios: the documented behaviour both must share --------------------------------------


async def submit_and_result(api: Any) -> Any:
    async def process_data(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    async with api.AsyncExecutor(max_workers=3) as executor:
        future = executor.submit(process_data, 42)
        value = await future.result()
        return value, future.done(), future.exception()


async def kwargs_pass_through(api: Any) -> Any:
    async def call(a: int, *, b: int) -> int:
        return a - b

    async with api.AsyncExecutor(1) as executor:
        return await executor.submit(call, 10, b=3).result()


async def map_keeps_input_order(api: Any) -> Any:
    n = 6
    finished = [asyncio.Event() for _ in range(n + 1)]
    finished[n].set()
    completion: list[int] = []

    async def square(i: int) -> int:
        await finished[i + 1].wait()  # i finishes only after i + 1
        completion.append(i)
        finished[i].set()
        return i * i

    async with api.AsyncExecutor(max_workers=n) as executor:
        results = await executor.map(square, range(n))
    return results, completion


async def map_several_iterables(api: Any) -> Any:
    async def add(x: int, y: int) -> int:
        return x + y

    async with api.AsyncExecutor(max_workers=3) as executor:
        return (
            await executor.map(add, [1, 2, 3], [4, 5, 6]),
            await executor.map(add, [1, 2, 3], [10, 20]),
            await executor.map(add, [], []),
        )


async def map_iter_streams_in_order_with_early_exit(api: Any) -> Any:
    async def square(x: int) -> int:
        await asyncio.sleep(0)
        return x * x

    got = []
    async with api.AsyncExecutor(max_workers=5) as executor:
        async for result in executor.map_iter(square, range(10)):
            got.append(result)
        early = []
        async for result in executor.map_iter(square, range(100)):
            early.append(result)
            if result > 50:
                break
    return got, early


async def as_completed_in_completion_order(api: Any) -> Any:
    gates = [asyncio.Event() for _ in range(4)]

    async def fetch(i: int) -> str:
        await gates[i].wait()
        return f"Content from page{i}"

    order = []
    async with api.AsyncExecutor(max_workers=4) as executor:
        futures = [executor.submit(fetch, i) for i in range(4)]
        plan = iter([2, 0, 3, 1])
        gates[next(plan)].set()
        async for future in executor.as_completed(futures):
            order.append(await future.result())
            following = next(plan, None)
            if following is not None:
                gates[following].set()
    return order


async def as_completed_search_then_break(api: Any) -> Any:
    async def search(source: int) -> tuple[int, bool]:
        await asyncio.sleep(0)
        return source, source == 3

    found = None
    async with api.AsyncExecutor(max_workers=5) as executor:
        futures = [executor.submit(search, s) for s in range(6)]
        async for future in executor.as_completed(futures):
            source, hit = await future.result()
            if hit:
                found = source
                break
    return found


async def semaphore_limits_a_group(api: Any) -> Any:
    gauge = Gauge()
    api_limit = asyncio.Semaphore(2)

    async def process_api(i: int) -> int:
        gauge.enter()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        gauge.leave()
        return i

    async with api.AsyncExecutor(max_workers=10) as executor:
        futures = [executor.submit(process_api, i, semaphore=api_limit) for i in range(12)]
        results = await asyncio.gather(*[f.result() for f in futures])
    return results, gauge.max


def bounded_by(workers: int | None) -> Scenario:
    """``workers`` calls at once at most (None: the default), and exactly that many reached."""

    async def scenario(api: Any) -> Any:
        gauge = Gauge()
        expected = 5 if workers is None else workers
        full = asyncio.Event()

        async def task(i: int) -> int:
            gauge.enter()
            if gauge.now == expected:
                full.set()
            await full.wait()
            await asyncio.sleep(0)
            gauge.leave()
            return i

        executor = api.AsyncExecutor() if workers is None else api.AsyncExecutor(workers)
        async with executor:
            results = await executor.map(task, range(3 * expected))
        return results, gauge.max

    scenario.__name__ = f"bounded_by_{workers}"
    return scenario


def wait_for(strategy: str, outcome: str) -> Scenario:
    """``executor.wait`` with one call done (ok or failed) and one blocked."""

    async def scenario(api: Any) -> Any:
        blocked = asyncio.Event()

        async def ok() -> int:
            return 1

        async def bad() -> None:
            raise ValueError("failed")

        async with api.AsyncExecutor(max_workers=2) as executor:
            first = executor.submit(ok if outcome == "ok" else bad)
            pending = executor.submit(blocked.wait)
            await caught(first.result())
            waited = await caught(
                executor.wait(
                    [first, pending],
                    timeout=0.05,
                    return_when=getattr(api.WaitStrategy, strategy),
                )
            )
            blocked.set()  # before anything can leave the block (antflow's exit would hang)
            await pending.result()
            if waited[0] == "raised":
                return waited
            done, not_done = waited[1]
            return type(done).__name__, done == {first}, not_done == {pending}

    scenario.__name__ = f"wait_{strategy}_{outcome}"
    return scenario


async def wait_all_completed_times_out(api: Any) -> Any:
    async with api.AsyncExecutor(max_workers=2) as executor:
        never = asyncio.Event()
        futures = [executor.submit(asyncio.sleep, 0), executor.submit(never.wait)]
        outcome = await split(executor.wait(futures, timeout=0.05))
        default = await split(
            executor.wait(futures, timeout=0.05, return_when=api.WaitStrategy.ALL_COMPLETED)
        )
        never.set()
        return outcome, default


async def wait_all_completed_without_timeout(api: Any) -> Any:
    async def maybe(i: int) -> int:
        await asyncio.sleep(0)
        if i == 1:
            raise KeyError(i)
        return i

    async with api.AsyncExecutor(max_workers=3) as executor:
        futures = [executor.submit(maybe, i) for i in range(4)]
        done, pending = await executor.wait(futures)
        failed = [f for f in futures if f.exception() is not None]
        return len(done), len(pending), len(failed), type(failed[0].exception()).__name__


async def wait_first_exception_waits_for_one(api: Any) -> Any:
    gate = asyncio.Event()

    async def late_failure() -> None:
        await gate.wait()
        raise OSError("late")

    async def ok() -> str:
        return "ok"

    async with api.AsyncExecutor(max_workers=3) as executor:
        futures = [executor.submit(ok), executor.submit(late_failure)]
        waiter = asyncio.ensure_future(
            executor.wait(futures, return_when=api.WaitStrategy.FIRST_EXCEPTION)
        )
        await futures[0].result()
        gate.set()
        done, pending = await waiter
        return len(done), len(pending)


async def retries_then_success(api: Any) -> Any:
    attempts: list[int] = []

    async def flaky_task(arg: int) -> int:
        attempts.append(arg)
        if len(attempts) < 3:
            raise ConnectionError(f"attempt {len(attempts)}")
        return arg * 10

    async with api.AsyncExecutor(max_workers=3) as executor:
        future = executor.submit(flaky_task, 7, retries=3, retry_delay=0.001)
        return await future.result(), attempts


async def retries_exhausted(api: Any) -> Any:
    attempts: list[int] = []

    async def always(arg: int) -> None:
        attempts.append(arg)
        raise OSError(f"failure {len(attempts)}")

    async with api.AsyncExecutor(max_workers=1) as executor:
        outcome = await caught(executor.submit(always, 1, retries=2, retry_delay=0.001).result())
    return outcome, len(attempts)


async def map_retries_each_item(api: Any) -> Any:
    seen: dict[int, int] = {}

    async def flaky(x: int) -> int:
        seen[x] = seen.get(x, 0) + 1
        if seen[x] < 2:
            raise RuntimeError("first try fails")
        return x

    async with api.AsyncExecutor(max_workers=5) as executor:
        results = await executor.map(flaky, range(5), retries=3, retry_delay=0.001)
    return results, seen


async def cancellation_and_base_exceptions_are_not_retried(api: Any) -> Any:
    class Fatal(BaseException):
        pass

    runs: list[str] = []

    async def cancelled() -> None:
        runs.append("cancelled")
        raise asyncio.CancelledError()

    async def fatal() -> None:
        runs.append("fatal")
        raise Fatal()

    async with api.AsyncExecutor(max_workers=1) as executor:
        first = await caught(executor.submit(cancelled, retries=3, retry_delay=0).result())
        second = await caught(executor.submit(fatal, retries=3, retry_delay=0).result())
    return first, second, runs


async def errors_are_reraised(api: Any) -> Any:
    async def failing_task(x: int) -> int:
        if x < 0:
            raise ValueError("Negative value not allowed")
        return x * 2

    async with api.AsyncExecutor(max_workers=2) as executor:
        future = executor.submit(failing_task, -5)
        outcome = await caught(future.result())
        exc = future.exception()
        good = executor.submit(failing_task, 5)
        await good.result()
        return outcome, type(exc).__name__, str(exc), good.exception()  # the message is the call's


async def exception_while_pending_is_none(api: Any) -> Any:
    gate = asyncio.Event()
    async with api.AsyncExecutor(max_workers=1) as executor:
        future = executor.submit(gate.wait)
        before = (future.done(), future.exception())
        gate.set()
        await future.result()
        return before, future.done(), future.exception()


async def result_timeout_leaves_the_call_running(api: Any) -> Any:
    gate = asyncio.Event()

    async def slow_task() -> str:
        await gate.wait()
        return "finished"

    async with api.AsyncExecutor(max_workers=3) as executor:
        future = executor.submit(slow_task)
        outcome = await caught(future.result(timeout=0.05))
        gate.set()
        return outcome, await future.result()


async def map_timeout_raises(api: Any) -> Any:
    gate = asyncio.Event()

    async def task(i: int) -> int:
        if i == 1:
            await gate.wait()
        return i

    async with api.AsyncExecutor(max_workers=5) as executor:
        outcome = await caught(executor.map(task, range(3), timeout=0.05))
        gate.set()
    return outcome


async def map_timeout_is_per_result(api: Any) -> Any:
    """Ten 0.1 s calls one after another (1 worker) take 1 s, more than the 0.5 s timeout;
    no single result takes more than 0.1 s to come."""

    async def step(i: int) -> int:
        await asyncio.sleep(0.1)
        return i

    async with api.AsyncExecutor(max_workers=1) as executor:
        return await executor.map(step, range(10), timeout=0.5)


async def as_completed_timeout(api: Any) -> Any:
    never = asyncio.Event()

    async def quick() -> str:
        return "quick"

    got = []
    async with api.AsyncExecutor(max_workers=2) as executor:
        futures = [executor.submit(quick), executor.submit(never.wait)]
        await futures[0].result()

        async def consume() -> None:
            async for future in executor.as_completed(futures, timeout=0.05):
                got.append(await future.result())

        outcome = await caught(consume())
        never.set()
    return got, outcome


async def shutdown_refuses_new_work(api: Any) -> Any:
    async def task(x: int) -> int:
        return x

    executor = api.AsyncExecutor(max_workers=3)
    first = await executor.submit(task, 1).result()
    await executor.shutdown(wait=True)
    after_submit = await caught(_submit_later(executor, task))
    after_map = await caught(executor.map(task, [1]))
    return first, after_submit, after_map


async def _submit_later(executor: Any, fn: Any) -> Any:
    return executor.submit(fn, 2)


async def shutdown_waits_for_queued_work(api: Any) -> Any:
    gate = asyncio.Event()
    finished: list[int] = []

    async def task(i: int) -> int:
        await gate.wait()
        finished.append(i)
        return i

    executor = api.AsyncExecutor(max_workers=2)
    futures = [executor.submit(task, i) for i in range(5)]
    await asyncio.sleep(0)
    gate.set()
    await executor.shutdown(wait=True)
    return sorted(finished), [f.done() for f in futures], [await f.result() for f in futures]


async def shutdown_arguments_by_position(api: Any) -> Any:
    executor = api.AsyncExecutor(max_workers=2)
    await executor.submit(asyncio.sleep, 0).result()
    await executor.shutdown(True, False)
    return "ok"


async def context_manager_waits_on_exit(api: Any) -> Any:
    gate = asyncio.Event()

    async def task(i: int) -> int:
        await gate.wait()
        return i

    async with api.AsyncExecutor(max_workers=2) as executor:
        futures = [executor.submit(task, i) for i in range(4)]
        asyncio.get_running_loop().call_soon(gate.set)
    return [f.done() for f in futures], [await f.result() for f in futures]


async def constructor_checks(api: Any) -> Any:
    outcomes = []
    for value in (0, -1):
        try:
            api.AsyncExecutor(max_workers=value)
            outcomes.append("accepted")
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(type(exc).__name__)
    return outcomes


async def wait_strategy_members(api: Any) -> Any:
    return [(m.name, m.value) for m in api.WaitStrategy]


async def batching_example(api: Any) -> Any:
    async def process_item(item: int) -> int:
        await asyncio.sleep(0)
        return item + 1

    async def process_batch(items: list[int]) -> list[int]:
        return [await process_item(item) for item in items]

    batches = [list(range(i, i + 3)) for i in range(0, 9, 3)]
    async with api.AsyncExecutor(max_workers=5) as executor:
        all_results = await executor.map(process_batch, batches)
    return [item for batch in all_results for item in batch]


SCENARIOS: list[Scenario] = [
    submit_and_result,
    kwargs_pass_through,
    map_keeps_input_order,
    map_several_iterables,
    map_iter_streams_in_order_with_early_exit,
    as_completed_in_completion_order,
    as_completed_search_then_break,
    semaphore_limits_a_group,
    bounded_by(3),
    bounded_by(None),
    *(wait_for(s, o) for s in ("FIRST_COMPLETED", "FIRST_EXCEPTION") for o in ("ok", "failed")),
    wait_for("ALL_COMPLETED", "ok"),
    wait_all_completed_times_out,
    wait_all_completed_without_timeout,
    wait_first_exception_waits_for_one,
    retries_then_success,
    retries_exhausted,
    map_retries_each_item,
    cancellation_and_base_exceptions_are_not_retried,
    errors_are_reraised,
    exception_while_pending_is_none,
    result_timeout_leaves_the_call_running,
    map_timeout_raises,
    map_timeout_is_per_result,
    as_completed_timeout,
    shutdown_refuses_new_work,
    shutdown_waits_for_queued_work,
    shutdown_arguments_by_position,
    context_manager_waits_on_exit,
    constructor_checks,
    wait_strategy_members,
    batching_example,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_same_outcome_as_antflow(antflow: Any, scenario: Scenario) -> None:
    theirs = outcome_of(scenario, api_of(antflow))
    ours = outcome_of(scenario, api_of(futures_impl.aio))
    assert ours == theirs
    assert theirs[0] == "returned", f"a scenario must finish and report ({theirs}): is it broken?"


def test_the_public_names_and_signatures_match(antflow: Any) -> None:
    import inspect

    for name in ("AsyncExecutor", "AsyncFuture", "WaitStrategy", "ExecutorShutdownError"):
        assert hasattr(futures_impl.aio, name), name
    for method in ("submit", "map", "map_iter", "as_completed", "wait", "shutdown"):
        theirs = inspect.signature(getattr(antflow.AsyncExecutor, method)).parameters
        ours = inspect.signature(getattr(futures_impl.aio.AsyncExecutor, method)).parameters
        for param in theirs.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if param.name in ("self", "fn"):
                continue  # fn is positional-only here (a difference kept, see docs/aio.md)
            assert param.name in ours, (method, param.name)
            mine = ours[param.name]
            if param.default is not param.empty:  # an enum member compares by its value
                expected = getattr(param.default, "value", param.default)
                assert getattr(mine.default, "value", mine.default) == expected, (method, param)
            if param.kind is param.POSITIONAL_OR_KEYWORD:
                assert mine.kind is param.POSITIONAL_OR_KEYWORD, (method, param.name)
    init = inspect.signature(futures_impl.aio.AsyncExecutor).parameters["max_workers"]
    theirs_init = inspect.signature(antflow.AsyncExecutor).parameters["max_workers"]
    assert init.default == theirs_init.default
    for method in ("done", "exception", "result", "set_result", "set_exception"):
        assert callable(getattr(futures_impl.aio.AsyncFuture, method)), method
    assert issubclass(futures_impl.aio.ExecutorShutdownError, Exception)


# -- the differences kept on purpose (docs/aio.md) ----------------------------------------------


async def done_then_timeout_zero(api: Any) -> Any:
    async with api.AsyncExecutor(max_workers=1) as executor:
        future = executor.submit(asyncio.sleep, 0, "x")
        await future.result()
        return await caught(future.result(timeout=0)), await split(
            executor.wait([future], timeout=0)
        )


async def duplicates_in_as_completed(api: Any) -> Any:
    async with api.AsyncExecutor(max_workers=2) as executor:
        futures = [executor.submit(asyncio.sleep, 0, i) for i in range(2)]
        return sorted([await f.result() async for f in executor.as_completed(futures + futures)])


async def map_with_two_failures(api: Any) -> Any:
    """Call 1 fails at once; call 0 (and 2, 3) wait for a gate opened 1 s later (antflow
    waits for call 0, in input order; futures_impl raises call 1's failure at once)."""
    gate = asyncio.Event()
    ran: list[int] = []

    async def task(i: int) -> int:
        if i == 1:
            asyncio.get_running_loop().call_later(1.0, gate.set)
            raise KeyError("first to fail")
        await gate.wait()
        if i == 0:
            raise ValueError("first in input order")
        ran.append(i)
        return i

    async with api.AsyncExecutor(max_workers=4) as executor:
        outcome = await caught(executor.map(task, range(4)))
    return outcome, sorted(ran)


async def cancel_futures_on_shutdown(api: Any) -> Any:
    gate = asyncio.Event()
    started = asyncio.Event()

    async def held() -> bool:
        started.set()
        return await gate.wait()

    executor = api.AsyncExecutor(max_workers=1)
    running = executor.submit(held)
    queued = executor.submit(asyncio.sleep, 0, "queued")
    await started.wait()
    asyncio.get_running_loop().call_soon(gate.set)
    await executor.shutdown(wait=True, cancel_futures=True)
    return await caught(running.result()), await caught(queued.result())


async def body_raises_in_async_with(api: Any) -> Any:
    ran: list[int] = []

    async def task(i: int) -> int:
        await asyncio.sleep(0)
        ran.append(i)
        return i

    try:
        async with api.AsyncExecutor(max_workers=1) as executor:
            for i in range(3):
                executor.submit(task, i)
            raise LookupError("body")
    except LookupError:
        pass
    return ran


async def submit_a_plain_function(api: Any) -> Any:
    calls: list[int] = []

    def blocking(x: int) -> int:
        calls.append(x)
        return x

    async with api.AsyncExecutor(max_workers=1) as executor:
        try:
            future = executor.submit(blocking, 1)
        except TypeError:
            return "refused at submit", calls
        return await caught(future.result()), calls


async def map_timeout_and_the_other_calls(api: Any) -> Any:
    gate = asyncio.Event()
    ran: list[int] = []

    async def task(i: int) -> int:
        await gate.wait()
        ran.append(i)
        return i

    async with api.AsyncExecutor(max_workers=3) as executor:
        outcome = await caught(executor.map(task, range(3), timeout=0.05))
        gate.set()  # antflow's calls run on; ours were cancelled with the timeout
    return outcome, sorted(ran)


async def map_iter_reads_inputs(api: Any) -> Any:
    pulled: list[int] = []

    def inputs() -> Any:
        for i in range(100):
            pulled.append(i)
            yield i

    async def task(i: int) -> int:
        await asyncio.sleep(0)
        return i

    async with api.AsyncExecutor(max_workers=2) as executor:
        stream = executor.map_iter(task, inputs())
        first = await stream.__anext__()
        await stream.aclose()
    return first, "all read" if len(pulled) == 100 else "a few read"


async def bogus_return_when(api: Any) -> Any:
    async with api.AsyncExecutor(max_workers=1) as executor:
        future = executor.submit(asyncio.sleep, 0)
        return await split(executor.wait([future], return_when="BOGUS"))


async def fn_by_keyword(api: Any) -> Any:
    async def double(x: int) -> int:
        return 2 * x

    async with api.AsyncExecutor(max_workers=1) as executor:
        try:
            future = executor.submit(fn=double, x=1)
        except TypeError:
            return "refused"
        return await future.result()


async def fractional_max_workers(api: Any) -> Any:
    try:
        executor = api.AsyncExecutor(max_workers=2.5)
    except TypeError:
        return "refused at construction"
    async with executor:
        return await caught(executor.submit(asyncio.sleep, 0, "x").result())


DIFFERENCES: list[tuple[Scenario, Any, Any, str]] = [
    (
        map_timeout_and_the_other_calls,
        ("returned", (("raised", "asyncio.TimeoutError"), [0, 1, 2])),
        ("returned", (("raised", "asyncio.TimeoutError"), [])),
        "ours: a map's timeout cancels its outstanding calls",
    ),
    (
        map_iter_reads_inputs,
        ("returned", (0, "all read")),
        ("returned", (0, "a few read")),
        "ours: at most buffersize inputs ahead of the consumer",
    ),
    (
        bogus_return_when,
        ("returned", ("ok", (1, 0))),
        ("returned", ("raised", "ValueError")),
        "ours: an unknown return_when is refused",
    ),
    (
        fn_by_keyword,
        ("returned", 2),
        ("returned", "refused"),
        "ours: fn is positional-only, as concurrent.futures' submit",
    ),
    (
        fractional_max_workers,
        ("raised", "TypeError"),
        ("returned", "refused at construction"),
        "ours: max_workers=2.5 is refused by the constructor, not at the first submit",
    ),
    (
        done_then_timeout_zero,
        ("returned", (("raised", "asyncio.TimeoutError"), ("raised", "asyncio.TimeoutError"))),
        ("returned", (("ok", "x"), ("ok", (1, 0)))),
        "antflow raises TimeoutError for a timeout=0 wait on futures already done",
    ),
    (
        duplicates_in_as_completed,
        ("returned", [0, 0, 1, 1]),
        ("returned", [0, 1]),
        "each future once, as concurrent.futures.as_completed",
    ),
    (
        map_with_two_failures,
        ("returned", (("raised", "ValueError"), [2, 3])),
        ("returned", (("raised", "KeyError"), [])),
        "ours: the first failure to happen, the rest cancelled",
    ),
    (
        cancel_futures_on_shutdown,
        ("returned", (("ok", True), ("raised", "ExecutorShutdownError"))),
        ("returned", (("ok", True), ("raised", "CancelledError"))),
        "ours: cancelled (fut.cancelled()), as concurrent.futures",
    ),
    (
        body_raises_in_async_with,
        ("returned", [0, 1, 2]),
        ("returned", []),
        "ours: an exception leaving the block cancels the work, as asyncio.TaskGroup",
    ),
    (
        submit_a_plain_function,
        ("returned", (("raised", "TypeError"), [1])),
        ("returned", ("refused at submit", [])),
        "ours: refused before it is called (it would block the loop)",
    ),
]


@pytest.mark.parametrize(
    "scenario,theirs,ours,why", DIFFERENCES, ids=[d[0].__name__ for d in DIFFERENCES]
)
def test_differences_kept(
    antflow: Any, scenario: Scenario, theirs: Any, ours: Any, why: str
) -> None:
    assert outcome_of(scenario, api_of(antflow)) == theirs, why
    assert outcome_of(scenario, api_of(futures_impl.aio)) == ours, why
