"""The fake model speaking Bedrock Converse to boto3's real ``bedrock-runtime`` client, in-process.

boto3 parses the answers with its own service model (and checks every event-stream frame's CRCs),
so these tests fail when a shape or a frame is wrong; the trace must read what boto3 read.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_agentops.backends.model import FakeModel

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
TOOLS = {
    "tools": [
        {
            "toolSpec": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
            }
        }
    ]
}


def _client(fake: FakeModel) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=fake.bedrock_base_url,
        aws_access_key_id="AKIDEXAMPLEONLY",
        aws_secret_access_key="not-a-secret",
        config=Config(retries={"total_max_attempts": 1}),  # a scripted error is answered once
    )


def _ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def test_converse_tool_call_then_tool_result(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.tool_call("get_weather", city="Oslo"), "It is cold."])
    client = _client(fake_llm)
    messages = _ask("Oslo?")

    first = client.converse(modelId=MODEL, messages=messages, toolConfig=TOOLS, system=[{"text": "Be brief."}])
    [block] = first["output"]["message"]["content"]
    assert (first["stopReason"], block["toolUse"]["name"], block["toolUse"]["input"]) == (
        "tool_use",
        "get_weather",
        {"city": "Oslo"},
    )
    result = {"toolUseId": block["toolUse"]["toolUseId"], "content": [{"json": {"sky": "grey"}}], "status": "error"}
    messages += [first["output"]["message"], {"role": "user", "content": [{"toolResult": result}]}]
    second = client.converse(modelId=MODEL, messages=messages, toolConfig=TOOLS)

    assert second["output"]["message"]["content"] == [{"text": "It is cold."}]
    asked, answered = fake_llm.requests
    assert (asked.model, asked.messages[0].role, asked.messages[0].text) == (MODEL, "system", "Be brief.")
    assert asked.tools[0].parameters["properties"]["city"] == {"type": "string"}
    [tool_result] = answered.conversation.tool_results  # type: ignore[union-attr]
    assert (tool_result.name, tool_result.text, tool_result.is_error) == ("get_weather", '{"sky":"grey"}', True)
    calls = agent_run.model_calls
    assert [(c.provider, c.model, c.stop_reason) for c in calls] == [
        ("bedrock.converse", MODEL, "tool_use"),
        ("bedrock.converse", MODEL, "end_turn"),
    ]
    assert [(t.id, t.name) for t in calls[0].tool_calls] == [(block["toolUse"]["toolUseId"], "get_weather")]
    sdk = [(r["usage"]["inputTokens"], r["usage"]["outputTokens"]) for r in (first, second)]
    assert [(c.usage.input_tokens, c.usage.output_tokens) for c in calls] == sdk
    assert sdk == [(r.input_tokens, r.output_tokens) for r in fake_llm.requests]


def test_converse_stream_text_and_tool_use(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.reply("Checking now.", [fake_llm.tool_call("get_weather", city="Reykjavik")])])
    answer = _client(fake_llm).converse_stream(modelId=MODEL, messages=_ask("Reykjavik?"), toolConfig=TOOLS)
    events = list(answer["stream"])

    deltas = [e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e]
    text = "".join(d.get("text", "") for d in deltas)
    arguments = "".join(d["toolUse"]["input"] for d in deltas if "toolUse" in d)
    assert (text, arguments) == ("Checking now.", '{"city":"Reykjavik"}')
    assert len([d for d in deltas if "toolUse" in d]) > 1  # the input arrives in pieces
    assert events[-2] == {"messageStop": {"stopReason": "tool_use"}}
    [call] = agent_run.model_calls
    assert (call.streamed, call.text, call.stop_reason) == (True, "Checking now.", "tool_use")
    assert [(t.name, t.arguments) for t in call.tool_calls] == [("get_weather", {"city": "Reykjavik"})]
    assert call.usage.output_tokens == events[-1]["metadata"]["usage"]["outputTokens"] > 0


@pytest.mark.parametrize(
    ("choice", "expected"),
    [({"auto": {}}, "auto"), ({"any": {}}, "required"), ({"tool": {"name": "get_weather"}}, "get_weather")],
)
def test_tool_choice_is_read(fake_llm: FakeModel, choice: dict[str, Any], expected: str) -> None:
    _client(fake_llm).converse(modelId=MODEL, messages=_ask("x"), toolConfig={**TOOLS, "toolChoice": choice})
    assert fake_llm.last_request.conversation.tool_choice == expected  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "ValidationException"), (429, "ThrottlingException"), (503, "ServiceUnavailableException")],
)
def test_scripted_error_is_botocores_client_error(fake_llm: FakeModel, status: int, code: str) -> None:
    fake_llm.script([fake_llm.error(status, "scripted")])
    with pytest.raises(ClientError) as raised:
        _client(fake_llm).converse(modelId=MODEL, messages=_ask("x"))
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        code,
        "scripted",
        status,
    )
