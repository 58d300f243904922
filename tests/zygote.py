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
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import runpy
import signal
import sys
import threading
import traceback
import types
import warnings
from importlib import import_module
from importlib.machinery import SourceFileLoader
from typing import Any

#: Packages the inner sessions import anyway; a missing one is simply not warmed.
WARM = (
    "openai",
    # what the openai client imports lazily at its first ``client.chat`` / ``client.responses``
    "openai.resources.chat",
    "openai.resources.responses",
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
    "detect_secrets",
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
#: Not warmed: ours (imported fresh by every session, as under test), and hypothesis with the plugin
#: that imports it, whose import-time state (profiles, initialisation counters) is per-process.
COLD = {"pytest-agentops", "hypothesis", "schemathesis"}
DONT_REWRITE = "PYTEST_DONT_REWRITE"


def _warm() -> None:
    """Import the SDKs and every installed pytest plugin except ours, the way pytest would find them."""
    from importlib.metadata import entry_points

    import pytest  # noqa: F401
    from _pytest.config import _iter_rewritable_modules

    for name in WARM:
        # A package this venv lacks, or one that fails to import: the child finds out itself.
        with contextlib.suppress(Exception):
            import_module(name)
    for point in entry_points(group="pytest11"):
        if point.dist is None or point.dist.name in COLD:
            continue
        try:
            point.load()
        except Exception:
            continue
        # pytest marks a plugin distribution's modules for assertion rewriting and warns when one is
        # already imported; a fresh interpreter would have rewritten them. Their own asserts are not
        # what the suite tests, so mark them the way pytest marks its own pre-imported pytester.
        for module_name in _iter_rewritable_modules([str(f) for f in point.dist.files or []]):
            module = sys.modules.get(module_name)
            if module is not None and DONT_REWRITE not in (module.__doc__ or ""):
                module.__doc__ = (module.__doc__ or "") + f"\n{DONT_REWRITE}"


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
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        if request.get("netns"):
            _enter_netns(request["netns"])
        env: dict[str, str] = request["env"]
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(env)
        sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
        sys.path[:] = [request["cwd"], *_python_path(env), *base_path]
        sys.argv = [sys.modules["pytest"].__file__ or "pytest", *request["args"]]
        sys.orig_argv = [sys.executable, "-m", "pytest", *request["args"]]
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


def _enter(request: dict[str, Any], path0: str, base_path: list[str]) -> dict[str, str]:
    """Point file descriptors 0-2, the working directory, environment and path where the command would."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    env: dict[str, str] = request["env"]
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(env)
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    sys.path[:] = [path0, *_python_path(env), *base_path]
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


def _main_child(request: dict[str, Any], base_path: list[str], filters: list[Any]) -> None:
    """Become ``python SCRIPT ARGV`` or ``python -m MODULE ARGV``; exit as the interpreter would."""
    code = 1
    try:
        kind, target = request["main"]
        script = os.path.join(request["cwd"], target) if kind == "script" else ""
        _enter(request, os.path.dirname(os.path.realpath(script)) if script else request["cwd"], base_path)
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


def main() -> None:
    start_env = dict(os.environ)
    filters = list(warnings.filters)
    base_path = [entry for entry in sys.path if entry and entry not in _python_path(start_env)]
    _warm()
    if threading.active_count() != 1:  # forking a process with threads is not safe: say so, serve nothing
        _reply({"ready": False, "why": f"{threading.active_count()} threads after warming"})
        return
    if "hypothesis" in sys.modules or "pytest_agentops" in sys.modules:
        _reply({"ready": False, "why": "a cold package was imported while warming"})
        return
    # Every child's garbage collections would walk the warmed heap again (pytest collects several
    # times at exit: half a second a session); frozen, they walk only what the child made.
    gc.collect()
    gc.freeze()
    _reply({"ready": True, "modules": sorted({name.partition(".")[0] for name in sys.modules})})
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            if "main" in request:
                _main_child(request, base_path, filters)
            _child(request, base_path)
        _reply({"pid": pid})
        _, status = os.waitpid(pid, 0)
        _reply({"pid": pid, "code": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    main()
