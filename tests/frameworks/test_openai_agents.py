"""The OpenAI Agents SDK as its users run it: default client, tracing on, ``OPENAI_API_KEY`` set.

The SDK adds ``prompt_cache_key: "agents-sdk:run:<uuid4>"`` to every request (ignored in matching
by default) and, with a key set, posts its traces to ``api.openai.com/v1/traces/ingest`` (the
``telemetry`` backend answers it locally: never recorded, never a miss).
"""

from __future__ import annotations

import asyncio

import pytest
from matrix import needs_unshare, record_then_replay_openai

agents = pytest.importorskip("agents", reason="the frameworks extra (pip install -e '.[frameworks]')")
from agents import Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, Runner, function_tool  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402

from pytest_agentops.backends.model.standin import FirstTool  # noqa: E402


@function_tool
def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _agent(fake_llm, api: str) -> Agent:
    client = AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test")
    model_cls = OpenAIResponsesModel if api == "responses" else OpenAIChatCompletionsModel
    return Agent(name="weather", tools=[lookup_weather], model=model_cls(model="gpt-4o-mini", openai_client=client))


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_tool_call_sync_stream_and_async(fake_llm, agent_run, api):
    fake_llm.respond(FirstTool("It is sunny."))
    agent = _agent(fake_llm, api)
    assert Runner.run_sync(agent, "Weather in Paris?").final_output == "It is sunny."

    async def streamed() -> str:
        result = Runner.run_streamed(agent, "Weather in Rome?")
        async for _ in result.stream_events():
            pass
        return str(result.final_output)

    assert asyncio.run(streamed()) == "It is sunny."
    assert asyncio.run(Runner.run(agent, "Weather in Oslo?")).final_output == "It is sunny."
    calls = agent_run.model_calls
    assert len(calls) == 6
    assert [c.streamed for c in calls] == [False, False, True, True, False, False]
    asked = [t.name for c in calls for t in c.tool_calls]
    assert asked == ["lookup_weather"] * 3


INNER = '''
import asyncio
from agents import Agent, Runner, function_tool
from agents.tracing import get_trace_provider


@function_tool
def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


AGENT = Agent(name="weather", tools=[lookup_weather], model="gpt-4o-mini")


def _done(agent_run):
    get_trace_provider().force_flush()  # the exporter posts to api.openai.com/v1/traces/ingest now
    assert not agent_run.misses
    assert [e.url for e in agent_run.events if e.kind == "telemetry"], agent_run.events
    assert [t.name for c in agent_run.model_calls for t in c.tool_calls] == ["lookup_weather"]


def test_run(agent_run):
    assert Runner.run_sync(AGENT, "Weather in Paris?").final_output == "It is sunny."
    _done(agent_run)


def test_streamed(agent_run):
    async def go():
        result = Runner.run_streamed(AGENT, "Weather in Rome?")
        async for _ in result.stream_events():
            pass
        return result.final_output

    assert asyncio.run(go()) == "It is sunny."
    _done(agent_run)
'''


@needs_unshare
def test_records_then_replays_offline_with_tracing_on(pytester, fake_llm, monkeypatch):
    urls = set(record_then_replay_openai(pytester, fake_llm, monkeypatch, INNER))
    assert urls == {"https://api.openai.com/v1/responses"}, urls  # no trace ingest in the cassette
    # openai-agents 0.24 sent no prompt_cache_key here; when it does, matching ignores it by default.
