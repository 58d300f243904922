"""Budgets, ``--agent-no-writes``, ``write_actions_require`` and preconditions on MCP tools.

Each runs a real ``mcp`` SDK server (the weather server: ``get_weather`` readOnlyHint,
``delete_account`` destructiveHint) on a loopback port and the official ``mcp`` client through the
tap, configured as a user would for an HTTP tool, and checks the denial names the rule and
``mcp.weather.<tool>``. Budgets count ``tools/call`` only, never the protocol messages around them.
"""

from __future__ import annotations

import pytest
from mcp_inner import project, run

pytest.importorskip("mcp")

PYPROJECT = """
[tool.agentops.agents.forecaster]
budgets = { max_tool_calls = 5 }

[tool.agentops.agents.forecaster.safety]
write_actions_require = ["mcp.weather.get_weather"]
"""

INNER = """
from mcp import Client

from pytest_agentops import register_tool

# A per-tool precondition on an MCP tool, registered by name alone (no url=: the gate finds the spec
# by name) and without kind= (the server's readOnlyHint still makes it a read, see no_writes below).
register_tool("mcp.weather.get_weather", preconditions=["city_known"])


async def session(*calls):
    async with Client(URL) as client:
        await client.list_tools()
        return [await client.call_tool(name, args) for name, args in calls]


def run(*calls):
    with serving(weather_server(), port=PORT):
        return asyncio.run(session(*calls))


READ = ("get_weather", {"city": "Paris"})
WRITE = ("delete_account", {"user": "bob"})


def protocol(agent_run):
    return {e.label.split(" ", 1)[1] for e in agent_run.events if e.kind == "mcp" and " " in e.label}


@pytest.mark.agent_budget(max_tool_calls=2)
def test_budget_counts_tool_calls_only(agent_run):
    agent_run.satisfy("city_known")
    results = run(READ, READ)
    assert [r.is_error for r in results] == [False, False]
    assert "tools/list" in protocol(agent_run)
    assert agent_run.budget.used.tool_calls == 2 and agent_run.denials == []


@pytest.mark.agent_budget(max_tool_calls=2)
def test_budget_denies_the_third_call(agent_run):
    agent_run.satisfy("city_known")
    results = run(READ, READ, READ)
    assert [r.is_error for r in results] == [False, False, True]
    assert "mcp.weather.get_weather" in results[2].content[0].text
    assert "budget.max_tool_calls" in results[2].content[0].text
    assert [(d.tool, d.rule) for d in agent_run.denials] == [("mcp.weather.get_weather", "budget.max_tool_calls")]


def test_no_writes_denies_the_write_only(agent_run):
    agent_run.satisfy("city_known")
    ok, bad = run(READ, WRITE)
    assert ok.is_error is False
    assert bad.is_error is True and "mcp.weather.delete_account" in bad.content[0].text
    assert "no_writes" in bad.content[0].text and "deleted" not in bad.content[0].text
    assert [(d.tool, d.rule) for d in agent_run.denials] == [("mcp.weather.delete_account", "no_writes")]
    assert [e.tool for e in agent_run.tool_calls] == ["mcp.weather.get_weather", "mcp.weather.delete_account"]


@pytest.mark.agent("forecaster")
def test_write_actions_require(agent_run):
    agent_run.satisfy("city_known")
    early, ok, late = run(WRITE, READ, WRITE)
    assert early.is_error is True and "mcp.weather.delete_account" in early.content[0].text
    assert "preconditions" in early.content[0].text and "mcp.weather.get_weather" in early.content[0].text
    assert ok.is_error is False
    assert late.is_error is False and late.content[0].text == "deleted bob"
    assert [(d.tool, d.rule) for d in agent_run.denials] == [("mcp.weather.delete_account", "preconditions")]


def test_tool_preconditions(agent_run):
    with serving(weather_server(), port=PORT):
        async def steps():
            async with Client(URL) as client:
                await client.list_tools()
                first = await client.call_tool(*READ)
                agent_run.satisfy("city_known")
                return first, await client.call_tool(*READ)
        before, after = asyncio.run(steps())
    assert before.is_error is True and "mcp.weather.get_weather" in before.content[0].text
    assert "preconditions" in before.content[0].text and "city_known" in before.content[0].text
    assert after.is_error is False and after.content[0].text == "Sunny in Paris"
    assert [(d.tool, d.rule) for d in agent_run.denials] == [("mcp.weather.get_weather", "preconditions")]
"""


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    project(pytester, monkeypatch, INNER, pyproject=PYPROJECT)
    return run(pytester, "--agent-record", *args)  # isolated: the module's register_tool stays inside


def test_budgets_preconditions_and_write_rules_apply_to_mcp_tools(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, "-k", "not no_writes")
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    # A budget denial fails the test, naming the limit: protocol messages were not counted.
    assert "FAILED test_inner.py::test_budget_denies_the_third_call" in out
    assert "max_tool_calls=2: the agent made 3 tool calls" in out
    assert "tool calls 3/2" in out
    assert "AssertionError" not in out  # the failing test fails on its budget, not on a check inside it


def test_no_writes_denies_mcp_writes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(pytester, monkeypatch, "--agent-no-writes", "-k", "no_writes")
    result.assert_outcomes(passed=1)
