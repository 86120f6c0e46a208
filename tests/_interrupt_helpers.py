"""Worker-side functions for tests/test_process_interrupt.py (importable by spawned and
forkserver workers)."""

from __future__ import annotations


def raise_keyboard_interrupt() -> None:
    """A call whose own outcome is a KeyboardInterrupt (not a Ctrl-C of the parent)."""
    raise KeyboardInterrupt("raised by the call")


def block(_: object) -> None:
    """map()'s form of _process_helpers.block_forever (one argument, ignored)."""
    from _process_helpers import block_forever

    block_forever()
