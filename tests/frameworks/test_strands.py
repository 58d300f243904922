"""Strands Agents as its users run it: ``Agent(model=BedrockModel(...), tools=[...])``, its default
provider (Amazon Bedrock through boto3, ConverseStream) against the fake model's Bedrock Converse.

Its ``@tool`` functions are on the trace and under the policy with no decorator of ours
(pytest_agentops/tap/frameworks/strands.py). Strands cannot install beside the test extra (it needs
mcp<2.2, docs/frameworks.md), so ``tox -e strands`` runs this module in an environment of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from matrix import needs_unshare, record_then_replay

from pytest_agentops.backends.model import FakeModel
from pytest_agentops.backends.model.standin import FirstTool

strands = pytest.importorskip("strands", reason="not in the test extra (mcp<2.2): tox -e strands")
from strands.models.bedrock import BedrockModel  # noqa: E402

MODEL = "us.amazon.nova-lite-v1:0"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLEONLY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def _agent(endpoint: str, tools: list[Any], **kwargs: Any) -> Any:
    model = BedrockModel(model_id=MODEL, region_name="us-east-1", endpoint_url=endpoint, **kwargs)
    return strands.Agent(name="weather", model=model, tools=tools, callback_handler=None)


@strands.tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _calls(agent_run: Any) -> list[Any]:
    return [e.model_call for e in agent_run.events if e.kind == "model"]


def test_tool_call_sync_streamed_and_async(fake_llm: FakeModel, agent_run: Any) -> None:
    agent_run.capture_io = True
    fake_llm.respond(FirstTool("It is sunny."))
    agent = _agent(fake_llm.bedrock_base_url, [get_weather])

    assert str(agent("Weather in Oslo?")).strip() == "It is sunny."

    async def streamed() -> list[Any]:
        return [event async for event in agent.stream_async("Weather in Rome?")]

    events = asyncio.run(streamed())
    plain = _agent(fake_llm.bedrock_base_url, [get_weather], streaming=False)
    assert str(asyncio.run(plain.invoke_async("Weather in Lima?"))).strip() == "It is sunny."
    assert str(events[-1]["result"]).strip() == "It is sunny."
    calls = _calls(agent_run)
    assert [(c.provider, c.model, c.streamed) for c in calls] == [("bedrock.converse", MODEL, True)] * 4 + [
        ("bedrock.converse", MODEL, False)
    ] * 2
    assert [t.name for c in calls for t in c.tool_calls] == ["get_weather"] * 3
    tools = agent_run.tool_calls
    assert [(e.tool, e.agent, e.url) for e in tools] == [("get_weather", "weather", "strands:get_weather")] * 3
    assert [e.response_body for e in tools] == [f"sunny in {c.tool_calls[0].arguments['city']}" for c in calls[::2]]
    assert all(e.requested_by is not None for e in tools)  # linked to the model's toolUse


@pytest.mark.agent_policy(allow=["get_weather"])
def test_denial_is_an_error_tool_result_and_the_agent_goes_on(fake_llm: FakeModel, agent_run: Any) -> None:
    sent: list[str] = []

    @strands.tool
    def send_email(to: str) -> str:
        """Send an email."""
        sent.append(to)
        return "sent"

    fake_llm.script([fake_llm.tool_call("send_email", to="a@b.c"), "I may not send email."])
    result = _agent(fake_llm.bedrock_base_url, [get_weather, send_email])("Email a@b.c")

    assert str(result).strip() == "I may not send email."
    assert sent == []
    [denied] = agent_run.denials
    assert (denied.tool, denied.rule, denied.agent, denied.arguments) == (
        "send_email",
        "allowlist",
        "weather",
        {"to": "a@b.c"},
    )
    [answer] = fake_llm.requests[1].conversation.tool_results  # type: ignore[union-attr]
    assert answer.name == "send_email" and "rule allowlist" in answer.text
    with pytest.raises(AssertionError, match="send_email"):
        agent_run.assert_no_unauthorized_writes()


INNER = """
import asyncio
import os

from strands import Agent, tool
from strands.models.bedrock import BedrockModel


@tool
def get_weather(city: str) -> str:
    '''The weather in a city.'''
    return f"sunny in {city}"


def test_agent_streamed_and_async(agent_run):
    model = BedrockModel(model_id="us.amazon.nova-lite-v1:0", endpoint_url=os.environ["BEDROCK_STANDIN"])
    agent = Agent(model=model, tools=[get_weather], callback_handler=None)
    assert str(agent("Weather in Oslo?")).strip() == "It is sunny."
    assert str(asyncio.run(agent.invoke_async("Weather in Rome?"))).strip() == "It is sunny."
    assert not agent_run.misses
    assert [e.tool for e in agent_run.tool_calls] == ["get_weather"] * 2
    assert [e.model_call.streamed for e in agent_run.events if e.kind == "model"] == [True] * 4
"""


@needs_unshare
def test_records_then_replays_offline(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    standin = FakeModel().respond(FirstTool("It is sunny.")).serve()
    try:
        assert standin.loopback_url is not None
        monkeypatch.setenv("BEDROCK_STANDIN", standin.loopback_url)
        pytester.makepyfile(test_agent=INNER)
        interactions = record_then_replay(pytester, standin.loopback_url)
    finally:
        standin.close()
    urls = [str(i["request"]["url"]) for i in interactions]  # type: ignore[index]
    assert urls == [f"{standin.loopback_url}/model/us.amazon.nova-lite-v1%3A0/converse-stream"] * 4, urls
