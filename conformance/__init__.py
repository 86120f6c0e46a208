"""Conformance runner: CPython's concurrent.futures test suites against futures_impl.

Run ``python -m conformance`` from the repository root; see docs/conformance.md.
Layout: ``cli`` (options, orchestration, report), ``discover`` (interpreters
and suites), ``venvs`` (per-interpreter venvs carrying the import hook),
``runner`` (isolated, time-bounded worker processes), ``report`` (comparison
and the known-differences rule), and ``child/`` (code that runs inside the
interpreter under test: the import hook, the worker, the substitution probe).
"""
