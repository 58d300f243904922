"""LlamaIndex's model side with ``fake_llm``: an ``OpenAIAgent`` tool call, ``chat``, ``stream_chat``, ``achat``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from matrix import assert_plain_streamed_async

from pytest_agentops.backends.model import FakeModel
from pytest_agentops.backends.model.standin import FirstTool

pytest.importorskip("llama_index.agent.openai", reason="the frameworks extra (pip install -e '.[frameworks]')")


def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_tool_call_chat_streamed_and_async(fake_llm: FakeModel, agent_run: Any) -> None:
    from llama_index.agent.openai import OpenAIAgent
    from llama_index.core.tools import FunctionTool
    from llama_index.llms.openai import OpenAI

    fake_llm.respond(FirstTool("It is sunny."))
    llm = OpenAI(model="gpt-4o-mini", api_base=fake_llm.openai_base_url, api_key="sk-test")

    def agent() -> Any:
        return OpenAIAgent.from_tools([FunctionTool.from_defaults(lookup_weather)], llm=llm)

    assert str(agent().chat("Paris?")) == "It is sunny."
    assert "".join(agent().stream_chat("Rome?").response_gen) == "It is sunny."
    assert str(asyncio.run(agent().achat("Oslo?"))) == "It is sunny."
    assert_plain_streamed_async(agent_run)
    assert [e.tool for e in agent_run.tool_calls] == ["lookup_weather"] * 3
