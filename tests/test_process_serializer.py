"""ProcessPoolExecutor(serializer=...): "pickle" (the default), "cloudpickle", or an object
with dumps()/loads(); calls, results and exceptions all travel through it (issue 14).

Lambdas, closures, and functions and classes defined in `__main__` (a script, `python -c`,
a program read from stdin) run in the workers under every start method with cloudpickle;
a custom serializer carries both directions; one that cannot write an exception still
fails that future clearly and leaves the pool working; bad values fail at construction.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import re
import subprocess
import sys
import textwrap

import _serializer_helpers as helpers
import pytest

from futures_impl.process import BrokenProcessPool, ProcessPoolExecutor

pytestmark = pytest.mark.usefixtures("no_thread_leaks")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = multiprocessing.get_all_start_methods()
RESULT_TIMEOUT = 60  # seconds: a bound, never reached unless something hangs


def pool(method: str, **kwargs: object) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method), **kwargs)


class LocalError(Exception):
    pass


@pytest.mark.parametrize("method", METHODS)
def test_cloudpickle_runs_lambdas_closures_and_local_classes(method: str) -> None:
    factor = 3

    def closure(x: int) -> int:
        return x * factor

    class Box:  # a local class: pickle cannot name it, cloudpickle sends it by value
        def __init__(self, value: int) -> None:
            self.value = value

    def boxed(x: int) -> Box:
        return Box(x)

    def fails() -> None:
        raise LocalError("raised in the worker")

    with pool(method, serializer="cloudpickle") as executor:
        assert executor.submit(lambda x: x + 1, 1).result(RESULT_TIMEOUT) == 2
        assert executor.submit(closure, 5).result(RESULT_TIMEOUT) == 15
        assert list(executor.map(closure, range(4), timeout=RESULT_TIMEOUT)) == [0, 3, 6, 9]
        box = executor.submit(boxed, 7).result(RESULT_TIMEOUT)
        assert box.value == 7
        # The exception's class comes back as itself (cloudpickle keeps its identity).
        with pytest.raises(LocalError, match="raised in the worker"):
            executor.submit(fails).result(RESULT_TIMEOUT)
        # A local class given as an argument, too.
        assert executor.submit(lambda b: b.value * 2, Box(4)).result(RESULT_TIMEOUT) == 8


@pytest.mark.parametrize("method", METHODS)
def test_the_default_serializer_still_refuses_a_lambda(method: str) -> None:
    with pool(method) as executor:  # serializer="pickle": the stdlib's behaviour
        future = executor.submit(lambda: 1)
        assert isinstance(future.exception(RESULT_TIMEOUT), (pickle.PicklingError,
                                                              AttributeError, TypeError))
        assert executor.submit(helpers.twice, 4).result(RESULT_TIMEOUT) == 8
    with pool(method, serializer="pickle") as executor:
        assert executor.submit(helpers.twice, 5).result(RESULT_TIMEOUT) == 10


# A program defining its calls in __main__: run as a script, with -c, and from stdin.
MAIN_PROGRAM = textwrap.dedent("""
    import multiprocessing, sys
    from futures_impl.process import ProcessPoolExecutor

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    class Oops(Exception):
        pass

    def norm(p):
        return abs(p.x) + abs(p.y)

    def make_point(x):
        return Point(x, -x)

    def fail(message):
        raise Oops(message)

    def main():
        offset = 100
        for method in sys.argv[1:] or METHODS:
            ctx = multiprocessing.get_context(method)
            with ProcessPoolExecutor(2, mp_context=ctx, serializer="cloudpickle") as ex:
                assert ex.submit(norm, Point(3, -4)).result(60) == 7
                p = ex.submit(make_point, 2).result(60)
                assert type(p) is Point and (p.x, p.y) == (2, -2), p
                assert ex.submit(lambda x: x + offset, 1).result(60) == 101
                try:
                    ex.submit(fail, "from " + method).result(60)
                except Oops as exc:
                    assert str(exc) == "from " + method
                else:
                    raise AssertionError("no Oops")
            print("OK", method, flush=True)

    METHODS = %r

    if __name__ == "__main__":
        main()
""") % (METHODS,)


def run_program(args: list[str], stdin: str | None = None) -> tuple[int | None, str, str]:
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=100)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, "hung\n" + err
    return proc.returncode, out, err


@pytest.mark.parametrize("how", ["script", "-c", "stdin"])
def test_cloudpickle_runs_definitions_from_main(how: str, tmp_path: object) -> None:
    """Functions, classes and exceptions of `__main__`, under every start method: spawn
    re-imports a script as __mp_main__ but cannot re-import `-c` or stdin code."""
    if how == "script":
        script = os.path.join(str(tmp_path), "main_defs.py")
        with open(script, "w") as f:
            f.write(MAIN_PROGRAM)
        code, out, err = run_program([script])
    elif how == "-c":
        code, out, err = run_program(["-c", MAIN_PROGRAM])
    else:
        code, out, err = run_program(["-"], stdin=MAIN_PROGRAM)
    assert code == 0, err
    assert out.split("\n")[:-1] == [f"OK {method}" for method in METHODS], (out, err)


@pytest.mark.parametrize("method", METHODS)
def test_custom_serializer_carries_calls_results_and_exceptions(method: str) -> None:
    with pool(method, serializer=helpers.TAGGED) as executor:
        assert executor.submit(helpers.twice, 21).result(RESULT_TIMEOUT) == 42
        assert list(executor.map(helpers.twice, range(5), chunksize=2,
                                 timeout=RESULT_TIMEOUT)) == [0, 2, 4, 6, 8]
        with pytest.raises(ValueError, match="through the tagged serializer"):
            executor.submit(helpers.fail_with, "through the tagged serializer").result(
                RESULT_TIMEOUT)


@pytest.mark.parametrize("method", METHODS)
def test_a_module_as_serializer(method: str) -> None:
    """A module (here pickle itself) is sent to spawned workers by its name."""
    with pool(method, serializer=pickle) as executor:
        assert executor.submit(helpers.twice, 8).result(RESULT_TIMEOUT) == 16


@pytest.mark.parametrize("method", METHODS)
def test_a_serializer_that_cannot_write_the_exception(method: str) -> None:
    """Its dumps() fails on the exception, on the pickling error and on the substitute:
    the future still fails clearly, and the pool is not broken."""
    with pool(method, serializer=helpers.NoExceptions) as executor:
        future = executor.submit(helpers.fail_with, "unwritable")
        exc = future.exception(RESULT_TIMEOUT)
        assert type(exc) is RuntimeError, repr(exc)
        assert "ValueError could not be pickled" in str(exc)
        assert "refuses exceptions" in str(exc)
        assert "unwritable" in str(exc.__cause__)  # the worker's traceback text
        assert not isinstance(exc, BrokenProcessPool)
        assert executor.submit(helpers.twice, 3).result(RESULT_TIMEOUT) == 6


@pytest.mark.parametrize("method", METHODS)
def test_a_serializer_that_does_not_rebuild_the_exception(method: str) -> None:
    """Its loads() gives text where the exception was: that future fails (not the
    manager thread: the future used to hang), the pool goes on."""
    with pool(method, serializer=helpers.ExceptionsAsText) as executor:
        exc = executor.submit(helpers.fail_with, "lost").exception(RESULT_TIMEOUT)
        assert isinstance(exc, BrokenProcessPool), repr(exc)
        assert "did not rebuild the call's exception" in str(exc.__cause__)
        assert "ValueError('lost')" in str(exc.__cause__)
        assert executor.submit(helpers.twice, 3).result(RESULT_TIMEOUT) == 6


def test_a_serializer_whose_dumps_returns_text() -> None:
    with pool("spawn" if "spawn" in METHODS else METHODS[0],
              serializer=helpers.ReturnsText) as executor:
        exc = executor.submit(helpers.twice, 1).exception(RESULT_TIMEOUT)
        assert isinstance(exc, TypeError) and "returned str, not bytes" in str(exc)


def test_bad_serializer_values() -> None:
    with pytest.raises(ValueError, match=r"'pickle', 'cloudpickle'.*'json'"):
        ProcessPoolExecutor(1, serializer="json")
    with pytest.raises(TypeError, match=r"dumps\(\) and loads\(\).*int"):
        ProcessPoolExecutor(1, serializer=42)

    class DumpsOnly:
        def dumps(self, obj: object) -> bytes:
            return b""

    with pytest.raises(TypeError, match="DumpsOnly"):
        ProcessPoolExecutor(1, serializer=DumpsOnly())


def test_a_serializer_spawned_workers_cannot_get() -> None:
    class Local:  # a local class: its instances cannot be pickled for a spawned worker
        dumps = staticmethod(pickle.dumps)
        loads = staticmethod(pickle.loads)

    for method in ("spawn", "forkserver"):
        if method in METHODS:
            with pytest.raises(TypeError, match=f"cannot be sent to '{method}' workers"):
                pool(method, serializer=Local())
    if "fork" in METHODS:  # a forked worker inherits it: no pickling needed
        with pool("fork", serializer=Local()) as executor:
            assert executor.submit(helpers.twice, 2).result(RESULT_TIMEOUT) == 4


def test_cloudpickle_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cloudpickle", None)  # `import cloudpickle` fails
    with pytest.raises(ImportError, match=re.escape("pip install futures_impl[cloudpickle]")):
        ProcessPoolExecutor(1, serializer="cloudpickle")


def test_the_cloudpickle_extra_is_declared() -> None:
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        text = f.read()
    extras = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    groups = dict(re.findall(r"^(\w+) = \[(.*?)\]", extras, re.S | re.M))
    assert "cloudpickle" in groups["cloudpickle"]
    assert "cloudpickle" in groups["test"]


def test_the_default_sends_workers_the_same_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    """serializer="pickle" adds nothing to what a worker is started with; another
    serializer adds its codec (and no hooks)."""
    from futures_impl import process
    from futures_impl._process.wire import Codec

    seen: list[tuple[object, ...]] = []
    real = process._spawn_worker

    def spawn(ctx: object, target: object, args: tuple[object, ...]) -> object:
        seen.append(args)
        return real(ctx, target, args)  # type: ignore[arg-type]

    monkeypatch.setattr(process, "_spawn_worker", spawn)
    method = "spawn" if "spawn" in METHODS else METHODS[0]
    with pool(method) as executor:
        executor.submit(helpers.twice, 1).result(RESULT_TIMEOUT)
    default = seen[:]
    with pool(method, serializer=helpers.TAGGED) as executor:
        executor.submit(helpers.twice, 1).result(RESULT_TIMEOUT)
    tagged = seen[len(default):]
    assert default and tagged
    # The portable path (FUTURES_IMPL_PORTABLE) passes every worker (codec, hooks, True).
    from futures_impl._process import portable

    tail = 1 if portable.wanted() else 0
    added = 0 if tail else 2
    assert {len(args) for args in tagged} == {len(default[0]) + added}
    for args in tagged:
        codec, hooks = args[len(args) - 2 - tail:len(args) - tail]
        assert isinstance(codec, Codec) and codec.serializer is helpers.TAGGED
        assert hooks is None
    for args in default:
        assert not any(isinstance(arg, Codec) for arg in args)
