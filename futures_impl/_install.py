"""The drop-in switch: ``concurrent.futures`` resolves to futures_impl for the whole process.

Why: code written for the stdlib names ``concurrent.futures`` directly, and asyncio
checks ``isinstance(future, concurrent.futures.Future)`` (``wrap_future``,
``run_in_executor``) and ``isinstance(executor, concurrent.futures.ThreadPoolExecutor)``
(``set_default_executor``). ``install()`` makes every such name mean futures_impl.

How (``install()``; ``uninstall()`` undoes each step it recorded):

* ``sys.modules``: ``concurrent.futures`` becomes the ``futures_impl`` module object, and
  ``concurrent.futures.X`` the ``futures_impl.X`` object: the same objects, so
  ``mock.patch`` on either name patches both. A stdlib submodule that was already
  imported is replaced at once; the others are answered on demand by a meta-path finder
  placed first (its loader imports ``futures_impl.X`` and puts that object into
  ``sys.modules``, which the import system supports), so installing does not import the
  executors or ``multiprocessing``.
* The ``concurrent`` package's ``futures`` attribute. asyncio (3.9-3.13) does ``import
  concurrent.futures`` and looks up ``concurrent.futures.Future``, ``.ThreadPoolExecutor``,
  ``.CancelledError``... at each call, so this one attribute switches asyncio's
  ``wrap_future``, ``run_in_executor``, ``set_default_executor``, ``to_thread``,
  ``run_coroutine_threadsafe`` and the exception conversion of ``wrap_future``.
* Modules imported earlier that hold the stdlib *module* (``from concurrent import
  futures``): those global names are rebound to the futures_impl module. Names bound to
  stdlib classes or functions (``from concurrent.futures import Future``) are left alone:
  rebinding them would make ``isinstance`` fail on objects already made from them.
* spawn and forkserver children: ``multiprocessing.spawn.get_preparation_data`` (what the
  parent sends a child before the process object) gets one more entry whose unpickling
  runs ``install()`` in the child, before the child imports its main module or unpickles
  its target. Fork children inherit the installed state.
* Stdlib futures made before install() (a stdlib pool created earlier, a loop's default
  executor): asyncio's ``wrap_future`` would now refuse them, so it is wrapped to route
  those alone to ``futures_impl.aio``'s ``wrap_future``; likewise
  ``BaseEventLoop.set_default_executor`` accepts a stdlib pool made before install().
  Only if the stdlib's module was loaded before install() (otherwise no such object
  can exist).

The last two patch their module when it is imported (or at install(), if it already
is), so installing imports neither multiprocessing nor asyncio.

Start-up (the ``.pth`` route): ``python -m futures_impl --install-pth`` writes
``futures_impl_install.pth`` into site-packages; each interpreter started from there
then calls ``startup()``, which installs when ``FUTURES_IMPL_INSTALL`` is set (not empty,
not ``0``), whatever ``-E``/``-I`` say (they hide only ``PYTHON*`` variables); only ``-S``
skips ``.pth`` files. See docs/install.md.

State: ``_state`` and the finder are written only under ``_lock`` (install/uninstall);
the import system reads the finder's fields under its own per-module locks.
"""

from __future__ import annotations

import _thread
import os
import sys
import types
from importlib import import_module
from importlib.machinery import ModuleSpec, PathFinder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["install", "uninstall", "installed", "startup", "ENV_VAR"]

ENV_VAR = "FUTURES_IMPL_INSTALL"
PACKAGE = "futures_impl"
ALIAS = "concurrent.futures"
_PREP_KEY = "futures_impl_install"

_lock = _thread.RLock()
_MISSING = object()


class _State:
    """What install() changed, so that uninstall() can put it back."""

    def __init__(self) -> None:
        self.modules: dict[str, object] = {}  # sys.modules name -> previous value or _MISSING
        self.package_attr: object = _MISSING  # concurrent.futures before install
        self.globals: list[tuple[dict[str, Any], str, object, object]] = []  # ns, name, old, new
        self.patched: list[tuple[Any, str, object, object]] = []  # module or class, attr..
        self.std_future: type | None = None  # the stdlib's Future, if it was imported
        self.std_thread_pool: type | None = None  # its ThreadPoolExecutor, likewise
        self.finder: _Finder | None = None


_state: _State | None = None  # not None while installed; guarded by _lock


def _is_alias(name: str) -> bool:
    return name == ALIAS or name.startswith(ALIAS + ".")


def _target(name: str) -> str:
    return PACKAGE + name[len(ALIAS):]


class _AliasLoader:
    """Loads ``concurrent.futures[.X]`` as the very module object ``futures_impl[.X]``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # a placeholder: exec_module swaps in the real module

    def exec_module(self, module: types.ModuleType) -> None:
        sys.modules[module.__name__] = import_module(self.target)


class _PatchAfterLoad:
    """Wraps a loader: runs ``after(module)`` once the module has executed."""

    def __init__(self, loader: Any, after: Callable[[types.ModuleType], None]) -> None:
        self._loader = loader
        self._after = after

    def create_module(self, spec: ModuleSpec) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        self._after(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ...
        return getattr(self._loader, name)


class _Finder:
    """First on ``sys.meta_path`` while installed: the aliases, and the modules to patch."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> ModuleSpec | None:
        if _is_alias(fullname):
            loader = _AliasLoader(_target(fullname))
            return ModuleSpec(fullname, loader, is_package=fullname == ALIAS)  # type: ignore[arg-type]
        patch = _POST_IMPORT.get(fullname)
        if patch is None:
            return None
        spec = self._find_with_the_others(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchAfterLoad(spec.loader, patch)  # type: ignore[assignment]
        return spec

    def _find_with_the_others(self, fullname: str, path: Any, target: Any) -> ModuleSpec | None:
        """The spec the finders after this one would give (the import system's own search)."""
        finders = list(sys.meta_path)
        after = finders[finders.index(self) + 1:] if self in finders else [PathFinder]
        for finder in after:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is not None:
                spec: ModuleSpec | None = find_spec(fullname, path, target)
                if spec is not None:
                    return spec
        return None


# --------------------------------------------------------------- spawn/forkserver children

_CHILD_CODE = """\
import sys
try:
    import futures_impl._install as _m
except ImportError:  # prepare() sets the parent's sys.path only after this runs
    sys.path.insert(0, {root!r})
    import futures_impl._install as _m
_m.install()
"""


class _InstallInChild:
    """Pickles as a call that installs futures_impl in the process that unpickles it."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return exec, (_CHILD_CODE.format(root=root),)


def _set_locked(state: _State, module: Any, name: str, new: object) -> None:
    """Set module.name (or class.name), recorded for uninstall() (caller holds _lock)."""
    state.patched.append((module, name, getattr(module, name), new))
    setattr(module, name, new)


def _patch_spawn(spawn: types.ModuleType) -> None:
    with _lock:
        state = _state
        if state is None or any(m is spawn for m, _, _, _ in state.patched):
            return
        original = getattr(spawn, "get_preparation_data", None)
        if original is None:  # still being imported by another thread
            return

        def get_preparation_data(name: str) -> dict[str, Any]:
            data: dict[str, Any] = original(name)
            if _state is not None:
                data[_PREP_KEY] = _InstallInChild()
            return data

        get_preparation_data.__wrapped__ = original  # type: ignore[attr-defined]
        _set_locked(state, spawn, "get_preparation_data", get_preparation_data)


# ------------------------------------------------------- asyncio and stdlib futures made before


def _patch_asyncio_futures(module: types.ModuleType) -> None:
    """asyncio's wrap_future (so run_in_executor) accepts a stdlib future made before install().

    Once installed, asyncio asserts ``isinstance(future, futures_impl.Future)``, which a
    stdlib future (from a stdlib pool created before install(), such as a loop's default
    executor) fails. Those alone are routed to futures_impl.aio's wrap_future, which
    chains any Future the same way (results, exceptions, cancellation both ways).
    """
    with _lock:
        state = _state
        std_future = state.std_future if state is not None else None
        if state is None or std_future is None:
            return  # no stdlib Future class was ever loaded: none can exist
        if any(m is module for m, _, _, _ in state.patched):
            return
        original = getattr(module, "wrap_future", None)
        if original is None:  # still being imported by another thread
            return

        def wrap_future(future: Any, *, loop: Any = None) -> Any:
            if isinstance(future, std_future) and _state is not None:
                from ._aio.interop import wrap_future as wrap_any

                if loop is None:
                    loop = module.events.get_event_loop()
                return wrap_any(future, loop)
            return original(future, loop=loop)

        wrap_future.__wrapped__ = original  # type: ignore[attr-defined]
        wrap_future.__doc__ = original.__doc__
        _set_locked(state, module, "wrap_future", wrap_future)
        package = sys.modules.get("asyncio")
        if package is not None and getattr(package, "wrap_future", None) is original:
            _set_locked(state, package, "wrap_future", wrap_future)


def _patch_asyncio_base_events(module: types.ModuleType) -> None:
    """set_default_executor() accepts a stdlib ThreadPoolExecutor made before install().

    asyncio checks ``isinstance(executor, concurrent.futures.ThreadPoolExecutor)``, now
    futures_impl's class; for a stdlib pool the wrapper does what the method does once
    the check passes: it makes the pool the loop's default executor.
    """
    with _lock:
        state = _state
        std_pool = state.std_thread_pool if state is not None else None
        loop_class = getattr(module, "BaseEventLoop", None)
        original = getattr(loop_class, "set_default_executor", None)
        if state is None or std_pool is None or original is None:
            return
        if any(m is loop_class for m, _, _, _ in state.patched):
            return

        def set_default_executor(self: Any, executor: Any) -> None:
            if isinstance(executor, std_pool) and _state is not None:
                self._default_executor = executor
                return
            original(self, executor)

        set_default_executor.__wrapped__ = original  # type: ignore[attr-defined]
        set_default_executor.__doc__ = original.__doc__
        _set_locked(state, loop_class, "set_default_executor", set_default_executor)


# Modules patched right after they load (or at install(), if already loaded).
_POST_IMPORT: dict[str, Callable[[types.ModuleType], None]] = {
    "multiprocessing.spawn": _patch_spawn,
    "asyncio.futures": _patch_asyncio_futures,
    "asyncio.base_events": _patch_asyncio_base_events,
}


# ---------------------------------------------------------------------------- install


def _rebind_module_references(state: _State, swap: dict[int, types.ModuleType]) -> None:
    """Rebind module globals that hold a replaced stdlib module to its futures_impl one."""
    for name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType) or id(module) in swap:
            continue
        if name.startswith(PACKAGE + ".") or name == PACKAGE or _is_alias(name):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            new = swap.get(id(value))
            if new is not None and namespace.get(key) is value:
                namespace[key] = new
                state.globals.append((namespace, key, value, new))


def install() -> None:
    """Make ``concurrent.futures`` (and its submodules) futures_impl, process-wide.

    Idempotent. Undo with ``uninstall()``. See the module doc for what is switched.

    ``concurrent.futures`` and ``concurrent.futures._base``/``.thread``/``.process``
    resolve to futures_impl's module objects for the whole process: asyncio, earlier
    ``from concurrent import futures`` references and spawn/forkserver children included.
    ``python -m futures_impl --install-pth | --remove-pth | --status [--dir DIR]`` manages
    the opt-in start-up hook, read when ``FUTURES_IMPL_INSTALL`` is set.
    """
    global _state
    with _lock:
        if _state is not None:
            return
        import concurrent

        import futures_impl

        state = _State()
        previous = {n: m for n, m in list(sys.modules.items()) if _is_alias(n)}
        swap: dict[int, types.ModuleType] = {}  # id(stdlib module) -> ours
        for name, old in previous.items():
            try:
                new = import_module(_target(name))
            except ImportError:
                continue  # no futures_impl counterpart: the stdlib's stays
            state.modules[name] = old
            sys.modules[name] = new
            if isinstance(old, types.ModuleType) and old is not new:
                swap[id(old)] = new
        if ALIAS not in state.modules:
            state.modules[ALIAS] = previous.get(ALIAS, _MISSING)
            sys.modules[ALIAS] = futures_impl
        state.package_attr = concurrent.__dict__.get("futures", _MISSING)
        concurrent.futures = futures_impl
        if swap:
            _rebind_module_references(state, swap)
        std_future = getattr(previous.get(ALIAS + "._base"), "Future", None)
        if isinstance(std_future, type):
            state.std_future = std_future
        std_pool = getattr(previous.get(ALIAS + ".thread"), "ThreadPoolExecutor", None)
        if isinstance(std_pool, type):
            state.std_thread_pool = std_pool
        state.finder = _Finder()
        sys.meta_path.insert(0, state.finder)
        _state = state
        for name, patch in _POST_IMPORT.items():
            module = sys.modules.get(name)
            if isinstance(module, types.ModuleType):
                patch(module)


def uninstall() -> None:
    """Undo ``install()``: the stdlib's ``concurrent.futures`` comes back.

    Modules that imported ``concurrent.futures`` names while installed keep the objects
    they were given (futures_impl's); asyncio looks them up at each call and so follows.
    """
    global _state
    with _lock:
        state = _state
        if state is None:
            return
        _state = None
        if state.finder is not None and state.finder in sys.meta_path:
            sys.meta_path.remove(state.finder)
        for module, attr, old_value, new_value in reversed(state.patched):
            # the package too: asyncio re-exports wrap_future (`from .futures import *`)
            parent = sys.modules.get(getattr(module, "__name__", "").rpartition(".")[0])
            for owner in (module, parent):
                if owner is not None and getattr(owner, attr, None) is new_value:
                    setattr(owner, attr, old_value)
        for namespace, key, old, new in reversed(state.globals):
            if namespace.get(key) is new:
                namespace[key] = old
        for name in [n for n in sys.modules if _is_alias(n)]:
            old = state.modules.get(name, _MISSING)
            if old is _MISSING:
                del sys.modules[name]  # an alias made while installed
            else:
                sys.modules[name] = old  # type: ignore[assignment]
        import concurrent

        if state.package_attr is _MISSING:
            concurrent.__dict__.pop("futures", None)
        else:
            setattr(concurrent, "futures", state.package_attr)  # noqa: B010


def installed() -> bool:
    """True between ``install()`` and ``uninstall()``."""
    return _state is not None


def startup() -> None:
    """Called by ``futures_impl_install.pth`` at interpreter start: install() if asked to."""
    if os.environ.get(ENV_VAR, "") not in ("", "0"):
        install()
