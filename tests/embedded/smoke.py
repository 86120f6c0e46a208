"""Run by tests/test_embedded_host.py inside tests/embedded/host.c, an embedded CPython
whose stdlib is trimmed (no multiprocessing, _multiprocessing or asyncio; logging only
when the test asks) and where futures_impl is installed as .pyc files only.

Uses the package the way seed 000's programs do, then prints one JSON line on stdout
(what worked, what failed and how, the modules loaded) for the test to check. Every
blocking call has a timeout. Errors the host must report (a raising done-callback)
go to stderr, which the test reads.
"""

import sys
from importlib.util import find_spec  # noqa: E402  (looks, imports nothing)

report = {
    "missing": sorted(
        name
        for name in ("multiprocessing", "_multiprocessing", "asyncio", "logging")
        if find_spec(name) is None
    )
}
BEFORE = set(sys.modules)

import futures_impl as futures  # noqa: E402

report["package_file"] = futures.__file__
BASE_ONLY = sorted(set(sys.modules) - BEFORE)


def square(x):
    return x * x


def boom(future):
    raise ValueError("callback-boom-" + str(future.result()))


with futures.ThreadPoolExecutor(max_workers=4) as pool:
    report["thread_file"] = sys.modules["futures_impl.thread"].__file__
    jobs = {pool.submit(square, n): n for n in range(20)}
    done, not_done = futures.wait(jobs, timeout=30, return_when=futures.ALL_COMPLETED)
    report["wait"] = [len(done), len(not_done)]
    report["as_completed"] = sorted(
        (jobs[job], job.result(timeout=30)) for job in futures.as_completed(jobs, timeout=30)
    )
    report["map"] = list(pool.map(square, range(10), timeout=30))
    failing = pool.submit(int, "not a number")
    report["exception"] = type(failing.exception(timeout=30)).__name__
    # A raising done-callback, run by a worker thread: reported, the worker lives on.
    pool.submit(square, 7).add_done_callback(boom)
    report["after_worker_callback"] = pool.submit(square, 3).result(timeout=30)

# A raising done-callback run by this thread (set_result): reported, set_result returns.
future = futures.Future()
future.add_done_callback(boom)
future.set_result(5)
report["after_callback"] = future.result(timeout=0)

try:
    futures.ProcessPoolExecutor(max_workers=2)
except NotImplementedError as exc:
    report["process_pool"] = ["NotImplementedError", str(exc)]
except BaseException as exc:  # any other failure is what the test must catch
    report["process_pool"] = [type(exc).__name__, str(exc)]
else:
    report["process_pool"] = ["created", ""]

report["modules_base"] = BASE_ONLY
report["modules"] = sorted(set(sys.modules) - BEFORE)

import json  # noqa: E402  (after the measurement)

print(json.dumps(report))
sys.stdout.flush()
