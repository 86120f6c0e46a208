"""Finding the fenced code blocks of the documentation (tests/test_docs_code_blocks.py).

The pages: README.md, examples/README.md and docs/**/*.md (docs/diagrams/ holds picture
sources, not pages). A block is a fenced block (```` ``` ```` or ``~~~``, indented as in a list
item or not); its language tag decides what the collector does with it:

* ``python``: a complete program, run in a fresh subprocess;
* ``pycon``: a ``>>>`` session, run as a doctest;
* ``text`` (output), ``console``/``bash`` (commands), ``toml`` (a configuration file): shown,
  not run.

Any other tag, or none, is an error (so a block cannot silently stop being run). HTML comments
``<!-- run: ... -->`` on the lines right before a fence modify it (several directives: one
comment each, or separated by ``;``):

* ``server``: examples.server is started and its URL exported as ``EXAMPLES_SERVER``;
* ``needs distributed`` (any importable module name): skipped when it is not installed;
* ``needs python>=3.X``: skipped on older interpreters;
* ``skip REASON``: skipped, the reason shown (required).
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EXECUTED = ("python", "pycon")
SHOWN = ("text", "console", "bash", "toml")

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*run:\s*(?P<body>.*?)\s*-->\s*$")
NEEDS_PYTHON = re.compile(r"^python\s*>=\s*3\.(\d+)$")


@dataclass
class Block:
    page: str  # relative to the repository root, with "/"
    line: int  # 1-based line of the opening fence
    lang: str  # the info string's first word ("" when untagged)
    code: str  # dedented by the fence's indentation
    directives: list[str] = field(default_factory=list)
    error: str = ""  # a malformed block (unclosed fence, bad directive): the collector fails it

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def pages(root: str = ROOT) -> list[str]:
    found = [os.path.join(root, "README.md"), os.path.join(root, "examples", "README.md")]
    diagrams = os.path.join(root, "docs", "diagrams") + os.sep
    for path in sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True)):
        if not path.startswith(diagrams):
            found.append(path)
    return [p for p in found if os.path.exists(p)]


def _directives(lines: list[str], fence_index: int) -> tuple[list[str], str]:
    """The ``<!-- run: ... -->`` directives on the lines right before line `fence_index`."""
    found: list[str] = []
    k = fence_index - 1
    while k >= 0 and DIRECTIVE.match(lines[k]):
        body = DIRECTIVE.match(lines[k]).group("body")  # type: ignore[union-attr]
        found[:0] = [d.strip() for d in body.split(";") if d.strip()]
        k -= 1
    for d in found:
        if d == "server" or d.startswith("needs ") and d[6:].strip():
            if d.startswith("needs python") and not NEEDS_PYTHON.match(d[6:].strip()):
                return found, f"bad directive {d!r} (write: needs python>=3.X)"
            continue
        if d.startswith("skip ") and d[5:].strip():
            continue
        return found, f"unknown or incomplete directive {d!r} (server | needs MODULE | " \
                      "needs python>=3.X | skip REASON)"
    return found, ""


def parse(text: str, page: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group("indent"), m.group("fence"), m.group("info").strip()
        lang = info.split()[0] if info else ""
        directives, error = _directives(lines, i)
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if (close and close.group("fence")[0] == fence[0]
                    and len(close.group("fence")) >= len(fence)
                    and not close.group("info").strip()):
                break
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        else:
            error = error or "unclosed fence"
        blocks.append(Block(page, i + 1, lang, "\n".join(body) + "\n", directives, error))
        i = j + 1
    return blocks


def collect(root: str = ROOT) -> list[Block]:
    blocks: list[Block] = []
    for path in pages(root):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        blocks.extend(parse(text, os.path.relpath(path, root).replace(os.sep, "/")))
    return blocks
