"""Tiny module-level callables shared by the scenarios.

They live in their own module (not in ``scenarios``) so that process-pool
children, which unpickle them by qualified name, import as little as possible.
"""

from __future__ import annotations

from typing import Any


def noop() -> None:
    return None


def ident(x: Any) -> Any:
    return x


def callback(_f: Any) -> None:
    return None
