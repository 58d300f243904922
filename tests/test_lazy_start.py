"""What a session whose tests make no request never pays for, and what is still caught later.

The interception starts at a session's first test; a client it covers is patched when the client
is first imported, not imported up front (aiohttp alone was a third of a trivial session's cost),
and a test that defines no ``@tool`` never loads the policy engine or pydantic.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest_agentops.policy as policy


def run_script(source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -c source``: a fresh interpreter, so that what is imported is what the code imports."""
    return subprocess.run([sys.executable, "-c", source, *args], capture_output=True, text=True, timeout=120)


def script_ok(source: str, *args: str) -> None:
    """The script ran to its last line, which prints "ok"."""
    done = run_script(source, *args)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


LATE_AIOHTTP = """
import sys

from pytest_agentops.tap import install

install.acquire()
assert "aiohttp" not in sys.modules, "the interception imported aiohttp itself"
import aiohttp
import vcr.patch

original = vcr.patch._AiohttpClientSessionRequest  # what pytest-recording's stub calls for real
assert original.__module__ == "aiohttp.client", original
assert aiohttp.ClientSession._request is not original, "aiohttp imported after the start is not patched"
install.release()
assert aiohttp.ClientSession._request is original, "release left the patch"

install.acquire()
for name in [m for m in sys.modules if m == "aiohttp" or m.startswith("aiohttp.")]:
    del sys.modules[name]  # what pytester does after an in-process session that imported it
import aiohttp

assert vcr.patch._AiohttpClientSessionRequest is not original, "vcr kept the old module's original"
assert aiohttp.ClientSession._request is not vcr.patch._AiohttpClientSessionRequest, "a fresh import is not patched"
install.release()
print("ok")
"""


def test_aiohttp_is_patched_when_imported_not_before() -> None:
    script_ok(LATE_AIOHTTP)


LATE_HTTPX = """
import sys

from pytest_agentops.tap import install

install.acquire()
assert "httpx" not in sys.modules, "the interception imported httpx itself (and its command line)"
import httpx
import vcr.patch

unpatched = httpx.Client.__dict__["_send_single_request"]
assert unpatched.__wrapped__.__module__ == "httpx._client", "httpx imported after the start is not observed"
# What vcr.patch reads of httpx at its import, for pytest-recording's stubs: the real transports
# (the default ones are observed too, so the real one is what the tap's patch wraps).
real = httpx.HTTPTransport.__dict__["handle_request"].__wrapped__
assert real.__module__ == "httpx._transports.default"
assert vcr.patch._HttpxHttpTransport_handle_request is real
assert vcr.patch._HttpxMockTransport_handle_async_request is httpx.MockTransport.handle_async_request
install.release()
assert not hasattr(httpx.Client.__dict__["_send_single_request"], "__wrapped__"), "release left the patch"

install.acquire()
old = httpx
for name in [m for m in sys.modules if m == "httpx" or m.startswith("httpx.")]:
    del sys.modules[name]  # what pytester does after an in-process session that imported it
import httpx

assert httpx is not old
real = httpx.HTTPTransport.__dict__["handle_request"].__wrapped__
assert vcr.patch._HttpxHttpTransport_handle_request is real, "vcr kept the old module's"
assert hasattr(httpx.Client.__dict__["_send_single_request"], "__wrapped__"), "a fresh import is not observed"
install.release()
print("ok")
"""


def test_httpx_is_observed_when_imported_not_before() -> None:
    script_ok(LATE_HTTPX)


LATE_TEST = """
import asyncio
import sys


def test_late():
    assert "aiohttp" not in sys.modules, "imported before the test: it does not show the late import"
    import aiohttp

    async def fetch():
        async with aiohttp.ClientSession() as session:
            async with session.get("https://api.openai.com/v1/models") as response:
                return response.status

    asyncio.run(fetch())
"""

TRIVIAL_TESTS = """
import sys

import pytest


@pytest.mark.parametrize("n", range(3))
def test_trivial(n):
    assert n + 1


def test_last():
    heavy = {"pytest_agentops.policy.engine", "pytest_agentops.policy.tools", "pytest_agentops.tap.routing"}
    heavy |= {"pytest_agentops.trace.run", "pytest_agentops.readers.assertions", "pytest_agentops.trace.prices"}
    heavy |= {"vcr.config", "vcr.cassette"}  # vcrpy's own cassette machinery: the tap uses its patches only
    loaded = (heavy | {"aiohttp", "ctypes"}) & set(sys.modules)  # no run opened, no price set, no namespace entered
    assert not loaded, loaded
"""


def run_pytest(folder: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A fresh session, as a user runs it (pytester's own runs inherit this process's imports)."""
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider -p no:recording\n")
    (folder / "test_it.py").write_text(source)
    command = [sys.executable, "-m", "pytest", "-q", *args]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)


def test_a_request_of_aiohttp_imported_inside_a_test_is_still_governed(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, LATE_TEST, "--agent-replay")
    assert "1 failed" in done.stdout, done.stdout
    assert "no recorded answer" in done.stdout and "GET https://api.openai.com/v1/models" in done.stdout, done.stdout


def test_a_session_that_calls_no_tool_never_loads_the_policy_engine(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, TRIVIAL_TESTS)
    assert "4 passed" in done.stdout, done.stdout


def test_the_policy_package_knows_all_its_submodules() -> None:
    """``from pytest_agentops.policy import X`` imports submodule X as itself, never through the engine."""
    folder = Path(policy.__file__).parent
    assert {path.stem for path in folder.glob("*.py") if path.stem != "__init__"} == policy._SUBMODULES


def test_agent_run_is_public_and_the_fixtures_type(agent_run: object) -> None:
    """``from pytest_agentops import AgentRun`` types ``def test_x(agent_run: AgentRun)``; all public names resolve."""
    import pytest_agentops
    from pytest_agentops import AgentRun
    from pytest_agentops.readers.assertions import AgentRun as Defined

    assert AgentRun is Defined and type(agent_run) is AgentRun
    assert "AgentRun" in pytest_agentops.__all__
    assert all(getattr(pytest_agentops, name) is not None for name in pytest_agentops.__all__)


LATE_POOLS = """
import http.client
import socket
import sys

from pytest_agentops.tap import install

install.acquire()
assert not {"urllib3", "requests", "botocore"} & set(sys.modules), "the interception imported urllib3's family"
import vcr.patch

real_http = vcr.patch._HTTPConnection
assert http.client.HTTPConnection is not real_http, "http.client is not patched"
import boto3  # imports botocore and urllib3 while http.client's classes are vcrpy's stubs
import botocore.awsrequest as aws
import urllib3.connection as conn
import urllib3.connectionpool as cpool

assert real_http in conn.HTTPConnection.__mro__ and not any("vcr" in c.__module__ for c in conn.HTTPConnection.__mro__)
assert not any("vcr" in c.__module__ for c in aws.AWSHTTPConnection.__mro__), aws.AWSHTTPConnection.__mro__
assert vcr.patch.cpool is cpool and vcr.patch._connHTTPConnection is conn.HTTPConnection
assert vcr.patch._cpoolBoto3HTTPConnection is aws.AWSHTTPConnection
assert cpool.HTTPConnectionPool.ConnectionCls is conn.HTTPConnection, "patched before the first connection"

pool = cpool.HTTPConnectionPool("127.0.0.1", 9)
connection = pool._get_conn()  # the first connection starts vcrpy's urllib3, requests and boto3 patches
assert type(connection).__module__.startswith("vcr"), type(connection)
assert cpool.HTTPConnectionPool.ConnectionCls.__module__.startswith("vcr")
assert aws.AWSHTTPConnectionPool.ConnectionCls.__module__.startswith("vcr")
assert boto3.client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
install.release()
assert cpool.HTTPConnectionPool.ConnectionCls is conn.HTTPConnection, "release left a patch"
assert aws.AWSHTTPConnectionPool.ConnectionCls is aws.AWSHTTPConnection
assert cpool.HTTPConnectionPool._get_conn.__module__ == "urllib3.connectionpool", "release left the trigger"
assert http.client.HTTPConnection is real_http

install.acquire()  # urllib3 is imported now: its patches start with the others, as vcrpy's own do
assert cpool.HTTPConnectionPool.ConnectionCls.__module__.startswith("vcr")
assert aws.AWSHTTPConnectionPool.ConnectionCls.__module__.startswith("vcr")
install.release()
assert cpool.HTTPConnectionPool.ConnectionCls is conn.HTTPConnection
print("ok")
"""


def test_urllib3_requests_and_boto3_start_at_the_first_connection_not_at_import() -> None:
    script_ok(LATE_POOLS)


LATE_VCR = """
import sys

from pytest_agentops.tap import install

install.acquire()
assert "vcr.patch" in sys.modules
early = {"vcr.config", "vcr.cassette", "vcr.serializers.yamlserializer", "wrapt"} & set(sys.modules)
assert not early, f"the interception ran vcr's package start-up: {sorted(early)}"
import vcr  # as pytest-recording and vcrpy's own users do, after the interception started

from vcr import VCR, use_cassette

assert "vcr.cassette" in sys.modules and isinstance(vcr.default_vcr, VCR) and vcr.__version__
assert vcr.use_cassette is use_cassette and vcr.patch is sys.modules["vcr.patch"]
assert not hasattr(vcr, "no_such_name")
with use_cassette(sys.argv[1], record_mode="none") as cassette:  # vcrpy's own cassette, above ours
    assert len(cassette) == 0
install.release()
print("ok")
"""


def test_vcr_package_start_up_runs_only_when_someone_uses_vcrpy_itself(tmp_path: Path) -> None:
    """The tap needs vcr.patch only; ``import vcr`` afterwards still gives all of vcrpy."""
    cassette = str(tmp_path / "empty.yaml")
    script_ok(LATE_VCR, cassette)


LATE_BOTO3 = """
import sys

import urllib3  # imported before the interception starts, as in most environments

from pytest_agentops.tap import install

install.acquire()
assert "botocore" not in sys.modules, "the interception imported botocore"
import boto3
import botocore.awsrequest as aws
import vcr.patch

assert not any("vcr" in c.__module__ for c in aws.AWSHTTPConnection.__mro__), aws.AWSHTTPConnection.__mro__
assert vcr.patch._cpoolBoto3HTTPConnection is aws.AWSHTTPConnection
assert aws.AWSHTTPConnectionPool.ConnectionCls.__module__.startswith("vcr"), "botocore imported later is not patched"
connection = aws.AWSHTTPConnectionPool("127.0.0.1", 9)._get_conn()
assert type(connection).__module__.startswith("vcr"), type(connection)
assert boto3.client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
install.release()
assert aws.AWSHTTPConnectionPool.ConnectionCls is aws.AWSHTTPConnection, "release left the patch"
print("ok")  # (with botocore imported before the start, LATE_POOLS's second start checks its patches)
"""


def test_boto3_patches_start_when_botocore_is_imported_not_before() -> None:
    script_ok(LATE_BOTO3)


LATE_RESET = """
import http.server
import sys
import threading

import requests

from pytest_agentops.tap import install


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


install.acquire()
import vcr.patch

with vcr.patch.force_reset():
    pass
late = {"httpx", "httpx2", "botocore"}
assert not late & set(sys.modules), f"vcrpy's reset imported {sorted(late & set(sys.modules))}"
server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
threading.Thread(target=server.serve_forever, daemon=True).start()
answer = requests.get(f"http://127.0.0.1:{server.server_port}/", timeout=30)  # vcrpy's stub, reset around it
assert answer.status_code == 200 and answer.text == "ok", answer
assert not late & set(sys.modules), f"a real connection imported {sorted(late & set(sys.modules))}"
import httpx  # only a reset running in this thread keeps it out

with vcr.patch.force_reset():  # httpx imported now: reset as vcrpy resets it
    assert httpx.HTTPTransport.handle_request is vcr.patch._HttpxHttpTransport_handle_request
server.shutdown()
install.release()
print("ok")
"""


def test_vcr_reset_around_a_real_connection_imports_no_client() -> None:
    """vcrpy's reset tried to import every client it knows, per real connection (httpx, botocore too)."""
    script_ok(LATE_RESET)


NETNS_CHECK = """
import sys

from pytest_agentops.tap import netns

assert not netns.active()
print(sorted({"ctypes", "_ctypes"} & set(sys.modules)))
"""


def test_asking_whether_the_session_is_isolated_imports_no_ctypes() -> None:
    """Every session asks (``--agent-netns`` or not); only entering a namespace needs ctypes (~3 ms)."""
    done = run_script(NETNS_CHECK)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
