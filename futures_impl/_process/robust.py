"""What the robust options add to a pool: timed calls, cancelling running calls, dead workers.

All three rest on one fact the pool already has: it knows, for each worker, the calls it
sent there, in order (`_Worker.queued`, each with its frame), how many of them the worker
has answered (booked results) and how many it has taken to run (`taken[slot]`, shared
memory written by the worker before it runs a call). So when a worker is gone, the pool
knows which call it was running (at most one: a worker runs one call at a time) and which
calls it had not started; those are sent again, to another worker, still RUNNING.

- Timed calls (task_timeout=, submit_with(timeout=)): the call is wrapped in
  `worker.Announced`, which sends an empty result frame when the worker starts it; the
  manager reads it (`book_locked`) and sets the worker's deadline. `expire()` kills a
  worker whose deadline has passed and fails its call with TaskTimeoutError.
- cancel_running=True: `cancel_running_call()` kills the worker running the call; the
  future ends cancelled at once. Such pools send calls only to idle workers, so a RUNNING
  call is the only one in its worker.
- survive_worker_death=True: the manager's reap() fails the call a dead worker was running
  with WorkerDiedError and sends its other calls elsewhere (`requeue_locked`).

A worker the pool killed is marked `killed` (and `stopping`, so it no longer counts as
active and a replacement can start at once); its exit is expected.

Locks: every `_locked` function runs under `pool.lock`; futures are settled and processes
killed after it is released (the package's lock order, docs/design.md).
"""

from __future__ import annotations

import time

from .. import _base
from .describe import describe_frame
from .errors import TaskTimeoutError
from .pool import settle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .pool import _Pool, _Worker


def running_call_locked(pool: _Pool, w: _Worker) -> bool:
    """Has `w` taken the oldest call it holds (its running one)? Read before its
    counter slot is freed."""
    if not w.queued:
        return False
    answered = w.sent - len(w.queued)
    return int(w.taken[w.slot]) > answered


def requeue_locked(pool: _Pool, w: _Worker) -> None:
    """Send the calls `w` holds and has not started back to the front of the backlog,
    in order; they stay RUNNING (fill_locked() knows). Calls no longer pending (settled,
    cancelled) are dropped."""
    calls = [(work_id, frame) for work_id, _, frame in w.queued if work_id in pool.pending]
    w.queued.clear()
    w.nbytes = 0
    pool.backlog.extendleft(reversed(calls))


def kill_locked(w: _Worker) -> None:
    """Mark `w` as killed by the pool: no more calls, no longer active, exit expected."""
    w.killed = True
    w.stopping = True
    w.deadline = None


def kill(w: _Worker) -> None:
    """SIGKILL the worker (after kill_locked(), with the pool lock released)."""
    try:
        w.process.kill()
    except (OSError, ValueError, AttributeError):
        pass  # already gone


# -- cancel_running ----------------------------------------------------------------------


def cancel_running_call(pool: _Pool, future: _base.Future[Any]) -> bool:
    """PoolFuture.cancel() of a RUNNING call: stop it; True if the future ends cancelled."""
    if not pool.idle_only:
        return False  # cancel_running is off: as the stdlib, a running call runs on
    work_id: int = future._work_id  # type: ignore[attr-defined]
    victim = None
    with pool.lock:
        if pool.pending.get(work_id) is not future:
            return False  # settled, or being settled
        for w in pool.workers:
            if not w.killed and any(booked[0] == work_id for booked in w.queued):
                victim = w
                break
        # Off `pending`, nobody else settles it; in the backlog (sent back by a dead
        # worker) it is dropped when reached.
        del pool.pending[work_id]
        pool.timeouts.pop(work_id, None)
        if victim is not None:
            kill_locked(victim)
    if victim is not None:
        kill(victim)
    cancelled = _base._cancel_running(future)
    pool.wakeup.wakeup()  # the manager reaps the worker and starts a replacement
    return cancelled


# -- timed calls ---------------------------------------------------------------------------


def book_locked(pool: _Pool, w: _Worker, messages: list[bytes],
                now: float) -> tuple[list[_base.Future[Any] | None], list[bytes]]:
    """Book a batch of results that may hold start announcements (empty frames): each
    result books `w`'s oldest call; an announcement starts the clock of the call now at
    the front (workers run their calls in order)."""
    futures = []
    results = []
    for message in messages:
        if message:
            w.deadline = None
            futures.append(pool.take_next_locked(w))
            results.append(message)
        elif w.queued and not w.killed:
            work_id = w.queued[0][0]
            timeout = pool.timeouts.get(work_id)
            if timeout is not None:
                w.deadline = now + timeout
                w.deadline_id = work_id
    return futures, results


def expire(pool: _Pool) -> float | None:
    """Kill the workers whose timed call is over its time, failing that call with
    TaskTimeoutError; return the next deadline (None: no timed call is running)."""
    now = time.monotonic()
    soonest = None
    expired = []
    with pool.lock:
        for w in pool.workers:
            deadline = w.deadline
            if deadline is None:
                continue
            if deadline > now:
                if soonest is None or deadline < soonest:
                    soonest = deadline
                continue
            work_id = w.deadline_id
            timeout = pool.timeouts.pop(work_id, 0.0)
            future = pool.pending.pop(work_id, None)
            frame = next((booked[2] for booked in w.queued if booked[0] == work_id), None)
            kill_locked(w)
            expired.append((w, future, timeout, frame))
    for w, future, timeout, frame in expired:
        kill(w)
        call = describe_frame(frame)  # read as data: no code of the call runs
        error = TaskTimeoutError(
            f"{call or 'the call'} ran longer than its timeout of {timeout:g} s: its worker"
            f" (pid {w.pid}) was killed and replaced",
            timeout, w.pid, call,
        )
        settle(future, None, error)
    return soonest
