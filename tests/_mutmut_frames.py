"""Read mutmut's trampolines out of the stacks that tests/_blocking.py inspects.

Why: under mutation testing (`nox -s mutation`, docs/mutation.md) every function `f` of a
mutated module runs as `x_f__mutmut_orig` (or `xǁCǁf__mutmut_orig` for a method, or a
mutant's number), called through two frames of mutmut's trampoline module. _blocking's
parked_in() compares a blocked thread's innermost frames with futures_impl's own (file,
function) chain, so under the tool no call ever looked parked and every blocking test failed
on the unmutated code.

How: install() wraps `_blocking.frames` so that it drops the trampoline's frames and reads
renamed functions as written in the source (as _support.stack_names does). Only the
mutation session calls it (from its private copy's conftest.py); CI never loads this module.
"""

from __future__ import annotations

import re
import threading

import _blocking

_MUTMUT_NAME = re.compile("^x(?:\u01c1[^\u01c1]*\u01c1|_)(.+?)__mutmut_(?:orig|[0-9]+)$")


def install() -> None:
    from mutmut.mutation import trampoline  # only importable in the mutation session's venv

    tool = _blocking._norm(trampoline.__file__)
    original = _blocking.frames

    def frames(thread: threading.Thread) -> list[tuple[str, str]]:
        out = []
        for file, name in original(thread):
            if file == tool:
                continue
            renamed = _MUTMUT_NAME.match(name)
            out.append((file, renamed.group(1) if renamed else name))
        return out

    _blocking.frames = frames
