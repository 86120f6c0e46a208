"""cancel_on_error=True: an exception leaving a `with` block cancels the queued calls.

gh-130975: in the stdlib, an exception raised in a `with ProcessPoolExecutor()` (or
ThreadPoolExecutor) body still runs every queued call before it propagates, because
__exit__ is shutdown(wait=True): with thousands of calls queued, the error surfaces only
after all of them ran. With `cancel_on_error=True` (both pools; off by default) __exit__
cancels the queued calls first (shutdown(wait=True, cancel_futures=True)); the calls
already running finish. Any exception counts, KeyboardInterrupt included.

Each scenario runs in a child process. The running calls wait on a gate: with the
option, the gate opens when the last future is cancelled (its done-callback), so only
calls that were running before the exception can ever run; the default opens it before
raising, and every call runs (as in the stdlib). The tests count outcomes, never time.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from _child import Child

N = 2000

PROGRAM = textwrap.dedent(
    """
    import json, os, sys, threading
    import multiprocessing as mp

    module, kind, mode = sys.argv[1:4]
    if module == "stdlib":
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
    else:
        from futures_impl.process import ProcessPoolExecutor
        from futures_impl.thread import ThreadPoolExecutor
    N = int(sys.argv[4])

    def init(event):
        global gate
        gate = event

    def work(i):
        assert gate.wait(60), "the gate never opened"  # a hang guard
        return i

    if __name__ == "__main__":
        if kind == "process":
            ctx = mp.get_context("fork")
            gate = ctx.Event()
            make = lambda **kw: ProcessPoolExecutor(  # noqa: E731
                2, mp_context=ctx, initializer=init, initargs=(gate,), **kw)
        else:
            gate = threading.Event()
            make = lambda **kw: ThreadPoolExecutor(2, **kw)  # noqa: E731
        options = {} if mode == "default" else {"cancel_on_error": True}
        error = KeyboardInterrupt if mode == "option-interrupt" else ValueError
        fs = []
        try:
            with make(**options) as ex:
                fs = [ex.submit(work, i) for i in range(N)]
                if mode == "default":
                    gate.set()
                else:  # opens once __exit__ has cancelled the queued calls
                    fs[-1].add_done_callback(lambda f: gate.set())
                raise error("leaving the block")
        except error:
            pass
        print(json.dumps({
            "ran": sum(1 for f in fs if f.done() and not f.cancelled()
                       and f.exception() is None),
            "cancelled": sum(1 for f in fs if f.cancelled()),
            "unsettled": sum(1 for f in fs if not f.done()),
        }), flush=True)
    """
)


@pytest.fixture
def program(tmp_path: Path) -> str:
    path = tmp_path / "cancel_on_error_program.py"
    path.write_text(PROGRAM)
    return str(path)


def _run(program: str, module: str, kind: str, mode: str) -> dict[str, int]:
    child = Child(program, module, kind, mode, str(N), new_session=True)
    try:
        code = child.finish()
    finally:
        child.kill()
    assert code == 0, child.stderr
    counts: dict[str, int] = json.loads(child.expect("{"))
    return counts


@pytest.mark.parametrize("mode", ["option", "option-interrupt"])
@pytest.mark.parametrize("kind", ["thread", "process"])
def test_an_error_in_the_with_body_cancels_the_queued_calls(
    program: str, kind: str, mode: str
) -> None:
    """Only the calls running when the body raised ran (a thread pool's two workers had
    one each; a process pool's also committed a few more to its workers' pipes); every
    other call of the 2,000 is cancelled, none is left unsettled."""
    counts = _run(program, "futures_impl", kind, mode)
    assert counts["unsettled"] == 0, counts
    assert counts["ran"] + counts["cancelled"] == N, counts
    if kind == "thread":
        assert counts["ran"] == 2, counts
    else:
        assert 1 <= counts["ran"] <= 20, counts  # 2 running + the stdlib's window of 3


@pytest.mark.parametrize("module", ["futures_impl", "stdlib"])
@pytest.mark.parametrize("kind", ["thread", "process"])
def test_by_default_an_error_in_the_with_body_runs_every_queued_call(
    program: str, kind: str, module: str
) -> None:
    """gh-130975 as the stdlib has it (and futures_impl's default): all 2,000 run."""
    counts = _run(program, module, kind, "default")
    assert counts == {"ran": N, "cancelled": 0, "unsettled": 0}
