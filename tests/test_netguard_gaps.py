"""--agent-replay closes the ways around ``socket.socket.connect``, and each one fails its test.

Every inner test is written as an attacker would: it swallows the ``OSError`` it gets, so only the
guard's own report can fail it. The inner sessions run in fresh network and mount namespaces
(``unshare -n -m``): only loopback is up, and ``/etc/resolv.conf`` points at a DNS catcher on
127.0.0.1:53 that logs every query it gets, so "no lookup left the process" is measured, not assumed.
Targets are TEST-NET addresses and ``.invalid`` names.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from test_netguard import _can_unshare, _sections

if TYPE_CHECKING:
    from conftest import Project

pytestmark = pytest.mark.skipif(
    not _can_unshare(), reason="needs `unshare -n` (root or user namespaces) and `ip` to isolate the network"
)

GAPS = r"""
import _socket
import ctypes
import os
import socket
import struct
import subprocess
import sys
import threading


def swallow(call, *args):
    try:
        call(*args)
    except OSError:  # the attacker hides the refusal; the test must fail all the same
        pass


def udp():
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def test_gethostbyname():
    swallow(socket.gethostbyname, "leak-byname.example.invalid")


def test_gethostbyname_ex():
    swallow(socket.gethostbyname_ex, "leak-byname-ex.example.invalid")


def test_getaddrinfo_below_the_socket_module():
    swallow(_socket.getaddrinfo, "leak-below.example.invalid", 443)


def test_gethostbyaddr():
    swallow(socket.gethostbyaddr, "192.0.2.10")


def test_udp_sendto():
    with udp() as sock:
        swallow(sock.sendto, b"x", ("192.0.2.11", 53))


def test_udp_sendto_by_name():
    with udp() as sock:
        swallow(sock.sendto, b"x", ("leak-udp.example.invalid", 53))


def test_udp_sendmsg():
    with udp() as sock:
        swallow(sock.sendmsg, [b"x"], [], 0, ("192.0.2.12", 53))


def test_bare_socket_connect():
    sock = _socket.socket()
    swallow(sock.connect, ("192.0.2.13", 443))
    sock.close()


def test_mro_connect():
    with socket.socket() as sock:
        swallow(socket.socket.__mro__[1].connect, sock, ("192.0.2.14", 443))


def test_mro_connect_ex():
    with socket.socket() as sock:
        swallow(socket.socket.__mro__[1].connect_ex, sock, ("192.0.2.15", 443))


def test_mro_sendto():
    with udp() as sock:
        swallow(socket.socket.__mro__[1].sendto, sock, b"x", ("192.0.2.16", 53))


def test_ctypes_libc_connect():
    def attack():
        libc = ctypes.CDLL(None, use_errno=True)
        sockaddr = struct.pack("=H", socket.AF_INET) + struct.pack("!H4s8x", 443, bytes([192, 0, 2, 19]))
        with socket.socket() as sock:
            libc.connect(sock.fileno(), sockaddr, len(sockaddr))

    swallow(attack)


def test_python_subprocess():
    code = "import socket; socket.create_connection(('192.0.2.17', 443), timeout=3)"
    subprocess.run([sys.executable, "-c", code], capture_output=True)


def test_python_subprocess_with_its_own_env():
    code = "import socket; socket.create_connection(('192.0.2.18', 443), timeout=3)"
    subprocess.run([sys.executable, "-c", code], capture_output=True, env={"PATH": os.environ.get("PATH", "")})


def test_python_grandchild():
    inner = "import socket; socket.gethostbyname('leak-grandchild.example.invalid')"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {inner!r}])"
    subprocess.run([sys.executable, "-c", code], capture_output=True)


def test_loopback_is_still_allowed():
    server = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=lambda: [server.accept()[0].close() for _ in range(4)], daemon=True).start()
    port = server.getsockname()[1]
    bare = _socket.socket()
    bare.connect(("127.0.0.1", port))
    bare.close()
    with socket.socket() as sock:
        socket.socket.__mro__[1].connect(sock, ("localhost", port))
    with udp() as receiver, udp() as sender:
        receiver.bind(("127.0.0.1", 0))
        sender.sendto(b"ping", receiver.getsockname())
        sender.sendmsg([b"pong"], [], 0, receiver.getsockname())
        assert receiver.recv(10) == b"ping" and receiver.recv(10) == b"pong"
    assert socket.gethostbyname("localhost") == "127.0.0.1"
    assert socket.gethostbyname_ex("127.0.0.1")[2] == ["127.0.0.1"]
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3).close()"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
"""

# Answers every query NXDOMAIN at once and logs the name asked for, one line each.
DNS_CATCHER = r"""
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 53))
open(sys.argv[2], "w").close()  # ready
with open(sys.argv[1], "a") as log:
    while True:
        query, peer = sock.recvfrom(512)
        labels, i = [], 12
        while query[i]:
            labels.append(query[i + 1 : i + 1 + query[i]].decode())
            i += query[i] + 1
        log.write(".".join(labels) + "\n")
        log.flush()
        sock.sendto(query[:2] + b"\x81\x83" + query[4:6] + b"\0\0\0\0\0\0" + query[12 : i + 5], peer)
"""

# The inner session runs with these; a blocked call is named with the address it was given.
BLOCKED = {
    "test_gethostbyname": ("resolve the host name 'leak-byname.example.invalid'", "socket.gethostbyname("),
    "test_gethostbyname_ex": ("resolve the host name 'leak-byname-ex.example.invalid'", "socket.gethostbyname_ex("),
    "test_getaddrinfo_below_the_socket_module": (
        "resolve the host name 'leak-below.example.invalid'",
        "_socket.getaddrinfo(",
    ),
    "test_gethostbyaddr": ("look up the name of the address '192.0.2.10'", "socket.gethostbyaddr("),
    "test_udp_sendto": ("send a datagram to 192.0.2.11:53", "socket.socket.sendto"),
    "test_udp_sendto_by_name": ("send a datagram to leak-udp.example.invalid:53", "socket.socket.sendto"),
    "test_udp_sendmsg": ("send a datagram to 192.0.2.12:53", "socket.socket.sendmsg"),
    "test_bare_socket_connect": ("open a socket to 192.0.2.13:443", "audit event socket.connect"),
    "test_mro_connect": ("open a socket to 192.0.2.14:443", "audit event socket.connect"),
    "test_mro_connect_ex": ("open a socket to 192.0.2.15:443", "audit event socket.connect"),
    "test_mro_sendto": ("send a datagram to 192.0.2.16:53", "audit event socket.sendto"),
    "test_ctypes_libc_connect": (
        "call libc's connect() through ctypes (the address it would reach is out of Python's sight)",
        "audit event ctypes.dlsym",
    ),
}
FROM_SUBPROCESS = {
    "test_python_subprocess": "open a socket to 192.0.2.17:443",
    "test_python_subprocess_with_its_own_env": "open a socket to 192.0.2.18:443",
    "test_python_grandchild": "resolve the host name 'leak-grandchild.example.invalid'",
}
PREFIX = "pytest-agentops --agent-replay: test test_gaps.py::"


def _run_with_dns_catcher(project: Project, *args: str) -> tuple[pytest.RunResult, str, list[str]]:
    """The inner pytest in new network and mount namespaces, DNS pointed at the catcher."""
    root = project.path
    (root / "catcher.py").write_text(DNS_CATCHER)
    (root / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    script = (
        'mount --bind "$PWD/resolv.conf" /etc/resolv.conf && ip link set lo up && '
        '{ "$0" catcher.py queries.log ready & catcher=$!; } && while [ ! -e ready ]; do sleep 0.05; done && '
        '"$0" -m pytest "$@"; status=$?; kill $catcher; exit $status'
    )
    result = project.pytester.run(
        "unshare", "-n", "-m", "sh", "-c", script, sys.executable, "-p", "no:randomly", *args, timeout=120
    )
    out = result.stdout.str() + result.stderr.str()
    return result, out, (root / "queries.log").read_text().splitlines()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_replay_blocks_every_way_around_socket_connect(project: Project, workers: list[str]) -> None:
    """xdist's workers are subprocesses too: they inherit the guard, and the plugin adopts it."""
    project.pytester.makepyfile(test_gaps=GAPS)
    result, out, queries = _run_with_dns_catcher(project, "--agent-replay", "-rA", *workers)
    sections = _sections(out)
    result.assert_outcomes(passed=1, failed=len(BLOCKED) + len(FROM_SUBPROCESS))
    assert "PASSED test_gaps.py::test_loopback_is_still_allowed" in out
    for test, (what, call) in BLOCKED.items():
        message = f"{PREFIX}{test} tried to {what}; replay mode allows loopback only"
        assert message in sections[test], (test, sections.get(test))
        assert call in sections[test].split("(blocked call: ", 1)[1], test
    for test, what in FROM_SUBPROCESS.items():
        text = sections[test]
        assert f"{PREFIX}{test} (in subprocess " in text and f"-c) tried to {what}; replay mode" in text, test
    # Nothing asked the DNS server anything, and nothing reached the kernel's routing.
    assert queries == []
    assert "unreachable" not in out.lower()
    assert "PytestAssertRewriteWarning" not in out  # the inherited guard did not import the plugin early


def test_without_replay_the_same_attacks_pass_and_reach_dns(project: Project) -> None:
    """The attacks are real: without the guard they run, unseen, and only the namespace stops them."""
    project.pytester.makepyfile(test_gaps=GAPS)
    result, out, queries = _run_with_dns_catcher(project, "-rA")
    result.assert_outcomes(passed=len(BLOCKED) + len(FROM_SUBPROCESS) + 1)
    asked = {name for name in queries if "leak-" in name}
    assert {
        "leak-byname.example.invalid",
        "leak-byname-ex.example.invalid",
        "leak-below.example.invalid",
        "leak-udp.example.invalid",
        "leak-grandchild.example.invalid",
    } <= asked
    assert "10.2.0.192.in-addr.arpa" in queries  # gethostbyaddr's reverse lookup
    assert "pytest-agentops --agent-replay" not in out


CHAINED = """
import os
import subprocess
import sys


def test_child_runs_the_projects_own_sitecustomize_too():
    code = "import os, socket; print(os.environ['CHAINED_MARK']); socket.create_connection(('192.0.2.20', 80))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "from the project's sitecustomize", done.stderr
    assert "NetworkBlockedError" in done.stderr
"""


def test_the_injected_sitecustomize_chains_to_the_existing_one(project: Project) -> None:
    site = project.path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import os\nos.environ['CHAINED_MARK'] = \"from the project's sitecustomize\"\n"
    )
    project.pytester.makepyfile(test_chained=CHAINED)
    script = 'ip link set lo up && PYTHONPATH="$PWD/site" exec "$0" -m pytest "$@"'
    result = project.pytester.run(
        "unshare", "-n", "sh", "-c", script, sys.executable, "-p", "no:randomly", "--agent-replay", timeout=60
    )
    out = result.stdout.str()
    result.assert_outcomes(failed=1)  # the child's attempt still fails the test that started it
    assert f"{PREFIX.replace('test_gaps', 'test_chained')}test_child_runs_the_projects_own_sitecustomize_too (in" in out
    assert "tried to open a socket to 192.0.2.20:80" in out
    assert "AssertionError" not in out  # both sitecustomize modules ran in the child


def test_a_subprocess_of_another_interpreter_gets_the_guard_too(tmp_path: Path) -> None:
    """Its pytest_agentops is another copy (or none): sitecustomize loads the (stdlib-only) guard file."""
    import shutil

    import pytest_agentops.tap.offline as netguard

    # A copy of the two files outside this installation stands for another interpreter's view.
    copy = tmp_path / "elsewhere"
    shutil.copytree(netguard.SITE_DIR, copy / "offline_site")
    shutil.copy(netguard.__file__, copy / "offline.py")
    code = (
        "import socket, sys; assert '_agentops_netguard' in sys.modules and 'pytest_agentops' not in sys.modules; "
        "socket.gethostbyname('leak.example.invalid')"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy / "offline_site")}
    env |= {netguard.ENV_ON: "1", netguard.ENV_TEST: "t.py::x"}
    done = subprocess.run(["unshare", "-n", sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 1, done.stderr
    assert "pytest-agentops --agent-replay: test t.py::x (in subprocess " in done.stderr
    assert "-c) tried to resolve the host name 'leak.example.invalid'" in done.stderr
    assert "NetworkBlockedError" in done.stderr and "AssertionError" not in done.stderr
