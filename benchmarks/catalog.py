"""What is measured: the rows of the table, their sizes, floors and targets.

One ``Row`` per scenario (``scenarios.FUNCTIONS`` or the special ``import``),
one ``Floor`` per floor (``floors.FUNCTIONS``).  Sizes are chosen so that one
timed repetition takes roughly 50-150 ms for the stdlib on the 2-core bench
box; ``quick`` sizes only keep the harness honest (smoke test, CI).
Targets are the issue's (ratio futures_impl/stdlib, lower is faster); a row
without its own target must simply not be slower than ``DEFAULT_CEILING``.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CEILING = 1.05
POOL_KIND_NOTE = (
    "pool kinds (issue 16): read the futures_impl column across the cpu_map_* rows"
    " (and the startup_* rows); not in geomean"
)
GEOMEAN_TARGET = 0.45


@dataclass(frozen=True)
class Floor:
    name: str  # key in floors.FUNCTIONS, or "floor_import"
    label: str
    full: int
    quick: int
    reps: int = 3


@dataclass(frozen=True)
class Row:
    name: str  # key in scenarios.FUNCTIONS, or "import"
    unit: str  # what one unit is: the cost is reported per unit
    full: int
    quick: int
    scale: str = "us"  # "us" or "ms" for display
    reps: int = 3  # timed repetitions per subprocess (after one warm-up)
    floor: str | None = None
    floor_mult: int = 1  # the floor cost is multiplied by this for the row
    target: float | None = None
    process: bool = False  # a process-pool row: loky gets a column
    steady: bool = False  # a steady-state process row: must beat loky
    mem: bool = False  # also report peak traced memory (tracemalloc)
    geomean: bool = True  # False: the sides do different work; shown, not in the geomean
    note: str = ""  # printed under the table (why the sides differ)
    desc: str = ""


FLOORS = [
    Floor("floor_call", "call", 300_000, 20_000),
    Floor("floor_lock", "lock", 300_000, 20_000),
    Floor("floor_simplequeue", "SimpleQueue", 100_000, 5_000),
    Floor("floor_minipool", "minipool", 20_000, 1_000),
    Floor("floor_minipool_small", "minipool/10", 10_000, 300),
    Floor("floor_minipool_lifecycle", "minipool(1) life", 100, 5),
    Floor("floor_pipe", "pipe", 20_000, 500, reps=2),
    Floor("floor_fork_join", "fork+join", 5, 1, reps=2),
    Floor("floor_import", "empty import", 10, 2, reps=1),
]

ROWS = [
    Row(
        "thread_submit_small",
        "task",
        10_000,
        300,
        floor="floor_minipool_small",
        target=0.50,
        desc="ThreadPoolExecutor(4): submit 10 then result() each, repeated",
    ),
    Row(
        "thread_submit_batch",
        "task",
        20_000,
        500,
        floor="floor_minipool",
        target=0.50,
        desc="ThreadPoolExecutor(4): submit 20,000 then result() each",
    ),
    Row(
        "thread_map",
        "item",
        20_000,
        500,
        floor="floor_minipool",
        target=0.50,
        desc="list(ThreadPoolExecutor(4).map(f, range(20,000)))",
    ),
    Row(
        "thread_map_gen",
        "result",
        20_000,
        2_000,
        reps=2,
        floor="floor_minipool",
        desc="map over a 20,000-item generator, no buffersize, first 1,000 results",
    ),
    Row(
        "thread_map_gen_buffersize",
        "result",
        20_000,
        2_000,
        reps=2,
        floor="floor_minipool",
        mem=True,
        desc="map(buffersize=64) over itertools.count(), first 1,000 results",
    ),
    Row(
        "thread_pool_lifecycle",
        "pool",
        500,
        5,
        floor="floor_minipool_lifecycle",
        desc="ThreadPoolExecutor(4) + one task + shutdown",
    ),
    Row(
        "as_completed_done",
        "future",
        50_000,
        1_000,
        floor="floor_lock",
        target=0.25,
        desc="as_completed over 1,000 finished futures",
    ),
    Row(
        "as_completed_threaded",
        "future",
        20_000,
        1_000,
        floor="floor_simplequeue",
        desc="as_completed over futures finished by another thread",
    ),
    Row(
        "wait_first_100",
        "call",
        2_000,
        50,
        floor="floor_lock",
        floor_mult=100,
        desc="wait(FIRST_COMPLETED) in a loop, 100 pending",
    ),
    Row(
        "wait_first_2000",
        "call",
        100,
        5,
        floor="floor_lock",
        floor_mult=2000,
        target=0.50,
        desc="wait(FIRST_COMPLETED) in a loop, 2,000 pending",
    ),
    Row(
        "wait_all_done",
        "future",
        200_000,
        1_000,
        floor="floor_lock",
        target=0.25,
        desc="wait(ALL_COMPLETED) over 1,000 finished futures",
    ),
    Row(
        "future_callback",
        "future",
        30_000,
        1_000,
        floor="floor_call",
        floor_mult=4,
        target=0.30,
        desc="Future() + add_done_callback + set_result",
    ),
    Row(
        "process_startup",
        "pool",
        2,
        1,
        scale="ms",
        reps=2,
        floor="floor_fork_join",
        process=True,
        desc="ProcessPoolExecutor(2) until the first result",
    ),
    Row(
        "process_submit",
        "task",
        2_000,
        100,
        floor="floor_pipe",
        target=0.50,
        process=True,
        steady=True,
        desc="ProcessPoolExecutor(2): submit 2,000 then results",
    ),
    Row(
        "process_map_1",
        "item",
        2_000,
        100,
        floor="floor_pipe",
        process=True,
        steady=True,
        desc="ProcessPoolExecutor(2).map(chunksize=1)",
    ),
    Row(
        "process_map_64",
        "item",
        50_000,
        1_000,
        floor="floor_pipe",
        target=0.70,
        process=True,
        steady=True,
        desc="ProcessPoolExecutor(2).map(chunksize=64)",
    ),
    Row(
        "process_shutdown",
        "pool",
        2,
        1,
        scale="ms",
        reps=2,
        floor="floor_fork_join",
        process=True,
        desc="shutdown(wait=True) of a warm pool of 2",
    ),
    Row(
        "process_cloudpickle",
        "task",
        2_000,
        100,
        floor="floor_pipe",
        process=True,
        geomean=False,
        note=(
            'futures_impl with serializer="cloudpickle"; the stdlib cannot use cloudpickle'
            " (pickle); loky pickles calls with cloudpickle by default; not in geomean"
        ),
        desc='process_submit\'s loop, futures_impl with serializer="cloudpickle"',
    ),
    Row(
        "process_recovery",
        "recovery",
        10,
        2,
        scale="ms",
        reps=2,
        floor="floor_fork_join",
        process=True,
        geomean=False,
        note=(
            "futures_impl with survive_worker_death=True goes on; the stdlib's pool breaks"
            " (recovery = a new pool + the call); loky: get_reusable_executor(); not in geomean"
        ),
        desc="SIGKILL a worker running a call, until the next call's result",
    ),
    Row(
        "cpu_map_threads",
        "item",
        400,
        20,
        floor="floor_minipool",
        process=False,
        geomean=False,
        note=POOL_KIND_NOTE,
        desc="ThreadPoolExecutor(4).map of a ~0.1 ms pure-Python call, 4 workers running",
    ),
    Row(
        "cpu_map_procs",
        "item",
        400,
        20,
        floor="floor_pipe",
        process=True,
        geomean=False,
        note=POOL_KIND_NOTE,
        desc="ProcessPoolExecutor(4).map of a ~0.1 ms pure-Python call, 4 workers running",
    ),
    Row(
        "cpu_map_interps",
        "item",
        400,
        20,
        floor="floor_minipool",
        process=False,
        geomean=False,
        note=POOL_KIND_NOTE,
        desc="InterpreterPoolExecutor(4).map of a ~0.1 ms pure-Python call, 4 workers running",
    ),
    Row(
        "startup_threads",
        "pool",
        5,
        1,
        scale="ms",
        reps=2,
        floor="floor_minipool_lifecycle",
        process=False,
        geomean=False,
        note=POOL_KIND_NOTE,
        desc="ThreadPoolExecutor(4): new pool until 4 workers answered, then shutdown",
    ),
    Row(
        "startup_procs",
        "pool",
        5,
        1,
        scale="ms",
        reps=2,
        floor="floor_fork_join",
        process=True,
        geomean=False,
        note=POOL_KIND_NOTE,
        desc="ProcessPoolExecutor(4): new pool until 4 workers answered, then shutdown",
    ),
    Row(
        "startup_interps",
        "pool",
        5,
        1,
        scale="ms",
        reps=2,
        floor="floor_minipool_lifecycle",
        process=False,
        geomean=False,
        note=POOL_KIND_NOTE,
        desc="InterpreterPoolExecutor(4): new pool until 4 workers answered, then shutdown",
    ),
    Row(
        "import",
        "import",
        10,
        2,
        scale="ms",
        reps=1,
        floor="floor_import",
        target=0.40,
        desc="import in a fresh interpreter (wall, in-process perf_counter)",
    ),
]

# On demand only (`python -m benchmarks -k dask`; never in the default run or the smoke
# test): DaskExecutor (issue 18), benchmarks/dask_scenarios.py. Their columns are not
# always the stdlib and futures_impl: each note says what they are.
_DASK_MAP_NOTE = (
    "left column: {pool} ProcessPoolExecutor(2); right: DaskExecutor on a LocalCluster of 2"
    " worker processes; map(chunksize=100) of tiny calls; not in geomean"
)
_DASK_SUBMIT_NOTE = (
    "left column: Dask's own client.submit(pure=False) + .result(); right: DaskExecutor"
    " on the same client ({how}); not in geomean"
)
DASK_ROWS = [
    Row("dask_map_vs_stdlib_pool", "item", 10_000, 200, reps=3, geomean=False,
        note=_DASK_MAP_NOTE.format(pool="the stdlib's"),
        desc="map of 10,000 tiny calls, chunksize=100: Dask vs the stdlib's process pool"),
    Row("dask_map_vs_our_pool", "item", 10_000, 200, reps=3, geomean=False,
        note=_DASK_MAP_NOTE.format(pool="futures_impl's"),
        desc="map of 10,000 tiny calls, chunksize=100: Dask vs futures_impl's process pool"),
    Row("dask_submit_result", "task", 300, 10, geomean=False,
        note=_DASK_SUBMIT_NOTE.format(how="one call at a time: latency"),
        desc="submit then result(), one call at a time: DaskExecutor vs client.submit"),
    Row("dask_submit_batch", "task", 1_000, 20, geomean=False,
        note=_DASK_SUBMIT_NOTE.format(how="submit 1,000, then the results: throughput"),
        desc="submit 1,000 then result() each: DaskExecutor vs client.submit"),
]

ROWS_BY_NAME = {r.name: r for r in ROWS + DASK_ROWS}
FLOORS_BY_NAME = {f.name: f for f in FLOORS}
