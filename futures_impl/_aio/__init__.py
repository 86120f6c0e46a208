"""The machinery behind :mod:`futures_impl.aio` (private; import from ``aio``).

* ``future``: :class:`AsyncFuture`, ``wait``, ``as_completed``, and the
  ``TimeoutError`` that all three asyncio-side timeouts raise.
* ``work``: one submitted call (attempts, semaphore, backoff, per-attempt
  timeout), and the helpers ``map_iter`` streams with.
* ``interop``: ``wrap_future`` and ``run_in_executor`` for any executor future.

Imports go one way: ``future`` <- ``work``, ``interop`` <- ``aio``.
"""
