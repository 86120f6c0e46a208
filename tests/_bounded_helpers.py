"""Functions run in process pool workers by tests/test_bounded_submit.py (importable, so
that forkserver and spawn workers can unpickle them)."""

from __future__ import annotations

from typing import Any

_gate: Any = None  # a multiprocessing Event given to the worker's initializer


def init_gate(gate: Any) -> None:
    global _gate
    _gate = gate


def wait_gate(x: int) -> int:
    """Wait (bounded) for the test to open the gate, then return x."""
    if not _gate.wait(60):
        raise RuntimeError("the gate was never opened")
    return x


def identity(x: int) -> int:
    return x


_hold: Any = None  # a second Event (init_two_gates)


def init_two_gates(gate: Any, hold: Any) -> None:
    global _gate, _hold
    _gate, _hold = gate, hold


def wait_hold(x: int) -> int:
    """Wait (bounded) for the second gate, then return x."""
    if not _hold.wait(60):
        raise RuntimeError("the second gate was never opened")
    return x
