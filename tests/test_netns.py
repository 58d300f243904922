"""--agent-netns re-runs the session in a network namespace of its own: nothing, in any language, leaves.

Every run here starts inside ``unshare -n`` already (only loopback, a listener on it), so the
namespace ``--agent-netns`` makes is a second one: the inner tests check that they are in a
*different* namespace (the outer loopback listener is out of reach), not merely an isolated one.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from conftest import INNER_INI
from test_netguard import _can_unshare

if TYPE_CHECKING:
    from conftest import Project

pytestmark = pytest.mark.skipif(
    not _can_unshare(), reason="needs `unshare -n` (root or user namespaces) and `ip` to isolate the network"
)

ISOLATED = r"""
import ctypes
import errno
import os
import shutil
import socket
import struct
import subprocess

import pytest


def test_only_loopback_in_a_namespace_of_its_own():
    assert [name for _, name in socket.if_nameindex()] == ["lo"]
    assert os.readlink("/proc/self/ns/net") != os.environ["OUTER_NETNS"]


def test_the_outer_loopback_is_out_of_reach():
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(os.environ["OUTER_PORT"])), timeout=3)


def test_loopback_inside_works():
    for host, family in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
        with socket.create_server((host, 0), family=family) as server:
            socket.create_connection(server.getsockname()[:2], timeout=3).close()


def test_c_code_cannot_leave():
    libc = ctypes.CDLL(None, use_errno=True)
    sockaddr = struct.pack("=H", socket.AF_INET) + struct.pack("!H4s8x", 443, bytes([192, 0, 2, 30]))
    with socket.socket() as sock:
        assert libc.connect(sock.fileno(), sockaddr, len(sockaddr)) == -1
    assert ctypes.get_errno() == errno.ENETUNREACH


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl here")
def test_curl_cannot_leave():
    done = subprocess.run(["curl", "-sS", "--max-time", "3", "http://192.0.2.31/"], capture_output=True, text=True)
    assert done.returncode == 7, done.stderr  # couldn't connect
"""

# In the outer namespace: loopback up and a listener on it, whose port the inner tests get.
OUTER = (
    'ip link set lo up || exit 3; "$0" -c "$LISTEN" & listener=$!; while [ ! -s port ]; do sleep 0.05; done; '
    "export OUTER_PORT=$(cat port) OUTER_NETNS=$(readlink /proc/self/ns/net); "
)
LISTEN = (
    "import socket, time\n"
    "s = socket.create_server(('127.0.0.1', 0))\n"
    "open('port.tmp', 'w').write(str(s.getsockname()[1])); __import__('os').rename('port.tmp', 'port')\n"
    "time.sleep(60)\n"
)


def _run(project: Project, then: str, *args: str) -> tuple[pytest.RunResult, str]:
    project.pytester.makepyfile(test_isolated=ISOLATED)
    script = OUTER + then + ' "$0" -m pytest "$@"; status=$?; kill $listener; exit $status'
    result = project.pytester.run(
        "env",
        f"LISTEN={LISTEN}",
        "unshare",
        "-n",
        "sh",
        "-c",
        script,
        sys.executable,
        "-p",
        "no:randomly",
        *args,
        timeout=90,
    )
    return result, result.stdout.str() + result.stderr.str()


def test_agent_netns_isolates_the_session(project: Project) -> None:
    result, out = _run(project, "", "--agent-netns", "-rA")
    result.assert_outcomes(passed=5)
    assert "agentops: replay, cassettes in" in out and "network namespace (loopback only)" in out


def test_without_it_the_same_tests_see_the_outer_namespace(project: Project) -> None:
    result, out = _run(project, "", "-rA")
    result.assert_outcomes(passed=3, failed=2)
    assert "FAILED test_isolated.py::test_only_loopback_in_a_namespace_of_its_own" in out
    assert "FAILED test_isolated.py::test_the_outer_loopback_is_out_of_reach" in out


def _can_map_user() -> bool:
    probe = subprocess.run(["unshare", "--map-user=1000", "--map-group=1000", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_map_user(), reason="this unshare has no --map-user")
def test_agent_netns_as_an_unprivileged_user(project: Project) -> None:
    """Not root (as on a CI runner): a user namespace is made too, keeping the same uid inside."""
    project.pytester.makeconftest("import os\n\ndef pytest_report_header():\n    return f'uid inside: {os.getuid()}'\n")
    result, out = _run(project, "unshare --map-user=1000 --map-group=1000", "--agent-netns", "-rA")
    result.assert_outcomes(passed=5)
    assert "uid inside: 1000" in out and "network namespace (loopback only)" in out


def test_agent_netns_where_the_os_refuses_says_so(project: Project) -> None:
    """An unmapped user may not make namespaces: the session stops with a reason, runs nothing."""
    result, out = _run(project, "unshare --user", "--agent-netns")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: pytest-agentops --agent-netns: the OS refused a new network namespace (unshare: " in out
    assert "Run without --agent-netns, or where namespaces are allowed" in out
    assert "collected" not in out


def test_the_ini_option_does_the_same(project: Project) -> None:
    project.pytester.makeini(INNER_INI + "agentops_netns = true\n")
    result, _ = _run(project, "", "-rA", "-k", "namespace_of_its_own or outer_loopback")
    result.assert_outcomes(passed=2, deselected=3)


def test_not_linux_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    monkeypatch.setattr(sys, "platform", "darwin")
    result = pytester.runpytest_inprocess("--agent-netns")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--agent-netns: network namespaces are a Linux feature and this is darwin" in result.stderr.str()
