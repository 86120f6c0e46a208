"""Run every script in examples/ against examples.server (the server the docs tell readers to
start with ``python -m examples.server``), here in a thread on a free port: ``/page/<n>``
(200), ``/status/<code>`` (that status) and ``/flaky/<key>?fail=K`` (503 for the first K
requests of each key, then 200).  Each example runs in a subprocess with the repository on
PYTHONPATH and a bounded timeout.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

import examples.server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def base_url() -> Iterator[str]:
    with examples.server.running() as url:
        yield url


def run_example(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, name), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_every_example_has_a_test() -> None:
    scripts = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py") and f != "__init__.py")
    tested = {
        "server.py",
        "async_semaphore_retries.py",
        "asyncio_interop.py",
        "cli_runner.py",
        "future_to_index.py",
        "future_to_input.py",
        "futures_list.py",
        "parallelized_progress.py",
        "rich_inputs.py",
    }
    assert set(scripts) == tested


def test_futures_list(base_url: str) -> None:
    proc = run_example("futures_list.py", base_url)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5
    assert all(f"/page/{i}: {len(f'page {i}') + 101 + i} bytes" in lines[i] for i in range(5))


def test_future_to_input(base_url: str) -> None:
    proc = run_example("future_to_input.py", base_url)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("Fetched ") == 4
    assert "/status/404 failed: HTTP Error 404" in out
    assert "4 ok, 1 failed" in out


def test_future_to_index(base_url: str) -> None:
    proc = run_example("future_to_index.py", base_url)
    assert proc.returncode == 0, proc.stderr
    expected = [len(f"page {i}\n") + 100 + i for i in range(6)]
    assert f"sizes in input order: {expected}" in proc.stdout


def test_rich_inputs(base_url: str) -> None:
    proc = run_example("rich_inputs.py", base_url)
    assert proc.returncode == 0, proc.stderr
    assert "Missing" in proc.stdout and "failed: HTTP 404" in proc.stdout
    assert proc.stdout.count("returned") == 2


LOG_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+) -> (OK|FAIL) \(remaining (\d+), elapsed [\d.]+s\)$")


@pytest.mark.parametrize("parallel", ["1", "3"])
def test_cli_runner_logs_progress_and_survives_a_failing_task(base_url: str, parallel: str) -> None:
    proc = run_example("cli_runner.py", base_url, "--parallel", parallel)
    assert proc.returncode == 1, proc.stderr  # one task failed, the others ran
    logs = [LOG_LINE.match(line) for line in proc.stderr.splitlines()]
    matched = [m for m in logs if m]
    assert len(matched) == 7, proc.stderr
    assert [int(m.group(1)) for m in matched] == list(range(1, 8))
    assert [int(m.group(5)) for m in matched] == list(range(6, -1, -1))
    status = {m.group(3): m.group(4) for m in matched}
    assert status.pop("status/500") == "FAIL"
    assert set(status.values()) == {"OK"} and len(status) == 6
    assert "FAILED status/500" in proc.stdout
    assert f"6/7 tasks succeeded (parallel={parallel})" in proc.stdout
    if parallel == "1":  # the sequential path keeps the given order
        assert [m.group(3) for m in matched][:6] == [f"page/{i}" for i in range(6)]


def test_cli_runner_all_ok(base_url: str) -> None:
    proc = run_example("cli_runner.py", base_url, "page/1", "page/2", "--parallel", "2")
    assert proc.returncode == 0, proc.stderr
    assert "2/2 tasks succeeded" in proc.stdout


def test_parallelized_progress(base_url: str) -> None:
    proc = run_example("parallelized_progress.py", base_url)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "first pass: 8 ok, 3 failed" in out
    assert out.count("retry ") == 3 and "all downloads succeeded" in out


def test_async_semaphore_retries(base_url: str) -> None:
    proc = run_example("async_semaphore_retries.py", base_url)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    expected = [len(f"page {i}\n") + 100 + i for i in range(6)]
    assert f"page sizes in input order: {expected}" in out
    api: list[str] = [line for line in out.splitlines() if line.startswith("api:")]
    assert len(api) == 5 and all(line.endswith("ok after 3 tries") for line in api)
    assert "max concurrent API calls: 2" in out or "max concurrent API calls: 1" in out


def test_asyncio_interop(base_url: str) -> None:
    proc = run_example("asyncio_interop.py", base_url)
    assert proc.returncode == 0, proc.stderr
    assert "sizes: [" in proc.stdout and "wrapped: 116 bytes" in proc.stdout
    assert "error travels through: HTTP Error 404" in proc.stdout


def test_server_module_runs_as_the_docs_say() -> None:
    """``python -m examples.server --port 0`` from the repository root prints its URL, serves
    the endpoints until Ctrl-C (SIGINT), then says so and exits 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.server", "--port", "0"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.match(r"serving on (http://127\.0\.0\.1:\d+) \(Ctrl-C to stop\)$", line)
        assert match, line
        url = match.group(1)
        with urllib.request.urlopen(f"{url}/page/3", timeout=30) as response:
            assert response.read().decode() == examples.server.page_body(3)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert b"/flaky/<key>" in response.read()
        for path, code in (("/status/500", 500), ("/flaky/k?fail=1", 503), ("/nope", 404)):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(url + path, timeout=30)
            info.value.close()
            assert info.value.code == code
        with urllib.request.urlopen(f"{url}/flaky/k?fail=1", timeout=30) as response:
            assert response.read() == b"k ok after 2 tries\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == "stopped\n" and err == ""
