"""futures_impl in an embedded CPython with a trimmed stdlib and a sourceless install.

Applications that bundle Python (a debugger, a game, a plugin host) embed libpython and
ship a standard library trimmed to what they need: typically without `multiprocessing`
(and its `_multiprocessing` extension), without `asyncio`, sometimes without `logging`.
Their packages are often installed as `.pyc` files only. This test builds such a host for
real: tests/embedded/host.c, compiled here with the system compiler and the flags of
`python3.X-config --embed` for the system's python3 (Debian 12: 3.11; Debian 13: 3.13),
given its own module search path (PyConfig.module_search_paths, no site) to a copy of
that interpreter's stdlib minus those packages, and futures_impl compiled with
`compileall -b` (the legacy layout: foo.pyc beside where foo.py was) with the sources
removed. tests/embedded/smoke.py then runs in it.

What must hold there: the thread pool, wait, as_completed and map work;
`ProcessPoolExecutor(...)` raises NotImplementedError naming the missing module; a
raising done-callback is reported on stderr, with or without `logging`, and nothing
crashes. docs/embedding.md gives the per-part module lists measured the same way.

The stdlib "copy" is a directory of symbolic links to the system's entries (each
top-level module or package and each lib-dynload extension, minus the trimmed ones):
what the interpreter can import is exactly what a copied tree gives, without copying
56 MB per run. Skipped, with the reason, where no compiler or no python3.X-dev exists;
`.ci/run` installs both and sets FUTURES_IMPL_REQUIRE_EMBEDDED_HOST=1, which turns the
skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOST_C = ROOT / "tests" / "embedded" / "host.c"
SMOKE = ROOT / "tests" / "embedded" / "smoke.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")
TRIMMED = ("multiprocessing", "asyncio")  # packages; _multiprocessing from lib-dynload
TIMEOUT = 120  # seconds: a build or a run on a loaded 2-core machine

# What a missing host costs: a skip, except where the run says it must not be missing.
REQUIRED = os.environ.get("FUTURES_IMPL_REQUIRE_EMBEDDED_HOST") == "1"


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """subprocess.run with a timeout, output captured as text, the process killed on timeout."""
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs  # type: ignore[call-overload]
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"FUTURES_IMPL_REQUIRE_EMBEDDED_HOST=1, but {reason}")
    pytest.skip(reason)


class System:
    """The system interpreter the host embeds: its version, stdlib and extension dirs."""

    def __init__(self) -> None:
        if not SYSTEM_PYTHON.exists():
            unavailable(f"no system interpreter at {SYSTEM_PYTHON}")
        probe = run([
            str(SYSTEM_PYTHON), "-I", "-c",
            "import sys, sysconfig, json; print(json.dumps([sys.version_info[1], "
            "sysconfig.get_path('stdlib'), sysconfig.get_config_var('DESTSHARED'), "
            "list(sys.builtin_module_names)]))",
        ])
        assert probe.returncode == 0, probe.stderr
        minor, stdlib, dynload, builtins = json.loads(probe.stdout)
        self.version = f"3.{minor}"
        self.python = Path(f"/usr/bin/python{self.version}")
        self.stdlib = Path(stdlib)
        self.dynload = Path(dynload or self.stdlib / "lib-dynload")
        self.builtins = set(builtins)
        self.config = Path(f"/usr/bin/python{self.version}-config")


@pytest.fixture(scope="module")
def system() -> System:
    return System()


@pytest.fixture(scope="module")
def host(system: System, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/embedded/host.c, built once per test session (per xdist worker)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        unavailable("no C compiler (cc/gcc): apt-get install gcc")
    if not system.config.exists():
        unavailable(f"no {system.config}: apt-get install python{system.version}-dev")
    flags = run([str(system.config), "--embed", "--cflags", "--ldflags"])
    assert flags.returncode == 0, flags.stderr
    include = run([str(system.config), "--includes"]).stdout.split()
    if not any((Path(flag[2:]) / "Python.h").exists() for flag in include if flag.startswith("-I")):
        unavailable(f"no Python.h for {system.version}: apt-get install python{system.version}-dev")
    out = tmp_path_factory.mktemp("host") / "host"
    cc = run([compiler, "-o", str(out), str(HOST_C), *flags.stdout.split()])
    assert cc.returncode == 0, f"building the host failed:\n{cc.stdout}\n{cc.stderr}"
    return out


@pytest.fixture(scope="module")
def sourceless(system: System, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """futures_impl as .pyc only (compileall -b, the sources removed), by the host's version."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(
        ROOT / "futures_impl", site / "futures_impl", ignore=shutil.ignore_patterns("__pycache__")
    )
    compiled = run([str(system.python), "-I", "-m", "compileall", "-q", "-b", str(site)])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    for source in site.rglob("*.py"):
        source.unlink()
    assert not list(site.rglob("*.py")) and (site / "futures_impl" / "__init__.pyc").exists()
    return site


def trimmed_stdlib(system: System, where: Path, without: tuple[str, ...]) -> list[Path]:
    """The host's module search path: the stdlib minus `without`, and its lib-dynload minus
    _multiprocessing (each entry a symlink to the system's)."""
    lib, dynload = where / "lib", where / "lib" / "lib-dynload"
    dynload.mkdir(parents=True)
    skip = set(without) | {"lib-dynload", "site-packages", "dist-packages", "test"}
    for entry in system.stdlib.iterdir():
        if entry.name not in skip and entry.name.split(".")[0] not in skip:
            (lib / entry.name).symlink_to(entry)
    for entry in system.dynload.iterdir():
        if not entry.name.startswith("_multiprocessing"):
            (dynload / entry.name).symlink_to(entry)
    return [lib, dynload]


def run_smoke(host: Path, paths: list[Path]) -> tuple[dict[str, object], str]:
    proc = run([str(host), str(SMOKE), *map(str, paths)], cwd=str(paths[0].parent))
    assert proc.returncode == 0, (
        f"host exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


@pytest.mark.parametrize("with_logging", [True, False], ids=["with-logging", "no-logging"])
def test_trimmed_sourceless_host(
    with_logging: bool, system: System, host: Path, sourceless: Path, tmp_path: Path
) -> None:
    without = TRIMMED if with_logging else (*TRIMMED, "logging")
    paths = [*trimmed_stdlib(system, tmp_path, without), sourceless]
    report, stderr = run_smoke(host, paths)

    # The host is what it claims: the trimmed modules are missing, the package is .pyc only.
    expected_missing = set(without)
    if "_multiprocessing" not in system.builtins:  # a distribution may build it in
        expected_missing.add("_multiprocessing")
    assert set(report["missing"]) == expected_missing  # type: ignore[arg-type]
    assert report["package_file"] == str(sourceless / "futures_impl" / "__init__.pyc")
    assert report["thread_file"] == str(sourceless / "futures_impl" / "thread.pyc")

    # The thread pool, wait, as_completed and map work.
    assert report["wait"] == [20, 0]
    assert report["as_completed"] == [[n, n * n] for n in range(20)]
    assert report["map"] == [n * n for n in range(10)]
    assert report["exception"] == "ValueError"

    # Raising done-callbacks (one run by a worker thread, one by set_result) are reported
    # on stderr, the way logging reports them, and neither crashes anything.
    assert report["after_worker_callback"] == 9 and report["after_callback"] == 5
    for value in (49, 5):
        assert f"ValueError: callback-boom-{value}" in stderr, stderr
    assert stderr.count("exception calling callback for <Future") == 2, stderr
    assert stderr.count("Traceback (most recent call last)") == 2, stderr

    # The process pool says what is missing, as NotImplementedError.
    kind, message = report["process_pool"]  # type: ignore[misc]
    assert kind == "NotImplementedError", report["process_pool"]
    assert "ProcessPoolExecutor" in message and "'multiprocessing'" in message, message

    # The package import stays cheap there too, and logging is never needed.
    # (C modules aside: on 3.13+ the package probes _interpreters, a small extension.)
    base = {name for name in report["modules_base"] if not name.startswith("_")}  # type: ignore[attr-defined]
    assert base == {"futures_impl", "futures_impl._base"}, report["modules_base"]
    modules = set(report["modules"])  # type: ignore[arg-type]
    assert ("logging" in modules) == with_logging
    assert not modules & {"multiprocessing", "asyncio", "concurrent.futures"}


# ------------------------------------------------- the logger of last resort, in-process
# The host runs without coverage (isolated, no site); these exercise _stderr_log here, as
# the host uses it: `logging` made unimportable for the duration of each test.


@pytest.fixture
def no_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    from futures_impl import _base

    monkeypatch.setitem(sys.modules, "logging", None)  # `import logging` raises ImportError
    monkeypatch.delitem(_base.__dict__, "LOGGER", raising=False)


@pytest.mark.usefixtures("no_logging")
def test_callback_error_without_logging_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    import futures_impl
    from futures_impl import _base
    from futures_impl._stderr_log import stderr_logger

    assert _base._get_logger() is stderr_logger
    future: futures_impl.Future[int] = futures_impl.Future()

    def boom(done: futures_impl.Future[int]) -> None:
        raise ValueError(f"boom-{done.result()}")

    future.add_done_callback(boom)
    future.set_result(3)  # returns: the callback's error is reported, not raised
    err = capsys.readouterr().err
    assert err.startswith(f"exception calling callback for {future!r}\nTraceback"), err
    assert err.endswith("ValueError: boom-3\n"), err


@pytest.mark.usefixtures("no_logging")
def test_stderr_logger_edges(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from futures_impl._stderr_log import stderr_logger

    stderr_logger.critical("plain %s and %d", "text", 2)
    stderr_logger.error("no args: 100%")  # no args: the message is not %-formatted
    stderr_logger.error("given", exc_info=KeyError("k"))
    stderr_logger.exception("outside an except: no traceback")
    assert capsys.readouterr().err == (  # the KeyError was never raised: no frames
        "plain text and 2\nno args: 100%\ngiven\nKeyError: 'k'\noutside an except: no traceback\n"
    )
    monkeypatch.setitem(sys.modules, "traceback", None)  # trimmed further still
    try:
        raise OSError("disk")
    except OSError:
        stderr_logger.exception("failed")
    assert capsys.readouterr().err == "failed\nOSError: disk\n"

    class Broken:
        def write(self, text: str) -> int:
            raise OSError("closed")

    monkeypatch.setattr(sys, "stderr", Broken())
    stderr_logger.error("lost, silently")  # never raises from reporting
    monkeypatch.setattr(sys, "stderr", None)
    stderr_logger.error("nowhere to go")
