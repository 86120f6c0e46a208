"""ThreadPoolExecutor(wait_at_exit=False): interpreter exit does not wait for the pool.

The stdlib's exit hook joins every thread-pool worker, so a program that shut its pool
down with wait=False while `map` work was still running (or queued) cannot exit until
all of it has run: gh-80961 and gh-86575, "interpreter exit hangs on a shut-down thread
pool", with no way to opt out. Here `wait_at_exit=False` makes the pool's workers daemon
threads that the exit hook does not join; the calls it had queued are cancelled at exit
(they would never run). The default still waits, as the stdlib does.

Each scenario runs in a child process. The calls block until released (an Event set when
the child's stdin closes, or never): the child exits with its calls still blocked only
if exit did not wait for them. Nothing is timed; the hang guards only keep a hang from
blocking the run.
"""

from __future__ import annotations

import textwrap

import pytest
from _child import Child

PROGRAM = textwrap.dedent(
    """
    import os, sys, threading
    module, mode = sys.argv[1], sys.argv[2]
    if module == "stdlib":
        from concurrent.futures import ThreadPoolExecutor
    else:
        from futures_impl.thread import ThreadPoolExecutor

    go = threading.Event()  # set when stdin closes ("released"), or never ("blocked")
    started = threading.Semaphore(0)

    def release_on_eof():
        sys.stdin.read()
        go.set()

    if mode == "released":
        threading.Thread(target=release_on_eof, daemon=True).start()

    def say(text):  # one write per line: lines from two threads never interleave
        os.write(1, (text + "\\n").encode())

    def work(i):
        say(f"start {i}")
        started.release()
        go.wait()
        say(f"finish {i}")
        return i

    kwargs = {"wait_at_exit": False} if mode.startswith("blocked") else {}
    ex = ThreadPoolExecutor(2, **kwargs)
    results = ex.map(work, range(20))
    extra = ex.submit(work, 99)
    extra.add_done_callback(
        lambda f: say("extra cancelled" if f.cancelled() else "extra done"))
    for _ in range(2):
        assert started.acquire(timeout=60), "the first calls did not start"
    if mode != "blocked-open":  # "blocked-open": the pool is not even shut down
        ex.shutdown(wait=False)
    say("main done")
    """
)


def _count(out: str, word: str) -> int:
    return sum(1 for line in out.splitlines() if line.startswith(word + " "))


@pytest.mark.parametrize("mode", ["blocked", "blocked-open"])
def test_exit_does_not_wait_for_a_pool_made_with_wait_at_exit_false(mode: str) -> None:
    """The child exits although its two running calls never end, and the calls still
    queued are cancelled, not run (gh-80961, gh-86575: the stdlib waits for all 21);
    whether the pool was shut down (wait=False) or not."""
    child = Child("-c", PROGRAM, "futures_impl", mode)
    code = child.finish()
    assert code == 0, child.stderr
    out = child.stdout
    assert "main done" in out
    assert _count(out, "start") == 2, out  # only the two running calls ever started
    assert _count(out, "finish") == 0, out  # they were still blocked when it exited
    assert "extra cancelled" in out, out  # a queued call: cancelled at exit
    assert "Traceback" not in child.stderr, child.stderr


@pytest.mark.parametrize("module", ["futures_impl", "stdlib"])
def test_exit_waits_for_a_shut_down_pool_by_default(module: str) -> None:
    """Default (and the stdlib): exit waits until every queued map call has run. The
    calls are released only once the main thread has returned ("main done"), so all 21
    finishing proves the interpreter waited for them."""
    child = Child("-c", PROGRAM, module, "released")
    child.expect("main done")
    code = child.finish()  # closes stdin: the calls go on
    assert code == 0, child.stderr
    out = child.stdout
    assert _count(out, "finish") == 21, out
    assert "extra done" in out, out
    lines = out.splitlines()
    assert lines.index("main done") < min(
        i for i, line in enumerate(lines) if line.startswith("finish")
    )
