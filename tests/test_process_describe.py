"""Naming a dead worker's call from its frame, read as data (futures_impl/_process/describe.py).

The parent must never run a call's code to name it (CPython's test_crash_at_task_unpickle
crashes an interpreter that unpickles such a call), and must not keep the call's objects
alive to name it (that costs every call): so the frame's opcodes are read, not executed.
"""

from __future__ import annotations

import collections
import functools
import os
from typing import Any

import _robust_helpers as helpers
import pytest

from futures_impl._process.describe import describe_frame, read_frame
from futures_impl._process.wire import dumps
from futures_impl._process.worker import Announced

pytestmark = pytest.mark.timeout(60)


def _frame(fn: Any, *args: Any, **kwargs: Any) -> memoryview:
    return dumps((7, fn, args, kwargs))


def test_plain_values_come_out_as_themselves() -> None:
    args = (1, -5, 10**30, 2.5, "text", b"raw", None, True, False, (1, 2), [3, [4]],
            {"k": (5,)}, {6}, frozenset({7}))
    work_id, fn, read_args, kwargs = read_frame(_frame(helpers.identity, *args, key="v"))
    assert (work_id, repr(fn), read_args, kwargs) == (
        7, "_robust_helpers.identity", args, {"key": "v"})


def test_a_call_is_named_with_its_arguments_cut_short() -> None:
    text = describe_frame(_frame(helpers.pid_of, 3, "x" * 500, [1, 2, 3, 4, 5, 6], key=None))
    assert text is not None
    assert text.startswith("_robust_helpers.pid_of(3, 'xxx")
    assert "..." in text and "key=None" in text and len(text) <= 200


def test_objects_are_shown_by_their_maker_and_their_code_never_runs() -> None:
    helpers.REBUILT_IN_PARENT.clear()
    text = describe_frame(_frame(helpers.identity, helpers.KillsWorkerWhenRebuilt(),
                                 collections.OrderedDict(a=1)))
    assert helpers.REBUILT_IN_PARENT == []  # rebuilding it here would have recorded it
    assert text == ("_robust_helpers.identity(<_robust_helpers._rebuild_and_kill object>, "
                    "<collections.OrderedDict object>)")


def test_a_timed_call_is_named_by_its_function() -> None:
    assert describe_frame(_frame(Announced(os.path.join), "a", "b")) == "posixpath.join('a', 'b')"


def test_a_partial_is_named_by_its_maker() -> None:
    text = describe_frame(_frame(functools.partial(helpers.identity, 1), 2))
    assert text is not None and text.endswith("(2)") and "partial" in text


def test_what_it_cannot_read_gives_none() -> None:
    assert describe_frame(None) is None
    assert describe_frame(b"not a pickle") is None
    assert describe_frame(dumps("not a call")) is None
    # Too long to read quickly: a dead worker's error does not wait on it.
    assert describe_frame(_frame(helpers.identity, list(range(50_000)))) is None
