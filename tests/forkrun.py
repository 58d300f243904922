"""``pytester.runpytest_subprocess`` through a warm, forking interpreter (see ``zygote.py``).

``install(pytester)`` swaps the one method pytester starts processes with, so every inner session
the suite runs keeps pytester's own argument building, timeouts and output parsing. A command that is
not an inner pytest (``inner_command``), or an environment whose ``PYTHON*`` variables or a warmed
framework's import-time settings differ from the warm interpreter's (they act at start, which a fork
skips), or a project folder that shadows a module the warm interpreter holds, gets a real subprocess.
An inner session run with ``-n`` has its xdist workers forked by the same warm interpreter, unless
the session changed what a worker starts from (its folder, ``PYTHONPATH``: ``--agent-replay`` puts
its offline site there). ``AGENTOPS_TEST_FORK=0`` turns the fork off for a run.

``run(cmd, cwd=, env=, timeout=)`` does the same for the suite's other Python commands (the docs
test's scripts, ``-m pytest`` and ``-m mkdocs``): a script or module forks and runs as ``__main__``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import locale
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, TextIO

import pycache
import pytest
import trust
import zygote

ZYGOTE = Path(__file__).with_name("zygote.py")
pycache.use_suite_cache()  # before the start environment is taken: the warm interpreter inherits it
trust.trust_one_root()  # so does this
_START_ENV = dict(os.environ)


class ForkUnavailable(RuntimeError):
    pass


class Zygote:
    """The warm interpreter of this worker: started on first use, one inner session at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log = open(os.devnull, "wb")  # noqa: SIM115 - lives as long as the process
        code = f"import runpy, sys; sys.path.pop(0); runpy.run_path({str(ZYGOTE)!r}, run_name='__main__')"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=_START_ENV,
            cwd="/",
        )
        ready = self._read(timeout=120)
        if not ready.get("ready"):
            raise ForkUnavailable(ready.get("why", "the warm interpreter did not start"))
        self.modules: frozenset[str] = frozenset(ready["modules"])

    def shadowed(self, entries: list[str]) -> bool:
        """Whether a folder first on the child's path holds a module the warm interpreter already has."""
        for entry in entries:
            try:
                names = os.listdir(entry)
            except OSError:
                continue
            if any(name.removesuffix(".py") in self.modules for name in names):
                return True
        return False

    def _read(self, timeout: float | None) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        readable, _, _ = select.select([stdout], [], [], timeout)
        if not readable:
            raise subprocess.TimeoutExpired("zygote", timeout or 0)
        line = stdout.readline()
        if not line:
            raise ForkUnavailable("the warm interpreter exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        """End the warm interpreter: it stops serving when its stdin closes."""
        for stream in (self.process.stdin, self.process.stdout, self.log):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def start(self, request: dict[str, Any]) -> int:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write((json.dumps(request) + "\n").encode())
        stdin.flush()
        pid: int = self._read(timeout=60)["pid"]
        return pid


_zygote: Zygote | None = None


def _warm() -> Zygote:
    global _zygote
    if _zygote is None or _zygote.process.poll() is not None:
        _zygote = Zygote()
        atexit.register(_zygote.close)
    return _zygote


class ForkedPytest:
    """Enough of ``subprocess.Popen`` for ``Pytester.run``: ``stdin``, ``wait(timeout)``, ``kill()``."""

    stdin = None

    def __init__(self, zygote: Zygote, request: dict[str, Any]) -> None:
        self.zygote = zygote
        zygote.lock.acquire()
        try:
            self.pid = zygote.start(request)
        except BaseException:
            zygote.lock.release()
            raise
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            try:
                answer = self.zygote._read(timeout)
            except subprocess.TimeoutExpired:
                raise subprocess.TimeoutExpired(f"pytest (pid {self.pid})", timeout or 0) from None
            self.returncode = int(answer["code"])
            self.zygote.lock.release()
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


#: How the suite's tests bring loopback up in a namespace of their own before starting pytest.
LO_UP = 'ip link set lo up && exec "$0" -m pytest "$@"'


def inner_command(cmdargs: tuple[str, ...]) -> tuple[list[str], str | None] | None:
    """Pytest's arguments and the namespace a command asks for, if it is an inner pytest session.

    ``python -m pytest ARGS`` needs none; ``unshare -n python -m pytest ARGS`` a new network
    namespace with loopback down (as unshare leaves it), and ``unshare -n sh -c LO_UP python ARGS``
    one with loopback up. Anything else is not forked.
    """
    netns: str | None = None
    rest = cmdargs
    if rest[:2] == ("unshare", "-n"):
        rest, netns = rest[2:], "down"
        if rest[:3] == ("sh", "-c", LO_UP) and rest[3:4] == (sys.executable,):
            return list(rest[4:]), "up"
    if rest[:2] == (sys.executable, "-mpytest"):
        return list(rest[2:]), netns
    if rest[:3] == (sys.executable, "-m", "pytest"):
        return list(rest[3:]), netns
    return None


def _forkable(cmdargs: tuple[str, ...], env: dict[str, str], stdin: object) -> tuple[list[str], str | None] | None:
    """``inner_command`` of a command a warm fork can stand in for, else None."""
    if os.environ.get("AGENTOPS_TEST_FORK", "1") == "0" or stdin is not pytest.Pytester.CLOSE_STDIN:
        return None
    if _changes_start(env):
        return None
    return inner_command(cmdargs)


def install(pytester: pytest.Pytester) -> None:
    real = pytester.popen

    def popen(
        cmdargs: Any, stdout: TextIO | int = subprocess.PIPE, stderr: TextIO | int = subprocess.PIPE, **kw: Any
    ) -> Any:
        args = tuple(os.fspath(arg) for arg in cmdargs)
        env = os.environ.copy()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH", "")]))
        stdin = kw.get("stdin", pytest.Pytester.CLOSE_STDIN)
        files = [getattr(stream, "name", None) for stream in (stdout, stderr)]
        command = _forkable(args, env, stdin)
        if command is None or not all(isinstance(f, str) for f in files):
            return real(cmdargs, stdout=stdout, stderr=stderr, **kw)
        try:
            zygote = _warm()
        except ForkUnavailable:
            return real(cmdargs, stdout=stdout, stderr=stderr, **kw)
        if zygote.shadowed([os.getcwd(), *env["PYTHONPATH"].split(os.pathsep)]):
            return real(cmdargs, stdout=stdout, stderr=stderr, **kw)
        inner, netns = command
        request = {"args": inner, "netns": netns, "cwd": os.getcwd(), "env": env}
        request.update(stdout=files[0], stderr=files[1])
        return ForkedPytest(zygote, request)

    pytester.popen = popen  # type: ignore[method-assign,assignment]


def main_of(cmd: list[str]) -> tuple[list[str], list[str]] | None:
    """``(["script", PATH] | ["module", NAME], its arguments)`` for ``python PATH ...``/``python -m NAME ...``.

    Only this interpreter with no options of its own; ``-m`` only for a top-level name (runpy warns
    when a dotted module is already imported, as the warm interpreter may have it). Else None.
    """
    if len(cmd) < 2 or cmd[0] != sys.executable:
        return None
    if cmd[1] == "-m" and len(cmd) > 2 and cmd[2].isidentifier():
        return ["module", cmd[2]], cmd[3:]
    if cmd[1].endswith(".py") and not cmd[1].startswith("-"):
        return ["script", cmd[1]], cmd[2:]
    return None


def _changes_start(env: dict[str, str]) -> bool:
    """Whether ENV differs from the warm interpreter's in a variable read only as a process starts."""
    return zygote.changes_start(env, _START_ENV)


def _cold(cmd: list[str], cwd: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
    )


def run(
    cmd: list[str], *, cwd: str | os.PathLike[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(cmd, capture_output=True, text=True)`` with stdin closed, forked when it soundly can.

    A script or ``-m`` module (``main_of``) forks from the warm interpreter unless forking is off, ENV
    changes a start-time variable, or the script's folder or a ``PYTHONPATH`` entry shadows a warm
    module; anything else, or a warm interpreter that cannot start, runs as a real subprocess.
    """
    cwd = os.fspath(cwd)
    main = main_of(cmd)
    if main is None or os.environ.get("AGENTOPS_TEST_FORK", "1") == "0" or _changes_start(env):
        return _cold(cmd, cwd, env, timeout)
    try:
        zygote = _warm()
    except ForkUnavailable:
        return _cold(cmd, cwd, env, timeout)
    (kind, target), argv = main
    path0 = os.path.dirname(os.path.realpath(os.path.join(cwd, target))) if kind == "script" else cwd
    if zygote.shadowed([path0, *(e for e in env.get("PYTHONPATH", "").split(os.pathsep) if e)]):
        return _cold(cmd, cwd, env, timeout)
    with tempfile.TemporaryDirectory(prefix="forkrun-") as folder:
        out, err = os.path.join(folder, "stdout"), os.path.join(folder, "stderr")
        request = {"main": [kind, target], "argv": argv, "cwd": cwd, "env": env, "stdout": out, "stderr": err}
        child = ForkedPytest(zygote, request)
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise subprocess.TimeoutExpired(cmd, timeout, _text(out), _text(err)) from None
        return subprocess.CompletedProcess(cmd, code, _text(out), _text(err))


def _text(path: str) -> str:
    """A captured stream as ``text=True`` decodes it: the locale's encoding, universal newlines."""
    with open(path, encoding=locale.getpreferredencoding(False)) as stream:
        return stream.read()
