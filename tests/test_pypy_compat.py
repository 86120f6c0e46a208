"""The package imports and works on PyPy (issue 17).

Why: PyPy's compiler rejects what CPython accepts in a few places; the first one found
was an annotated module-level assignment (`x: T = ...`) to a name that a function above
it declares `global` ("SyntaxError: annotated name 'x' can't be global"), which made
`import futures_impl` fail on Debian's pypy3 7.3.11. The AST check below runs on every
interpreter, so such a line fails CI even where no PyPy is installed; the import check
runs the real PyPy when there is one (.ci/run installs Debian's pypy3).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "futures_impl")


def _sources() -> list[str]:
    found = []
    for directory, _, files in os.walk(PACKAGE):
        found += [os.path.join(directory, f) for f in files if f.endswith(".py")]
    return sorted(found)


def _annotated_globals(path: str) -> list[str]:
    """Module-level annotated names that a function declares `global` before the annotation."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    declared: dict[str, int] = {}  # name -> line of the first `global` statement
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            for name in node.names:
                declared[name] = min(declared.get(name, node.lineno), node.lineno)
    bad = []
    for node in tree.body:
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and declared.get(node.target.id, node.lineno) < node.lineno):
            bad.append(f"{os.path.relpath(path, ROOT)}:{node.lineno}: {node.target.id}")
    return bad


def test_no_annotated_assignment_to_a_global_declared_name() -> None:
    # PyPy refuses a module-level `x: T` or `x: T = v` below a function's `global x`;
    # the form that works everywhere: the annotation first, then the function.
    bad = [entry for path in _sources() for entry in _annotated_globals(path)]
    assert bad == []


PYPY = shutil.which("pypy3")


@pytest.mark.skipif(PYPY is None, reason="no pypy3 on PATH (.ci/run installs Debian's)")
@pytest.mark.skipif(sys.implementation.name == "pypy", reason="this run is on PyPy already")
def test_imports_and_runs_on_pypy() -> None:
    assert PYPY is not None
    script = (
        "import futures_impl as f\n"
        "from futures_impl import _base, process, thread\n"
        "with f.ThreadPoolExecutor(2) as ex:\n"
        "    futs = [ex.submit(pow, 2, i) for i in range(8)]\n"
        "    done, _ = f.wait(futs, timeout=60)\n"
        "    assert len(done) == 8, done\n"
        "    assert sorted(x.result() for x in f.as_completed(futs, timeout=60)) == "
        "[2 ** i for i in range(8)]\n"
        "    assert list(ex.map(abs, [-1, -2], timeout=60)) == [1, 2]\n"
        "print('ok', f.__file__)\n"
    )
    proc = subprocess.Popen([PYPY, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err
    assert out.startswith("ok " + PACKAGE), out


@pytest.mark.parametrize("module", ["concurrent.futures", "futures_impl"])
def test_pool_winds_down_when_its_executor_dies_in_a_cycle(module: str) -> None:
    # A process pool whose executor is collected by the cycle collector (always the case on
    # PyPy, which has no reference counting: PyPy's own test_del_shutdown hung on it) ends its
    # manager thread once the pending calls are done. The weakref that tells the manager must
    # not live only on the executor: a weakref dying with its referent calls no callback.
    import gc
    import importlib
    import multiprocessing

    futures = importlib.import_module(module)
    executor = futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context())
    results = executor.map(abs, range(-5, 5))
    manager = executor._executor_manager_thread
    processes = list(executor._processes.values())
    executor.cycle = executor  # only the cycle collector can free it, as on PyPy
    del executor
    gc.collect()
    manager.join(60)
    assert not manager.is_alive()
    for process in processes:
        process.join(60)
        assert process.exitcode is not None
    assert list(results) == [abs(v) for v in range(-5, 5)]
