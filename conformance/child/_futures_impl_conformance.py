"""Import hook that the conformance runner installs in each of its private venvs.

Why: CPython's concurrent.futures suites import ``concurrent.futures`` and its
submodules by name, in the test process *and* in every child they start
(fork/forkserver/spawn workers, ``script_helper`` subprocesses run with ``-I``
or ``-E``).  ``-I``/``-E`` ignore PYTHONPATH, so a sitecustomize on PYTHONPATH
would silently fall back to the real stdlib there.  A ``.pth`` file in the
venv's site-packages is processed by every interpreter started from that venv,
whatever its flags (only ``-S`` skips it), and ``os.environ`` stays readable
under ``-E``/``-I``: so the switch is an environment variable.

How: the venv's ``_futures_impl_conformance.pth`` imports this module, which
does nothing unless one of these variables is set:

* ``FUTURES_IMPL_CONFORMANCE_ROOT=DIR``: ``futures_impl`` is imported from DIR
  (and only from there), and ``concurrent.futures`` and every
  ``concurrent.futures.X`` resolve to the very module objects
  ``futures_impl`` and ``futures_impl.X`` (so ``mock.patch`` on either name
  patches the same object), with no fallback: a missing ``futures_impl.X`` is
  an ImportError, never the stdlib.  The package's public drop-in switch,
  ``futures_impl.install()`` (docs/install.md), does it, so the suites test
  the supported feature.  A stand-in package without ``futures_impl._install``
  (the runner's self-check stubs) gets this module's own minimal alias
  instead: a meta-path finder placed first answers for those names; its loader
  imports the real module and puts it into ``sys.modules`` in place of the
  placeholder, which the import system explicitly supports.
* ``FUTURES_IMPL_CONFORMANCE_SUITE=PATH``: ``test.test_concurrent_futures`` is
  loaded from PATH (a .py file or a package directory), so a suite taken from
  another installation (Debian's 3.11 suite on pyenv 3.11/3.12) is importable
  by that name in the test process and in spawn/forkserver children, while the
  rest of ``test`` (``test.support``) stays the running interpreter's.

``STATE`` records what the hook did in this process (the runner's probe and
worker report it to prove the substitution held).  Runs on Python 3.9+, stdlib
only.
"""

from __future__ import annotations

import os
import sys
import types
from importlib import import_module
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import spec_from_file_location

ROOT_VAR = "FUTURES_IMPL_CONFORMANCE_ROOT"
SUITE_VAR = "FUTURES_IMPL_CONFORMANCE_SUITE"
PACKAGE = "futures_impl"
ALIAS = "concurrent.futures"
SUITE_MODULE = "test.test_concurrent_futures"

# Written only by this module, at import time and from the import system
# (which holds the per-module import lock while a loader runs).
ALIASED: list[str] = []  # the concurrent.futures[.X] names answered so far
STATE: dict[str, object] = {
    "active": False, "root": None, "suite": None, "aliased": ALIASED, "via": None,
}


class _AliasLoader:
    """Loads ``concurrent.futures[.X]`` as the existing ``futures_impl[.X]``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # a throwaway placeholder; exec_module replaces it

    def exec_module(self, module: types.ModuleType) -> None:
        real = import_module(self.target)
        sys.modules[module.__name__] = real
        ALIASED.append(module.__name__)


class _Finder:
    """Meta-path finder answering for futures_impl, the alias and the suite."""

    def __init__(self, root: str | None, suite: str | None) -> None:
        self.root = root
        self.suite = suite
        self.alias = False  # answer for concurrent.futures[.X] (when install() is missing)

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        if self.root is not None:
            if fullname == PACKAGE:
                spec = PathFinder.find_spec(fullname, [self.root])
                if spec is None:
                    raise ImportError(
                        f"conformance hook: no {PACKAGE} package in {self.root}",
                        name=fullname,
                    )
                return spec
            if self.alias and (fullname == ALIAS or fullname.startswith(ALIAS + ".")):
                target_name = PACKAGE + fullname[len(ALIAS):]
                is_pkg = fullname == ALIAS
                loader = _AliasLoader(target_name)
                return ModuleSpec(fullname, loader, is_package=is_pkg)  # type: ignore[arg-type]
        if self.suite is not None and fullname == SUITE_MODULE:
            if os.path.isdir(self.suite):
                return spec_from_file_location(
                    fullname,
                    os.path.join(self.suite, "__init__.py"),
                    submodule_search_locations=[self.suite],
                )
            return spec_from_file_location(fullname, self.suite)
        return None


def _install() -> None:
    root = os.environ.get(ROOT_VAR) or None
    suite = os.environ.get(SUITE_VAR) or None
    if root is None and suite is None:
        return
    if root is not None:
        root = os.path.abspath(root)
    if suite is not None:
        suite = os.path.abspath(suite)
    STATE.update(active=root is not None, root=root, suite=suite)
    finder = _Finder(root, suite)
    sys.meta_path.insert(0, finder)
    if root is None:
        return
    try:
        public = import_module(PACKAGE + "._install")
        public.install()
    except Exception:  # a stand-in package without it, or one that fails to import
        for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
            del sys.modules[name]  # nothing imports it this early, but be sure
        finder.alias = True
        STATE.update(via="alias")
    else:
        STATE.update(via="install()")


_install()
