"""The machinery behind :mod:`futures_impl.process` (private; import from ``process``).

* ``errors``: ``BrokenProcessPool``, ``_RemoteTraceback``, the one traceback formatter,
  the breakage messages. A leaf.
* ``wire``: the wire format between the parent and its workers (framing, the call and
  result messages, the pickler, a ``Codec`` for another serializer); both ends use it.
* ``hooks``: the worker lifecycle hooks (``worker_state``, ``worker_exit``) as run in a
  worker, and the public ``worker_state()`` and ``pass_worker_state``. A leaf.
* ``limits``: the system's limits and the constructor's argument checks. A leaf.
* ``wakeup``: ``_ThreadWakeup``, the manager thread's wake-up pipe. A leaf.
* ``worker``: the body of a worker process (the child side).
* ``pool``: the parent's state: worker records, dispatch, spawning, breaking.
* ``writer``: ``CallQueue``, the thread that writes call frames too big to write
  inline. A leaf (it sees the pool only through a protocol).
* ``manager``: the manager thread's loop.

Imports go one way: ``errors`` <- ``wire`` <- ``worker`` <- ``pool`` <- ``manager``, and
the facade ``process`` on top; nothing here imports the facade (it injects what the pool
must look up there: ``_spawn_worker``, the exit flag).
"""
