"""The small local HTTP server the examples and the tutorials fetch their pages from.

    python -m examples.server              # from the repository root; serves until Ctrl-C
    python -m examples.server --port 8001

It prints its URL (``http://127.0.0.1:8000`` by default, the examples' default base URL) and
answers, on 127.0.0.1 only:

* ``/page/<n>``: 200, the text ``page <n>`` on a line, then ``100 + n`` times ``x``
  (so every page has a different, predictable size); ``?delay=S`` answers after S seconds
  (at most 5), to watch ``as_completed`` order or try a timeout;
* ``/status/<code>``: that HTTP status, e.g. ``/status/404`` or ``/status/500``;
* ``/flaky/<key>?fail=K``: 503 for the first K requests (default 1) of each key, then 200
  (``<key> ok after <tries> tries``), to try retries;
* ``/``: this list; anything else: 404.

Why a module of its own: ``python -m http.server`` serves files, so every example got
HTTP 404. The test suite uses this same server (``running()``/``serving()``, in a thread on a
free port):
tests/test_examples.py and tests/test_docs_code_blocks.py (which exports its URL to the
documentation's code blocks as ``EXAMPLES_SERVER``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator

DEFAULT_URL = "http://127.0.0.1:8000"

INDEX = """\
futures_impl examples server
  /page/<n>            200, 'page <n>' then 100+n bytes ('?delay=S' waits S seconds, at most 5)
  /status/<code>       that HTTP status
  /flaky/<key>?fail=K  503 for the first K requests of <key> (default 1), then 200
"""


def page_body(n: int) -> str:
    """The body of ``/page/<n>`` (tests compute expected sizes from it)."""
    return f"page {n}\n" + "x" * (100 + n)


class Server(http.server.ThreadingHTTPServer):
    """A threading HTTP server with its own ``/flaky/`` counters (one set per server)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
        self.flaky_lock = threading.Lock()
        self.flaky_counts: dict[str, int] = {}  # guarded by flaky_lock; handler threads write
        self.requests = 0  # requests answered; guarded by flaky_lock; handler threads write

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = urllib.parse.parse_qs(url.query)
        with self.server.flaky_lock:
            self.server.requests += 1
        try:
            if parts == [""]:
                self._send(200, INDEX)
            elif parts[0] == "page" and len(parts) == 2:
                n = int(parts[1])
                time.sleep(min(max(float(query.get("delay", ["0"])[0]), 0.0), 5.0))
                self._send(200, page_body(n))
            elif parts[0] == "status" and len(parts) == 2:
                self._send(int(parts[1]), f"status {parts[1]}\n")
            elif parts[0] == "flaky" and len(parts) == 2:
                with self.server.flaky_lock:
                    counts = self.server.flaky_counts
                    seen = counts[url.path] = counts.get(url.path, 0) + 1
                if seen <= int(query.get("fail", ["1"])[0]):
                    self._send(503, "try again\n")
                else:
                    self._send(200, f"{parts[1]} ok after {seen} tries\n")
            else:
                self._send(404, "no such page\n")
        except ValueError:
            self._send(400, "bad number\n")

    def _send(self, code: int, body: str) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the API's name
        pass  # quiet: the examples print what matters


@contextlib.contextmanager
def serving(port: int = 0, host: str = "127.0.0.1") -> Iterator[Server]:
    """Serve in a daemon thread for the duration of a ``with``; yields the server (``.url``,
    ``.requests``). ``port=0`` lets the OS choose a free port."""
    server = Server((host, port))
    thread = threading.Thread(target=server.serve_forever, name="examples-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(30)


@contextlib.contextmanager
def running(port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """`serving()`, yielding the base URL only."""
    with serving(port, host) as server:
        yield server.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000, help="default 8000; 0: any free port")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    args = parser.parse_args(argv)
    with Server((args.host, args.port)) as server:
        print(f"serving on {server.url} (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
