"""Defaults shared by more than one executor; a leaf (imports nothing from the package).

Why: ThreadPoolExecutor and AsyncExecutor size themselves alike when
``max_workers`` is not given, and one function keeps them alike.  It lives
here rather than in ``thread`` because ``aio`` must not load the thread pool's
machinery (tests/test_aio.py::test_import_does_not_load_the_executors).
"""

from __future__ import annotations

import os


def default_max_workers() -> int:
    """``min(32, cpus + 4)``, the stdlib thread pool's default (I/O-bound calls).

    ``cpus`` is ``os.process_cpu_count()`` from 3.13 (it honours the CPU
    affinity), ``os.cpu_count()`` before, 1 when unknown.
    """
    cpus = getattr(os, "process_cpu_count", os.cpu_count)()
    return min(32, (cpus or 1) + 4)


AUTO = "auto"


def auto_workers(value: str, threads: bool) -> int:
    """max_workers="auto": sized by `futures_impl.cpu_count()` (CPU affinity and the
    cgroup CPU quota, see _cpus), where the stdlib's default counts every CPU of the
    machine. Threads: ``min(32, n + 4)``, the stdlib's formula; processes: ``n``.
    Callers pass only "auto": other strings reach their `<= 0` check, whose TypeError
    is the stdlib's own."""
    if value != AUTO:
        raise TypeError(f"max_workers must be an int, None or {AUTO!r}, not {value!r}")
    from ._cpus import cpu_count

    count = cpu_count()
    return min(32, count + 4) if threads else count
