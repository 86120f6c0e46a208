"""One private venv per interpreter, carrying the substitution hook.

Why: the suites start children with ``sys.executable`` and sometimes with
``-I``/``-E``; the only start-up code every one of those runs is site's
processing of ``.pth`` files in the interpreter's site-packages.  A venv gives
each interpreter a site-packages of our own (the real installation stays
untouched), and needs nothing from PyPI (``--without-pip``), so it works
offline and on a fresh machine.

How: ``ensure(interp)`` creates ``<cache>/<label>`` with
``python -m venv --without-pip`` if missing, then (re)writes
``_futures_impl_conformance.py`` and ``_futures_impl_conformance.pth`` in its
site-packages whenever their content differs from ``child/``'s.  The hook is
inert unless the runner's environment variables are set.  The cache defaults
to ``$FUTURES_IMPL_CONFORMANCE_CACHE`` or ``~/.cache/futures_impl-conformance``.
"""

from __future__ import annotations

import fcntl
import os
import subprocess

from .discover import Interpreter

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD_DIR = os.path.join(HERE, "child")
HOOK_NAME = "_futures_impl_conformance"
PTH_TEXT = f"import {HOOK_NAME}\n"


def default_cache() -> str:
    return os.environ.get("FUTURES_IMPL_CONFORMANCE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "futures_impl-conformance",
    )


def _write_if_changed(path: str, text: str) -> None:
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def ensure(interp: Interpreter, cache: str) -> str:
    """Return the venv's python for ``interp``, creating or refreshing the venv.

    Serialised across processes by a lock file (parallel self-checks share the cache).
    """
    os.makedirs(os.path.join(cache, "venvs"), exist_ok=True)
    with open(os.path.join(cache, "venvs", ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure(interp, cache)


def _ensure(interp: Interpreter, cache: str) -> str:
    venv = os.path.join(cache, "venvs", interp.label)
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        os.makedirs(os.path.dirname(venv), exist_ok=True)
        proc = subprocess.run(
            [interp.executable, "-m", "venv", "--without-pip", "--clear", venv],
            capture_output=True, text=True, timeout=300,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"could not create a venv for {interp.label}: {proc.stderr.strip()}"
            )
    # The venv's own site-packages: the first existing one under the venv
    # (never the base installation's, which a `-S` query would name).
    out = subprocess.run(
        [python, "-c",
         "import site, sys; print(sys.prefix); print('\\n'.join(site.getsitepackages()))"],
        capture_output=True, text=True, timeout=60,
    ).stdout.split("\n")
    prefix = os.path.realpath(out[0]) if out else ""
    candidates = [p for p in out[1:] if p and os.path.isdir(p)]
    site = next(
        (p for p in candidates if os.path.realpath(p).startswith(os.path.realpath(venv) + os.sep)),
        "",
    )
    if prefix != os.path.realpath(venv) or not site:
        raise RuntimeError(f"could not find the site-packages of venv {venv} ({out!r})")
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(CHILD_DIR, HOOK_NAME + ".py"), encoding="utf-8") as f:
        _write_if_changed(os.path.join(site, HOOK_NAME + ".py"), f.read())
    _write_if_changed(os.path.join(site, HOOK_NAME + ".pth"), PTH_TEXT)
    return python
