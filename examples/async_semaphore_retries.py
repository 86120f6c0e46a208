"""futures_impl.aio.AsyncExecutor with a shared semaphore and retries.

    python -m examples.server &        # first, from the repository root
    python examples/async_semaphore_retries.py http://127.0.0.1:8000

Eight workers run coroutine functions.  The calls to a rate-limited "API"
share one ``asyncio.Semaphore(2)`` (at most 2 at a time, whatever the
worker count), and are retried with exponential backoff: each flaky
endpoint fails twice, then succeeds on the third try.  Plain page downloads
go through ``map`` (results in input order).  HTTP is spoken with asyncio
streams, so the example needs nothing outside the standard library.
"""

from __future__ import annotations

import asyncio
import sys
import urllib.parse

from futures_impl.aio import AsyncExecutor


async def http_get(url: str) -> tuple[int, bytes]:
    """A minimal HTTP/1.0 GET over asyncio streams: (status, body)."""
    parts = urllib.parse.urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        writer.write(f"GET {target} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read()  # HTTP/1.0: the server closes when done
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


class Gauge:
    def __init__(self) -> None:
        self.now = self.max = 0


async def call_api(url: str, gauge: Gauge) -> str:
    gauge.now += 1
    gauge.max = max(gauge.max, gauge.now)
    try:
        status, body = await http_get(url)
    finally:
        gauge.now -= 1
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")  # retried by the executor
    return body.decode().strip()


async def page_size(url: str) -> int:
    status, body = await http_get(url)
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    return len(body)


async def main(base_url: str) -> int:
    api_limit = asyncio.Semaphore(2)
    gauge = Gauge()
    async with AsyncExecutor(max_workers=8) as executor:
        api_calls = [
            executor.submit(
                call_api,
                f"{base_url}/flaky/job-{i}?fail=2",
                gauge,
                semaphore=api_limit,
                retries=3,
                retry_delay=0.05,
            )
            for i in range(5)
        ]
        sizes = await executor.map(page_size, [f"{base_url}/page/{i}" for i in range(6)])
        print("page sizes in input order:", sizes)
        async for future in executor.as_completed(api_calls):
            print("api:", await future.result())
    print(f"max concurrent API calls: {gauge.max}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")))
