"""Import footprint: our submodules load at least what the stdlib's counterparts load.

Code written for the stdlib relies on side effects of its imports: after
``import concurrent.futures.process``, ``multiprocessing.connection.wait`` is
reachable from a plain ``import multiprocessing``; after
``concurrent.futures.thread``, ``queue`` and ``weakref`` are loaded.  So for each
submodule, the set of modules the stdlib's import adds to ``sys.modules`` (minus
``concurrent.*``) must be a subset of what ours adds.

Measured black-box and differentially on the running interpreter: every import runs
in its own fresh interpreter (``sys.executable -I``, and ``-I -S``), which prints the
modules the import added; nothing is hard-coded per Python version.

One deliberate exception, documented: ``futures_impl._base`` (and so ``import
futures_impl``) defers ``logging`` to the first time something must be logged, to
keep the package import cheap. The stdlib's ``_base`` footprint is exactly what
``import logging`` adds (checked below), and once our logger exists ours covers it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FLAGS = [("-I",), ("-I", "-S")]
FLAG_IDS = ["isolated", "no-site"]

# Makes importing _multiprocessing fail, as in a trimmed interpreter without it.
NO_MP_EXT = """
import importlib.abc
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "_multiprocessing":
            raise ImportError("No module named '_multiprocessing' (blocked)", name=name)
        return None
sys.meta_path.insert(0, _Block())
"""


def added_by(statement: str, flags: tuple[str, ...] = ("-I",), prelude: str = "") -> set[str]:
    """Modules that running `statement` adds to sys.modules in a fresh interpreter.

    Raises ImportError (with the child's message) if the statement raised ImportError.
    """
    code = "\n".join([
        "import sys, json",
        f"sys.path.insert(0, {str(ROOT)!r})",
        prelude,
        "before = set(sys.modules)",
        "try:",
        textwrap.indent(statement, "    "),
        "except ImportError as exc:",
        "    print(json.dumps({'error': repr(exc)}))",
        "else:",
        "    print(json.dumps({'added': sorted(set(sys.modules) - before)}))",
    ])
    proc = subprocess.Popen(
        [sys.executable, *flags, "-c", code],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
    result = json.loads(out.strip().splitlines()[-1])
    if "error" in result:
        raise ImportError(result["error"])
    return set(result["added"])


def stdlib_footprint(module: str, flags: tuple[str, ...], prelude: str = "") -> set[str]:
    added = added_by(f"import concurrent.futures.{module}", flags, prelude)
    return {name for name in added if name != "concurrent" and not name.startswith("concurrent.")}


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize("module", ["thread", "process"])
def test_submodule_loads_what_the_stdlib_loads(module: str, flags: tuple[str, ...]) -> None:
    std = stdlib_footprint(module, flags)
    ours = added_by(f"import futures_impl.{module}", flags)
    assert f"futures_impl.{module}" in ours
    assert std - ours == set(), f"loaded by concurrent.futures.{module} only"


@pytest.mark.parametrize("flags", FLAGS, ids=FLAG_IDS)
def test_base_defers_only_logging(flags: tuple[str, ...]) -> None:
    std = stdlib_footprint("_base", flags)
    logging_closure = added_by("import logging", flags)
    ours = added_by("import futures_impl._base", flags)
    assert "logging" not in ours, "the package import must stay cheap (logging deferred)"
    # What the stdlib's _base loads and ours does not is only what logging brings...
    assert std - ours <= logging_closure
    # ...and once our logger exists (the first time something must be logged), all of it.
    with_logger = added_by("import futures_impl._base; futures_impl._base.LOGGER", flags)
    assert std - with_logger == set()


def test_package_import_stays_lazy() -> None:
    """The footprint requirement is on the submodules: the package loads neither."""
    ours = added_by("import futures_impl")
    assert not ours & {"multiprocessing", "logging", "futures_impl.thread",
                       "futures_impl.process", "concurrent.futures", "queue"}


def test_process_without_multiprocessing_extension() -> None:
    """No _multiprocessing: futures_impl.process imports anyway, and loads whatever the
    stdlib's process module manages to load there (on 3.9 its import fails outright)."""
    ours = added_by("import futures_impl.process", prelude=NO_MP_EXT)
    assert "futures_impl.process" in ours
    assert "_multiprocessing" not in ours
    try:
        std = stdlib_footprint("process", ("-I",), prelude=NO_MP_EXT)
    except ImportError:
        return  # this interpreter's stdlib cannot import it without _multiprocessing
    assert std - ours == set()


def test_reachable_names_after_import() -> None:
    """The usage that relies on the footprint, spelled out."""
    out = added_by(textwrap.dedent("""\
        import futures_impl.process, futures_impl.thread
        import multiprocessing, logging
        assert callable(multiprocessing.connection.wait)
        assert multiprocessing.queues.Queue is not None
        assert multiprocessing.util.Finalize is not None
        assert logging.getLogger("concurrent.futures") is not None
    """))
    assert "multiprocessing.connection" in out
