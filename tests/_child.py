"""A child Python program driven line by line (issue 14's interrupt and exit tests).

`Child` runs `python -c PROGRAM` (or a script) from the repository root with futures_impl
importable, reads its stdout and stderr on two threads (so neither pipe can fill up and block it),
and lets a test wait for a line (`expect`), signal it, and wait for its end. Every wait
has a timeout: a child that hangs fails the test and is killed (its whole process group
when it was started in a session of its own), it never blocks the run.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading

from _support import ROOT

HANG_GUARD = 90.0  # seconds: only ever a guard against a hang, never a measurement


class Child:
    def __init__(self, *argv: str, new_session: bool = False) -> None:
        """Run `python *argv` (e.g. "-c", PROGRAM, ... or a script's path, ...)."""
        self.new_session = new_session
        self.proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": ROOT, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=new_session,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=args, daemon=True)
            for args in ((self.proc.stdout, self.out, True), (self.proc.stderr, self.err, False))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object, into: list[str], feed: bool) -> None:
        try:
            for line in stream:  # type: ignore[attr-defined]
                into.append(line)
                if feed:
                    self.lines.put(line)
        finally:
            stream.close()  # type: ignore[attr-defined]
            if feed:
                self.lines.put(None)

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def expect(self, prefix: str, timeout: float = HANG_GUARD) -> str:
        """The next stdout line starting with `prefix` (earlier lines are skipped)."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                raise AssertionError(
                    f"no {prefix!r} line within {timeout} s (hung?)\nstdout:\n{self.stdout}"
                    f"\nstderr:\n{self.stderr}"
                ) from None
            if line is None:
                raise AssertionError(
                    f"the child ended before printing {prefix!r}\nstdout:\n{self.stdout}"
                    f"\nstderr:\n{self.stderr}"
                )
            if line.startswith(prefix):
                return line

    def interrupt(self) -> None:
        """SIGINT as a terminal's Ctrl-C sends it: to the child's whole process group."""
        if self.new_session:
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = HANG_GUARD) -> int | None:
        """Close its stdin, wait for its end; None (and the child killed) on a hang."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            code: int | None = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            code = None
        for reader in self._readers:
            reader.join(timeout)
        if code is None:  # shown whole in the report's "Captured stdout" (assertion
            # messages are cut short there: a hang's faulthandler dump would be lost)
            print(f"[child hung: killed after {timeout} s]\n--- stdout\n{self.stdout}"
                  f"--- stderr\n{self.stderr}")
        return code

    def kill(self) -> None:
        """SIGKILL the child (and its process group: no stray worker outlives a test)."""
        try:
            if self.new_session:
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel did not kill it
            pass
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        for reader in self._readers:
            reader.join(HANG_GUARD)  # its pipe closes once every holder is dead


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (an exited process nobody reaped:
    a container's init may never reap the orphans it adopts)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
