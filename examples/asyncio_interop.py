"""Awaiting a futures_impl thread pool from asyncio.

    python -m examples.server &        # first, from the repository root
    python examples/asyncio_interop.py http://127.0.0.1:8000

``loop.run_in_executor(futures_impl.ThreadPoolExecutor(), ...)`` and
``asyncio.wrap_future(futures_impl_future)`` fail: asyncio asserts it got a
``concurrent.futures.Future``.  ``futures_impl.aio.run_in_executor`` and
``futures_impl.aio.wrap_future`` do the same job for both kinds of future,
and cancellation goes both ways.
"""

from __future__ import annotations

import asyncio
import sys
import urllib.request

import futures_impl
from futures_impl.aio import run_in_executor, wrap_future


def fetch_page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read()
    return data.decode()


async def main(base_url: str) -> int:
    with futures_impl.ThreadPoolExecutor(max_workers=4) as pool:
        pages = await asyncio.gather(
            *(run_in_executor(pool, fetch_page, f"{base_url}/page/{i}") for i in range(4))
        )
        print("sizes:", [len(page) for page in pages])

        future = pool.submit(fetch_page, f"{base_url}/page/9")  # a futures_impl.Future
        print("wrapped:", len(await wrap_future(future)), "bytes")

        try:
            await asyncio.wait_for(run_in_executor(pool, fetch_page, f"{base_url}/status/404"), 10)
        except Exception as exc:
            print("error travels through:", exc)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")))
