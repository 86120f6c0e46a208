"""Shared fixtures: hypothesis profiles, a local HTTP server, and a thread-leak check.

Hypothesis profiles
    "ci"  (the default): 500 examples per property, no deadline (a loaded CI machine must not
          turn slowness into failures). The differential state machine asks for at least 500
          examples whatever the profile.
    "dev": 50 examples, for a quick local loop: `HYPOTHESIS_PROFILE=dev pytest ...`.
    "fuzz-long": 10,000 examples, for an on-demand run of the differential fuzzer
          (tests/test_fuzz_differential.py, docs/fuzzing.md); the fuzz tests run 300 under "ci".

Slow tests
    `@pytest.mark.slow` marks the long variant of a trial (tests/test_process_trials.py...):
    skipped unless pytest runs with `--run-slow` (the quick variant runs by default, in CI).

Coverage (`nox -s coverage`) measures child interpreters too, except those of the import tests
(see `_import_checks_run_without_coverage`).
"""

from __future__ import annotations

import copyreg
import http.server
import os
import signal
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz-long",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --------------------------------------------------------------------------- slow tests


# A run started in the background of a non-interactive shell (`cmd &`) inherits SIGINT
# ignored, and so would every child the tests start: their Ctrl-C tests would all fail (the
# child never sees the KeyboardInterrupt). Python's own handler is put back; children started
# with exec then begin with SIGINT at its default, as from a terminal.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Pickling as it is before any test module is imported. Importing Dask's `distributed`
# (tests/test_distributed.py, collected in every xdist worker) installs tblib's pickling for
# every exception class, process-wide (copyreg): exceptions then pickle with their
# __cause__/__context__ chains, and a fork-started worker of another test inherits that (the
# stdlib's worker then died on an exception whose context held a lock). Collection ends by
# putting it back; the Dask tests reinstall it for their own module.
_DISPATCH_BEFORE_COLLECTION = dict(copyreg.dispatch_table)


def pytest_collection_finish(session: pytest.Session) -> None:
    copyreg.dispatch_table.clear()
    copyreg.dispatch_table.update(_DISPATCH_BEFORE_COLLECTION)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow", action="store_true", default=False,
        help="also run the tests marked slow (the long variants of the reliability trials)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a long variant, skipped unless pytest runs with --run-slow"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a failed run, do not let a process pool a failing test left behind (a call
    lost by a regression: its pool never finishes) hang the interpreter's exit, which
    would block CI instead of reporting the failure: its workers are killed and the pool
    leaves futures_impl's exit registry (a private name, on this failure path only)."""
    if not session.testsfailed:
        return
    import sys

    process = sys.modules.get("futures_impl.process")
    if process is None:
        return
    with process._live_lock:
        pools = list(process._live_pools)
        process._live_pools.clear()
    for pool in pools:
        for worker in list(pool.workers):
            try:
                worker.process.kill()
            except (OSError, ValueError, AttributeError):
                pass


# --------------------------------------------------------------------------- coverage

# Tests whose child interpreters report which modules an import loaded. Under
# `nox -s coverage` every child starts coverage first (an environment variable and a .pth file,
# see pyproject.toml), and coverage itself imports threading and multiprocessing: that would
# read as futures_impl loading them. Those children run unmeasured; what they execute (the
# package's import-time code) is measured in the test processes anyway. A whole module, or
# "module::test" (the test function's name, any parameters).
_IMPORT_CHECKS = frozenset({
    "test_imports",
    "test_import_footprint",
    "test_aio::test_import_does_not_load_the_executors",
    "test_parallel::test_import_is_light",
    "test_install::test_install_is_lazy",
    "test_cpu_count::test_cpu_count_loads_neither_executor_nor_multiprocessing",
    # Coverage's tracer in a child that ends with sub-interpreters alive prints a fatal
    # error at exit (coverage's, not ours); the child's code is measured in-process.
    "test_interpreter_pool::test_interpreters_destroyed_at_exit_without_shutdown",
})
# What coverage.process_startup() (run by that .pth file) looks for; 7.10+ sets the first.
_COVERAGE_VARS = frozenset({"COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"})


@pytest.fixture(autouse=True)
def _import_checks_run_without_coverage(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _COVERAGE_VARS & set(os.environ):
        return  # not under coverage: nothing to do (the usual case)
    module = request.module.__name__.rsplit(".", 1)[-1]
    if module in _IMPORT_CHECKS or f"{module}::{request.function.__name__}" in _IMPORT_CHECKS:
        for name in _COVERAGE_VARS:
            monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- thread leaks

_JOIN_BOUND = 30.0  # seconds a test's threads get to finish after the test; a bound, not a wait


@pytest.fixture
def no_thread_leaks() -> Iterator[None]:
    """Fail a test that leaves a non-daemon thread running (it would hang interpreter exit).

    Opt in per module with `pytestmark = pytest.mark.usefixtures("no_thread_leaks")`.
    """
    before = set(threading.enumerate())
    yield
    leaked = [
        t for t in threading.enumerate()
        if t not in before and not t.daemon and t is not threading.current_thread()
    ]
    for t in leaked:
        # Executors shut down with wait=False may still be winding down: give them a bounded
        # chance to finish, then report whatever is still alive.
        t.join(_JOIN_BOUND)
    alive = [t.name for t in leaked if t.is_alive()]
    if alive:
        pytest.fail(f"test left non-daemon threads running: {alive}", pytrace=False)


# --------------------------------------------------------------------------- HTTP server

PAGES = {
    "/": b"<html>index</html>",
    "/docs": b"<html>" + b"documentation " * 50 + b"</html>",
    "/status/200": b"OK",
    "/get": b'{"args": {}}',
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = PAGES.get(self.path)
        if self.path.startswith("/page/"):
            n = int(self.path.rsplit("/", 1)[1])
            body = (f"page {n};" * (n + 1)).encode()
        if body is None:
            self.send_error(404, "no such page")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - API name
        pass  # keep test output clean


class LocalServer:
    def __init__(self, server: http.server.ThreadingHTTPServer) -> None:
        self.server = server
        host, port = server.server_address[:2]
        self.base_url = f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def http_server() -> Iterator[LocalServer]:
    """A local HTTP server on 127.0.0.1 (port chosen by the OS), served by a daemon thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    thread.start()
    try:
        yield LocalServer(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(params=["tqdm", "builtin"])
def bar_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The progress bar's two back ends (tests/test_parallel*.py): the test runs with tqdm
    importable (skipped where it is not installed), then with tqdm hidden."""
    import sys

    from futures_impl import _progress

    if request.param == "tqdm":
        pytest.importorskip("tqdm")
    else:
        for name in list(sys.modules):
            if name == "tqdm" or name.startswith("tqdm."):
                monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` raise
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)
        assert not _progress.tqdm_available()
    return str(request.param)
