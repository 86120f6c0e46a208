"""Finds the local interpreters and, for each, a concurrent.futures test suite.

Why: the conformance claim is per interpreter: futures_impl must behave like
*that* interpreter's stdlib, judged by a suite that runs there.

How: interpreters come from pyenv (``$PYENV_ROOT`` or ``pyenv root``, then
``versions/*/bin/python``) and from ``python3.X`` on PATH (pyenv's shims are
skipped, duplicates such as /bin vs /usr/bin are merged by the real path of
the interpreter), plus ``pypy3`` on PATH (Debian's ``pypy3``, whose own
suite comes with ``pypy3-lib-testsuite``).  CPython and PyPy 3.9+ count.
Each is asked (one subprocess) for its version, prefix and whether its own
``test.test_concurrent_futures`` exists.  An interpreter without its own suite borrows a system one
(``/usr/lib/python3.Y/test/test_concurrent_futures``, e.g. Debian's
``libpython3.11-testsuite``) of its own minor version or the one before
(Debian's 3.11 suite runs on 3.11 and 3.12); otherwise it is reported with how
to get one, and skipped.  Labels (``pyenv-3.11.7``, ``system-3.11.2``; suite
``own`` or ``debian-3.11``) name the pairs in reports and in
known_differences.txt.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

MIN_VERSION = (3, 9)

_QUERY = r"""
import json, sys, platform, importlib.util
try:
    spec = importlib.util.find_spec("test.test_concurrent_futures")
    suite = None
    if spec is not None:
        locations = spec.submodule_search_locations
        suite = locations[0] if locations else spec.origin
except Exception:
    suite = None
print(json.dumps({
    "impl": platform.python_implementation(),
    "pypy": ".".join(map(str, getattr(sys, "pypy_version_info", ())[:3])),
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:2]),
    "executable": sys.executable,
    "base_prefix": sys.base_prefix,
    "suite": suite,
}))
"""


@dataclass
class Interpreter:
    label: str  # e.g. pyenv-3.11.7, system-3.11.2
    executable: str
    version: str
    version_info: tuple[int, int]
    base_prefix: str
    own_suite: str | None


@dataclass
class Pair:
    interp: Interpreter
    suite: str  # path of test_concurrent_futures.py or of the package directory
    suite_label: str  # "own", "debian-3.11", "custom-..."

    @property
    def key(self) -> str:
        return f"{self.interp.label}:{self.suite_label}"


def pyenv_root() -> str | None:
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        try:
            root = subprocess.run(
                ["pyenv", "root"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = None
    if not root:
        root = os.path.expanduser("~/.pyenv")
    return root if os.path.isdir(root) else None


def _candidates() -> list[str]:
    found = []
    root = pyenv_root()
    if root:
        for path in sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python"))):
            name = os.path.basename(os.path.dirname(os.path.dirname(path)))
            if re.match(r"^\d+\.\d+", name):  # CPython builds, not pypy/miniconda/venvs
                found.append(path)
    shims = os.path.join(root, "shims") if root else None
    for minor in range(MIN_VERSION[1], 20):
        for directory in os.environ.get("PATH", "").split(os.pathsep):
            if not directory or (shims and os.path.abspath(directory) == os.path.abspath(shims)):
                continue
            path = os.path.join(directory, f"python3.{minor}")
            if os.path.isfile(path) and os.access(path, os.X_OK):
                found.append(path)
    pypy = shutil.which("pypy3")  # Debian's pypy3; its suite: pypy3-lib-testsuite
    if pypy:
        found.append(pypy)
    return found


def query(executable: str) -> Interpreter | None:
    try:
        proc = subprocess.run(
            [executable, "-c", _QUERY], capture_output=True, text=True, timeout=60
        )
        info = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    if info["impl"] not in ("CPython", "PyPy") or tuple(info["version_info"]) < MIN_VERSION:
        return None
    if info["impl"] == "PyPy":  # e.g. pypy3.9-7.3.11: PyPy's version names the stdlib it ships
        major, minor = info["version_info"]
        return Interpreter(
            label=f"pypy{major}.{minor}-{info['pypy']}",
            executable=executable,
            version=info["version"],
            version_info=(major, minor),
            base_prefix=info["base_prefix"],
            own_suite=info["suite"],
        )
    root = pyenv_root()
    in_pyenv = root is not None and os.path.realpath(info["base_prefix"]).startswith(
        os.path.realpath(root) + os.sep
    )
    label = "{}-{}".format("pyenv" if in_pyenv else "system", info["version"])
    return Interpreter(
        label=label,
        executable=executable,
        version=info["version"],
        version_info=tuple(info["version_info"]),  # type: ignore[arg-type]
        base_prefix=info["base_prefix"],
        own_suite=info["suite"],
    )


def interpreters() -> list[Interpreter]:
    seen: set[str] = set()
    result: list[Interpreter] = []
    for path in _candidates():
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        interp = query(path)
        if interp is None or any(i.label == interp.label for i in result):
            continue
        result.append(interp)
    result.sort(key=lambda i: (i.version_info, i.label.startswith("pyenv"), i.label))
    return result


def system_suites() -> list[tuple[tuple[int, int], str]]:
    """(version, path) of suites installed by the system (Debian's libpython3.X-testsuite)."""
    suites = []
    for path in sorted(glob.glob("/usr/lib/python3.*/test/test_concurrent_futures*")):
        if path.endswith(".pyc"):
            continue
        match = re.search(r"python3\.(\d+)/", path)
        if match and (path.endswith(".py") or os.path.isfile(os.path.join(path, "__init__.py"))):
            suites.append(((3, int(match.group(1))), path))
    return suites


def suite_label(interp: Interpreter, suite: str) -> str:
    if interp.own_suite and os.path.realpath(suite) == os.path.realpath(interp.own_suite):
        return "own"
    match = re.search(r"python(3\.\d+)/test/test_concurrent_futures", suite)
    if suite.startswith("/usr/lib/") and match:
        return f"debian-{match.group(1)}"
    if match:
        return f"suite-{match.group(1)}"
    return "custom"


def pair_for(
    interp: Interpreter, suite_override: str | None = None
) -> tuple[Pair | None, str]:
    """The (interpreter, suite) pair to run, or None and a message saying how to get a suite."""
    if suite_override:
        path = os.path.abspath(suite_override)
        return Pair(interp, path, suite_label(interp, path)), ""
    if interp.own_suite:
        return Pair(interp, interp.own_suite, "own"), ""
    major, minor = interp.version_info
    if interp.label.startswith("pypy"):
        return None, (
            f"no concurrent.futures test suite for {interp.label} ({interp.executable}): "
            "on Debian/Ubuntu `apt-get install pypy3-lib-testsuite`, or pass --suite PATH; skipped"
        )
    for (smajor, sminor), path in sorted(system_suites(), reverse=True):
        if smajor == major and sminor in (minor, minor - 1):
            return Pair(interp, path, suite_label(interp, path)), ""
    hint = (
        f"no concurrent.futures test suite for {interp.label} ({interp.executable}): "
        f"on Debian/Ubuntu `apt-get install libpython3.{minor}-testsuite` (or "
        f"libpython3.{minor - 1}-testsuite, whose suite also runs on 3.{minor}), "
        "or pass --suite PATH/test_concurrent_futures[.py]; skipped"
    )
    return None, hint
