"""Progress bars for :mod:`futures_impl.parallel`, with or without tqdm.

Why: a parallel runner wants a progress bar, but futures_impl has no required
dependency.  When tqdm is installed :func:`make_bar` returns a real
``tqdm.auto.tqdm``; otherwise it returns :class:`SimpleBar`, a small bar with
the subset of tqdm's methods that people call on ``Parallelized.pbar``
(``update``, ``set_postfix``, ``set_postfix_str``, ``set_description``,
``set_description_str``, ``write``, ``refresh``, ``reset``, ``close``), so code
written against one runs against the other.

How: ``SimpleBar`` redraws one line on its stream with a carriage return,
at most every ``mininterval`` seconds (and always on ``close``).  Like tqdm
with ``disable=None``, it is silent when the stream is not a terminal unless
the caller forces it (``progress="always"``).  A disabled bar still counts
(``n``), so callers can read it.

Threading: a bar is driven by the one thread that iterates the runner; it has
no lock of its own.  ``write`` may be called from any thread (it writes one
line; interleaving with a concurrent redraw is cosmetic only).

tqdm is imported on demand by :func:`make_bar` (never at import time), which
keeps ``import futures_impl.parallel`` light and lets tests hide tqdm.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Mapping
from typing import IO, Any, Union

__all__ = ["SimpleBar", "make_bar", "tqdm_available"]

#: The values accepted for ``progress=``: ``True``/``"auto"`` (a bar when the
#: stream is a terminal), ``"always"`` (a bar even when it is not), ``False``/
#: ``"never"`` (no bar; counting still works).
ProgressMode = Union[bool, str]


def _format_seconds(seconds: float) -> str:
    seconds = int(seconds)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours:d}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


class SimpleBar:
    """A dependency-free progress bar with tqdm's everyday methods.

    Fields are written only by the thread that drives the bar.
    """

    def __init__(
        self,
        total: int | None = None,
        desc: str | None = None,
        *,
        file: IO[str] | None = None,
        disable: bool | None = False,
        mininterval: float = 0.1,
        width: int = 20,
        **_ignored: Any,
    ) -> None:
        self.total = total
        self.desc = desc or ""
        self.n = 0
        self.postfix = ""
        self.file: IO[str] = file if file is not None else sys.stderr
        if disable is None:  # tqdm's convention: disable unless a terminal
            isatty = getattr(self.file, "isatty", None)
            disable = not (isatty is not None and isatty())
        self.disable: bool = bool(disable)
        self.mininterval = mininterval
        self.width = width
        self.start_t = time.monotonic()
        self._last_draw = float("-inf")
        self._last_len = 0
        self._closed = False
        self.refresh()

    # -- tqdm-compatible API -------------------------------------------------
    def update(self, n: float = 1) -> bool | None:
        self.n += int(n)
        now = time.monotonic()
        if now - self._last_draw >= self.mininterval or (
            self.total is not None and self.n >= self.total
        ):
            self.refresh()
            return True
        return None

    def set_postfix(
        self,
        ordered_dict: Mapping[str, Any] | None = None,
        refresh: bool = True,
        **kwargs: Any,
    ) -> None:
        items: dict[str, Any] = dict(ordered_dict or {})
        items.update(kwargs)
        self.postfix = ", ".join(f"{key}={value}" for key, value in items.items())
        if refresh:
            self.refresh()

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = str(s)
        if refresh:
            self.refresh()

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or ""
        if refresh:
            self.refresh()

    def set_description_str(self, desc: str | None = None, refresh: bool = True) -> None:
        self.set_description(desc, refresh)

    def reset(self, total: int | None = None) -> None:
        self.n = 0
        if total is not None:
            self.total = total
        self.start_t = time.monotonic()
        self.refresh()

    def write(self, s: str, file: IO[str] | None = None, end: str = "\n") -> None:
        """Print a line above the bar (always printed, like ``tqdm.write``)."""
        out = file if file is not None else self.file
        if not self.disable and self._last_len and out is self.file:
            out.write("\r" + " " * self._last_len + "\r")
        out.write(s + end)
        out.flush()
        if not self.disable and not self._closed:
            self._last_draw = float("-inf")
            self.refresh()

    def refresh(self) -> None:
        if self.disable or self._closed:
            return
        line = self.format_line()
        pad = max(0, self._last_len - len(line))
        self.file.write("\r" + line + " " * pad)
        self.file.flush()
        self._last_len = len(line)
        self._last_draw = time.monotonic()

    def close(self) -> None:
        if self._closed:
            return
        if not self.disable:
            self._last_draw = float("-inf")
            self.refresh()
            self.file.write("\n")
            self.file.flush()
        self._closed = True

    def format_line(self) -> str:
        """The text of the bar, e.g. ``fetch:  40%|########            | 4/10 [00:02, x=1]``."""
        elapsed = time.monotonic() - self.start_t
        prefix = f"{self.desc}: " if self.desc else ""
        if self.total:
            frac = min(1.0, self.n / self.total)
            filled = int(frac * self.width)
            bar = "#" * filled + " " * (self.width - filled)
            body = f"{frac * 100:3.0f}%|{bar}| {self.n}/{self.total}"
        else:
            body = f"{self.n}it"
        extra = f", {self.postfix}" if self.postfix else ""
        return f"{prefix}{body} [{_format_seconds(elapsed)}{extra}]"

    # -- conveniences ----------------------------------------------------------
    def __enter__(self) -> SimpleBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SimpleBar {self.format_line()!r}>"


def tqdm_available() -> bool:
    """True when ``tqdm`` can be imported (checked on each call, never cached)."""
    try:
        importlib.import_module("tqdm")
    except ImportError:
        return False
    return True


def _disable_flag(progress: ProgressMode) -> bool | None:
    if progress is True or progress == "auto":
        return None
    if progress is False or progress == "never":
        return True
    if progress == "always":
        return False
    raise ValueError(f"progress must be True, False, 'auto', 'always' or 'never', not {progress!r}")


def make_bar(
    total: int | None,
    desc: str | None,
    progress: ProgressMode = True,
    file: IO[str] | None = None,
    **bar_kwargs: Any,
) -> Any:
    """Return a tqdm bar when tqdm is importable, else a :class:`SimpleBar`.

    ``progress`` decides whether it draws: see :data:`ProgressMode`.  Extra
    keyword arguments go to the bar's constructor (tqdm understands many more
    than ``SimpleBar``, which ignores the ones it doesn't know).
    """
    disable = _disable_flag(progress)
    try:
        tqdm = importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        return SimpleBar(total=total, desc=desc, file=file, disable=disable, **bar_kwargs)
    kwargs: dict[str, Any] = {"total": total, "desc": desc, "disable": disable}
    if file is not None:
        kwargs["file"] = file
    kwargs.update(bar_kwargs)
    return tqdm(**kwargs)
