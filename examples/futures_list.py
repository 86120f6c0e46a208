"""Pattern 1: a list of futures, results gathered in submission order.

    python -m examples.server &        # first, from the repository root
    python examples/futures_list.py http://127.0.0.1:8000

Every task is interchangeable; we only want all the pages, in the order we
asked for them.  ``future.result()`` blocks until that one is done, so a slow
first page delays the printing but not the downloads.
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
    urls = [f"{base_url}/page/{i}" for i in range(5)]
    with futures_impl.ThreadPoolExecutor(max_workers=4) as executor:
        futures = [executor.submit(fetch_page, url) for url in urls]
        pages = [future.result() for future in futures]
    for url, page in zip(urls, pages):
        print(f"{url}: {len(page)} bytes, starts with {page[:7]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
