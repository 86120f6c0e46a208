"""Pattern 2 with rich input objects: map each future to a dataclass.

    python -m examples.server &        # first, from the repository root
    python examples/rich_inputs.py http://127.0.0.1:8000

Any object can ride along with its future; here a small dataclass carries a
display name, the URL and the status we expect.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

import futures_impl


@dataclass(frozen=True)
class RequestInfo:
    name: str
    url: str
    expect_ok: bool = True


def fetch_page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read()
    return data.decode()


def main(base_url: str) -> int:
    requests = [
        RequestInfo("Docs", f"{base_url}/page/1"),
        RequestInfo("Status", f"{base_url}/page/2"),
        RequestInfo("Missing", f"{base_url}/status/404", expect_ok=False),
    ]
    surprises = 0
    with futures_impl.ThreadPoolExecutor(max_workers=5) as executor:
        future_to_request = {executor.submit(fetch_page, req.url): req for req in requests}
        for future in futures_impl.as_completed(future_to_request):
            request = future_to_request[future]
            try:
                page = future.result()
            except urllib.error.HTTPError as exc:
                print(f"{request.name} ({request.url}) failed: HTTP {exc.code}")
                surprises += request.expect_ok
            else:
                print(f"{request.name} ({request.url}) returned {len(page)} bytes")
                surprises += not request.expect_ok
    return 1 if surprises else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
