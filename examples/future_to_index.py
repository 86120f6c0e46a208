"""Pattern 2b: a dict future -> index into the input list.

    python -m examples.server &        # first, from the repository root
    python examples/future_to_index.py http://127.0.0.1:8000

The inputs are already in a list, so store the index (a dict comprehension
keeps it short) and write each result into its slot as it arrives.
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
    urls = [f"{base_url}/page/{i}" for i in range(6)]
    sizes: list[int | None] = [None] * len(urls)
    with futures_impl.ThreadPoolExecutor(max_workers=3) as executor:
        future_to_index = {executor.submit(fetch_page, url): i for i, url in enumerate(urls)}
        for future in futures_impl.as_completed(future_to_index):
            index = future_to_index[future]
            try:
                sizes[index] = len(future.result())
            except Exception as exc:
                print(f"{urls[index]} failed: {exc}")
            else:
                print(f"#{index} {urls[index]} done")
    print("sizes in input order:", sizes)
    return 0 if all(size is not None for size in sizes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
