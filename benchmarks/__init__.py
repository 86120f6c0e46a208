"""Side-by-side benchmarks: futures_impl against concurrent.futures (and loky).

Run ``python -m benchmarks`` from the repository root; ``--help`` for options
and ``docs/benchmarks.md`` for what each row measures.  Modules:

- ``catalog``: rows, sizes, floors and targets;
- ``scenarios`` / ``floors``: the timed code (one function per row / floor);
- ``worker``: one measurement in a fresh interpreter;
- ``runner``: interleaving, timeouts, statistics; ``report``: table and JSON.
"""
