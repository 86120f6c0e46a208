"""Pattern 2a: a dict future -> input, consumed with as_completed.

    python -m examples.server &        # first, from the repository root
    python examples/future_to_input.py http://127.0.0.1:8000

React to each download as soon as it finishes, and know which URL it was.
A failing URL (here a 404) is reported without disturbing the others:
the exception is re-raised by ``future.result()`` and caught per future.
"""

from __future__ import annotations

import sys
import urllib.request

import futures_impl


def fetch_page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read()
    return data.decode()


def main(base_url: str) -> int:
    urls = [f"{base_url}/page/{i}" for i in range(4)] + [f"{base_url}/status/404"]
    failures = 0
    with futures_impl.ThreadPoolExecutor(max_workers=5) as executor:
        future_to_url = {}
        for url in urls:
            future = executor.submit(fetch_page, url)
            future_to_url[future] = url  # remember which URL this future is for

        for future in futures_impl.as_completed(future_to_url):
            url = future_to_url[future]
            try:
                page = future.result()
            except Exception as exc:
                failures += 1
                print(f"{url} failed: {exc}")
            else:
                print(f"Fetched {url} ({len(page)} bytes)")
    print(f"{len(urls) - failures} ok, {failures} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
