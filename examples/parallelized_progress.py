"""futures_impl.parallel.Parallelized: a thread pool with a progress bar.

    python -m examples.server &        # first, from the repository root
    python examples/parallelized_progress.py http://127.0.0.1:8000

Each input is a dict of keyword arguments; the loop gets ``(kwargs, result,
error)`` as downloads finish.  The bar is tqdm when installed, else a small
built-in one; it draws only on a terminal (``progress="always"`` forces it).
Failed inputs are listed in ``par.failed``, so retrying only them is a second
run.  The "flaky" pages fail on their first request and succeed after.
"""

from __future__ import annotations

import sys
import urllib.request

from futures_impl.parallel import Parallelized


def fetch(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return len(response.read())


def main(base_url: str) -> int:
    tasks = [{"url": f"{base_url}/page/{i}"} for i in range(8)]
    tasks += [{"url": f"{base_url}/flaky/demo-{i}?fail=1"} for i in range(3)]

    with Parallelized(fetch, tasks, num_threads=4, desc="Downloading") as par:
        par.pbar.set_postfix({"status": "starting"})
        for kwargs, size, error in par:
            if error is None:
                par.pbar.set_postfix({"last": kwargs["url"].rsplit("/", 1)[-1], "bytes": size})
    print(f"first pass: {len(par.succeeded)} ok, {len(par.failed)} failed")

    if par.failed:
        with Parallelized(fetch, par.failed, num_threads=4, desc="Retrying") as retry:
            for kwargs, _size, error in retry:
                # retry.write, not print: the line goes above the bar, not onto it
                retry.write(f"retry {kwargs['url']}: {'ok' if error is None else error}")
        if retry.failed:
            print(f"still failing: {len(retry.failed)}")
            return 1
    print("all downloads succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
