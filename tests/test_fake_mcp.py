"""``fake_mcp``: a scripted MCP server the real ``mcp`` client talks to, in-process and on a port,
with its calls named and gated like any MCP server's, and fuzz payloads planted in its results."""

from __future__ import annotations

import pytest
from conftest import INNER_INI

pytest.importorskip("mcp")

INNER = """
import asyncio

import pytest
from mcp import Client


def _weather(fake):
    weather = fake.server("weather")
    weather.tool("get_weather", read_only=True, compute=lambda city: {"city": city, "sky": "clear"},
                 input_schema={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    weather.tool("delete_account", "deleted")
    return weather


async def _calls(url, *calls):
    async with Client(url) as client:
        listed = await client.list_tools()
        return listed, [await client.call_tool(name, args) for name, args in calls]


@pytest.mark.agent_policy(allow=["mcp.weather.*"], read_only=True)
@pytest.mark.parametrize("where", ["in-process", "port"])
def test_scripted_tools(fake_mcp, agent_run, where):
    weather = _weather(fake_mcp)
    url = weather.url if where == "in-process" else weather.serve()
    listed, (ok, bad, wrong) = asyncio.run(_calls(
        url, ("get_weather", {"city": "Paris"}), ("delete_account", {}), ("get_weather", {"city": 3})))
    hints = {t.name: t.annotations.read_only_hint for t in listed.tools}
    assert hints == {"get_weather": True, "delete_account": False}
    assert ok.structured_content == {"city": "Paris", "sky": "clear"}
    assert bad.is_error and "rule read_only" in bad.content[0].text
    assert wrong.is_error and "rule arguments" in wrong.content[0].text
    assert weather.tools["get_weather"].calls == [{"city": "Paris"}]  # denied calls never reach it
    assert weather.tools["delete_account"].calls == []
    assert [e.rule for e in agent_run.denials] == ["read_only", "arguments"]
    assert {e.backend for e in agent_run.events if e.backend != "policy"} == {"fake_mcp"}
    agent_run.assert_called("mcp.weather.get_weather", city="Paris")

"""


def test_fake_mcp_in_process_and_on_a_port(pytester: pytest.Pytester) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_inprocess("-q")
    result.assert_outcomes(passed=2)


def test_planted_injections_reach_the_agent_through_mcp_tool_results() -> None:
    import asyncio

    from hypothesis import given, settings
    from mcp import Client

    from pytest_agentops import fuzz
    from pytest_agentops.backends.mcp import FakeMCP

    fake = FakeMCP("docs")
    fake.tool("search", {"title": "Refund policy", "text": "Refunds take 5 days."}, read_only=True)
    seen: list[str] = []

    @settings(max_examples=5, deadline=None, database=None)
    @given(case=fuzz.planted(fuzz.injections(goal="refund"), into=fake))
    def check(case: fuzz.Planted) -> None:
        fake.plant(case)

        async def main() -> object:
            async with Client(url) as client:
                result = await client.call_tool("search", {})
                return result.structured_content

        # The planted answer, payload and all, reached the client as the tool's answer.
        assert asyncio.run(main()) == case.data["search"]
        assert case.fields and all(field.startswith("search.") for field in case.fields)
        seen.append(case.carrier)

    url = fake.serve()  # no test's tap: the port answers directly
    try:
        check()
    finally:
        fake.close()
    assert seen and set(seen) == {"mcp"}


def test_a_closed_fake_leaves_its_port_to_the_next_server() -> None:
    """Its name goes with its port: the next server that listens there (ports are reused between
    tests) is named after what it announces, not after the fake."""
    from pytest_agentops.backends.mcp import FakeMCP
    from pytest_agentops.mcp import servers

    fake = FakeMCP("first")
    url = fake.serve()
    assert servers.tool_name(url, "search") == "mcp.first.search"
    fake.close()
    servers.learn(url, "initialize", {"result": {"serverInfo": {"name": "Second"}}})  # the next server's hello
    assert servers.tool_name(url, "search") == "mcp.second.search"
