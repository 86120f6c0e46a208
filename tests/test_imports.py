"""Import behaviour, each check in a fresh interpreter (sys.executable -I, repo root on path).

- `import futures_impl` is lazy: no multiprocessing, logging, executor modules, or
  concurrent.futures;
- the lazy names are listed by dir() and load on attribute access;
- the thread pool works where importing multiprocessing fails (a meta-path blocker);
- the package works sourceless (legacy .pyc files only, as some embedded builds ship it).
"""

from __future__ import annotations

import concurrent.futures as std_futures
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import futures_impl

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = """
import sys
sys.path.insert(0, {root!r})
LAZY = ("multiprocessing", "logging", "futures_impl.thread", "futures_impl.process",
        "concurrent.futures")
def loaded(names=LAZY):
    return sorted(n for n in names if n in sys.modules)
"""


def run(code: str, root: Path = ROOT, flags: tuple[str, ...] = ("-I",)) -> str:
    """Run `code` in a fresh interpreter; return its stdout (and fail on any error)."""
    script = textwrap.dedent(PRELUDE.format(root=str(root))) + textwrap.dedent(code)
    proc = subprocess.run(
        [sys.executable, *flags, "-c", script],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize("flags", [("-I",), ("-I", "-S")], ids=["isolated", "no-site"])
def test_import_is_lazy(flags: tuple[str, ...]) -> None:
    out = run("""
        assert loaded() == [], "already loaded before the import: %r" % loaded()
        import futures_impl
        print(loaded())
    """, flags=flags)
    assert out.strip() == "[]"


def test_public_names_do_not_load_executors() -> None:
    out = run("""
        import futures_impl
        from futures_impl import (Future, wait, as_completed, CancelledError, TimeoutError,
            InvalidStateError, BrokenExecutor, Executor, FIRST_COMPLETED, FIRST_EXCEPTION,
            ALL_COMPLETED)
        print(loaded())
    """)
    assert out.strip() == "[]"


def test_future_use_does_not_import_logging() -> None:
    """The logger is created on first need (a callback raising), not at import or per use."""
    out = run("""
        import futures_impl
        f = futures_impl.Future()
        f.add_done_callback(lambda fut: None)
        f.set_result(1)
        g = futures_impl.Future()
        g.cancel()
        g.set_running_or_notify_cancel()
        futures_impl.wait([f, g], timeout=0)
        list(futures_impl.as_completed([f, g]))
        print(loaded())
        f.add_done_callback(lambda fut: 1 / 0)   # this one needs the logger
        print("logging" in sys.modules)
    """)
    assert out.split("\n")[:2] == ["[]", "True"]


def test_dir_lists_lazy_names_without_loading_them() -> None:
    out = run("""
        import futures_impl
        names = dir(futures_impl)
        missing = [n for n in futures_impl.__all__ if n not in names]
        assert not missing, missing
        assert "ThreadPoolExecutor" in names and "ProcessPoolExecutor" in names
        print(loaded())
    """)
    assert out.strip() == "[]"


def test_all_covers_the_stdlib() -> None:
    assert set(std_futures.__all__) <= set(futures_impl.__all__)
    assert "InvalidStateError" in futures_impl.__all__
    assert len(futures_impl.__all__) == len(set(futures_impl.__all__))


def test_attribute_access_loads_the_thread_pool_only() -> None:
    out = run("""
        import futures_impl
        TPE = futures_impl.ThreadPoolExecutor
        assert "futures_impl.thread" in sys.modules
        import futures_impl.thread
        assert TPE is futures_impl.thread.ThreadPoolExecutor
        assert futures_impl.ThreadPoolExecutor is TPE
        from futures_impl import ThreadPoolExecutor
        assert ThreadPoolExecutor is TPE
        with TPE(max_workers=2) as ex:
            assert ex.submit(pow, 2, 5).result() == 32
        print(loaded())
    """)
    # logging: the stdlib's thread module loads it too (see test_import_footprint.py).
    assert out.strip() == "['futures_impl.thread', 'logging']"


def test_unknown_attribute() -> None:
    out = run("""
        import futures_impl
        try:
            futures_impl.NoSuchThing
        except AttributeError as exc:
            print(exc)
        try:
            from futures_impl import NoSuchThing
        except ImportError as exc:
            print(type(exc).__name__)
    """)
    assert out.splitlines() == [
        "module 'futures_impl' has no attribute 'NoSuchThing'", "ImportError"]


def test_star_import() -> None:
    out = run("""
        from futures_impl import *
        import futures_impl
        for name in futures_impl.__all__:
            assert globals()[name] is getattr(futures_impl, name), name
        print("ok")
    """)
    assert out.strip() == "ok"


BLOCKER = """
import importlib.abc

class BlockMultiprocessing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("multiprocessing", "_multiprocessing"):
            raise ImportError("No module named %r (blocked by the test)" % name)
        return None

sys.meta_path.insert(0, BlockMultiprocessing())
try:
    import multiprocessing
except ImportError:
    pass
else:
    raise SystemExit("the blocker does not work")
"""


def test_thread_pool_without_multiprocessing() -> None:
    out = run(BLOCKER + textwrap.dedent("""
        import futures_impl
        from futures_impl import ThreadPoolExecutor, as_completed, wait
        with ThreadPoolExecutor(max_workers=3) as ex:
            fs = {ex.submit(pow, i, 2): i for i in range(10)}
            got = sorted(fs[f] ** 2 == f.result() for f in as_completed(fs))
            assert got == [True] * 10
            assert list(ex.map(str, range(3))) == ["0", "1", "2"]
            done, not_done = wait(list(fs))
            assert len(done) == 10 and not not_done
        print(loaded(("multiprocessing", "_multiprocessing")))
        # The process pool cannot work here: it must say so, either when the name is
        # resolved (ImportError) or when a pool is created (NotImplementedError, as the
        # stdlib does where sem_open is missing).
        try:
            futures_impl.ProcessPoolExecutor(max_workers=1)
        except (ImportError, NotImplementedError):
            print("ProcessPoolExecutor: unavailable")
    """))
    assert out.splitlines() == ["[]", "ProcessPoolExecutor: unavailable"]


def test_sourceless_package(tmp_path: Path) -> None:
    """Installed as legacy .pyc files only (compileall -b), no .py anywhere."""
    dest = tmp_path / "site"
    shutil.copytree(ROOT / "futures_impl", dest / "futures_impl",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "compileall", "-b", "-q", str(dest)],
                   check=True, timeout=120)
    for py in dest.rglob("*.py"):
        py.unlink()
    for cache in dest.rglob("__pycache__"):
        shutil.rmtree(cache)
    assert not list(dest.rglob("*.py"))
    assert (dest / "futures_impl" / "__init__.pyc").exists()
    assert (dest / "futures_impl" / "thread.pyc").exists()
    out = run("""
        import futures_impl
        assert futures_impl.__file__.endswith("__init__.pyc"), futures_impl.__file__
        assert loaded() == [], loaded()
        with futures_impl.ThreadPoolExecutor(max_workers=2) as ex:
            fs = [ex.submit(pow, 3, i) for i in range(5)]
            assert [f.result() for f in futures_impl.as_completed(fs)] != []
            assert [f.result() for f in fs] == [1, 3, 9, 27, 81]
        import futures_impl.thread
        assert futures_impl.thread.__file__.endswith("thread.pyc")
        assert "ThreadPoolExecutor" in dir(futures_impl)
        print("ok")
    """, root=dest)
    assert out.strip() == "ok"


def test_base_logger_is_created_on_first_access() -> None:
    out = run("""
        import futures_impl._base as base
        print(loaded(("logging",)))
        logger = base.LOGGER
        import logging
        print(logger is logging.getLogger("concurrent.futures"), base.LOGGER is logger)
        print(base.DoneAndNotDoneFutures._fields, issubclass(base.CancelledError, base.Error))
    """)
    assert out.splitlines() == ["[]", "True True", "('done', 'not_done') True"]


def test_install_functions_are_lazy_and_not_exported() -> None:
    """install/uninstall/installed load only `_install` (not the executors, not threading)."""
    out = run("""
        import futures_impl
        names = dir(futures_impl)
        print(all(n in names for n in ("install", "uninstall", "installed")))
        print(any(n in futures_impl.__all__ for n in ("install", "uninstall", "installed")))
        installed = futures_impl.installed
        print(installed(), loaded(LAZY + ("threading", "asyncio")))
        from futures_impl import install, uninstall
        import futures_impl._install as impl
        print(install is impl.install, uninstall is impl.uninstall)
    """)
    assert out.splitlines() == ["True", "False", "False []", "True True"]


def test_import_does_not_probe_interpreters() -> None:
    """Whether InterpreterPoolExecutor is in `__all__` means importing _interpreters
    (~0.2 ms): done when `__all__` is first read, not by `import futures_impl`."""
    out = run("""
        import futures_impl
        print("_interpreters" in sys.modules)
        names = futures_impl.__all__
        print("InterpreterPoolExecutor" in names, "_interpreters" in sys.modules)
    """)
    try:
        import _interpreters  # noqa: F401
    except ImportError:
        assert out.split() == ["False", "False", "False"]
    else:
        assert out.split() == ["False", "True", "True"]
