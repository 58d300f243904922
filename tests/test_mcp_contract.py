"""The agent contract's MCP fields: ``mcp.servers`` names servers, ``safety.tool_access`` overrides
what a tool's annotations say (read or write), exactly or by pattern; bad values name the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_agentops import ContractError, Policy
from pytest_agentops.mcp import gate, servers
from pytest_agentops.policy.contracts import load
from pytest_agentops.policy.engine import Guard
from pytest_agentops.tap import LiveRequest
from pytest_agentops.trace.run import Run

CONTRACT = """
[tool.agentops.agents.forecaster.mcp]
servers = { forecast = "http://127.0.0.1:8952/mcp" }

[tool.agentops.agents.forecaster.safety]
read_only = true
tool_access = { "mcp.forecast.get_weather" = "write", "mcp.forecast.list_*" = "read" }
"""


def _call(url: str, tool: str) -> LiveRequest:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}}
    return LiveRequest("POST", url, {"content-type": "application/json"}, json.dumps(body).encode())


def test_contract_servers_and_tool_access(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONTRACT)
    contract = load(tmp_path).get("forecaster")
    assert contract is not None
    assert contract.mcp.servers == {"forecast": "http://127.0.0.1:8952/mcp"}
    policy = contract.policy
    assert policy.access == {"mcp.forecast.get_weather": "write", "mcp.forecast.list_*": "read"}
    url = "http://127.0.0.1:8953/mcp"
    servers.register_mcp_server("forecast", url)  # as build_guard does with contract.mcp.servers
    tools = [
        {"name": "get_weather", "annotations": {"readOnlyHint": True}},  # the contract says it writes
        {"name": "list_cities", "annotations": {"destructiveHint": True}},  # the contract says it reads
    ]
    servers.learn(url, "tools/list", {"result": {"tools": tools}})
    guard = Guard(Run(), policy=policy)
    verdicts = {}
    for tool in ("get_weather", "list_cities"):
        live = _call(url, tool)
        message = gate.message_of(live)
        assert message is not None
        verdicts[tool] = gate.judge(guard, live, message)
    weather, weather_denial = verdicts["get_weather"]
    assert (weather.tool, weather.access) == ("mcp.forecast.get_weather", "write")
    assert weather_denial is not None and weather_denial.rule == "read_only"
    cities, cities_denial = verdicts["list_cities"]
    assert (cities.tool, cities.access, cities_denial) == ("mcp.forecast.list_cities", "read", None)


def test_the_policy_marker_takes_access_too() -> None:
    assert Policy(access={"mcp.*.get_*": "read"}).access == {"mcp.*.get_*": "read"}
    with pytest.raises(ValueError, match="access"):
        Policy(access={"mcp.x.y": "maybe"})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('safety = { tool_access = { "mcp.x.y" = "sometimes" } }', 'safety.tool_access.mcp.x.y: must be "read" or'),
        ("mcp = { servers = { x = 3 } }", "mcp.servers.x: must be a URL string"),
        ('mcp = { names = { x = "http://h/mcp" } }', "mcp.names: unknown key"),
    ],
)
def test_bad_mcp_contract_fields_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.agentops.agents.forecaster]\n{table}\n")
    with pytest.raises(ContractError) as info:
        load(tmp_path)
    assert message in str(info.value)


def test_a_test_under_the_contract_names_its_servers(pytester: pytest.Pytester) -> None:
    from conftest import INNER_INI

    pytester.makeini(INNER_INI)
    pytester.makepyprojecttoml(CONTRACT)
    pytester.makepyfile(
        test_named="""
import pytest
from pytest_agentops.mcp import servers

@pytest.mark.agent("forecaster")
def test_named(agent_run):
    assert servers.server_of("http://127.0.0.1:8952/mcp/") == "forecast"
    assert servers.tool_name("http://127.0.0.1:8952/mcp", "get_weather") == "mcp.forecast.get_weather"
"""
    )
    pytester.runpytest_inprocess("-q").assert_outcomes(passed=1)
