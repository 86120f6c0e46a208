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

import json
import multiprocessing
import subprocess
import sys


def report():
    hook = sys.modules.get("_futures_impl_conformance")
    state = dict(hook.STATE) if hook is not None else {"loaded": False}
    try:
        import concurrent.futures as cf

        impl = sys.modules.get("futures_impl")
        got = {
            "name": cf.__name__,
            "file": getattr(cf, "__file__", None),
            "same_object": impl is cf,
            "submodules_same": all(
                sys.modules.get("futures_impl" + n[len("concurrent.futures"):])
                is sys.modules[n]
                for n in list(sys.modules)
                if n.startswith("concurrent.futures.")
            ),
        }
        for sub in ("_base", "thread", "process"):
            try:
                mod = __import__("concurrent.futures." + sub, fromlist=["*"])
                got[sub] = sys.modules.get("futures_impl." + sub) is mod
            except ImportError as exc:
                got[sub] = f"ImportError: {exc}"
        import asyncio  # imports concurrent.futures itself: must still work

        got["asyncio"] = asyncio.run(_async_probe())
    except BaseException as exc:  # report, don't crash the probe
        got = {"error": f"{type(exc).__name__}: {exc}"}
    return {"hook": state, "concurrent.futures": got, "executable": sys.executable}


async def _async_probe():
    import asyncio

    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, sum, [1, 2, 3])


def _child(queue):
    queue.put(report())


def _via(method):
    ctx = multiprocessing.get_context(method)
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue,))
    proc.start()
    try:
        return queue.get(timeout=60)
    finally:
        proc.join(60)


def main():
    results = {"main": report()}
    for method in ("fork", "forkserver", "spawn"):
        try:
            results[method] = _via(method)
        except BaseException as exc:
            results[method] = {"error": f"{type(exc).__name__}: {exc}"}
    code = (
        f"import json, sys; sys.path.insert(0, {sys.path[0]!r}); "
        "import probe; print(json.dumps(probe.report()))"
    )
    for flag in ("-I", "-E"):
        proc = subprocess.run(
            [sys.executable, flag, "-c", code], capture_output=True, text=True, timeout=60
        )
        try:
            results[flag] = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            results[flag] = {"error": f"rc={proc.returncode} stderr={proc.stderr[-2000:]}"}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
