"""futures_impl: concurrent.futures, rewritten to be faster and easier to read.

Drop-in: ``import futures_impl as futures`` and use it as ``concurrent.futures``.

Importing the package is cheap and has no side effects: only ``_base`` (the Future,
``wait``, ``as_completed``) loads now. The executors load on first use through the
module ``__getattr__`` below (PEP 562), so ``multiprocessing``, ``logging`` and the
thread machinery are imported only by programs that use them. That matters in embedded
interpreters whose trimmed stdlib may lack ``multiprocessing`` altogether.

``futures_impl.install()`` goes further: ``concurrent.futures`` itself then resolves to
this package for the whole process, asyncio included (``uninstall()`` undoes it; see
``_install`` and docs/install.md).

Public names (the stdlib's, from ``_base`` unless said):

- ``Future``, ``Executor``, ``wait``, ``as_completed``; the constants
  ``FIRST_COMPLETED``, ``FIRST_EXCEPTION``, ``ALL_COMPLETED``; the exceptions
  ``CancelledError``, ``TimeoutError``, ``InvalidStateError``, ``BrokenExecutor``.
- ``ThreadPoolExecutor`` (``thread``) and ``ProcessPoolExecutor`` (``process``), loaded on
  first access; ``BrokenThreadPool`` and ``BrokenProcessPool`` are only in their modules,
  as in the stdlib. ``InterpreterPoolExecutor`` (3.14's API, ``interpreter``) where
  CPython ships ``_interpreters`` (3.13); elsewhere the name resolves, creating a pool
  raises NotImplementedError and it is left out of ``__all__``.
- The submodules ``thread``, ``process``, ``interpreter``, ``aio``, ``parallel``, loaded
  on first access.
- Not in ``__all__``, loaded on first access: ``install()``, ``uninstall()``,
  ``installed()`` (``_install``) and ``cpu_count() -> int`` (``_cpus``: the CPUs this
  process may use, used by ``max_workers="auto"``). ``__version__``: ``"0.1.0"``.

``__all__`` is a list, the same on every version (the stdlib's is a tuple up to 3.13 and
lists ``InvalidStateError`` only from 3.13), built on first access. An unknown attribute
raises ``AttributeError("module 'futures_impl' has no attribute '<name>'")``;
``dir(futures_impl)`` lists ``__all__``, the submodules, the lazily loaded functions and
the module's globals.

What importing costs: ``import futures_impl`` loads only ``_base``, so it imports neither
``multiprocessing``, ``logging``, ``threading`` nor ``typing``. ``futures_impl.aio``
imports ``asyncio`` (which imports ``concurrent.futures``). ``futures_impl.thread`` and
``futures_impl.process`` import at least what the stdlib's modules import on the same
interpreter, each ``multiprocessing`` import guarded so that ``futures_impl.process``
imports without ``_multiprocessing`` (creating a pool there raises NotImplementedError).
"""

from __future__ import annotations

# Re-exported (`X as X`: `__all__` is built lazily, see _all()).
from ._base import ALL_COMPLETED as ALL_COMPLETED
from ._base import FIRST_COMPLETED as FIRST_COMPLETED
from ._base import FIRST_EXCEPTION as FIRST_EXCEPTION
from ._base import BrokenExecutor as BrokenExecutor
from ._base import CancelledError as CancelledError
from ._base import Executor as Executor
from ._base import Future as Future
from ._base import InvalidStateError as InvalidStateError
from ._base import TimeoutError as TimeoutError
from ._base import as_completed as as_completed
from ._base import wait as wait

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (slow to import)
if TYPE_CHECKING:
    from typing import Any

    from . import aio as aio
    from . import parallel as parallel
    from ._cpus import cpu_count as cpu_count
    from ._install import install as install
    from ._install import installed as installed
    from ._install import uninstall as uninstall
    from .interpreter import InterpreterPoolExecutor as InterpreterPoolExecutor
    from .process import ProcessPoolExecutor as ProcessPoolExecutor
    from .thread import ThreadPoolExecutor as ThreadPoolExecutor

__version__ = "0.1.0"

# The public names; `__all__` itself is built on first access (below), because whether
# InterpreterPoolExecutor belongs there means importing _interpreters (~0.2 ms), which
# `import futures_impl` must not pay.
_PUBLIC = (
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "ALL_COMPLETED",
    "CancelledError",
    "TimeoutError",
    "InvalidStateError",
    "BrokenExecutor",
    "Future",
    "Executor",
    "wait",
    "as_completed",
    "ProcessPoolExecutor",
    "ThreadPoolExecutor",
)


def _all() -> list[str]:
    """`__all__`. As 3.14: InterpreterPoolExecutor is public where CPython's _interpreters
    module exists (3.13+); elsewhere the name still resolves, and creating a pool raises
    NotImplementedError."""
    names = list(_PUBLIC)
    try:
        __import__("_interpreters")  # a small extension module that loads nothing else
    except ImportError:
        pass
    else:
        names.append("InterpreterPoolExecutor")
    return names


# name -> the submodule that defines it; loaded on first access.
_LAZY = {
    "ThreadPoolExecutor": "thread",
    "ProcessPoolExecutor": "process",
    "InterpreterPoolExecutor": "interpreter",
    # The drop-in switch (docs/install.md); not in __all__, as the stdlib has no such names.
    "install": "_install",
    "uninstall": "_install",
    "installed": "_install",
    # The CPUs this process may use (affinity, cgroup quota): max_workers="auto" uses it.
    "cpu_count": "_cpus",
}
# Submodules reachable as attributes (futures_impl.aio) without an explicit import.
_LAZY_SUBMODULES = ("thread", "process", "interpreter", "aio", "parallel")


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "__all__":  # `from futures_impl import *` and readers of __all__ land here
        value = globals()["__all__"] = _all()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    public = {name for name in globals() if not name.startswith("_")}
    public -= {"TYPE_CHECKING", "annotations"}
    return sorted(public | set(_all()) | set(_LAZY) | set(_LAZY_SUBMODULES) | {"__version__"})
