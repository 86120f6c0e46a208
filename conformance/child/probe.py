"""Proves that the substitution holds in every kind of child the suites start.

Why: a substitution that works in the test process but silently falls back to
the stdlib in a spawn worker or in a ``script_helper`` subprocess (``-I``/
``-E``) would make the conformance report lie.  Before running a suite
against futures_impl, the runner runs this script once per interpreter (with
the substitution switched on) and refuses to go on unless every child reports
the hook active and ``concurrent.futures`` being futures_impl's object.

How: the probe process and children started by fork, forkserver and spawn
(``multiprocessing``, as ProcessPoolExecutor does) and by ``subprocess`` with
``-I`` and ``-E`` each report ``report()``; the result is one JSON object on
stdout.  Runs on Python 3.9+, stdlib only (it must not use concurrent.futures
to start its children).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from typing import Any, Callable


def report() -> dict[str, Any]:
    hook = sys.modules.get("_futures_impl_conformance")
    state = dict(hook.STATE) if hook is not None else {"loaded": False}
    try:
        import concurrent.futures as cf

        impl = sys.modules.get("futures_impl")
        got: dict[str, Any] = {
            "name": cf.__name__,
            "file": getattr(cf, "__file__", None),
            "same_object": impl is cf,
        }
        for sub in ("_base", "thread", "process"):
            try:
                mod = __import__("concurrent.futures." + sub, fromlist=["*"])
                got[sub] = sys.modules.get("futures_impl." + sub) is mod
            except ImportError as exc:
                got[sub] = f"ImportError: {exc}"
        got["submodules_same"] = all(
            sys.modules.get("futures_impl" + n[len("concurrent.futures"):]) is sys.modules[n]
            for n in list(sys.modules)
            if n.startswith("concurrent.futures.")
        )
    except BaseException as exc:  # report, don't crash the probe
        got = {"error": f"{type(exc).__name__}: {exc}"}
        return {"hook": state, "concurrent.futures": got, "executable": sys.executable}
    got["asyncio"] = _bounded(_asyncio_check, 20)
    return {"hook": state, "concurrent.futures": got, "executable": sys.executable}


def _asyncio_check() -> int:
    import asyncio  # imports concurrent.futures itself: must still work

    async def run_in_executor() -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, sum, [1, 2, 3])

    return asyncio.run(run_in_executor())


def _bounded(fn: Callable[[], Any], seconds: float) -> Any:
    """fn() in a daemon thread: its result, or why not (a broken futures_impl may hang)."""
    import threading

    box: list[Any] = []

    def run() -> None:
        try:
            box.append(fn())
        except BaseException as exc:
            box.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return box[0] if box else f"timed out after {seconds}s"


def _child(queue: Any) -> None:
    queue.put(report())
    queue.close()
    queue.join_thread()
    os._exit(0)  # don't wait for threads a broken futures_impl may have left hanging


def _via(method: str) -> Any:
    ctx: Any = multiprocessing.get_context(method)
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue,))
    proc.start()
    try:
        return queue.get(timeout=60)
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def main() -> None:
    results: dict[str, Any] = {"main": report()}
    for method in ("fork", "forkserver", "spawn"):
        try:
            results[method] = _via(method)
        except BaseException as exc:
            results[method] = {"error": f"{type(exc).__name__}: {exc}"}
    code = (
        f"import json, os, sys; sys.path.insert(0, {sys.path[0]!r}); import probe; "
        "print(json.dumps(probe.report()), flush=True); os._exit(0)"
    )
    for flag in ("-I", "-E"):
        try:
            proc = subprocess.run(
                [sys.executable, flag, "-c", code], capture_output=True, text=True, timeout=60
            )
            results[flag] = json.loads(proc.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            results[flag] = {"error": "timed out"}
        except (ValueError, IndexError):
            results[flag] = {"error": f"rc={proc.returncode} stderr={proc.stderr[-2000:]}"}
    print(json.dumps(results), flush=True)
    os._exit(0)  # don't wait for threads a broken futures_impl may have left hanging


if __name__ == "__main__":
    main()
