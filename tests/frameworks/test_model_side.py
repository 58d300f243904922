"""The model side of each installed framework as its users write it: default client, an
``OPENAI_API_KEY`` in the environment, no base URL. Each is recorded against a loopback stand-in,
then replayed by a second run (a new process: new run ids, new cache keys) inside ``unshare -n``.

Recording every framework twice and diffing the requests found one volatile field,
``prompt_cache_key`` (the Agents SDK's per-run key, Responses and Chat Completions); pydantic-ai,
LangGraph with langchain-openai and llama-index 0.10 send the same bodies run after run (tool-call
ids differ only because the stand-in numbers them; in replay the cassette hands back the recorded
ones, which the client echoes).
"""

from __future__ import annotations

import contextlib
import importlib

import pytest
from matrix import needs_unshare, record_then_replay_openai

TOOL = '''
import asyncio


def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _done(agent_run):
    assert not agent_run.misses
    assert "lookup_weather" in [t.name for c in agent_run.model_calls for t in c.tool_calls]
'''

INNER = {
    "openai_agents": """
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool
from openai import AsyncOpenAI


def test_responses_and_streamed_chat(agent_run):
    tools = [function_tool(lookup_weather)]
    Runner.run_sync(Agent(name="w", tools=tools, model="gpt-4o-mini"), "Weather in Paris?")
    chat = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=AsyncOpenAI())

    async def go():
        result = Runner.run_streamed(Agent(name="w", tools=tools, model=chat), "Weather in Rome?")
        async for _ in result.stream_events():
            pass

    asyncio.run(go())
    _done(agent_run)
""",
    "pydantic_ai": """
from pydantic_ai import Agent


def test_run_and_stream(agent_run):
    agent = Agent("openai:gpt-4o-mini", tools=[lookup_weather])
    agent.run_sync("Weather in Paris?")

    async def go():
        async with agent.run_stream("Weather in Rome?") as result:
            await result.get_output()

    asyncio.run(go())
    _done(agent_run)
""",
    "langgraph": """
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.prebuilt import create_react_agent


def test_invoke_and_stream(agent_run):
    graph = create_react_agent(ChatOpenAI(model="gpt-4o-mini"), [tool(lookup_weather)])
    graph.invoke({"messages": [("user", "Weather in Paris?")]})
    for _ in graph.stream({"messages": [("user", "Weather in Rome?")]}, stream_mode="messages"):
        pass
    _done(agent_run)
""",
    "llama_index": """
from llama_index.agent.openai import OpenAIAgent
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai import OpenAI


def test_chat_and_stream_chat(agent_run):
    agent = OpenAIAgent.from_tools([FunctionTool.from_defaults(lookup_weather)], llm=OpenAI(model="gpt-4o-mini"))
    agent.chat("Weather in Paris?")
    for _ in agent.stream_chat("Weather in Rome?").response_gen:
        pass
    _done(agent_run)
""",
}
MODULES = {
    "openai_agents": "agents",
    "pydantic_ai": "pydantic_ai",
    "langgraph": "langgraph",
    "llama_index": "llama_index.agent.openai",
}

# Import each framework here, at collection, before any pytester fixture exists: pytester restores
# sys.modules after its inner session, and a framework first imported there would be imported again
# by the next test in this worker; llama-index 0.10's pydantic.v1 validators refuse that
# ("duplicate validator function").
for _module in MODULES.values():
    with contextlib.suppress(ImportError):
        importlib.import_module(_module)


@needs_unshare
@pytest.mark.parametrize("framework", list(INNER))
def test_second_run_replays_the_first(pytester, fake_llm, monkeypatch, framework):
    pytest.importorskip(MODULES[framework], reason="the frameworks extra (pip install -e '.[frameworks]')")
    recorded = record_then_replay_openai(pytester, fake_llm, monkeypatch, TOOL + INNER[framework])
    urls = set(recorded)
    assert urls <= {"https://api.openai.com/v1/responses", "https://api.openai.com/v1/chat/completions"}, urls
    assert len(recorded) >= 4  # two turns (tool call, answer) for each of the two runs
