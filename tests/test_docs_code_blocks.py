"""Every code block of README.md, examples/README.md and docs/**/*.md runs as the page shows it.

The blocks are found by tests/_doc_blocks.py, one test per block (id ``page:line``), so xdist
runs them in parallel. ```` ```python ```` blocks are complete programs: each is written to a
file in a fresh temporary directory (the cwd) and run with ``sys.executable`` in its own
session, the repository on PYTHONPATH, never under coverage, with a timeout (the whole
session killed on expiry); it must exit 0 and print no traceback. ```` ```pycon ````
blocks are doctests (``python -m doctest``, ELLIPSIS on). ``text``/``console``/``bash``/
``toml`` blocks are shown, not run; any other tag, or none, fails
``test_every_block_has_a_known_tag``.

``<!-- run: ... -->`` directives (the line right before the fence; see tests/_doc_blocks.py and
/work/coord conventions): ``server`` starts examples.server (in a thread of this process, on a
free port) and exports its URL as ``EXAMPLES_SERVER``; ``needs MODULE`` and ``needs
python>=3.X`` skip when missing; ``skip REASON`` skips. The ```python blocks of docs/process.md's
"Robust pool options" part are skipped here: tests/test_process_docs_examples.py runs them,
with more checks (their ``expect`` lines, no process left behind).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import _doc_blocks
import pytest
from _doc_blocks import EXECUTED, NEEDS_PYTHON, ROOT, SHOWN, Block

import examples.server

RUN_TIMEOUT = 60.0
# A block runs in the interpreter its reader has: without coverage's start-up hook (the
# coverage session exports these to measure child processes). That hook imports modules
# before the block's first line (embedding.md's trimmed-stdlib demo asserts that logging is
# not imported yet) and its tracer does not load in subinterpreters (interpreter.md's demo
# then prints warnings and tracebacks on stderr, which fail the block).
UNTRACED = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")
BLOCKS = _doc_blocks.collect()
RUN = [b for b in BLOCKS if b.lang in EXECUTED]

# (page, part): blocks another test runs, with checks of its own.
DELEGATED = {("docs/process.md", "## Robust pool options"): "tests/test_process_docs_examples.py"}

pytestmark = pytest.mark.timeout(2 * RUN_TIMEOUT + 30)


def _part(block: Block) -> str:
    """The ``## `` heading the block is under."""
    with open(os.path.join(ROOT, block.page), encoding="utf-8") as fh:
        lines = fh.read().splitlines()[: block.line]
    return next((ln for ln in reversed(lines) if ln.startswith("## ")), "")


def _skip_reason(block: Block) -> str:
    for d in block.directives:
        if d.startswith("skip "):
            return d[5:].strip()
        if d.startswith("needs "):
            need = d[6:].strip()
            m = NEEDS_PYTHON.match(need)
            if m and sys.version_info < (3, int(m.group(1))):
                return f"needs Python 3.{m.group(1)}+"
            if not m and importlib.util.find_spec(need) is None:
                return f"needs {need} (not installed)"
    delegate = DELEGATED.get((block.page, _part(block)))
    if delegate and block.lang == "python":
        return f"run by {delegate}"
    return ""


def run_program(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run `args` in its own session; on timeout kill the session (pool workers included)."""
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        return -1, out, err + f"\n[collector] killed after {RUN_TIMEOUT} s"
    return proc.returncode, out, err


@contextlib.contextmanager
def _server(block: Block) -> Iterator[dict[str, str]]:
    """``EXAMPLES_SERVER`` for a ``server`` block; such a block that made no request to it
    fails (it ignored the variable, or fetched nothing: the directive would be wrong)."""
    if "server" in block.directives:
        with examples.server.serving() as server:
            yield {"EXAMPLES_SERVER": server.url}
            assert server.requests > 0, f"{block.id}: <!-- run: server --> but no request came"
    else:
        yield {}


def test_every_block_has_a_known_tag() -> None:
    bad = [f"{b.id}: {b.error or f'language tag {b.lang!r}'}" for b in BLOCKS
           if b.error or b.lang not in EXECUTED + SHOWN]
    assert not bad, (f"blocks must be tagged one of {EXECUTED + SHOWN} (python/pycon are run), "
                     "with valid <!-- run: --> directives:\n" + "\n".join(bad))


def execute(block: Block, tmp_path: Path) -> tuple[int, str, str]:
    """Run one python/pycon block as the collector does: (exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and k not in UNTRACED}
    env["PYTHONPATH"] = ROOT
    if block.lang == "python":
        (tmp_path / "block.py").write_text(block.code, encoding="utf-8")
        args = [sys.executable, "block.py"]
    else:
        (tmp_path / "block.txt").write_text(block.code, encoding="utf-8")
        args = [sys.executable, "-m", "doctest", "-o", "ELLIPSIS", "block.txt"]
    with _server(block) as extra:
        return run_program(args, tmp_path, {**env, **extra})


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_block_runs(block: Block, tmp_path: Path) -> None:
    reason = _skip_reason(block)
    if reason:
        pytest.skip(reason)
    code, out, err = execute(block, tmp_path)
    report = f"{block.id} ({block.lang}) exit {code}\n--- stdout\n{out}\n--- stderr\n{err}"
    assert code == 0, report
    assert "Traceback (most recent call last)" not in err, report


# --------------------------------------------------------------------------- the parser itself


SAMPLE = """\
# Page

```python
print(1)
```

1. a list item

   <!-- run: server; needs python>=3.11 -->
   ```pycon
   >>> 1 + 1
   2
   ```

<!-- run: skip the reason -->
```
untagged
```

<!-- run: sometimes -->
```text
out
```
~~~bash
```
~~~
```python
never closed
"""


def test_parser_finds_blocks_directives_and_errors() -> None:
    blocks = _doc_blocks.parse(SAMPLE, "p.md")
    assert [(b.line, b.lang) for b in blocks] == [
        (3, "python"), (10, "pycon"), (16, ""), (21, "text"), (24, "bash"), (27, "python")]
    assert blocks[0].code == "print(1)\n" and blocks[0].directives == []
    assert blocks[1].code == ">>> 1 + 1\n2\n"
    assert blocks[1].directives == ["server", "needs python>=3.11"]
    assert blocks[2].directives == ["skip the reason"] and not blocks[2].error
    assert "unknown" in blocks[3].error
    assert blocks[4].code == "```\n"
    assert blocks[5].error == "unclosed fence"
    assert _skip_reason(blocks[2]) == "the reason"


def test_collector_sees_every_page() -> None:
    found = {b.page for b in BLOCKS}
    assert {"README.md", "examples/README.md", "docs/tutorial-basics.md"} <= found
    assert not any(p.startswith("docs/diagrams/") for p in _doc_blocks.pages())


@pytest.mark.parametrize(("lang", "code", "ok"), [
    ("pycon", ">>> print(6 * 7)\n42\n>>> object()\n<object object at 0x...>\n", True),
    ("pycon", ">>> 6 * 7\n41\n", False),
    ("python", "import sys\nsys.exit(3)\n", False),
    ("python", "import futures_impl, os\nprint(os.getcwd())\n", True),
])
def test_execute_reports_failures(lang: str, code: str, ok: bool, tmp_path: Path) -> None:
    """The runner itself: a wrong doctest output or a non-zero exit is a failure; the
    repository is importable; the cwd is the temporary directory."""
    status, out, err = execute(Block("t.md", 1, lang, code), tmp_path)
    assert (status == 0) is ok, (out, err)
    if lang == "python" and ok:
        assert out.strip() == str(tmp_path)


def test_server_directive_exports_the_url(tmp_path: Path) -> None:
    code = ("import os, urllib.request\n"
            "print(urllib.request.urlopen(os.environ['EXAMPLES_SERVER'] + '/page/2').read())\n")
    status, out, err = execute(Block("t.md", 1, "python", code, ["server"]), tmp_path)
    assert status == 0, err
    assert out.strip() == repr(examples.server.page_body(2).encode())


def test_server_block_that_ignores_the_server_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no request came"):
        execute(Block("t.md", 7, "python", "print('offline')\n", ["server"]), tmp_path)
