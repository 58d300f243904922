"""MCP over streamable HTTP with the official ``mcp`` client (2.x) against a real ``mcp`` SDK server.

The issue's scenario: an allowlist naming ``mcp.weather.get_weather`` lets the protocol through,
runs ``get_weather``, answers ``delete_account`` with a tool error naming the rule, and the run
holds only ``mcp.weather.*`` tool calls; the same session, recorded, replays with its server gone.
"""

from __future__ import annotations

import json

import pytest
from mcp_inner import project, run

pytest.importorskip("mcp")


INNER = """
from mcp import Client

CITY = os.environ.get("MCP_CITY", "Paris")


def server():
    if os.environ.get("MCP_SERVE"):
        return serving(weather_server(), port=PORT)
    return contextlib.nullcontext(URL)


async def session(*calls):
    async with Client(URL) as client:
        tools = await client.list_tools()
        return tools, [await client.call_tool(name, args) for name, args in calls]


@pytest.mark.agent_policy(allow=["mcp.weather.get_weather"])
def test_weather(agent_run):
    with server():
        calls = (("get_weather", {"city": CITY}), ("delete_account", {"user": "bob"}))
        tools, (ok, bad) = asyncio.run(session(*calls))
    assert {t.name for t in tools.tools} == {"get_weather", "delete_account"}
    assert ok.is_error is False and ok.content[0].text == "Sunny in Paris"
    assert bad.is_error is True
    assert "mcp.weather.delete_account" in bad.content[0].text and "allowlist" in bad.content[0].text
    assert [e.tool for e in agent_run.denials] == ["mcp.weather.delete_account"]
    assert {e.tool for e in agent_run.tool_calls} == {"mcp.weather.get_weather", "mcp.weather.delete_account"}
    agent_run.assert_called("mcp.weather.get_weather", city="Paris")
    call = next(e for e in agent_run.tool_calls if e.tool == "mcp.weather.get_weather")
    assert call.access == "read" and call.is_error is False and call.result == {"result": "Sunny in Paris"}
    protocol = [e for e in agent_run.events if e.kind == "mcp"]
    assert protocol and all(e.tool is None and e.rule is None for e in protocol)
    assert agent_run.writes == []


@pytest.mark.agent_policy(read_only=True)
def test_read_only_leaves_protocol_and_reads(agent_run):
    with server():
        _, (ok, bad) = asyncio.run(session(("get_weather", {"city": "Oslo"}), ("delete_account", {"user": "eve"})))
    # A read runs (its annotation came with tools/list of the session before, or the recorded one).
    assert ok.is_error is False
    assert bad.is_error is True and "read_only" in bad.content[0].text
    assert [e.rule for e in agent_run.denials] == ["read_only"]
"""


def _project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project(pytester, monkeypatch, INNER)


def test_weather_scenario_records_then_replays_offline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(pytester, monkeypatch)
    monkeypatch.setenv("MCP_SERVE", "1")
    recorded = run(pytester, "--agent-record")
    recorded.assert_outcomes(passed=2)
    cassette = pytester.path / "cassettes" / "test_inner" / "test_weather.json"
    data = json.loads(cassette.read_text())
    bodies = [i["request"]["body"]["json"] for i in data["interactions"]]
    assert {b["method"] for b in bodies} == {"server/discover", "tools/list", "tools/call"}
    # The denied call never reached the server, so it is not recorded either.
    assert [b["params"]["name"] for b in bodies if b["method"] == "tools/call"] == ["get_weather"]
    monkeypatch.delenv("MCP_SERVE")  # the server is gone: only the cassette answers
    replayed = run(pytester, "--agent-replay")
    replayed.assert_outcomes(passed=2)
    # Another city: a miss in MCP's form (a tool error, the run goes on), the test fails naming the change.
    monkeypatch.setenv("MCP_CITY", "Lyon")
    missed = run(pytester, "--agent-replay", "-k", "test_weather")
    missed.assert_outcomes(failed=1)
    out = missed.stdout.str()
    assert "params.arguments.city changed" in out and "'Paris' -> 'Lyon'" in out
    assert "Sunny in Lyon" not in out
