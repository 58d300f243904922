"""pydantic-ai's model side with ``fake_llm``: a tool call, ``run_sync``, ``run_stream`` and ``run``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from matrix import assert_plain_streamed_async

from pytest_agentops.backends.model import FakeModel
from pytest_agentops.backends.model.standin import FirstTool

pydantic_ai = pytest.importorskip("pydantic_ai", reason="the frameworks extra (pip install -e '.[frameworks]')")


def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_tool_call_sync_streamed_and_async(fake_llm: FakeModel, agent_run: Any) -> None:
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    fake_llm.respond(FirstTool("It is sunny."))
    provider = OpenAIProvider(base_url=fake_llm.openai_base_url, api_key="sk-test")
    agent = pydantic_ai.Agent(OpenAIChatModel("gpt-4o-mini", provider=provider), tools=[lookup_weather])

    assert agent.run_sync("Weather in Paris?").output == "It is sunny."

    async def main() -> tuple[str, str]:
        async with agent.run_stream("Weather in Rome?") as result:
            streamed = await result.get_output()
        return streamed, (await agent.run("Weather in Oslo?")).output

    assert asyncio.run(main()) == ("It is sunny.", "It is sunny.")
    assert_plain_streamed_async(agent_run)
    assert [e.tool for e in agent_run.tool_calls] == ["lookup_weather"] * 3
