"""LangGraph's model side with ``fake_llm``: a prebuilt agent's tool call, ``invoke``, ``stream``, ``ainvoke``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from matrix import assert_plain_streamed_async

from pytest_agentops.backends.model import FakeModel
from pytest_agentops.backends.model.standin import FirstTool

pytest.importorskip("langgraph", reason="the frameworks extra (pip install -e '.[frameworks]')")
pytestmark = pytest.mark.filterwarnings("ignore:create_react_agent has been moved")


def test_tool_call_invoke_streamed_and_async(fake_llm: FakeModel, agent_run: Any) -> None:
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.prebuilt import create_react_agent

    @tool
    def lookup_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    fake_llm.respond(FirstTool("It is sunny."))
    model = ChatOpenAI(model="gpt-4o-mini", base_url=fake_llm.openai_base_url, api_key="sk-test")  # type: ignore[arg-type]
    graph = create_react_agent(model, [lookup_weather])

    assert graph.invoke({"messages": [("user", "Paris?")]})["messages"][-1].content == "It is sunny."
    chunks = [c for c, _ in graph.stream({"messages": [("user", "Rome?")]}, stream_mode="messages")]
    result = asyncio.run(graph.ainvoke({"messages": [("user", "Oslo?")]}))

    assert "".join(str(c.content) for c in chunks if c.type == "AIMessageChunk") == "It is sunny."
    assert result["messages"][-1].content == "It is sunny."
    assert_plain_streamed_async(agent_run)
    assert [(e.tool, e.agent) for e in agent_run.tool_calls] == [("lookup_weather", "tools")] * 3
