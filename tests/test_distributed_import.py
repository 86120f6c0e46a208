"""futures_impl.distributed without Dask: importing it is cheap, using it says what to install.

Runs on every interpreter, Dask installed or not: each check is a fresh interpreter, and
the "missing" case hides `distributed` with a meta-path finder that refuses it.
"""

from __future__ import annotations

import json

from _support import run_python

HIDE_DASK = """
import sys, importlib.abc
class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden)", name=name)
        return None
sys.meta_path.insert(0, _Hide())
"""


def test_importing_the_module_imports_no_dask() -> None:
    code = (
        "import sys, json\n"
        "import futures_impl, futures_impl.distributed\n"
        "from futures_impl.distributed import DaskExecutor, RemoteTraceback\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.split('.')[0] in ('dask', 'distributed', 'tornado'))))\n"
    )
    returncode, out, err = run_python("-c", code, timeout=60)
    assert returncode == 0, err
    assert json.loads(out) == []


def test_without_distributed_the_error_names_the_extra() -> None:
    code = HIDE_DASK + (
        "from futures_impl.distributed import DaskExecutor\n"
        "try:\n"
        "    DaskExecutor(address='tcp://127.0.0.1:1')\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name, '|', exc)\n"
    )
    returncode, out, err = run_python("-c", code, timeout=60)
    assert returncode == 0, err
    name, message = out.strip().split(" | ")
    assert name == "distributed"
    assert "futures_impl[dask]" in message


def test_remote_traceback_text() -> None:
    from futures_impl.distributed import RemoteTraceback

    cause = RemoteTraceback('\n"""\nTraceback ...\nValueError: x\n"""')
    assert str(cause) == cause.text and "ValueError: x" in str(cause)


def test_no_test_module_leaves_dask_pickling_installed() -> None:
    """Importing `distributed` (tests/test_distributed.py, collected in this very process
    where Dask is installed) installs tblib's pickling for every exception class in copyreg;
    conftest undoes it after collection, so the process-pool tests' fork-started stdlib
    workers pickle exceptions as without Dask (with it, the stdlib's worker died on an
    exception whose __context__ held a lock: test_process_drop_in's unpicklable-exception
    test failed after the Dask tests)."""
    import copyreg
    import types

    assert types.TracebackType not in copyreg.dispatch_table
    assert TypeError not in copyreg.dispatch_table
