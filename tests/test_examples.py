"""Run every script in examples/ against a local http.server on 127.0.0.1.

The server (port 0, in a daemon thread) serves ``/page/<n>`` (200),
``/status/<code>`` (that status) and ``/flaky/<key>?fail=K`` (503 for the
first K requests of each key, then 200).  Each example runs in a subprocess
with the repository on PYTHONPATH and a bounded timeout.
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

pytestmark = pytest.mark.timeout(120)


class Handler(http.server.BaseHTTPRequestHandler):
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = urllib.parse.parse_qs(url.query)
        if parts[0] == "page" and len(parts) == 2:
            self._send(200, f"page {parts[1]}\n" + "x" * (100 + int(parts[1])))
        elif parts[0] == "status" and len(parts) == 2:
            self._send(int(parts[1]), f"status {parts[1]}\n")
        elif parts[0] == "flaky" and len(parts) == 2:
            with self.lock:
                seen = self.counts[url.path] = self.counts.get(url.path, 0) + 1
            fail = int(query.get("fail", ["1"])[0])
            if seen <= fail:
                self._send(503, "try again\n")
            else:
                self._send(200, f"{parts[1]} ok after {seen} tries\n")
        else:
            self._send(404, "no such page\n")

    def _send(self, code: int, body: str) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    Handler.counts = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(30)


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
    scripts = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py"))
    tested = {
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
