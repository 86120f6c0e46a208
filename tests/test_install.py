"""futures_impl.install(): concurrent.futures resolves to futures_impl, process-wide.

Every scenario runs in a fresh interpreter (install() changes process-wide state):
imports, uninstall(), references taken before install(), asyncio's run_in_executor /
to_thread / wrap_future / set_default_executor / run_coroutine_threadsafe on a
futures_impl pool, spawn / forkserver / fork workers, and the opt-in start-up path (a
``.pth`` file written by ``python -m futures_impl --install-pth`` into a throw-away venv,
read at start-up when FUTURES_IMPL_INSTALL is set).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
"""


def run(code: str, *, flags: tuple[str, ...] = ("-I",), executable: str = sys.executable,
        env: dict[str, str] | None = None, cwd: str | None = None,
        prelude: str = PRELUDE) -> str:
    """Run `code` in a fresh interpreter; return its stdout, failing on a non-zero exit."""
    script = textwrap.dedent(prelude) + textwrap.dedent(code)
    proc = subprocess.Popen(
        [executable, *flags, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=cwd,
    )
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"timed out\nstdout:\n{out}\nstderr:\n{err}")
    assert proc.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
    return out


# ------------------------------------------------------------------------------ imports


@pytest.mark.parametrize("stdlib_first", [False, True], ids=["fresh", "stdlib-imported-first"])
def test_concurrent_futures_is_futures_impl(stdlib_first: bool) -> None:
    out = run(f"""
        if {stdlib_first!r}:
            import concurrent.futures.thread, concurrent.futures.process
        import futures_impl
        futures_impl.install()
        futures_impl.install()  # idempotent
        assert futures_impl.installed()
        import concurrent.futures
        import concurrent.futures._base, concurrent.futures.thread, concurrent.futures.process
        from concurrent import futures
        from concurrent.futures import Future, ThreadPoolExecutor, ProcessPoolExecutor, wait
        import futures_impl._base, futures_impl.thread, futures_impl.process
        assert concurrent.futures is futures is futures_impl
        assert sys.modules["concurrent.futures"] is futures_impl
        assert concurrent.futures._base is futures_impl._base
        assert concurrent.futures.thread is futures_impl.thread
        assert concurrent.futures.process is futures_impl.process
        assert sys.modules["concurrent.futures.process"] is futures_impl.process
        assert Future is futures_impl.Future and wait is futures_impl.wait
        assert ThreadPoolExecutor is futures_impl.ThreadPoolExecutor
        assert ProcessPoolExecutor is futures_impl.ProcessPoolExecutor
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            f = pool.submit(pow, 2, 8)
            assert type(f) is futures_impl.Future and f.result(timeout=30) == 256
        print("ok")
    """)
    assert out.strip() == "ok"


def test_install_is_lazy() -> None:
    """install() imports neither the executors nor multiprocessing; they load on use."""
    out = run("""
        import futures_impl
        futures_impl.install()
        import concurrent.futures
        heavy = ("multiprocessing", "futures_impl.thread", "futures_impl.process")
        print(sorted(n for n in heavy if n in sys.modules))
        concurrent.futures.ThreadPoolExecutor
        print(sorted(n for n in heavy if n in sys.modules))
        import concurrent.futures.process
        print(sorted(n for n in heavy if n in sys.modules))
    """)
    assert out.splitlines() == [
        "[]", "['futures_impl.thread']",
        "['futures_impl.process', 'futures_impl.thread', 'multiprocessing']"]


def test_no_such_submodule() -> None:
    out = run("""
        import futures_impl
        futures_impl.install()
        try:
            import concurrent.futures.no_such_module
        except ImportError as exc:
            print(type(exc).__name__, exc.name)
    """)
    assert out.strip() == "ModuleNotFoundError futures_impl.no_such_module"


@pytest.mark.parametrize("stdlib_first", [False, True], ids=["fresh", "stdlib-imported-first"])
def test_uninstall_restores(stdlib_first: bool) -> None:
    out = run(f"""
        import futures_impl
        if {stdlib_first!r}:
            import concurrent.futures as before
            from concurrent import futures as held
            import concurrent.futures.thread as before_thread
        futures_impl.install()
        import concurrent.futures.thread, concurrent.futures.process
        finders = list(sys.meta_path)
        futures_impl.uninstall()
        futures_impl.uninstall()  # idempotent
        assert not futures_impl.installed()
        assert len(sys.meta_path) == len(finders) - 1
        import concurrent.futures, concurrent.futures.thread
        assert concurrent.futures.__name__ == "concurrent.futures", concurrent.futures
        assert concurrent.futures.Future is not futures_impl.Future
        assert concurrent.futures.thread.__name__ == "concurrent.futures.thread"
        assert sys.modules["concurrent"].futures is concurrent.futures
        if {stdlib_first!r}:
            assert concurrent.futures is before and held is before
            assert concurrent.futures.thread is before_thread
        else:
            assert "concurrent.futures.process" not in sys.modules
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            assert type(pool.submit(int).result(timeout=30)) is int
        # and again
        futures_impl.install()
        import concurrent.futures
        assert concurrent.futures is futures_impl
        print("ok")
    """)
    assert out.strip() == "ok"


def test_references_taken_before_install() -> None:
    """Module references are rebound (and restored); class/function references are not."""
    out = run("""
        import types
        import concurrent.futures
        from concurrent import futures as cf_module
        from concurrent.futures import Future as StdFuture
        lib = types.ModuleType("lib")
        exec("from concurrent import futures\\nimport concurrent.futures as cfm", lib.__dict__)
        sys.modules["lib"] = lib
        std_pool = concurrent.futures.ThreadPoolExecutor(1)
        import futures_impl
        futures_impl.install()
        assert lib.futures is futures_impl and lib.cfm is futures_impl
        assert cf_module is futures_impl
        assert StdFuture is not futures_impl.Future  # left alone
        # a stdlib pool made before install() keeps working, with the stdlib's futures
        f = std_pool.submit(pow, 3, 3)
        assert f.result(timeout=30) == 27 and isinstance(f, StdFuture)
        std_pool.shutdown()
        futures_impl.uninstall()
        assert lib.futures is sys.modules["concurrent.futures"] is lib.cfm
        assert lib.futures.__name__ == "concurrent.futures"
        assert cf_module.__name__ == "concurrent.futures"
        print("ok")
    """)
    assert out.strip() == "ok"


# ------------------------------------------------------------------------------ asyncio

ASYNCIO_SCENARIO = """
import asyncio, threading
import concurrent.futures, futures_impl

def blocking(x):
    return (x * 2, threading.current_thread().name)

def fail():
    raise ValueError("boom")

async def main():
    loop = asyncio.get_running_loop()
    pool = POOL(max_workers=2, thread_name_prefix="fi")
    print("pool", type(pool).__module__.split(".")[0])
    try:
        print("run_in_executor", await loop.run_in_executor(pool, blocking, 21))
        try:
            await loop.run_in_executor(pool, fail)
        except ValueError as exc:
            print("exception", exc)
        print("wrap_future", await asyncio.wrap_future(pool.submit(blocking, 1)))
        gate = threading.Event()
        blocker = pool.submit(gate.wait, 30)
        blocker2 = pool.submit(gate.wait, 30)
        queued = pool.submit(blocking, 0)        # cannot start: both workers are busy
        wrapped = asyncio.wrap_future(queued)
        wrapped.cancel()
        try:
            await wrapped
        except asyncio.CancelledError:
            await asyncio.sleep(0)               # the cancel reaches the source on the loop
            print("cancelled", queued.cancelled())
        gate.set()
        await asyncio.wrap_future(blocker)
        await asyncio.wrap_future(blocker2)
        loop.set_default_executor(pool)
        print("default", await loop.run_in_executor(None, blocking, 2))
        print("to_thread", await asyncio.to_thread(blocking, 3))
        cf = asyncio.run_coroutine_threadsafe(asyncio.sleep(0, "rct"), loop)
        print("run_coroutine_threadsafe", type(cf).__module__,
              await asyncio.wrap_future(cf))
    finally:
        pool.shutdown(wait=True)

asyncio.run(main())
"""

def asyncio_outcome(setup: str, pool: str) -> list[str]:
    code = textwrap.dedent(setup) + ASYNCIO_SCENARIO.replace("POOL", pool)
    return [line.replace("fi_1", "fi_0") for line in run(code).splitlines()]


def test_asyncio_scenario_on_the_stdlib() -> None:
    """The reference run: the stdlib's own pool, nothing installed."""
    assert asyncio_outcome("", "concurrent.futures.ThreadPoolExecutor") == [
        "pool concurrent",
        "run_in_executor (42, 'fi_0')",
        "exception boom",
        "wrap_future (2, 'fi_0')",
        "cancelled True",
        "default (4, 'fi_0')",
        "to_thread (6, 'fi_0')",
        "run_coroutine_threadsafe concurrent.futures._base rct",
    ]


@pytest.mark.parametrize("asyncio_first", [False, True], ids=["install-first", "asyncio-first"])
def test_asyncio_with_a_futures_impl_pool(asyncio_first: bool) -> None:
    """Differential: the same scenario on a futures_impl pool after install()."""
    setup = f"""
        import warnings
        warnings.simplefilter("error")  # set_default_executor warns on 3.8-3.10 if refused
        if {asyncio_first!r}:
            import asyncio
        import futures_impl
        futures_impl.install()
    """
    std = asyncio_outcome("", "concurrent.futures.ThreadPoolExecutor")
    ours = asyncio_outcome(setup, "futures_impl.ThreadPoolExecutor")
    assert ours[0] == "pool futures_impl"
    assert ours[-1] == "run_coroutine_threadsafe futures_impl._base rct"
    assert ours[1:-1] == std[1:-1]


@pytest.mark.parametrize("asyncio_first", [False, True], ids=["install-first", "asyncio-first"])
def test_asyncio_with_stdlib_futures_made_before_install(asyncio_first: bool) -> None:
    """A loop's default executor (or any stdlib pool) created before install() still works
    with run_in_executor / wrap_future / set_default_executor afterwards, cancellation
    included."""
    out = run(f"""
        import concurrent.futures, threading, warnings
        warnings.simplefilter("error")  # set_default_executor warns on 3.9-3.10 if refused
        if {asyncio_first!r}:
            import asyncio
        std_pool = concurrent.futures.ThreadPoolExecutor(1)
        std_future_class = concurrent.futures.Future
        import futures_impl
        if {asyncio_first!r}:
            loop = asyncio.new_event_loop()
            loop.run_until_complete(loop.run_in_executor(None, int))  # default: a stdlib pool
            futures_impl.install()
        else:
            futures_impl.install()
            import asyncio
            loop = asyncio.new_event_loop()
        async def main():
            print(await loop.run_in_executor(std_pool, pow, 2, 5))
            print(await asyncio.wrap_future(std_pool.submit(pow, 3, 2)))
            print(await loop.run_in_executor(None, pow, 5, 2))
            gate = threading.Event()
            busy = std_pool.submit(gate.wait, 30)
            queued = std_pool.submit(int)
            assert isinstance(queued, std_future_class)
            wrapped = asyncio.wrap_future(queued)
            wrapped.cancel()
            try:
                await wrapped
            except asyncio.CancelledError:
                await asyncio.sleep(0)
                print("cancelled", queued.cancelled())
            gate.set()
            await asyncio.wrap_future(busy)
            loop.set_default_executor(std_pool)
            print(await loop.run_in_executor(None, lambda: threading.current_thread() in
                                             std_pool._threads))
        loop.run_until_complete(main())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        std_pool.shutdown()
        futures_impl.uninstall()
        assert asyncio.wrap_future is asyncio.futures.wrap_future
        assert not hasattr(asyncio.wrap_future, "__wrapped__")
        assert not hasattr(asyncio.BaseEventLoop.set_default_executor, "__wrapped__")
        print("ok")
    """)
    assert out.split() == ["32", "9", "25", "cancelled", "True", "True", "ok"]


EXCEPTION_CONVERSION = """
import asyncio, concurrent.futures
async def main():
    for name in ("CancelledError", "TimeoutError", "InvalidStateError", "ValueError"):
        cls = getattr(concurrent.futures, name, None) or ValueError
        f = concurrent.futures.Future()
        f.set_exception(cls("x"))
        try:
            await asyncio.wrap_future(f)
        except BaseException as exc:
            print(name, type(exc).__module__, type(exc).__qualname__,
                  type(exc) is getattr(asyncio, name, ValueError))
asyncio.run(main())
"""


def test_asyncio_converts_the_exceptions_like_the_stdlib() -> None:
    """wrap_future turns concurrent.futures' CancelledError/TimeoutError/InvalidStateError
    into asyncio's (they are distinct classes on 3.9-3.10): after install(), the
    futures_impl ones are converted the same way."""
    std = run(EXCEPTION_CONVERSION).splitlines()
    ours = run("import futures_impl\nfutures_impl.install()\n" + EXCEPTION_CONVERSION)
    assert ours.splitlines() == std
    assert len(std) == 4


def test_asyncio_refuses_the_pool_without_install() -> None:
    """The reason install() exists (this scenario fails without it)."""
    out = run("""
        import asyncio, futures_impl
        async def main():
            with futures_impl.ThreadPoolExecutor(1) as pool:
                try:
                    await asyncio.get_running_loop().run_in_executor(pool, int)
                except AssertionError:
                    print("refused")
        asyncio.run(main())
    """)
    assert out.strip() == "refused"


# ---------------------------------------------------------------------- worker processes

PROBE_MODULE = """
def probe():
    import concurrent.futures, sys
    return (concurrent.futures.__name__, type(concurrent.futures.Future()).__module__,
            sys.modules["concurrent.futures"].__name__)
"""

WORKERS_SCENARIO = """
import multiprocessing
import futures_impl

if __name__ == "__main__":
    futures_impl.install()
    import concurrent.futures
    import probe_mod
    ctx = multiprocessing.get_context(METHOD)
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as ex:
        print("pool", ex.submit(probe_mod.probe).result(timeout=60))
    with ctx.Pool(1) as p:
        print("mp.Pool", p.apply_async(probe_mod.probe).get(timeout=60))
"""


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_worker_processes_see_the_substitution(method: str, tmp_path: Path) -> None:
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    (tmp_path / "probe_mod.py").write_text(PROBE_MODULE)
    script = tmp_path / "main.py"
    script.write_text(
        f"import sys\nsys.path[:0] = [{str(ROOT)!r}, {str(tmp_path)!r}]\n"
        + WORKERS_SCENARIO.replace("METHOD", repr(method)))
    out = run(f"exec(open({str(script)!r}).read())", prelude="")
    expected = "('futures_impl', 'futures_impl._base', 'futures_impl')"
    assert out.splitlines() == [f"pool {expected}", f"mp.Pool {expected}"]


def test_children_after_uninstall_get_the_stdlib(tmp_path: Path) -> None:
    (tmp_path / "probe_mod.py").write_text(PROBE_MODULE)
    out = run(f"""
        sys.path.insert(0, {str(tmp_path)!r})
        import multiprocessing, futures_impl, probe_mod
        if __name__ == "__main__":
            futures_impl.install()
            futures_impl.uninstall()
            with multiprocessing.get_context("spawn").Pool(1) as p:
                print(p.apply_async(probe_mod.probe).get(timeout=60)[0])
    """)
    assert out.strip() == "concurrent.futures"


# ------------------------------------------------------------------------ start-up (.pth)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away venv (no pip) that sees this checkout through a path .pth file."""
    base = getattr(sys, "_base_executable", sys.executable)
    path = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([base, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    Path(purelib, "futures_impl_checkout.pth").write_text(str(ROOT) + "\n")
    return path


def venv_run(venv: Path, code: str, env_value: str | None,
             flags: tuple[str, ...] = ()) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FUTURES_IMPL_INSTALL", "PYTHONPATH")}
    if env_value is not None:
        env["FUTURES_IMPL_INSTALL"] = env_value
    return run(code, executable=str(venv / "bin" / "python"), flags=flags, env=env,
               prelude="")


PTH_PROBE = """
import sys
loaded_at_startup = "futures_impl" in sys.modules
import concurrent.futures
print(concurrent.futures.__name__, loaded_at_startup)
"""


def test_pth_startup(venv: Path, tmp_path: Path) -> None:
    python = str(venv / "bin" / "python")
    cli = subprocess.run([python, "-m", "futures_impl", "--install-pth"],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    try:
        assert "futures_impl_install.pth" in cli.stdout
        status = subprocess.run([python, "-m", "futures_impl", "--status"],
                                capture_output=True, text=True, timeout=60)
        assert ": present;" in status.stdout
        # Opted in: every start, -I and -E included (they hide PYTHON* variables only).
        for flags in [(), ("-I",), ("-E",)]:
            assert venv_run(venv, PTH_PROBE, "1", flags).split() == ["futures_impl", "True"]
        # Not opted in: nothing happens, futures_impl is not even imported.
        for value in (None, "", "0"):
            assert venv_run(venv, PTH_PROBE, value).split() == ["concurrent.futures", "False"]
        # -S skips .pth files altogether.
        assert venv_run(venv, PTH_PROBE, "1", ("-S",)).split()[0] == "concurrent.futures"
        # Children started by spawn get it from the environment as well.
        (tmp_path / "probe_mod.py").write_text(PROBE_MODULE)
        out = venv_run(venv, f"""
import sys, multiprocessing
sys.path.insert(0, {str(tmp_path)!r})
import probe_mod
if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(1) as p:
        print(p.apply_async(probe_mod.probe).get(timeout=60)[0])
""", "1")
        assert out.strip() == "futures_impl"
    finally:
        removed = subprocess.run([python, "-m", "futures_impl", "--remove-pth"],
                                 capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0 and "removed" in removed.stdout, removed
    assert venv_run(venv, PTH_PROBE, "1").split() == ["concurrent.futures", "False"]


def test_pth_cli_with_dir(tmp_path: Path) -> None:
    """--dir, and a .pth read through site.addsitedir (no file outside tmp_path)."""
    site_dir = tmp_path / "site"
    cli = subprocess.run(
        [sys.executable, "-m", "futures_impl", "--install-pth", "--dir", str(site_dir)],
        capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert cli.returncode == 0, cli.stderr
    assert (site_dir / "futures_impl_install.pth").exists()
    env = dict(os.environ, FUTURES_IMPL_INSTALL="1")
    out = run(f"""
        import site
        site.addsitedir({str(site_dir)!r})
        import concurrent.futures
        print(concurrent.futures.__name__)
    """, env=env)
    assert out.strip() == "futures_impl"
    again = subprocess.run(
        [sys.executable, "-m", "futures_impl", "--remove-pth", "--dir", str(site_dir)],
        capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert again.returncode == 0 and not (site_dir / "futures_impl_install.pth").exists()
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    failed = subprocess.run(
        [sys.executable, "-m", "futures_impl", "--install-pth", "--dir", str(not_a_dir)],
        capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert failed.returncode == 1 and "try --user or --dir" in failed.stderr, failed
