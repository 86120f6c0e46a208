"""Markers for tests that cannot run on PyPy, each with the reason (issue 17).

Why: PyPy has no reference counting: an object is freed at the next collection, not at its
last reference, so a test asserting that dropping the last reference frees an object at once
(or with the cycle collector disabled) tests CPython's memory management, not ours. Such a
test skips on PyPy with this marker's reason; the run says so (pytest -rs), never silently.
"""

from __future__ import annotations

import sys

import pytest

PYPY = sys.implementation.name == "pypy"

refcounting = pytest.mark.skipif(
    PYPY,
    reason="CPython-only: relies on reference counting freeing an object at its last "
    "reference (PyPy frees it at a later garbage collection)",
)
