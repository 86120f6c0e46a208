"""Progress bars for :mod:`futures_impl.parallel`, with or without tqdm.

Why: a parallel runner wants a progress bar, but futures_impl has no required
dependency.  When tqdm is installed :func:`make_bar` returns a real
``tqdm.auto.tqdm``; otherwise it returns :class:`SimpleBar`, a small bar with
the subset of tqdm's methods that people call on ``Parallelized.pbar``
(``update``, ``set_postfix``, ``set_postfix_str``, ``set_description``,
``set_description_str``, ``write``, ``refresh``, ``reset``, ``close``), so code
written against one runs against the other.

How: ``SimpleBar`` redraws one line on its stream with a carriage return,
at most every ``mininterval`` seconds (and always on ``close``): percentage,
bar, ``n/total`` (and ``failed``, when a runner counts failures there),
elapsed time, ETA and rate, like tqdm's.  The line is fitted to the terminal's
width (``ncols``, else measured at each draw): the bar shrinks, then goes, then
the description is cut, so the line never wraps (a wrapped line can't be
redrawn with a carriage return).  Like tqdm with ``disable=None``, it is
silent when the stream is not a terminal unless the caller forces it
(``progress="always"``).  A disabled bar still counts (``n``), so callers can
read it.  ``write`` and ``external_write_mode`` put text above the bar (clear
it, write, draw it again), as tqdm's do.

Threading: a bar is driven by the one thread that iterates the runner; fields
are written by that thread only.  ``write`` may be called from any thread:
``_lock`` orders whole draws and writes on the stream, so a line is never
glued onto a half-drawn bar.

tqdm is imported on demand by :func:`make_bar` (never at import time), which
keeps ``import futures_impl.parallel`` light and lets tests hide tqdm.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Mapping
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


def _format_rate(n: int, elapsed: float) -> str:
    """``'3.50it/s'``, or ``'2.10s/it'`` below one per second (tqdm's units); ``'?it/s'`` at 0."""
    if n <= 0 or elapsed <= 0:
        return "?it/s"
    rate = n / elapsed
    return f"{rate:.2f}it/s" if rate >= 1 else f"{1 / rate:.2f}s/it"


def _columns(stream: object) -> int:
    """The width of the terminal behind ``stream`` (else $COLUMNS or the fallback, 80)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return shutil.get_terminal_size().columns


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
        ncols: int | None = None,
        **_ignored: Any,
    ) -> None:
        self.total = total
        self.desc = desc or ""
        self.n = 0
        #: How many of the ``n`` failed: shown as ``4/10 (1 failed)`` when non-zero.
        self.failed = 0
        self.postfix = ""
        self.file: IO[str] = file if file is not None else sys.stderr
        if disable is None:  # tqdm's convention: disable unless a terminal
            isatty = getattr(self.file, "isatty", None)
            disable = not (isatty is not None and isatty())
        self.disable: bool = bool(disable)
        self.mininterval = mininterval
        self.width = width  # the widest the bar gets (fewer columns on a narrow terminal)
        self.ncols = ncols  # the line's width limit; None: the terminal's, at each draw
        self._lock = threading.RLock()  # RLock: a write inside external_write_mode may refresh
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
        """Print a line above the bar (always printed, like ``tqdm.write``; default: the
        bar's stream)."""
        out = file if file is not None else self.file
        with self.external_write_mode(out):
            out.write(s + end)
            out.flush()

    @contextlib.contextmanager
    def external_write_mode(self, file: IO[str] | None = None) -> Iterator[None]:
        """Clear the bar, let the caller write to ``file``, draw the bar again below.

        The bar is cleared when ``file`` is its stream, or when both are stdout/stderr
        (one terminal, most likely), as tqdm does.
        """
        out = file if file is not None else self.file
        shared = out is self.file or (
            out in (sys.stdout, sys.stderr) and self.file in (sys.stdout, sys.stderr)
        )
        with self._lock:
            if shared and not self.disable and not self._closed and self._last_len:
                self.file.write("\r" + " " * self._last_len + "\r")
                self.file.flush()
                self._last_len = 0
            yield
            if shared and not self.disable and not self._closed:
                self._draw()

    def refresh(self) -> None:
        if self.disable or self._closed:
            return
        with self._lock:
            self._draw()

    def _draw(self) -> None:  # with _lock held
        if self._closed:
            return
        line = self.format_line(self.ncols or _columns(self.file))
        pad = max(0, self._last_len - len(line))
        self.file.write("\r" + line + " " * pad)
        self.file.flush()
        self._last_len = len(line)
        self._last_draw = time.monotonic()

    def close(self) -> None:
        if self._closed:
            return
        if not self.disable:
            with self._lock:
                self._draw()
                self.file.write("\n")
                self.file.flush()
        self._closed = True

    def format_line(self, ncols: int | None = None) -> str:
        """The text of the bar, fitted to ``ncols`` columns (less one) when given, e.g.
        ``fetch:  40%|########            | 4/10 (1 failed) [00:02<00:03, 1.95it/s, x=1]``."""
        elapsed = time.monotonic() - self.start_t
        counts = f"{self.n}/{self.total}" if self.total else f"{self.n}it"
        if self.failed:
            counts += f" ({self.failed} failed)"
        times = _format_seconds(elapsed)
        if self.total:
            eta = "?"
            if self.n > 0 and elapsed > 0:
                eta = _format_seconds(max(0, self.total - self.n) * elapsed / self.n)
            times += f"<{eta}"
        extra = f", {self.postfix}" if self.postfix else ""
        tail = f"{counts} [{times}, {_format_rate(self.n, elapsed)}{extra}]"
        prefix = f"{self.desc}: " if self.desc else ""
        room = None if ncols is None else max(1, ncols - 1)  # the last column wraps on some
        if not self.total:
            return _cut(prefix + tail, room)
        frac = min(1.0, self.n / self.total)
        percent = f"{frac * 100:3.0f}%"
        width = self.width
        if room is not None:  # the bar gives way first, then the description
            width = min(width, room - len(prefix) - len(percent) - len(tail) - 3)
        if width < 3 and room is not None:  # no bar; cut the description, then the end
            rest = f"{percent} {tail}"
            keep = room - len(rest) - 2  # the description's share, with its ": "
            prefix = "" if keep < 4 or not self.desc else f"{_cut(self.desc, keep)}: "
            return _cut(prefix + rest, room)
        filled = int(frac * width)
        return f"{prefix}{percent}|{'#' * filled}{' ' * (width - filled)}| {tail}"

    # -- conveniences ----------------------------------------------------------
    def __enter__(self) -> SimpleBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SimpleBar {self.format_line()!r}>"


def _cut(line: str, room: int | None) -> str:
    return line if room is None or len(line) <= room else line[: max(0, room - 3)] + "..."


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
