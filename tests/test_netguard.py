"""--agent-replay blocks every real connection to a non-loopback address and names the test.

The inner sessions run in a fresh network namespace (``unshare -n``, only loopback up), so even a
broken guard cannot send a packet off this machine; targets are TEST-NET addresses and ``.invalid``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Project


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, check=False)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _can_unshare(), reason="needs `unshare -n` (root or user namespaces) and `ip` to isolate the network"
)

NET_TESTS = """
import asyncio
import http.server
import socket
import threading

import pytest


@pytest.fixture(scope="session")
def warmed_up():
    # Session fixtures run before the per-test tap: only the socket guard stands in the way here.
    import httpx

    return httpx.get("https://api.example.invalid/health", timeout=3)


def test_socket():
    socket.create_connection(("192.0.2.1", 443), timeout=3).close()


def test_socket_ipv6():
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        sock.settimeout(3)
        sock.connect(("2001:db8::1", 8443, 0, 0))
    finally:
        sock.close()


def test_socket_by_name():
    socket.create_connection(("api.example.invalid", 443), timeout=3).close()


def test_httpx():
    import httpx

    httpx.get("https://203.0.113.5/v1/models", timeout=3)


def test_requests():
    import requests

    requests.post("http://api.example.invalid/v1/chat/completions", json={"model": "m"}, timeout=3)


def test_aiohttp():
    import aiohttp

    async def main():
        async with aiohttp.ClientSession() as session:
            async with session.get("http://203.0.113.5:8080/tools") as resp:
                return resp.status

    asyncio.run(main())


def test_outside_the_tap(warmed_up):
    pass


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


def test_loopback_still_works():
    import httpx
    import requests

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        port = server.server_address[1]
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
        socket.create_connection(("localhost", port), timeout=3).close()
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello"
        assert requests.get(f"http://localhost:{port}/", timeout=3).text == "hello"
    finally:
        server.shutdown()
        server.server_close()
"""


def _run_isolated(project: Project, *args: str) -> tuple[pytest.RunResult, str, dict[str, str]]:
    """Run the inner pytest in a new network namespace with only loopback up."""
    script = 'ip link set lo up && exec "$0" -m pytest "$@"'
    result = project.pytester.run(
        "unshare", "-n", "sh", "-c", script, sys.executable, "-p", "no:randomly", *args, timeout=60
    )
    out = result.stdout.str() + result.stderr.str()
    return result, out, _sections(out)


def _sections(out: str) -> dict[str, str]:
    """Failure/error report sections by test name."""
    sections: dict[str, str] = {}
    current = None
    for line in out.splitlines():
        header = re.match(r"^_{3,} (?:ERROR at \w+ of )?(\S+) _{3,}$", line)
        if header:
            current = header.group(1)
            sections[current] = ""
        elif re.match(r"^={5,} .* ={5,}$", line):
            current = None
        elif current is not None:
            sections[current] += line + "\n"
    return sections


GUARD = "pytest-agentops --agent-replay: test test_net.py::{test} tried to {what}; replay mode allows loopback only"


def test_replay_blocks_non_loopback_connections_and_names_test_and_destination(project: Project) -> None:
    project.pytester.makepyfile(test_net=NET_TESTS)
    result, out, sections = _run_isolated(project, "--agent-replay", "-rA")
    result.assert_outcomes(passed=1, failed=6, errors=1)
    assert "PASSED test_net.py::test_loopback_still_works" in out

    # Raw sockets and name lookups: the guard's own error, naming the test and the destination.
    assert GUARD.format(test="test_socket", what="open a socket to 192.0.2.1:443") in sections["test_socket"]
    ipv6 = GUARD.format(test="test_socket_ipv6", what="open a socket to [2001:db8::1]:8443")
    assert ipv6 in sections["test_socket_ipv6"]
    by_name = GUARD.format(test="test_socket_by_name", what="resolve the host name 'api.example.invalid'")
    assert by_name in sections["test_socket_by_name"]
    assert "NetworkBlockedError" in sections["test_socket"]
    outside = GUARD.format(test="test_outside_the_tap", what="resolve the host name 'api.example.invalid'")
    assert outside in sections["test_outside_the_tap"]

    # HTTP clients are answered by the tap first: a cassette miss naming the request, never a connection.
    for test, request in (
        ("test_httpx", "GET https://203.0.113.5/v1/models"),
        ("test_requests", "POST http://api.example.invalid/v1/chat/completions"),
        ("test_aiohttp", "GET http://203.0.113.5:8080/tools"),
    ):
        assert f"pytest-agentops: 1 request(s) had no recorded answer:\n- {request}" in sections[test], test
        assert "does not exist" in sections[test] and "--agent-record" in sections[test]
    # Nothing reached the OS's network stack (it would have said "Network is unreachable").
    assert "unreachable" not in out.lower()


def test_without_replay_the_guard_is_not_installed(project: Project) -> None:
    project.pytester.makepyfile(test_net=NET_TESTS)
    result, out, sections = _run_isolated(project, "-rA")
    result.assert_outcomes(passed=1, failed=6, errors=1)
    assert "PASSED test_net.py::test_loopback_still_works" in out
    assert "pytest-agentops --agent-replay" not in out
    assert "NetworkBlockedError" not in out
    # The namespace has no route out: the OS refuses, in its own words.
    assert "[Errno 101] Network is unreachable" in sections["test_socket"]
    assert "Network is unreachable" in sections["test_socket_ipv6"]
    assert "gaierror" in sections["test_socket_by_name"]
    assert "ConnectError" in sections["test_outside_the_tap"]


NESTED = '''
import socket

import pytest

INNER = """
def test_inner():
    pass
"""


def test_an_inner_session_leaves_the_guard_up(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER)
    # An in-process session with --agent-replay of its own (as pytester runs them), then ends.
    assert pytest.main([str(tmp_path / "test_inner.py"), "--agent-replay", "-q", "-p", "no:cacheprovider"]) == 0
    socket.create_connection(("192.0.2.1", 443), timeout=3).close()
'''


def test_a_nested_replay_session_does_not_lift_the_outer_guard(project: Project) -> None:
    project.pytester.makepyfile(test_net=NESTED)
    result, out, _ = _run_isolated(project, "--agent-replay", "-p", "pytester")
    result.assert_outcomes(failed=1)
    # The outer test is still guarded after the inner session ended, and is the one named.
    what = "open a socket to 192.0.2.1:443"
    assert GUARD.format(test="test_an_inner_session_leaves_the_guard_up", what=what) in out
    assert "unreachable" not in out.lower()
