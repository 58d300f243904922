"""The MCP gate without a server: parsing, naming, access, schema checks and the denial forms."""

from __future__ import annotations

import json
import warnings

import pytest

from pytest_agentops.mcp import gate, messages, servers
from pytest_agentops.policy.engine import Guard, Policy
from pytest_agentops.tap import LiveRequest
from pytest_agentops.trace.run import Run

URL = "http://127.0.0.1:8931/mcp"


@pytest.fixture(autouse=True)
def _fresh_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test names the servers itself: a name one test registers for URL (the malformed-message
    test calls it "weather") would otherwise rename the announced "Weather Service!" in the next."""
    monkeypatch.setattr(servers, "_known", servers._Known())


def _live(body: object, url: str = URL) -> LiveRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return LiveRequest("POST", url, {"content-type": "application/json"}, raw)


def _call(tool: str, **arguments: object) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}


def _learn_weather(url: str = URL) -> None:
    servers.learn(url, "initialize", {"result": {"serverInfo": {"name": "Weather Service!"}}})
    tools = [
        {
            "name": "get_weather",
            "annotations": {"readOnlyHint": True},
            "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
        {"name": "delete_account", "annotations": {"destructiveHint": True}},
    ]
    servers.learn(url, "tools/list", {"result": {"tools": tools}})


def test_a_call_is_named_after_the_announced_server_and_read_from_its_annotations() -> None:
    _learn_weather()
    guard = Guard(Run(), policy=Policy(allow=["mcp.weather_service_.get_*"]))
    verdict, denial = gate.judge(guard, live := _live(_call("get_weather", city="Paris")), gate.message_of(live))
    assert denial is None
    assert (verdict.tool, verdict.access, verdict.arguments) == (
        "mcp.weather_service_.get_weather",
        "read",
        {"city": "Paris"},
    )
    verdict, denial = gate.judge(guard, live := _live(_call("delete_account")), gate.message_of(live))
    assert verdict.access == "write" and denial is not None and denial.rule == "allowlist"


def test_the_users_name_wins_over_the_announced_one() -> None:
    url = "http://127.0.0.1:8932/mcp"
    _learn_weather(url)
    servers.register_mcp_server("forecast", url + "/")
    assert servers.tool_name(url, "get_weather") == "mcp.forecast.get_weather"


def test_protocol_messages_pass_an_allowlist_but_not_a_server_deny() -> None:
    _learn_weather()
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    verdict, denial = gate.judge(Guard(Run(), policy=Policy(allow=[])), live := _live(listing), gate.message_of(live))
    assert denial is None and verdict.tool is None and live.kind == "mcp"
    guard = Guard(Run(), policy=Policy(deny=["mcp.weather_service_"]))
    _, denial = gate.judge(guard, live := _live(listing), gate.message_of(live))
    assert denial is not None and denial.rule == "denylist"
    status, _, body = gate.denial_reply(live.mcp, denial, None)
    answer = json.loads(body)
    assert status == 200 and answer["id"] == 1 and answer["error"]["code"] == gate.DENIED_CODE


def test_arguments_are_checked_against_the_input_schema() -> None:
    _learn_weather()
    guard = Guard(Run())
    _, denial = gate.judge(guard, live := _live(_call("get_weather", city=3)), gate.message_of(live))
    assert denial is not None and denial.rule == "arguments" and "city" in denial.message
    status, _, body = gate.denial_reply(live.mcp, denial, "mcp.weather_service_.get_weather")
    result = json.loads(body)["result"]
    assert status == 200 and result["isError"] is True and "rule arguments" in result["content"][0]["text"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not JSON"),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, "jsonrpc='1.0'"),
        ({"jsonrpc": "2.0", "id": 1}, "names no method"),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}}, "naming no tool"),
        ([], "empty JSON-RPC batch"),
    ],
)
def test_malformed_json_rpc_is_refused_naming_the_request(body: object, problem: str) -> None:
    servers.register_mcp_server("weather", URL)
    live = _live(body if not isinstance(body, list) else b"[]")
    message = gate.message_of(live)
    assert isinstance(message, messages.MalformedMessage)
    _, denial = gate.judge(Guard(Run()), live, message)
    assert denial is not None and f"POST {URL}" in denial.message and problem in denial.message
    status, _, reply = gate.denial_reply(message, denial, None)
    assert status == 400 and json.loads(reply)["error"]["code"] == gate.PARSE_ERROR


def test_a_server_that_announces_no_name_is_named_after_its_address_with_a_warning() -> None:
    url = "http://127.0.0.1:8933/mcp"
    servers.learn(url, "initialize", {"result": {"serverInfo": {"version": "1"}}})
    with pytest.warns(Warning, match=r"announced no serverInfo.name.*register_mcp_server"):
        assert servers.tool_name(url, "x") == "mcp.127_0_0_1_8933.x"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per server
        assert servers.tool_name(url, "y") == "mcp.127_0_0_1_8933.y"


def test_a_replayed_answer_gets_the_live_id_json_and_sse() -> None:
    live = _live(_call("get_weather", city="Paris"))
    gate.message_of(live)
    recorded = {"jsonrpc": "2.0", "id": 1, "result": {"content": []}}
    reply = {
        "status": {"code": 200},
        "headers": {"content-type": ["application/json"]},
        "body": {"string": json.dumps(recorded).encode()},
    }
    assert json.loads(gate.replayed(live, reply)["body"]["string"])["id"] == 7
    sse = f"event: message\ndata: {json.dumps(recorded)}\n\n".encode()
    reply = {"status": {"code": 200}, "headers": {"content-type": ["text/event-stream"]}, "body": {"string": sse}}
    body = gate.replayed(live, reply)["body"]["string"]
    assert messages.answer_to(live.mcp, body, "text/event-stream") is not None


def test_a_plain_json_post_is_not_mcp() -> None:
    live = _live({"model": "gpt-4o"}, "http://127.0.0.1:9999/v1/chat")
    assert gate.message_of(live) is None and live.kind == "tool"


def test_a_simulators_mcp_tools_keep_their_simulator_names() -> None:
    url = "http://127.0.0.1:8934/billing/mcp"
    servers.register_simulator(url)
    assert servers.tool_name(url, "billing.refunds.create") == "billing.refunds.create"
    assert servers.tool_name(url + "?names=dashed", "billing-refunds-create") == "billing.refunds.create"


def test_protocol_events_are_labelled_with_the_server_and_the_method() -> None:
    from pytest_agentops.readers.assertions import step_table
    from pytest_agentops.readers.scorecard import step_of

    url = "http://127.0.0.1:8944/mcp"
    live = _live({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}, url)
    assert gate.message_of(live) is not None
    answer = {"jsonrpc": "2.0", "id": 1, "result": {"serverInfo": {"name": "Label Test"}}}
    fields = gate.answered(live, {"content-type": "application/json"}, json.dumps(answer).encode())
    assert fields == {"label": "mcp.label_test initialize"}  # named from this very answer
    stream = LiveRequest("GET", url, {}, b"")
    assert gate.message_of(stream) is not None
    assert gate.answered(stream, {}, b"") == {"label": "mcp.label_test (GET stream)"}
    run = Run()
    event = run.record(None, kind="mcp", method="POST", url=url, backend="network", label=fields["label"])
    assert "mcp.label_test initialize" in step_table(run.events) and "POST 127.0.0.1" not in step_table(run.events)
    assert step_of(event) == "mcp.label_test initialize"


def test_a_replayed_call_of_a_tool_never_recorded_names_the_tool_and_the_recorded_ones() -> None:
    live = _live({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "nuke", "arguments": {}}})
    gate.message_of(live)
    recorded_call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_weather"}}
    recorded = [{"request": {"body": {"json": recorded_call}}}]
    note = gate.unrecorded_tool(live, recorded)
    assert note == "the MCP tool 'nuke' was never called while recording (recorded calls: get_weather)"
    reply = gate.miss_reply(live, f"no recorded answer for POST {URL}\n{note}")
    answer = json.loads(reply["body"]["string"])
    assert answer["id"] == 7 and answer["result"]["isError"] is True  # the client reads a tool error
    text = answer["result"]["content"][0]["text"]
    assert f"POST {URL}" in text and note in text
    again = _live({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "get_weather"}})
    gate.message_of(again)
    assert gate.unrecorded_tool(again, recorded) == ""  # a recorded tool: the argument diff says it all


def test_a_registered_kind_beats_the_annotation_and_none_leaves_it() -> None:
    from pytest_agentops.policy.tools import ToolRegistry, register_tool, registry

    url = "http://127.0.0.1:8935/mcp"
    _learn_weather(url)
    servers.register_mcp_server("weather", url)
    mine = ToolRegistry()
    with registry.isolated():
        mine.add(register_tool("mcp.weather.get_weather", preconditions=["city_known"]))
        guard = Guard(Run(), registry=mine)
        guard.run.satisfy("city_known")
        live = _live(_call("get_weather", city="Paris"), url)
        verdict, denial = gate.judge(guard, live, gate.message_of(live))
        assert denial is None and verdict.access == "read"  # registered without kind: readOnlyHint decides
        mine.add(register_tool("mcp.weather.get_weather", kind="write"))
        live = _live(_call("get_weather", city="Paris"), url)
        verdict, denial = gate.judge(guard, live, gate.message_of(live))
        assert denial is None and verdict.access == "write"  # a kind given wins
