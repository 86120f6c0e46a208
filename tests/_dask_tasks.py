"""Calls the Dask tests run on workers (tests/test_distributed.py).

A module of its own, importable by the workers: LocalCluster's worker processes inherit
the test's sys.path; the deployment test's `dask worker` commands get PYTHONPATH.
Synchronisation goes through Dask's `Event`s (held by the scheduler), never sleeps.
"""

from __future__ import annotations

import os
import uuid


def hold(release: str, started: str | None = None, timeout: float = 60.0) -> str:
    """Set the event `started` (if any), then wait for the event `release`."""
    from distributed import Event

    if started is not None:
        Event(started).set()
    if not Event(release).wait(timeout):
        raise TimeoutError(f"event {release!r} not set within {timeout} s")
    return release


def mark(name: str, value: object) -> object:
    """Set the event `name` (proof that the call ran) and return `value`."""
    from distributed import Event

    Event(name).set()
    return value


def fail(message: str) -> None:
    raise ValueError(message)


def fresh() -> str:
    """A new value each call: shows that a repeated call runs again (pure=False)."""
    return uuid.uuid4().hex


def where() -> int:
    return os.getpid()


def die_once(flag: str) -> int:
    """Kill this worker the first time (the event `flag` remembers); return the pid after."""
    from distributed import Event

    event = Event(flag)
    if not event.is_set():
        event.set()
        os._exit(1)
    return os.getpid()


def die() -> None:
    os._exit(1)


def _refuse() -> None:
    raise RuntimeError("this result cannot be unpickled here")


class Unloadable:
    """Pickles fine on the worker; unpickling it (in the client) raises."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _refuse, ()


def unloadable() -> Unloadable:
    return Unloadable()
