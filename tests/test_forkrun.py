"""The suite's inner sessions fork from a warm interpreter: same results as a cold subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import forkrun
import pytest

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
        pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=4)
    started = pytester.path / "pid"
    if started.exists():  # on a loaded machine the session may not have reached its test in time
        with pytest.raises(ProcessLookupError):
            os.kill(int(started.read_text()), 0)
    # The warm interpreter serves the next session.
    pytester.makepyfile("def test_ok():\n    pass\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


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
