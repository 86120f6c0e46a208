"""Every program in docs/process.md's "Robust pool options" part runs as documented.

Each ```python block of that part (up to the next `## ` heading) is a complete program: it
is written to a file and run with `sys.executable` in its own session (process group),
with the repository on PYTHONPATH and a bounded timeout. It must exit 0, print no
traceback (the examples catch what they expect; workers must not print any, which is
what `stop_on_interrupt` promises), print what the `<!-- expect: REGEX -->` lines right
after the block say (each pattern searched in its stdout), and leave no process of its
group behind (no orphaned worker, no left-over manager). A block preceded by a
`<!-- not run` comment is shown output, not a program, and is skipped; so is any
non-python block.

A block that uses an option or name of issue 14 not built yet is skipped, naming it (the
docs were written from the agreed API while the features were being built); once the
feature exists the block runs.
"""

from __future__ import annotations

import inspect
import os
import re
import signal
import subprocess
import sys

import pytest
from _support import wait_until

import futures_impl
import futures_impl.process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "process.md")
PART = "## Robust pool options"
RUN_TIMEOUT = 90.0

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="checks leftovers via /proc"),
]


EXPECT = re.compile(r"^<!-- expect: (.*) -->$")


def _blocks() -> list[tuple[str, str, list[str]]]:
    """(id, code, expected patterns) of each runnable ```python block of the part, in
    order; the patterns are the `<!-- expect: REGEX -->` lines right after the block."""
    with open(DOC, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    start = lines.index(PART)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    out: list[tuple[str, str, list[str]]] = []
    section = "intro"
    counts: dict[str, int] = {}
    i = start + 1
    while i < end:
        line = lines[i]
        if line.startswith("### "):
            section = re.sub(r"[^a-z0-9]+", "-", line[4:].lower()).strip("-")
        if line.startswith("```"):
            lang = line[3:].strip()
            j = next(k for k in range(i + 1, end) if lines[k].startswith("```"))
            previous = next((lines[k] for k in range(i - 1, start, -1) if lines[k].strip()), "")
            if lang == "python" and not previous.startswith("<!-- not run"):
                counts[section] = counts.get(section, 0) + 1
                expects = []
                k = j + 1
                while k < end and EXPECT.match(lines[k]):
                    expects.append(EXPECT.match(lines[k]).group(1))  # type: ignore[union-attr]
                    k += 1
                code = "\n".join(lines[i + 1 : j]) + "\n"
                out.append((f"{section}-{counts[section]}", code, expects))
            i = j
        i += 1
    return out


BLOCKS = _blocks()

_PROCESS_OPTIONS = (
    "task_timeout",
    "cancel_running",
    "survive_worker_death",
    "serializer",
    "worker_state",
    "worker_exit",
    "stop_on_interrupt",
    "cancel_on_error",
)
_PROCESS_NAMES = ("TaskTimeoutError", "WorkerDiedError", "worker_state", "pass_worker_state")


def _missing(code: str) -> list[str]:
    """The issue-14 options and names the block uses that futures_impl does not have yet."""
    ppe = inspect.signature(futures_impl.process.ProcessPoolExecutor).parameters
    tpe = inspect.signature(futures_impl.ThreadPoolExecutor).parameters
    missing = [f"{o}=" for o in _PROCESS_OPTIONS if f"{o}=" in code and o not in ppe]
    if "wait_at_exit=" in code and "wait_at_exit" not in tpe:
        missing.append("ThreadPoolExecutor(wait_at_exit=)")
    if ".submit_with(" in code and not hasattr(
        futures_impl.process.ProcessPoolExecutor, "submit_with"
    ):
        missing.append("submit_with()")
    for name in _PROCESS_NAMES:
        if re.search(rf"\b{name}\b", code) and not hasattr(futures_impl.process, name):
            missing.append(f"futures_impl.process.{name}")
    if "cloudpickle" in code:
        try:
            import cloudpickle  # noqa: F401
        except ImportError:
            missing.append("the cloudpickle package")
    return missing


def _group_members(pgid: int) -> list[str]:
    """Live (not zombie) processes of process group `pgid`: "pid state cmdline"."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            found.append(f"{entry} {state} {stat[: stat.rindex(')') + 1]}")
    return found


def test_the_part_has_examples() -> None:
    sections = {ident.rsplit("-", 1)[0] for ident, _, _ in BLOCKS}
    assert len(BLOCKS) >= 9, [ident for ident, _, _ in BLOCKS]
    assert len(sections) >= 7, sections
    for ident, code, expects in BLOCKS:
        assert 'if __name__ == "__main__":' in code, ident
        assert expects, f"{ident}: no <!-- expect: --> line says what it prints"
        for pattern in expects:
            re.compile(pattern)


@pytest.mark.parametrize(("code", "expects"), [b[1:] for b in BLOCKS], ids=[b[0] for b in BLOCKS])
def test_example_runs(code: str, expects: list[str], tmp_path: object) -> None:
    missing = _missing(code)
    if missing:
        pytest.skip("not built yet: " + ", ".join(missing))
    path = os.path.join(str(tmp_path), "example.py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(code)
    env = {**os.environ, "PYTHONPATH": ROOT}
    env.pop("PYTHONWARNINGS", None)
    proc = subprocess.Popen(
        [sys.executable, path],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the example did not end within {RUN_TIMEOUT} s\n{out}\n{err}")
    try:
        assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{out}\nstderr:\n{err}"
        assert "Traceback" not in err, err
        for pattern in expects:
            assert re.search(pattern, out), f"{pattern!r} not in what it printed:\n{out}"
        wait_until(lambda: not _group_members(proc.pid), "the example's processes to be gone")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
