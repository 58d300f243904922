"""A warm interpreter that forks the suite's inner pytest sessions (tests only, never shipped).

An inner session run with ``pytester.runpytest_subprocess`` is a fresh ``python -m pytest``: about
2-4 s of CPU before its first test, nearly all of it importing the same third-party packages (the
SDKs, every installed pytest plugin) again. This process imports them once, then forks
one child per inner session. A child is still a process of its own, started from a clean state
(nothing of pytest-agentops is imported before the child imports it, exactly as in a fresh
interpreter), with the command line, working directory, environment and output files the subprocess
would have had.

Protocol, one JSON object per line: this process first says ``{"ready", "modules"}`` (the top-level
modules it holds, so a project that shadows one gets a cold subprocess instead); then the parent
sends ``{"args", "netns", "cwd", "env", "stdout", "stderr"}`` (``netns``: none, or a network namespace
of its own with loopback ``"up"`` or ``"down"``, for a command that ran under ``unshare -n``); this
process answers ``{"pid"}`` when the child started and ``{"pid", "code"}`` when it ended. A request
with ``"main"`` instead of ``"args"`` (``{"main": ["script", PATH] | ["module", NAME], "argv", "cwd",
"env", "stdout", "stderr"}``) becomes ``python PATH ARGV...`` or ``python -m NAME ARGV...`` instead:
the script or module runs as a fresh ``__main__`` and the child exits as an interpreter would.

An inner session's xdist workers fork from here too: a child's execnet asks on a Unix socket (its
path kept in the child) with ``{"main": ["command", BOOTSTRAP], "flags", "argv", "cwd", "env"}`` and
the worker's stdin, stdout and stderr passed along (``SCM_RIGHTS``); the answers are the same two,
one datagram each.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import io
import json
import os
import pkgutil
import runpy
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import traceback
import types
import warnings
from importlib import import_module
from importlib.machinery import SourceFileLoader
from pathlib import Path
from typing import Any

#: Packages the inner sessions import anyway; a missing one is simply not warmed.
WARM = (
    "openai",
    # what the openai client imports lazily at its first ``client.chat`` / ``client.responses``
    "openai.resources.chat",
    "openai.resources.responses",
    # ...which are lazy proxies: the modules behind them load at the first call
    "openai.resources.chat.chat",
    "openai.resources.chat.completions.completions",
    "openai.resources.responses.responses",
    "openai.lib._chat_completion_resources",
    "openai.pagination",
    "anthropic",
    "httpx",
    "httpx2",
    "httpcore",
    "requests",
    "aiohttp",
    "yaml",
    "pydantic",
    "vcr",
    "vcr.patch",
    # what vcr.patch imports as it patches (every session with a tap)
    "vcr.stubs.aiohttp_stubs",
    "vcr.stubs.boto3_stubs",
    "vcr.stubs.requests_stubs",
    "vcr.stubs.urllib3_stubs",
    "vcr.stubs.httpx_stubs",
    "detect_secrets",
    "ahocorasick_rs",
    "jsonschema",
    "stripe",
    # The frameworks and MCP SDKs: seconds of imports each, in every inner session that uses one.
    # A child sees them imported already, so our adapters patch them at once instead of on import
    # (the suite's in-process sessions, in a process that imports them later, take the other path).
    "mcp",
    "fastmcp",
    "fastmcp.client",
    "google.genai",
    "agents",
    "pydantic_ai",
    "pydantic_ai.mcp",
    "langchain_openai",
    "langchain_anthropic",
    "langgraph.graph",
    "llama_index.core",
    "llama_index.llms.openai",
)
#: After the plugins (hypothesis's plugin first, see ``_warm``): its terminal summary imports hypothesis
#: in every session, a tenth of a second of a trivial one.
AFTER_PLUGINS = (
    "hypothesis",
    "hypothesis.internal.observability",
    # what every session imports as it configures: the plugins' hook specifications, pytest's
    # debugger, and the TOML reader for pyproject.toml
    "pytest_html.hooks",
    "pytest_metadata.hooks",
    "xdist.newhooks",
    "pdb",
    "readline",
    "tomllib",
)
#: Packages whose every module is imported on first use: detect_secrets loads its plugins by listing
#: the folder at the first scan (every session that redacts).
WARM_ALL = ("detect_secrets.plugins",)
#: Read at interpreter start, so a fork cannot honour a change; PYTHONPATH is applied by the child.
HANDLED = frozenset({"PYTHONPATH", "PYTHONDONTWRITEBYTECODE"})
#: Variables the warmed frameworks may read at import: a process that changes one starts cold.
IMPORT_TIME = (
    "PYTHON",
    "OPENAI_AGENTS_",
    "LANGCHAIN_",
    "LANGSMITH_",
    "LLAMA_",
    "LOGFIRE_",
    "FASTMCP_",
    "HYPOTHESIS_",
    "SCHEMATHESIS_",
)
#: Not warmed: ours, imported fresh by every session, as under test, and schemathesis, which patches
#: hypothesis as it is imported (the inner sessions turn its plugin off, which a warm import would defeat).
COLD = {"pytest-agentops", "schemathesis"}
DONT_REWRITE = "PYTEST_DONT_REWRITE"


def changes_start(env: dict[str, str], start: dict[str, str]) -> bool:
    """Whether ENV differs from START (the warm interpreter's) in a variable read only as a process starts."""
    keys = {k for k in {*env, *start} if k.startswith(IMPORT_TIME)} - HANDLED
    return any(env.get(k) != start.get(k) for k in keys) or _in_ci(env) != _in_ci(start)


def _in_ci(env: dict[str, str]) -> bool:
    """hypothesis's ``is_in_ci()`` for ENV: read at import, it picks the settings profile ("ci" or "default")."""
    from hypothesis._settings import _CI_VARS

    return any(key in env and (value is None or env[key] == value) for key, value in _CI_VARS.items())


def _hypothesis_home() -> None:
    """Point hypothesis's default example database at this working directory, as a fresh import would.

    hypothesis takes ``Path.cwd() / ".hypothesis"`` once, at import, and the warm interpreter imported
    it in another folder.
    """
    configuration = sys.modules.get("hypothesis.configuration")
    if configuration is None:
        return
    key = "__hypothesis_home_directory_default"
    if key not in vars(configuration):  # a hypothesis that keeps it elsewhere: fail, never write elsewhere
        raise RuntimeError(f"hypothesis.configuration has no {key}: tests/zygote.py must learn the new place")
    setattr(configuration, key, Path.cwd() / ".hypothesis")


def _warm() -> None:
    """Import the SDKs and every installed pytest plugin except ours, the way pytest would find them."""
    from importlib.metadata import entry_points

    import pytest  # noqa: F401
    from _pytest.config import _iter_rewritable_modules

    for name in WARM:
        # A package this venv lacks, or one that fails to import: the child finds out itself.
        with contextlib.suppress(Exception):
            import_module(name)
    # hypothesis's plugin before anything imports hypothesis, as when pytest loads it first: else the
    # plugin, seeing hypothesis imported already, scans every module loaded so far (this file too)
    # for constants to try in generated examples.
    points = sorted(entry_points(group="pytest11"), key=lambda point: point.name != "hypothesispytest")
    loaded = []
    for point in points:
        if point.dist is None or point.dist.name in COLD:
            continue
        try:
            point.load()
        except Exception:
            continue
        loaded.append(point.dist)
    for name in AFTER_PLUGINS:
        with contextlib.suppress(Exception):
            import_module(name)
    for name in WARM_ALL:
        with contextlib.suppress(Exception):
            for module in pkgutil.iter_modules(import_module(name).__path__, name + "."):
                import_module(module.name)
    # pytest marks a plugin distribution's modules for assertion rewriting and warns when one is
    # already imported; a fresh interpreter would have rewritten them. Their own asserts are not
    # what the suite tests, so mark them the way pytest marks its own pre-imported pytester.
    for dist in loaded:
        for module_name in _iter_rewritable_modules([str(f) for f in dist.files or []]):
            module = sys.modules.get(module_name)
            if module is not None and DONT_REWRITE not in (module.__doc__ or ""):
                module.__doc__ = (module.__doc__ or "") + f"\n{DONT_REWRITE}"
    remember_installed_metadata()


#: ``importlib.metadata`` properties every child session reads for every installed distribution
REMEMBERED = ("entry_points", "files", "metadata")


def remember_installed_metadata() -> None:
    """Read the installed distributions' metadata once, for every session this process or its children run.

    Each session reads it three times as it starts (pluggy's entry points, pytest's marking of plugin
    modules for rewriting, pytest-metadata's package list): the entry points and name of all 217
    distributions and the file lists of the plugins, about 30 ms of a trivial forked session's 200,
    and about as much of an in-process one (``tests/conftest.py`` calls this in each worker). Nothing
    here changes while the suite runs, so a session sees what it would read. Only distributions of
    this interpreter's own ``site-packages`` are remembered; a folder a test makes is read afresh.
    """
    import sysconfig
    from importlib import metadata

    paths = [sysconfig.get_path(key) for key in ("purelib", "platlib")]
    roots = {*paths, *map(os.path.realpath, paths)}  # as sys.path names them, and resolved
    memo: dict[tuple[str, str], Any] = {}

    def remembered(name: str) -> property:
        read = getattr(metadata.Distribution, name).fget

        def get(dist: metadata.Distribution) -> Any:
            path = os.fspath(getattr(dist, "_path", ""))
            if os.path.dirname(path) not in roots:
                return read(dist)
            key = (path, name)
            if key not in memo:
                memo[key] = read(dist)
            return memo[key]

        return property(get, doc=getattr(metadata.Distribution, name).__doc__)

    for name in REMEMBERED:
        setattr(metadata.PathDistribution, name, remembered(name))
    for dist in metadata.distributions():
        points = dist.entry_points
        dist.metadata  # noqa: B018 - read to remember
        if any(point.group == "pytest11" for point in points):
            dist.files  # noqa: B018


def _enter_netns(loopback: str) -> None:
    """Do in the child what ``unshare -n`` (and ``ip link set lo up``) would have done before exec."""
    import ctypes
    import subprocess

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        sys.stderr.write(f"unshare: unshare failed: {os.strerror(ctypes.get_errno())}\n")
        os._exit(1)
    if loopback == "up":
        done = subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
        if done.returncode:
            os._exit(done.returncode)


def _python_path(env: dict[str, str]) -> list[str]:
    return [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]


def _child(request: dict[str, Any], base_path: list[str]) -> None:
    """Become ``python -m pytest ARGS`` in CWD with ENV, writing to the two files; never returns."""
    code: object = 1
    try:
        env = _enter(request, request["cwd"], base_path, [])
        if request.get("netns"):
            _enter_netns(request["netns"])
        sys.argv = [sys.modules["pytest"].__file__ or "pytest", *request["args"]]
        sys.orig_argv = [sys.executable, "-m", "pytest", *request["args"]]
        _fork_execnet_workers(request["cwd"], env)
        import pytest

        code = pytest.console_main()
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code if isinstance(code, int) else (0 if code is None else 1))


class _ForkedWorker:
    """Enough of ``subprocess.Popen`` for execnet's ``Popen2IOMaster``: ``stdin``, ``stdout``, ``wait()``, ``kill()``.

    The worker is ``python -u -c BOOTSTRAP`` forked by the warm interpreter, on two pipes of ours and
    our stderr, in this process's working directory and environment, as execnet would have started it.
    """

    def __init__(self, start: _Start, flags: list[str], code: str) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.server.connect(start.workers)
        to_worker, from_worker = os.pipe(), os.pipe()
        request = {"main": ["command", code], "flags": flags, "argv": [], "cwd": os.getcwd(), "env": dict(os.environ)}
        socket.send_fds(self.server, [json.dumps(request).encode()], [to_worker[0], from_worker[1], 2])
        os.close(to_worker[0])
        os.close(from_worker[1])
        self.stdin = open(to_worker[1], "wb")  # noqa: SIM115 - execnet closes them
        self.stdout = open(from_worker[0], "rb")  # noqa: SIM115
        self.pid: int = self._answer()["pid"]
        self.returncode: int | None = None

    def _answer(self) -> dict[str, Any]:
        message = self.server.recv(1 << 16)
        if not message:
            raise OSError("the warm interpreter went away")
        answer: dict[str, Any] = json.loads(message)
        return answer

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = int(self._answer()["code"])
            self.server.close()
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def _fork_execnet_workers(cwd: str, env: dict[str, str]) -> None:
    """Let this inner session's xdist workers (execnet ``popen`` gateways) fork from the warm interpreter.

    A worker started cold imports the SDKs and plugins again (about a second of CPU); forked, it has
    them. Only the plain ``python -u [-B] -c BOOTSTRAP`` execnet builds for this interpreter is forked,
    and only while the session's working directory, network namespace, path and start-time variables
    are still those it was forked with; any other gateway starts as execnet starts it.
    """
    start = _START
    try:
        from execnet import gateway_base, gateway_io
    except ImportError:
        return
    if start is None or not start.workers:
        return
    real = gateway_io.Popen2IOMaster.__init__
    line = gateway_io.popen_bootstrapline

    def sound(args: list[str]) -> list[str] | None:
        flags = args[1:-2]
        if args[:1] != [sys.executable] or args[-2:] != ["-c", line] or not set(flags) <= {"-u", "-B"}:
            return None
        if os.getcwd() != cwd or os.environ.get("PYTHONPATH") != env.get("PYTHONPATH"):
            return None
        if os.stat("/proc/self/ns/net").st_ino != start.netns or changes_start(dict(os.environ), start.env):
            return None
        return flags

    def init(self: Any, args: list[str], execmodel: Any) -> None:
        flags = sound(list(args)) if execmodel.backend in ("thread", "main_thread_only") else None
        if flags is None:
            real(self, args, execmodel)
            return
        self.popen = worker = _ForkedWorker(start, flags, line)
        gateway_base.Popen2IO.__init__(self, worker.stdin, worker.stdout, execmodel=execmodel)

    gateway_io.Popen2IOMaster.__init__ = init


def _enter(request: dict[str, Any], path0: str, base_path: list[str], fds: list[int]) -> dict[str, str]:
    """Point file descriptors 0-2, the working directory, environment and path where the command would.

    FDS are the caller's own three (an execnet worker's pipes); else stdin is /dev/null and stdout and
    stderr are the request's two files.
    """
    if not fds:
        files = (os.open(request[key], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) for key in ("stdout", "stderr"))
        fds = [os.open(os.devnull, os.O_RDONLY), *files]
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in set(fds) - {0, 1, 2}:
        os.close(fd)
    env: dict[str, str] = request["env"]
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(env)
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    sys.path[:] = [path0, *_python_path(env), *base_path]
    _hypothesis_home()
    return env


def _exit_code(exc: SystemExit) -> int:
    """What the interpreter makes of an uncaught ``SystemExit``: None 0, an int itself, else printed and 1."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{exc.code}\n")
    return 1


def _report(exc: BaseException) -> None:
    """``sys.excepthook`` with the traceback a fresh interpreter would show: none of this file's frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    sys.excepthook(type(exc), exc.with_traceback(tb), tb)  # the hook prints the exception's own


def _main_child(request: dict[str, Any], base_path: list[str], filters: list[Any], fds: list[int]) -> None:
    """Become ``python SCRIPT ARGV``, ``python -m MODULE ARGV`` or ``python [-u] [-B] -c CODE``; exit as the
    interpreter would."""
    code = 1
    try:
        kind, target = request["main"]
        path0 = "" if kind == "command" else request["cwd"]  # python -c: the working directory, as ""
        if kind == "script":
            path0 = os.path.dirname(os.path.realpath(os.path.join(request["cwd"], target)))
        _enter(request, path0, base_path, fds)
        # What the warmed packages did to the warning filters a fresh interpreter would not have.
        warnings.filters[:] = filters
        warnings._filters_mutated()  # type: ignore[attr-defined]
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        if kind == "script":
            sys.argv = [target, *request["argv"]]
            sys.orig_argv = [sys.executable, target, *request["argv"]]
            path = os.path.abspath(target)  # __file__ and tracebacks: absolute, as since Python 3.9
            main.__dict__.update(__file__=path, __loader__=SourceFileLoader("__main__", path))
            main.__dict__.update(__builtins__=__builtins__, __spec__=None, __package__=None)
            with open(path, "rb") as source:
                compiled = compile(source.read(), path, "exec")
            exec(compiled, main.__dict__)
        elif kind == "command":
            _command(main, target, request)
        else:
            sys.argv = ["-m", *request["argv"]]
            sys.orig_argv = [sys.executable, "-m", target, *request["argv"]]
            runpy._run_module_as_main(target, alter_argv=True)  # type: ignore[attr-defined] # what -m runs
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt as exc:  # the interpreter re-raises it as the signal: exit -SIGINT
        _report(exc)
        _finish()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException as exc:
        _report(exc)
    try:
        _finish()
    except SystemExit as exc:  # sys.exit() in a non-daemon thread's join or an atexit handler
        code = _exit_code(exc)
    os._exit(code & 0xFF)


def _command(main: types.ModuleType, code: str, request: dict[str, Any]) -> None:
    """Run CODE as ``python [-u] [-B] -c CODE`` would: fresh standard streams on fds 0-2, argv ``["-c"]``."""
    flags: list[str] = request.get("flags", [])
    sys.argv = ["-c", *request["argv"]]
    sys.orig_argv = [sys.executable, *flags, "-c", code, *request["argv"]]
    sys.dont_write_bytecode = sys.dont_write_bytecode or "-B" in flags
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the interpreter's own, as long as the process
    for fd, name in ((1, "stdout"), (2, "stderr")):
        errors = "backslashreplace" if fd == 2 else None
        if "-u" in flags:  # unbuffered: no buffer under the text layer, every write goes straight out
            stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), errors=errors, write_through=True)
        else:
            stream = open(fd, "w", closefd=False, errors=errors)  # noqa: SIM115
        setattr(sys, name, stream)
    main.__dict__.update(__builtins__=__builtins__, __spec__=None, __package__=None)
    exec(compile(code, "<string>", "exec"), main.__dict__)


def _finish() -> None:
    """Py_FinalizeEx's visible part: wait for non-daemon threads, run atexit handlers, flush stdio."""
    with contextlib.suppress(Exception):
        threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class _Start:
    """What a fork starts from: the warm interpreter's environment, warning filters and path."""

    def __init__(self) -> None:
        self.env = dict(os.environ)
        self.filters = list(warnings.filters)
        self.path = [entry for entry in sys.path if entry and entry not in _python_path(self.env)]
        self.workers = ""  # the socket an inner session's execnet asks for its workers on
        self.netns = os.stat("/proc/self/ns/net").st_ino


_START: _Start | None = None


class _Server:
    """The parent's requests on stdin and execnet workers' on a socket, each child answered when it ends."""

    def __init__(self, start: _Start) -> None:
        self.start = start
        self.folder = tempfile.mkdtemp(prefix="zygote-")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(os.path.join(self.folder, "workers"))
        self.listener.listen()
        start.workers = self.listener.getsockname()
        self.clients: set[socket.socket] = set()
        self.children: dict[int, tuple[int, Any]] = {}  # pidfd -> (pid, how to answer its end)
        self.pending = b""

    def serve(self) -> None:
        try:
            while self._step():
                pass
        finally:
            self.listener.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def _step(self) -> bool:
        readable, _, _ = select.select([0, self.listener, *self.clients, *self.children], [], [])
        for ready in readable:
            if ready == 0 and not self._from_parent():
                return False
            if ready is self.listener:
                self.clients.add(self.listener.accept()[0])
            elif ready in self.clients:
                self._from_client(ready)
            elif ready in self.children:
                self._ended(ready)
        return True

    def _from_parent(self) -> bool:
        """Fork for each whole line the parent sent; False once it closed stdin."""
        data = os.read(0, 1 << 16)
        if not data:
            return False
        *lines, self.pending = (self.pending + data).split(b"\n")
        for line in lines:
            pid = self._fork(json.loads(line), [])
            _reply({"pid": pid})
            self._watch(pid, _reply)
        return True

    def _from_client(self, client: socket.socket) -> None:
        try:
            message, fds, _, _ = socket.recv_fds(client, 1 << 20, 3)
        except OSError:
            message, fds = b"", []
        if not message:
            self.clients.discard(client)
            client.close()
            return
        pid = self._fork(json.loads(message), fds)
        for fd in fds:
            os.close(fd)
        answer = functools.partial(_send, client)
        answer({"pid": pid})
        self._watch(pid, answer)

    def _fork(self, request: dict[str, Any], fds: list[int]) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            for held in (self.listener, *self.clients):
                held.close()
            for pidfd in self.children:
                os.close(pidfd)
            if "main" in request:
                _main_child(request, self.start.path, self.start.filters, fds)
            _child(request, self.start.path)
        return pid

    def _watch(self, pid: int, answer: Any) -> None:
        self.children[os.pidfd_open(pid)] = (pid, answer)

    def _ended(self, pidfd: int) -> None:
        pid, answer = self.children.pop(pidfd)
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        with contextlib.suppress(OSError):  # a client that went away first hears nothing
            answer({"pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _send(client: socket.socket, message: dict[str, Any]) -> None:
    client.send(json.dumps(message).encode())


def main() -> None:
    global _START
    _START = start = _Start()
    _warm()
    if threading.active_count() != 1:  # forking a process with threads is not safe: say so, serve nothing
        _reply({"ready": False, "why": f"{threading.active_count()} threads after warming"})
        return
    cold = sorted(name for name in (dist.replace("-", "_") for dist in COLD) if name in sys.modules)
    if cold:
        _reply({"ready": False, "why": f"a cold package was imported while warming: {', '.join(cold)}"})
        return
    # Every child's garbage collections would walk the warmed heap again (pytest collects several
    # times at exit: half a second a session); frozen, they walk only what the child made.
    gc.collect()
    gc.freeze()
    server = _Server(start)
    _reply({"ready": True, "modules": sorted({name.partition(".")[0] for name in sys.modules})})
    server.serve()


if __name__ == "__main__":
    main()
