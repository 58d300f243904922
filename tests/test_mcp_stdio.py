"""stdio MCP servers through ``agentops mcp proxy`` (the ``mcp_stdio`` fixture): the official SDK's
server with its client, a simulator (``agentops sim serve billing --mcp --stdio``), and a FastMCP
server with fastmcp's client. Each records, then replays inside ``unshare -n`` with the server's
command gone; a denied call never reaches the server; a server that exits at start is named.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import INNER_INI

for _module in ("mcp", "fastmcp"):
    pytest.importorskip(_module)

TESTS = Path(__file__).parent

INNER = """
import asyncio
import os
import sys

import pytest

PY = os.environ.get("SERVER_PY", sys.executable)  # a missing interpreter in replay: nothing may start
TESTS = {tests!r}


@pytest.mark.agent_policy(allow=["mcp.weather.get_weather"])
def test_official_client(mcp_stdio, agent_run):
    from mcp import Client

    server = mcp_stdio.server("weather", PY, os.path.join(TESTS, "mcp_weather_stdio.py"))

    async def main():
        async with Client(server.parameters()) as client:
            listed = await client.list_tools()
            ok = await client.call_tool("get_weather", {{"city": "Paris"}})
            return listed, ok, await client.call_tool("delete_account", {{"user": "bob"}})

    listed, ok, bad = asyncio.run(main())
    assert sorted(t.name for t in listed.tools) == ["delete_account", "get_weather"]
    assert ok.content[0].text == "Sunny in Paris"
    assert bad.is_error and "rule allowlist" in bad.content[0].text
    assert [e.tool for e in agent_run.denials] == ["mcp.weather.delete_account"]
    assert [e.tool for e in agent_run.tool_calls] == ["mcp.weather.get_weather", "mcp.weather.delete_account"]
    assert all(e.tool is None for e in agent_run.events if e.kind == "mcp")
    agent_run.assert_called("mcp.weather.get_weather", city="Paris")


@pytest.mark.agent_policy(allow=["billing.customers.*"])
def test_simulator_over_stdio(mcp_stdio, agent_run):
    from mcp import Client

    args = ("-m", "pytest_agentops.cli", "sim", "serve", "billing", "--mcp", "--stdio")
    server = mcp_stdio.server("billing", PY, *args, simulator=True)

    async def main():
        async with Client(server.parameters()) as client:
            await client.list_tools()  # what says which tools are reads (readOnlyHint)
            ok = await client.call_tool("billing.customers.list", {{}})
            return ok, await client.call_tool("billing.refunds.create", {{"payment_intent": "pi_1"}})

    ok, bad = asyncio.run(main())
    assert not ok.is_error, ok
    assert bad.is_error and "billing.refunds.create" in bad.content[0].text
    assert [e.tool for e in agent_run.tool_calls] == ["billing.customers.list", "billing.refunds.create"]
    assert [e.access for e in agent_run.tool_calls] == ["read", "write"]


@pytest.mark.agent_policy(read_only=True)
def test_fastmcp_server_and_client(mcp_stdio, agent_run):
    import fastmcp
    from fastmcp.client.transports import StdioTransport
    from fastmcp.exceptions import ToolError

    server = mcp_stdio.server("notes", PY, os.path.join(TESTS, "mcp_notes_stdio.py"))

    async def main():
        async with fastmcp.Client(StdioTransport(server.command, server.args)) as client:
            await client.list_tools()
            with pytest.raises(ToolError, match="read_only"):
                await client.call_tool("add_note", {{"text": "secret"}})
            return await client.call_tool("list_notes", {{}})

    assert asyncio.run(main()).data == []
    assert [e.tool for e in agent_run.denials] == ["mcp.notes.add_note"]  # the user's name beats "Notes Server"


def test_server_that_exits_at_start(mcp_stdio):
    from mcp import Client

    server = mcp_stdio.server("broken", PY, "-c", "import sys; sys.exit('no config file')")

    async def main():
        async with Client(server.parameters()) as client:
            await client.list_tools()

    with pytest.raises(BaseException):
        asyncio.run(main())
"""


def test_stdio_servers_record_then_replay_offline(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_stdio=INNER.format(tests=str(TESTS)))
    calls = pytester.path / "calls.log"
    monkeypatch.setenv("MCP_CALLS", str(calls))
    recorded = pytester.runpytest_inprocess("--agent-record", "-q")
    recorded.assert_outcomes(passed=3, failed=1)
    # The server that exits at start is named with its command, exit code and stderr; nothing saved.
    recorded.stdout.fnmatch_lines(["*stdio MCP server * -c import sys* exited with code 1*", "*no config file*"])
    # Denied calls never reached a server; the allowed ones did, once each.
    assert calls.read_text().splitlines() == ["started", "get_weather Paris"]
    calls.unlink()
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], check=False).returncode:
        pytest.skip("needs `unshare -n` to replay in a namespace with no network")
    monkeypatch.setenv("SERVER_PY", "/nonexistent/python")
    command = ["unshare", "-n", sys.executable, "-m", "pytest", "--agent-replay", "-q", "-p", "no:cacheprovider"]
    replayed = pytester.run(*command, "-k", "not exits_at_start", timeout=240)
    replayed.assert_outcomes(passed=3)
    assert not calls.exists()  # no server started


def test_proxy_without_a_command_or_a_known_name(tmp_path: Path) -> None:
    from pytest_agentops.cli import main

    assert main(["mcp", "proxy", "--name", "x"]) == 2
    bridge = str(tmp_path / "gone.sock")
    proxy = [sys.executable, "-m", "pytest_agentops.cli", "mcp", "proxy", "--name", "x", "--bridge", bridge]
    proxy += ["--", "true"]
    missing = subprocess.run(proxy, capture_output=True, text=True, check=False)
    assert missing.returncode == 2 and "cannot reach the test" in missing.stderr
