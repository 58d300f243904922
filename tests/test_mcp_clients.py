"""The frameworks' own MCP clients through the tap: the official ``mcp`` client, the OpenAI Agents
SDK's ``MCPServerStreamableHttp``, pydantic-ai's ``MCPToolset`` (inside an agent) and fastmcp's
``Client``. Each records against a real ``mcp`` SDK server, then replays with the server gone in a
fresh network namespace (``unshare -n``), and each hands a denial to the model as a tool error.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import INNER_INI
from mcp_weather import free_port

for _module in ("mcp", "agents", "pydantic_ai", "fastmcp"):
    pytest.importorskip(_module)

TESTS = Path(__file__).parent

INNER = """
import asyncio
import contextlib
import os
import sys

import pytest

sys.path.insert(0, {tests!r})
from mcp_weather import serving, weather_server

PORT = int(os.environ["MCP_PORT"])
URL = f"http://127.0.0.1:{{PORT}}/mcp"
pytestmark = pytest.mark.agent_policy(allow=["mcp.weather.get_weather"])


@pytest.fixture
def url():
    served = serving(weather_server(), port=PORT) if os.environ.get("MCP_SERVE") else contextlib.nullcontext(URL)
    with served as found:
        yield found


def _only_weather(agent_run):
    assert [e.tool for e in agent_run.denials] == ["mcp.weather.delete_account"]
    agent_run.assert_called("mcp.weather.get_weather", city="Paris")


def test_official_client(url, agent_run):
    from mcp import Client

    async def main():
        async with Client(url) as client:
            ok = await client.call_tool("get_weather", {{"city": "Paris"}})
            return ok, await client.call_tool("delete_account", {{"user": "bob"}})

    ok, bad = asyncio.run(main())
    assert ok.content[0].text == "Sunny in Paris"
    assert bad.is_error and "rule allowlist" in bad.content[0].text
    _only_weather(agent_run)


def test_openai_agents(url, agent_run):
    from agents import RunContextWrapper
    from agents.mcp import MCPServerStreamableHttp, MCPUtil

    async def main():
        async with MCPServerStreamableHttp({{"url": url}}, name="weather") as server:
            tools = {{t.name: t for t in await server.list_tools()}}
            context = RunContextWrapper(None)
            ok = await MCPUtil.invoke_mcp_tool(server, tools["get_weather"], context, '{{"city": "Paris"}}')
            bad = await MCPUtil.invoke_mcp_tool(server, tools["delete_account"], context, '{{"user": "bob"}}')
            return ok, bad

    ok, bad = asyncio.run(main())  # what the Runner hands the model as each tool's output
    assert "Sunny in Paris" in str(ok)
    assert "rule allowlist" in str(bad) and "mcp.weather.delete_account" in str(bad)
    _only_weather(agent_run)


def test_pydantic_ai_agent(url, agent_run):
    from pydantic_ai import Agent
    from pydantic_ai.mcp import MCPToolset
    from pydantic_ai.messages import ModelResponse, RetryPromptPart, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import FunctionModel

    def model(messages, info):
        if len(messages) == 1:
            return ModelResponse(parts=[
                ToolCallPart("get_weather", {{"city": "Paris"}}, tool_call_id="a"),
                ToolCallPart("delete_account", {{"user": "bob"}}, tool_call_id="b"),
            ])
        parts = [p for m in messages[1:] for p in getattr(m, "parts", [])]
        answers = [p for p in parts if isinstance(p, RetryPromptPart | ToolReturnPart)]
        return ModelResponse(parts=[TextPart(" | ".join(f"{{type(p).__name__}}: {{p.content}}" for p in answers))])

    agent = Agent(FunctionModel(model), toolsets=[MCPToolset(url)])
    result = agent.run_sync("weather please")
    # The model read both answers, the denial as the tool's error text, and went on.
    assert "Sunny in Paris" in result.output and "rule allowlist" in result.output, result.output
    _only_weather(agent_run)


def test_fastmcp_client(url, agent_run):
    import fastmcp
    from fastmcp.exceptions import ToolError

    async def main():
        async with fastmcp.Client(url) as client:
            ok = await client.call_tool("get_weather", {{"city": "Paris"}})
            with pytest.raises(ToolError, match="rule allowlist"):
                await client.call_tool("delete_account", {{"user": "bob"}})
            return ok

    assert asyncio.run(main()).data.result == "Sunny in Paris"
    _only_weather(agent_run)
"""


def test_each_client_records_then_replays_offline_in_a_fresh_namespace(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_clients=INNER.format(tests=str(TESTS)))
    monkeypatch.setenv("MCP_PORT", str(free_port()))
    monkeypatch.setenv("MCP_SERVE", "1")
    pytester.runpytest_inprocess("--agent-record", "-q").assert_outcomes(passed=4)
    monkeypatch.delenv("MCP_SERVE")
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], check=False).returncode:
        pytest.skip("needs `unshare -n` to replay in a namespace with no network")
    command = ["unshare", "-n", sys.executable, "-m", "pytest", "--agent-replay", "-q", "-p", "no:cacheprovider"]
    replayed = pytester.run(*command, timeout=240)
    replayed.assert_outcomes(passed=4)
