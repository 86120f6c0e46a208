"""futures_impl.install()/uninstall() at the edges of what other code does to the import state.

Each scenario runs in a fresh interpreter (install() is process-wide), except startup()'s
"not asked" cases, which install nothing. Covered: startup() honours only a set, non-"0"
FUTURES_IMPL_INSTALL; a module patched on import still answers its loader's questions
(get_filename, get_source: inspect, linecache and pytest ask them); a reference taken to a
patched function while installed stops adding the install hook once uninstalled;
install() tolerates placeholders in sys.modules; uninstall() copes with a finder someone
removed and leaves alone a global that someone re-bound after install().
"""

from __future__ import annotations

import textwrap

import pytest
from _support import run_python

from futures_impl import _install


@pytest.mark.parametrize("value", [None, "", "0"])
def test_startup_installs_nothing_unless_asked(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(_install.ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(_install.ENV_VAR, value)
    assert not _install.installed()
    _install.startup()
    assert not _install.installed()


def run(code: str) -> list[str]:
    rc, out, err = run_python("-c", textwrap.dedent(code), timeout=90)
    assert rc == 0, f"exit {rc}\nstdout:\n{out}\nstderr:\n{err}"
    return out.split()


def test_patched_module_loader_still_answers_questions() -> None:
    assert run("""
        import sys
        assert "asyncio" not in sys.modules
        import futures_impl
        futures_impl.install()
        import asyncio.futures
        loader = asyncio.futures.__loader__
        assert type(loader).__name__ == "_PatchAfterLoad"  # the module was patched on import
        assert loader.get_filename("asyncio.futures") == asyncio.futures.__file__
        assert "def wrap_future" in loader.get_source("asyncio.futures")
        import inspect
        assert "def wrap_future" in inspect.getsource(asyncio.futures)
        print("ok")
    """) == ["ok"]


def test_a_kept_reference_to_a_patched_function_follows_uninstall() -> None:
    assert run("""
        import futures_impl
        futures_impl.install()
        import multiprocessing.spawn as spawn
        kept = spawn.get_preparation_data  # taken while installed: our wrapper
        print("futures_impl_install" in kept("x"))
        futures_impl.uninstall()
        print("futures_impl_install" in kept("x"))
        print(spawn.get_preparation_data is kept.__wrapped__)
    """) == ["True", "False", "True"]


def test_install_tolerates_placeholders_in_sys_modules() -> None:
    assert run("""
        import sys, types
        import concurrent.futures as std  # stdlib first: install() rebinds references
        sys.modules["a_blocked_module"] = None  # how `import x` is made to fail
        sys.modules["a_non_module"] = object()  # lazy-import proxies and the like
        holder = types.ModuleType("holder")
        holder.futures = std
        sys.modules["holder"] = holder
        import futures_impl
        futures_impl.install()
        print(holder.futures is futures_impl, sys.modules["a_blocked_module"])
        futures_impl.uninstall()
        print(holder.futures is std)
    """) == ["True", "None", "True"]


def test_uninstall_copes_with_changes_made_while_installed() -> None:
    assert run("""
        import sys, types
        import concurrent.futures as std
        holder = types.ModuleType("holder")
        holder.futures = std
        holder.other = std
        sys.modules["holder"] = holder
        import futures_impl
        futures_impl.install()
        finder = sys.meta_path[0]
        sys.meta_path.remove(finder)  # someone took our finder off
        holder.other = "re-bound by its owner"
        futures_impl.uninstall()
        import concurrent.futures
        print(concurrent.futures is std, finder not in sys.meta_path)
        print(holder.futures is std, holder.other)
    """) == ["True", "True", "True", "re-bound", "by", "its", "owner"]
