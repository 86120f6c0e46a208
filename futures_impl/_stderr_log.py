"""The logger of last resort: where error records go when the stdlib has no `logging`.

Embedded interpreters ship trimmed standard libraries, some without `logging`
(docs/embedding.md). There `_base._get_logger()` returns `stderr_logger`, which writes
each record as logging's own last-resort handler would with no handler configured: the
message on one line, then the traceback when there is one. A callback, initializer or
worker error is then still reported, and never turns into an ImportError raised from
set_result() or a worker thread.

Stateless: nothing here is shared but `sys.stderr`, looked up on each record.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _StderrLogger:
    """The few `logging.Logger` methods futures_impl calls, writing to sys.stderr."""

    name = "concurrent.futures"

    def _write(self, msg: object, args: tuple[Any, ...], exc_info: object) -> None:
        stream = sys.stderr
        if stream is None:  # no stderr (a GUI host): nowhere to report, as with logging
            return
        text = str(msg) % args if args else str(msg)
        if exc_info:
            if isinstance(exc_info, BaseException):
                exc: BaseException | None = exc_info
            else:
                exc = sys.exc_info()[1]
            if exc is not None:
                try:
                    import traceback

                    text += "\n" + "".join(
                        traceback.format_exception(type(exc), exc, exc.__traceback__)
                    ).rstrip("\n")
                except ImportError:  # trimmed further still: the exception alone
                    text += f"\n{type(exc).__name__}: {exc}"
        try:
            stream.write(text + "\n")
            stream.flush()
        except Exception:  # a closed or broken stream: as logging, never raise from here
            pass

    def error(self, msg: object, *args: Any, exc_info: object = False, **_: Any) -> None:
        self._write(msg, args, exc_info)

    critical = error
    warning = error

    def exception(self, msg: object, *args: Any, exc_info: object = True, **_: Any) -> None:
        self._write(msg, args, exc_info)


stderr_logger = _StderrLogger()
