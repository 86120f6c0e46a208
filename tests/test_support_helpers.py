"""The test helpers' own failure behaviour: a bounded wait fails clearly, never hangs.

`_support.wait_until` is how tests wait for an observable condition; a regression that
keeps the condition from ever holding must fail with a message naming what was awaited,
well before pytest-timeout, and `set_when` must still release the test's blocking call.
"""

from __future__ import annotations

import threading

import pytest
from _support import WAIT_BOUND, blocked_in, set_when, wait_until


def test_wait_until_bound_is_under_pytest_timeout(pytestconfig: pytest.Config) -> None:
    assert WAIT_BOUND < float(pytestconfig.getini("timeout"))


def test_wait_until_returns_once_true() -> None:
    values = iter([0, "", None, 3])
    wait_until(lambda: next(values), "the fourth value", timeout=WAIT_BOUND)


def test_wait_until_fails_naming_what_and_last_value() -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        wait_until(lambda: [], "the list to fill", timeout=0.01)
    assert str(info.value) == (
        "gave up after 0.01 s waiting for the list to fill (last value of the predicate: [])"
    )


def test_wait_until_describes_an_unnamed_predicate_by_its_source() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"waiting for .*lambda: 0 > 1"):
        wait_until(lambda: 0 > 1, timeout=0.01)


def test_blocked_in_describes_the_thread_and_function() -> None:
    never = threading.Event()
    t = threading.Thread(target=never.wait, args=(60,), name="sleeper", daemon=True)
    t.start()
    try:
        with pytest.raises(pytest.fail.Exception,
                           match=r"thread 'sleeper' to block in no_such_function\(\)"):
            wait_until(blocked_in(t, "no_such_function"), timeout=0.01)
    finally:
        never.set()
        t.join(60)


def test_set_when_releases_and_reraises_on_expiry() -> None:
    release = threading.Event()
    join = set_when(lambda: False, release, "a condition that never holds", timeout=0.01)
    assert release.wait(60)  # released although the condition never held
    with pytest.raises(pytest.fail.Exception, match="a condition that never holds"):
        join()


def test_import_checks_named_in_conftest_exist() -> None:
    """conftest's list of tests whose children run without coverage names real tests (a
    renamed one would fail only under `nox -s coverage`, with coverage's modules counted
    as futures_impl's)."""
    import importlib

    from conftest import _IMPORT_CHECKS

    for entry in _IMPORT_CHECKS:
        module, _, function = entry.partition("::")
        loaded = importlib.import_module(module)
        if function:
            assert callable(getattr(loaded, function, None)), entry
