"""LiteLLM as its users call it: ``completion``/``acompletion``, streamed or not, with tools.

LiteLLM has no tools of its own (it hands the model's tool calls back to the caller), so the matrix
checks the model side: the tool calls, the streamed flag and the usage on the trace, for OpenAI
models (its ``openai`` client) and Anthropic ones (its own httpx client, not the anthropic SDK).
At import it fetches its model price list from GitHub: inside a test the ``telemetry`` backend
answers that with a 404, so LiteLLM reads the copy it ships (never the network, never a cassette).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from typing import Any

import pytest
from matrix import needs_unshare, record_then_replay

from pytest_agentops.backends.model import FakeModel
from pytest_agentops.backends.model.standin import FirstTool

if importlib.util.find_spec("litellm") is None:
    pytest.skip("the frameworks extra (pip install -e '.[frameworks]')", allow_module_level=True)


def _litellm() -> Any:
    """litellm, imported at first use rather than at collection (about 4 s, in every xdist worker).

    Its price-list fetch at import stays off the network and off the test's trace: the inner
    project below imports it inside a test instead, where the tap answers that fetch."""
    saved = os.environ.get(_LOCAL_PRICES)
    os.environ[_LOCAL_PRICES] = "True"
    try:
        import litellm
    finally:
        if saved is None:
            del os.environ[_LOCAL_PRICES]
        else:
            os.environ[_LOCAL_PRICES] = saved
    return litellm


_LOCAL_PRICES = "LITELLM_LOCAL_MODEL_COST_MAP"
# litellm's TypedDicts use ReadOnly, which pydantic warns about when it first builds their schemas
pytestmark = pytest.mark.filterwarnings("ignore:Item .* is using the `ReadOnly` qualifier:UserWarning")

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
ASK = [{"role": "user", "content": "Weather in Oslo?"}]


def _calls(agent_run: Any) -> list[Any]:
    return [e.model_call for e in agent_run.events if e.kind == "model"]


def test_tool_call_then_answer_sync_streamed_and_async(fake_llm: FakeModel, agent_run: Any) -> None:
    litellm = _litellm()
    fake_llm.always_include_usage()
    fake_llm.script([fake_llm.tool_call("get_weather", city="Oslo"), "Cold.", "Cold, 2 C.", "Still cold."])
    openai = {"api_base": fake_llm.openai_base_url, "api_key": "sk-test"}

    first = litellm.completion(model="gpt-4o-mini", messages=ASK, tools=TOOLS, **openai)
    [asked] = first.choices[0].message.tool_calls
    messages = [*ASK, first.choices[0].message, {"role": "tool", "tool_call_id": asked.id, "content": "cold"}]
    answer = litellm.completion(model="gpt-4o-mini", messages=messages, tools=TOOLS, **openai)
    chunks = list(litellm.completion(model="gpt-4o-mini", messages=ASK, stream=True, **openai))

    async def main() -> str:
        plain = await litellm.acompletion(model="gpt-4o-mini", messages=ASK, **openai)
        return str(plain.choices[0].message.content)

    assert (asked.function.name, asked.function.arguments) == ("get_weather", '{"city":"Oslo"}')
    assert answer.choices[0].message.content == "Cold."
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Cold, 2 C."
    assert asyncio.run(main()) == "Still cold."
    calls = _calls(agent_run)
    assert [(c.provider, c.model, c.streamed) for c in calls] == [
        ("openai.chat", "gpt-4o-mini", False),
        ("openai.chat", "gpt-4o-mini", False),
        ("openai.chat", "gpt-4o-mini", True),
        ("openai.chat", "gpt-4o-mini", False),
    ]
    assert [[t.name for t in c.tool_calls] for c in calls] == [["get_weather"], [], [], []]
    assert calls[1].usage.input_tokens == answer.usage.prompt_tokens == fake_llm.requests[1].input_tokens
    assert agent_run.usage.total_tokens == sum(r.input_tokens + r.output_tokens for r in fake_llm.requests)


def test_anthropic_model_through_litellms_own_client_streamed_async(fake_llm: FakeModel, agent_run: Any) -> None:
    litellm = _litellm()
    fake_llm.script([fake_llm.tool_call("get_weather", city="Rome"), "Warm in Rome."])
    anthropic = {"api_base": fake_llm.anthropic_base_url, "api_key": "sk-ant-test"}
    model = "anthropic/claude-3-5-haiku-20241022"

    first = litellm.completion(model=model, messages=ASK, tools=TOOLS, **anthropic)

    async def streamed() -> str:
        stream = await litellm.acompletion(model=model, messages=ASK, stream=True, **anthropic)
        return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert [t.function.name for t in first.choices[0].message.tool_calls] == ["get_weather"]
    assert asyncio.run(streamed()) == "Warm in Rome."
    calls = _calls(agent_run)
    assert [(c.provider, c.streamed) for c in calls] == [("anthropic.messages", False), ("anthropic.messages", True)]
    assert [(t.name, t.arguments) for t in calls[0].tool_calls] == [("get_weather", {"city": "Rome"})]
    assert calls[1].text == "Warm in Rome." and calls[1].usage.output_tokens > 0


INNER = """
import asyncio

TOOLS = TOOLS_JSON


def test_completion_stream_and_async(agent_run):
    import litellm  # imported in the test: its price-list fetch at import meets the tap

    ask = [{"role": "user", "content": "Weather in Oslo?"}]
    first = litellm.completion(model="gpt-4o-mini", messages=ask, tools=TOOLS)
    [call] = first.choices[0].message.tool_calls
    messages = [*ask, first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "cold"}]
    chunks = list(litellm.completion(model="gpt-4o-mini", messages=messages, tools=TOOLS, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "It is cold."

    async def main():
        return await litellm.acompletion(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    assert asyncio.run(main()).choices[0].message.content == "It is cold."
    assert not agent_run.misses
    calls = [e.model_call for e in agent_run.events if e.kind == "model"]
    assert [(c.streamed, [t.name for t in c.tool_calls]) for c in calls] == [
        (False, ["get_weather"]), (True, []), (False, [])
    ]
    telemetry = [e.url for e in agent_run.events if e.kind == "telemetry"]
    assert any("/BerriAI/litellm/" in url for url in telemetry), telemetry
"""


@needs_unshare
def test_records_then_replays_offline_with_the_default_client(
    pytester: pytest.Pytester, fake_llm: FakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    fake_llm.respond(FirstTool("It is cold.")).serve()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-agentopsmatrix0000000000000000")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    pytester.makepyfile(test_agent=INNER.replace("TOOLS_JSON", json.dumps(TOOLS)))
    interactions = record_then_replay(pytester, fake_llm.loopback_url + "/v1")
    urls = [str(i["request"]["url"]) for i in interactions]  # type: ignore[index]
    assert urls == ["https://api.openai.com/v1/chat/completions"] * 3, urls  # no price list in the cassette
