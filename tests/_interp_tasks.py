"""Module-level calls for tests/test_interpreter_pool.py: a worker interpreter imports this
module by name (sys.path is copied into it), so its state there is the worker's own."""

from __future__ import annotations

from typing import Any

STATE: list[int] = []


def remember(value: int) -> tuple[int, int]:
    """Append to this interpreter's STATE; return (interpreter id, len(STATE))."""
    import _interpreters

    STATE.append(value)
    return _interpreters.get_current()[0], len(STATE)


def mutate(data: dict[str, Any]) -> dict[str, Any]:
    data["seen"] = True
    data["items"].append(4)
    return data


def fail(message: str) -> None:
    raise ValueError(message)


class Unpicklable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("this exception does not pickle")


def fail_unpicklable() -> None:
    raise Unpicklable("kept only as text")


def read_main(name: str) -> Any:
    import __main__

    return getattr(__main__, name)


def set_up(value: int) -> None:
    STATE.append(value)


def broken_set_up() -> None:
    raise RuntimeError("initializer failed on purpose")


def state() -> list[int]:
    return list(STATE)


def cpu_bound(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
