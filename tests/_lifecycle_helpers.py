"""Functions run inside ProcessPoolExecutor workers by tests/test_process_lifecycle.py.

An importable module (not the test file) so that "spawn" and "forkserver" workers can
unpickle them; kept apart from _process_helpers.py, which other tests extend.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_release: Any = None  # a multiprocessing Event given to the worker's initializer
LINGER_BOUND = 90.0  # seconds a lingering worker waits for the test at most


def set_release(event: Any) -> None:
    """Initializer: remember the event that lets a lingering worker exit."""
    global _release
    _release = event


def getpid_and_linger() -> int:
    """Return this worker's pid at once, but keep its process alive until the test sets
    the release event: a non-daemon thread waits for it, and a multiprocessing child
    joins its non-daemon threads before it exits. The pool sees the call answered (the
    worker's last one, with max_tasks_per_child=1) while the process is still there."""
    threading.Thread(target=_release.wait, args=(LINGER_BOUND,), daemon=False).start()
    return os.getpid()
