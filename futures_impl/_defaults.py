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
