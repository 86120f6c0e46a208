"""One measurement in a fresh interpreter: ``python -m benchmarks.worker SPEC``.

SPEC is a JSON object: ``kind`` ("scenario", "floor" or "import"), ``name``,
``side`` ("stdlib", "impl", "loky" or "floor"), ``module`` (what "impl" means),
``n``, ``warmup_n``, ``reps``, ``mem`` and ``root`` (the repo root).  The
worker runs one warm-up, then ``reps`` timed repetitions (a ``gc.collect()``
before each), and prints one JSON line: per-unit seconds of each repetition,
their CPU time (the measuring process, all its threads), plus the peak traced memory
of one extra run when ``mem`` is set.  A scenario that raises ``scenarios.Skip`` in
its warm-up (an option this side does not have) yields no samples and ``skipped``:
the reason.
The parent (``runner``) owns interleaving, timeouts and statistics.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import json
import sys
import tracemalloc
from typing import Any


class Api:
    """The module under test, plus what the scenarios need to know about it."""

    def __init__(self, side: str, module: str) -> None:
        if side == "stdlib":
            mod: Any = importlib.import_module("concurrent.futures")
        elif side == "impl":
            mod = importlib.import_module(module)
        elif side == "loky":
            import loky  # type: ignore[import-untyped]

            mod = loky
        else:
            raise ValueError(f"unknown side {side!r}")
        self._mod = mod
        self.side = side
        executor = getattr(mod, "Executor", None)
        if side == "loky" or executor is None:
            self.has_buffersize = False
        else:
            params = inspect.signature(executor.map).parameters
            self.has_buffersize = "buffersize" in params

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._mod, name)
        setattr(self, name, value)  # later lookups are plain attribute reads
        return value


def run(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec["kind"]
    n, reps = spec["n"], spec["reps"]
    out: dict[str, Any] = {
        "samples": [],  # wall seconds per unit, one per timed repetition
        "cpu_samples": [],  # CPU seconds of the measuring process per unit (not floors)
        "mem_peak": None,
        "has_buffersize": None,
    }
    if kind == "import" or spec["name"] == "floor_import":
        from .scenarios import import_module_wall

        module = {
            "stdlib": "concurrent.futures",
            "impl": spec["module"],
            "floor": "benchmarks._empty",
        }[spec["side"]]
        import_module_wall(module, 1, spec["root"])  # warm-up: byte-compile, page cache
        for _ in range(reps):
            for wall, cpu in import_module_wall(module, n, spec["root"]):
                out["samples"].append(wall)
                out["cpu_samples"].append(cpu)
        return out

    if kind == "floor":
        from .floors import FUNCTIONS as FLOOR_FUNCTIONS

        fn = FLOOR_FUNCTIONS[spec["name"]]
        fn(spec["warmup_n"])
        for _ in range(reps):
            gc.collect()
            secs, units = fn(n)
            out["samples"].append(secs / units)
        return out

    from .scenarios import FUNCTIONS, Skip

    api = Api(spec["side"], spec["module"])
    out["has_buffersize"] = api.has_buffersize
    func = FUNCTIONS[spec["name"]]
    try:
        func(api, spec["warmup_n"])
    except Skip as e:  # this side cannot run the row here: say why, measure nothing
        out["skipped"] = str(e)
        return out
    for _ in range(reps):
        gc.collect()
        (wall, cpu), units = func(api, n)
        out["samples"].append(wall / units)
        out["cpu_samples"].append(cpu / units)
    if spec.get("mem"):
        gc.collect()
        tracemalloc.start()
        try:
            func(api, n)
            out["mem_peak"] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return out


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = run(spec)
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
