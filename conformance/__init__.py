"""Conformance runner: CPython's concurrent.futures test suites against futures_impl.

Run ``python -m conformance`` from the repository root; see docs/conformance.md.
Layout, in the order of a run (``cli.main`` reads as that list): ``cli``
(options, the pipeline), ``plan`` (discover and select pairs, prepare their
environments), ``run`` (both variants of every class), ``verdict`` (judge
against the known differences, tell flakes), ``report`` (what the run found,
exit status); below them ``discover`` (interpreters and suites), ``venvs``
(per-interpreter venvs carrying the import hook), ``runner`` (isolated,
time-bounded worker processes), ``text`` (console output), and ``child/``
(code that runs inside the interpreter under test: the import hook, the
worker, the substitution probe).
"""
