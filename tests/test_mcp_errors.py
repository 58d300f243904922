"""Bad input end to end, through a real client: malformed JSON-RPC, and a tool the cassette never saw.

A raw ``httpx`` POST of bodies that are not JSON-RPC 2.0, sent to a real ``mcp`` SDK server named
with ``register_mcp_server``, is answered by the tap with a JSON-RPC parse error naming the request
and what is wrong (the server never sees it, and the session goes on). A session recorded with the
official client against the server, replayed with the server stopped, calling a tool it never called
while recording: the client reads a tool error naming the tool and the recorded ones, and the test
fails on the miss saying the same.
"""

from __future__ import annotations

import json

import pytest
from mcp_inner import project, run

pytest.importorskip("mcp")

MALFORMED = """
import httpx
from mcp import Client

from pytest_agentops import register_mcp_server

register_mcp_server("weather", URL)

BAD = [
    (b"{not json", "the body is not JSON"),
    (b"[]", "an empty JSON-RPC batch"),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}', "message has jsonrpc='1.0', not '2.0'"),
    (b'{"jsonrpc": "2.0", "id": 2}', "message names no method"),
    (b'{"jsonrpc": "2.0", "id": 3, "method": "tools/call"}', "is a tools/call naming no tool (params.name)"),
    (b'[{"jsonrpc": "2.0", "id": 4, "method": "ping"}, 7]', "message[1] is not a JSON object"),
]
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


async def weather():
    async with Client(URL) as client:
        return await client.call_tool("get_weather", {"city": "Paris"})


def test_malformed_json_rpc(agent_run):
    with serving(weather_server(), port=PORT):
        answers = [httpx.post(URL, content=body, headers=HEADERS) for body, _ in BAD]
        after = asyncio.run(weather())  # the tap refused the bodies; a real session still works
    for (body, problem), answer in zip(BAD, answers):
        assert answer.status_code == 400, body
        error = answer.json()["error"]
        assert error["code"] == -32700, body
        assert f"malformed JSON-RPC in POST {URL}: " in error["message"] and problem in error["message"], error
    assert after.is_error is False and after.content[0].text == "Sunny in Paris"
    assert [d.rule for d in agent_run.denials] == ["mcp_message"] * len(BAD)
    assert [e.tool for e in agent_run.tool_calls] == ["mcp.weather.get_weather"]
"""

REPLAY = """
from mcp import Client

TOOL = os.environ.get("MCP_TOOL", "get_weather")
ARGUMENTS = {"get_weather": {"city": "Paris"}, "delete_account": {"user": "bob"}}


async def session():
    async with Client(URL) as client:
        await client.list_tools()
        return await client.call_tool(TOOL, ARGUMENTS[TOOL])


def test_replayed_call(agent_run):
    served = serving(weather_server(), port=PORT) if os.environ.get("MCP_SERVE") else contextlib.nullcontext()
    with served:
        result = asyncio.run(session())
    if TOOL == "get_weather":
        assert result.is_error is False and result.content[0].text == "Sunny in Paris"
    else:  # the client reads the miss as the tool's error, naming the tool and what was recorded
        assert result.is_error is True
        text = result.content[0].text
        assert "the MCP tool 'delete_account' was never called while recording (recorded calls: get_weather)" in text
        assert "deleted bob" not in text
"""


def test_malformed_json_rpc_gets_a_json_rpc_error_naming_the_request(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, monkeypatch, MALFORMED)
    run(pytester, "--agent-record").assert_outcomes(passed=1)
    data = json.loads((pytester.path / "cassettes/test_inner/test_malformed_json_rpc.json").read_text())
    sent = [i["request"]["body"] for i in data["interactions"]]
    # Only the real session reached the server (and the cassette): no malformed body did.
    assert sent and all("json" in body and body["json"].get("jsonrpc") == "2.0" for body in sent)


def test_replaying_a_tool_never_recorded_names_it_and_the_recorded_tools(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, monkeypatch, REPLAY)
    monkeypatch.setenv("MCP_SERVE", "1")
    run(pytester, "--agent-record").assert_outcomes(passed=1)
    monkeypatch.delenv("MCP_SERVE")  # the server is gone: only the cassette answers
    run(pytester, "--agent-replay").assert_outcomes(passed=1)
    monkeypatch.setenv("MCP_TOOL", "delete_account")
    missed = run(pytester, "--agent-replay")
    missed.assert_outcomes(failed=1)
    out = missed.stdout.str()
    assert "FAILED test_inner.py::test_replayed_call" in out
    assert "the MCP tool 'delete_account' was never called while recording (recorded calls: get_weather)" in out
    assert "AssertionError" not in out  # the client saw the same message: the test fails on the miss only
