"""The suite's inner sessions fork from a warm interpreter: same results as a cold subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import forkrun
import pytest
import zygote
from hypothesis._settings import _CI_VARS

PROBE = """
import os, sys
from _pytest.assertion.rewrite import AssertionRewritingHook

def test_fresh_plugin(tmp_path):
    # Our plugin was imported by this session's pytest (and rewritten), not inherited warm.
    assert isinstance(sys.modules["pytest_agentops.plugin"].__loader__, AssertionRewritingHook)
    with open(os.environ["PROBE_OUT"], "w") as out:
        out.write(f"{os.getppid()} {os.getcwd()} {os.environ.get('PROBE_VALUE')} {sys.path[0]}")

def test_fails():
    assert 1 == 2
"""


def _probe(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[pytest.RunResult, str]:
    pytester.makepyfile(test_probe=PROBE)
    out = pytester.path / "probe.txt"
    monkeypatch.setenv("PROBE_OUT", str(out))
    monkeypatch.setenv("PROBE_VALUE", "seen")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    return result, out.read_text()


def test_a_forked_session_matches_a_cold_one(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    forked, seen = _probe(pytester, monkeypatch)
    forked.assert_outcomes(passed=1, failed=1)
    parent, cwd, value, first = seen.split()
    assert int(parent) != os.getpid()  # a child of the warm interpreter
    assert (cwd, value, first) == (str(pytester.path), "seen", str(pytester.path))

    monkeypatch.setenv("AGENTOPS_TEST_FORK", "0")
    cold, seen = _probe(pytester, monkeypatch)
    cold.assert_outcomes(passed=1, failed=1)
    assert int(seen.split()[0]) == os.getpid()
    assert cold.ret == forked.ret
    assert [line for line in cold.outlines if "assert 1 == 2" in line] == [
        line for line in forked.outlines if "assert 1 == 2" in line
    ]


def test_an_interpreter_setting_gets_a_cold_subprocess(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, seen = _probe(pytester, monkeypatch, PYTHONHASHSEED="123")
    result.assert_outcomes(passed=1, failed=1)
    assert int(seen.split()[0]) == os.getpid()


def test_a_hung_session_times_out_and_is_killed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import os, time\ndef test_hang():\n    open('pid', 'w').write(str(os.getpid()))\n    time.sleep(60)\n"
    )
    with pytest.raises(pytester.TimeoutExpired):
        pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=1)
    started = pytester.path / "pid"
    if started.exists():  # on a loaded machine the session may not have reached its test in time
        with pytest.raises(ProcessLookupError):
            os.kill(int(started.read_text()), 0)
    # The warm interpreter serves the next session.
    pytester.makepyfile("def test_ok():\n    pass\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


WORKERS_CONFTEST = """
import os

def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        os.environ["PROBE_CONTROLLER"] = str(os.getpid())
        if "PROBE_SITE" in os.environ:  # as --agent-replay adds its offline site for the workers
            os.environ["PYTHONPATH"] = os.environ["PROBE_SITE"]
"""

WORKERS_PROBE = """
import os, sys

def test_{n}():
    started = "forked" if os.getppid() != int(os.environ["PROBE_CONTROLLER"]) else "cold"
    with open(f"worker-{{os.environ['PYTEST_XDIST_WORKER']}}.txt", "w") as out:
        out.write(f"{{started}} {{sys.flags.dont_write_bytecode}} {{os.getcwd()}}")
    assert {n} % 3
"""


def _workers(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, set[str]]:
    pytester.makeconftest(WORKERS_CONFTEST)
    pytester.makepyfile(**{f"test_w{n}": WORKERS_PROBE.format(n=n) for n in range(1, 7)})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", *args)
    seen = {path.read_text() for path in pytester.path.glob("worker-*.txt")}
    for path in pytester.path.glob("worker-*.txt"):
        path.unlink()
    return result, seen


def test_an_inner_sessions_xdist_workers_fork_too(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    forked, seen = _workers(pytester)
    forked.assert_outcomes(passed=4, failed=2)
    assert seen == {f"forked 0 {pytester.path}"}  # both workers, in the session's folder

    # The session changed the path its workers start with (a sitecustomize there must run): cold.
    monkeypatch.setenv("PROBE_SITE", str(pytester.path / "site"))
    cold, seen = _workers(pytester)
    assert seen == {f"cold 0 {pytester.path}"}
    assert cold.parseoutcomes() == forked.parseoutcomes()


def test_other_commands_are_not_forked() -> None:
    env = dict(os.environ)
    assert not forkrun._forkable((sys.executable, "-c", "pass"), env, pytest.Pytester.CLOSE_STDIN)
    assert not forkrun._forkable((sys.executable, "-mpytest"), env, subprocess.PIPE)
    assert forkrun._forkable((sys.executable, "-mpytest", "-q"), env, pytest.Pytester.CLOSE_STDIN)


NETNS_PROBE = """
import os, socket

def test_ns():
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen()
        loopback = "down" if client.connect_ex(server.getsockname()) else "up"
    with open("ns.txt", "w") as out:
        out.write(f"{os.readlink('/proc/self/ns/net')} {os.getppid()} {loopback}")
"""


@pytest.mark.skipif(
    subprocess.run(["unshare", "-n", "true"], check=False, capture_output=True).returncode != 0,
    reason="needs `unshare -n` (root or user namespaces)",
)
@pytest.mark.parametrize("loopback", ["up", "down"])
def test_an_unshared_session_forks_into_a_network_namespace_of_its_own(
    pytester: pytest.Pytester, loopback: str
) -> None:
    pytester.makepyfile(test_ns=NETNS_PROBE)
    python = ("sh", "-c", forkrun.LO_UP, sys.executable) if loopback == "up" else (sys.executable, "-m", "pytest")
    result = pytester.run("unshare", "-n", *python, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    namespace, parent, seen = (pytester.path / "ns.txt").read_text().split()
    assert namespace != os.readlink("/proc/self/ns/net")
    assert int(parent) != os.getpid()  # a child of the warm interpreter, not of unshare
    assert seen == loopback


SCRIPT = """
import atexit, os, sys, threading, time
print("argv", sys.argv[1:], "path0", sys.path[0], "cwd", os.getcwd(), "value", os.environ.get("PROBE_VALUE"))
print("to stderr", file=sys.stderr)
atexit.register(lambda: print("atexit ran"))
threading.Thread(target=lambda: (time.sleep(0.05), print("thread finished"))).start()
how = sys.argv[1]
if how == "exit3":
    sys.exit(3)
if how == "exit-text":
    sys.exit("a message")
if how == "raise":
    raise ValueError("boom")
print("pid", os.getpid(), "parent", os.getppid())
"""


@pytest.mark.parametrize("how", ["return", "exit3", "exit-text", "raise"])
def test_a_forked_script_exits_as_a_cold_one(tmp_path: Path, how: str) -> None:
    (tmp_path / "project").mkdir()
    script = tmp_path / "project" / "probe.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PROBE_VALUE": "seen"}
    command = [sys.executable, str(script), how]
    forked = forkrun.run(command, cwd=tmp_path, env=env, timeout=60)
    cold = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (forked.returncode, forked.stderr) == (cold.returncode, cold.stderr)
    assert forked.returncode == {"return": 0, "exit3": 3, "exit-text": 1, "raise": 1}[how]
    first = f"argv [{how!r}] path0 {script.parent} cwd {tmp_path} value seen"
    # The non-daemon thread is joined, then atexit handlers run: in both, in that order.
    assert forked.stdout.splitlines()[0] == first
    assert forked.stdout.splitlines()[-2:] == ["thread finished", "atexit ran"]
    if how == "return":  # a child of the warm interpreter, not of this process
        _, _, _, parent = forked.stdout.splitlines()[-3].split()
        assert int(parent) != os.getpid()
        assert forked.stdout.splitlines()[:-3] == cold.stdout.splitlines()[:-3]
    else:
        assert forked.stdout == cold.stdout


def test_a_forked_module_runs_as_python_m(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pytest", "--version"]
    forked = forkrun.run(command, cwd=tmp_path, env=dict(os.environ), timeout=60)
    cold = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert (forked.returncode, forked.stdout, forked.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert forked.returncode == 0 and "pytest" in forked.stdout + forked.stderr


PARENT = "import os, sys\nprint(os.getppid())\n"


def _parent(tmp_path: Path, env: dict[str, str]) -> int:
    (tmp_path / "probe.py").write_text(PARENT)
    done = forkrun.run([sys.executable, str(tmp_path / "probe.py")], cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_a_script_that_cannot_fork_soundly_runs_cold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = dict(os.environ)
    assert _parent(tmp_path, env) != os.getpid()  # forked
    assert _parent(tmp_path, {**env, "PYTHONHASHSEED": "7"}) == os.getpid()  # a start-time setting
    (tmp_path / "yaml.py").write_text("")  # shadows a module the warm interpreter holds
    assert _parent(tmp_path, env) == os.getpid()
    (tmp_path / "yaml.py").unlink()
    monkeypatch.setenv("AGENTOPS_TEST_FORK", "0")
    assert _parent(tmp_path, env) == os.getpid()


def test_a_hung_script_times_out_and_is_killed(tmp_path: Path) -> None:
    (tmp_path / "hang.py").write_text("import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)\n")
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        forkrun.run([sys.executable, str(tmp_path / "hang.py")], cwd=tmp_path, env=dict(os.environ), timeout=0.5)
    printed = raised.value.output
    if printed:
        with pytest.raises(ProcessLookupError):
            os.kill(int(printed), 0)
    assert _parent(tmp_path, dict(os.environ)) != os.getpid()  # the warm interpreter serves the next run


@pytest.mark.parametrize(
    "code",
    [
        "import warnings\nprint(warnings.filters)\n",  # a fresh interpreter's filters, not the warmed packages'
        "import sys\nprint(sys.argv, __name__, __file__, __spec__)\nsys.exit(300)\n",  # exit status 300 & 0xFF
        "raise KeyboardInterrupt\n",  # the interpreter ends by SIGINT: -2
    ],
)
def test_a_forked_script_sees_and_ends_as_a_cold_one(tmp_path: Path, code: str) -> None:
    (tmp_path / "probe.py").write_text(code)
    command = [sys.executable, "probe.py", "an argument"]
    forked = forkrun.run(command, cwd=tmp_path, env=dict(os.environ), timeout=60)
    cold = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert (forked.returncode, forked.stdout, forked.stderr) == (cold.returncode, cold.stdout, cold.stderr)


def test_only_plain_scripts_and_top_level_modules_fork() -> None:
    python = sys.executable
    assert forkrun.main_of([python, "x.py", "-q"]) == (["script", "x.py"], ["-q"])
    assert forkrun.main_of([python, "-m", "mkdocs", "build"]) == (["module", "mkdocs"], ["build"])
    for cold in (
        [python, "-m", "json.tool"],
        [python, "-c", "pass"],
        [python, "-X", "dev", "x.py"],
        ["python", "x.py"],
    ):
        assert forkrun.main_of(cold) is None


HYPOTHESIS_PROBE = """
import os
from hypothesis import given, settings, strategies as st

def test_where():
    with open(os.environ["PROBE_OUT"], "w") as out:
        out.write(f"{os.getppid()} {settings._current_profile} {settings.default.database}")

@given(st.integers())
def test_finds(n):
    assert n < 10
"""


@pytest.mark.parametrize("ci", [False, True])
def test_a_forked_session_keeps_hypothesis_s_state_its_own(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: bool
) -> None:
    # hypothesis (warmed) takes its database folder and its CI profile at import: a session must still
    # save examples in its own folder, and one whose CI detection differs from the suite's starts cold.
    suite_in_ci = zygote._in_ci(dict(os.environ))
    pytester.makepyfile(test_hyp=HYPOTHESIS_PROBE)
    out = pytester.path / "probe.txt"
    monkeypatch.setenv("PROBE_OUT", str(out))
    for key in _CI_VARS:  # hypothesis's own list, so a new CI it detects cannot leak into the "no CI" case
        monkeypatch.delenv(key, raising=False)
    if ci:
        monkeypatch.setenv("CI", "true")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:schemathesis")
    result.assert_outcomes(passed=1, failed=1)
    parent, profile, database = out.read_text().split(" ", 2)
    assert (int(parent) != os.getpid()) == (ci == suite_in_ci)  # forked only when hypothesis would agree
    assert profile == ("ci" if ci else "default")
    if not ci:  # the ci profile keeps no database
        assert str(pytester.path / ".hypothesis") in database
        assert (pytester.path / ".hypothesis" / "examples").is_dir()
