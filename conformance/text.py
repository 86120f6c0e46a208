"""Console text shared by the steps: one flushed line at a time, failure texts shortened.

Why: every step of a run reports progress as it goes (a run takes minutes), so
output must reach the console line by line, and long tracebacks must stay readable.
"""

from __future__ import annotations


def say(msg: str = "") -> None:
    print(msg, flush=True)


def first_line(detail: str) -> str:
    """The most telling line of a failure text: the exception line, else the first."""
    lines = [ln for ln in detail.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    for ln in reversed(lines):
        if not ln.startswith(" ") and ("Error" in ln or "Exception" in ln or ":" in ln):
            return ln.strip()[:200]
    return lines[0].strip()[:200]


def indent(text: str, prefix: str = "      ", max_lines: int = 60) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) > max_lines:
        head, tail = max_lines // 3, max_lines - max_lines // 3
        cut = f"... ({len(lines) - max_lines} lines cut) ..."
        lines = lines[:head] + [cut] + lines[-tail:]
    return "\n".join(prefix + ln for ln in lines)
