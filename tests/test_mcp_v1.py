"""mcp 1.x on either side of the tap, each in an mcp<2 interpreter (one environment holds one ``mcp``).

- A 1.x FastMCP server (stateful streamable HTTP: handshake, ``Mcp-Session-Id``, a GET stream that
  stays open) with the 2.x client: records without hanging, then replays with the server gone.
- A 1.x client (``ClientSession`` + ``streamablehttp_client``) in a subprocess against
  ``fake_mcp.serve()``'s port: the allowlist lets get_weather through and the 1.x client reads
  the denied delete_account as a tool error.

The 1.x interpreter is ``$AGENTOPS_MCP1_PYTHON``, else ``/tmp/mcp1venv/bin/python``; build it with
``python -m venv /tmp/mcp1venv && /tmp/mcp1venv/bin/pip install 'mcp<2'``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import INNER_INI
from mcp_weather import free_port

pytest.importorskip("mcp")

TESTS = Path(__file__).parent
MCP1 = os.environ.get("AGENTOPS_MCP1_PYTHON", "/tmp/mcp1venv/bin/python")


def _mcp1_version() -> str | None:
    if not Path(MCP1).exists():
        return None
    found = subprocess.run(
        [MCP1, "-c", "import importlib.metadata as m; print(m.version('mcp'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() if found.returncode == 0 else None


VERSION = _mcp1_version()
pytestmark = pytest.mark.skipif(
    VERSION is None or not VERSION.startswith("1."),
    reason=f"no mcp 1.x interpreter at {MCP1} (python -m venv /tmp/mcp1venv && /tmp/mcp1venv/bin/pip install 'mcp<2')",
)

INNER = """
import asyncio
import os
import subprocess
import sys
import socket
import time

import pytest

PORT = int(os.environ["MCP_PORT"])
URL = f"http://127.0.0.1:{{PORT}}/mcp"


@pytest.fixture
def v1_server():
    if not os.environ.get("MCP_SERVE"):
        yield
        return
    server = subprocess.Popen([{mcp1!r}, {server!r}, str(PORT)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:  # a raw socket: the tap governs urllib, and would answer for a server still starting
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the mcp 1.x server did not start") from None
            time.sleep(0.2)
    try:
        yield
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.agent_policy(allow=["mcp.weather.get_weather"])
def test_v2_client_against_a_v1_server(v1_server, agent_run):
    from mcp import Client

    async def main():
        async with Client(URL) as client:
            ok = await client.call_tool("get_weather", {{"city": "Paris"}})
            return ok, await client.call_tool("delete_account", {{"user": "bob"}})

    ok, bad = asyncio.run(asyncio.wait_for(main(), 60))
    assert ok.content[0].text == "Sunny in Paris"
    assert bad.is_error and "rule allowlist" in bad.content[0].text
    assert [e.tool for e in agent_run.denials] == ["mcp.weather.delete_account"]
    labels = [e.label for e in agent_run.events if e.kind == "mcp"]
    assert "mcp.weather initialize" in labels, labels  # the 1.x server speaks the handshake revision


@pytest.mark.agent_policy(allow=["mcp.weather.get_weather"])
def test_v1_client_against_fake_mcp(fake_mcp, agent_run):
    weather = fake_mcp.server("weather")
    weather.tool("get_weather", compute=lambda city: f"Sunny in {{city}}", read_only=True,
                 input_schema={{"type": "object", "properties": {{"city": {{"type": "string"}}}}}})
    weather.tool("delete_account", "deleted", input_schema={{"type": "object", "properties": {{}}}})
    url = weather.serve()
    out = subprocess.run([{mcp1!r}, {client!r}, url], capture_output=True, text=True, timeout=120, check=True)
    tools, ok, bad = out.stdout.splitlines()
    assert tools == '["delete_account", "get_weather"]'
    assert '"Sunny in Paris"' in ok and '"isError": false' in ok
    assert '"isError": true' in bad and "rule allowlist" in bad
    assert weather.tools["delete_account"].calls == []  # the denial never reached the server
"""


def test_mcp_1x_server_and_client(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini(INNER_INI)
    source = INNER.format(mcp1=MCP1, server=str(TESTS / "mcp1_weather.py"), client=str(TESTS / "mcp1_client.py"))
    pytester.makepyfile(test_v1=source)
    monkeypatch.setenv("MCP_PORT", str(free_port()))
    monkeypatch.setenv("MCP_SERVE", "1")
    pytester.runpytest_inprocess("--agent-record", "-q").assert_outcomes(passed=2)
    path = pytester.path / "cassettes/test_v1/test_v2_client_against_a_v1_server.json"
    methods = [i["request"]["method"] for i in json.loads(path.read_text())["interactions"]]
    assert "GET" in methods, methods  # the session's GET stream was recorded, and did not block the client
    monkeypatch.delenv("MCP_SERVE")
    pytester.runpytest_inprocess("--agent-replay", "-q", "-k", "v1_server").assert_outcomes(passed=1)
