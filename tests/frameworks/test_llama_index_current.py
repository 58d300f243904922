"""Current LlamaIndex (llama-index-core 0.14, llama-index-llms-openai 0.8) as its users run it.

0.14's agents are workflows: ``FunctionAgent`` (alone, or inside an ``AgentWorkflow``) is run with
``agent.run(user_msg=...)``, awaited, and streams by default (``streaming=True``: the model is
called with ``stream=True`` and ``handler.stream_events()`` yields its deltas). Its tools run
through ``FunctionTool.acall``, which the adapter (pytest_agentops/tap/frameworks/llama_index.py)
gates; a denial comes back to the model as LlamaIndex's own tool error. llama-index-llms-openai
0.8 needs openai<3 while the test extra has openai 3, so ``tox -e llamaindex`` runs this module on
its own (test_llama_index.py covers 0.10 in the test extra).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from matrix import assert_plain_streamed_async, needs_unshare, record_then_replay_openai

from pytest_agentops.backends.model import FakeModel
from pytest_agentops.backends.model.standin import FirstTool

workflow = pytest.importorskip(
    "llama_index.core.agent.workflow", reason="llama-index-core 0.14 is not in the test extra: tox -e llamaindex"
)
from llama_index.core.tools import FunctionTool  # noqa: E402
from llama_index.llms.openai import OpenAI  # noqa: E402

# llama-index-workflows finds a workflow's steps with inspect.getmembers on the agent, a pydantic
# model, which reads pydantic's deprecated attributes: ~40 warnings a test, none of them ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
]


def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _llm(fake_llm: FakeModel) -> Any:
    return OpenAI(model="gpt-4o-mini", api_base=fake_llm.openai_base_url, api_key="sk-test")


def _agent(fake_llm: FakeModel, tools: list[Any], **kwargs: Any) -> Any:
    return workflow.FunctionAgent(tools=tools, llm=_llm(fake_llm), **kwargs)


def _answer(agent: Any, message: str) -> str:
    """A run awaited to its end (a workflow starts its task in the running loop)."""

    async def run() -> str:
        return str(await agent.run(user_msg=message))

    return asyncio.run(run())


async def _streamed(agent: Any, message: str) -> tuple[str, str]:
    """The run's deltas joined, and its final answer."""
    handler = agent.run(user_msg=message)
    deltas = [e.delta async for e in handler.stream_events() if isinstance(e, workflow.AgentStream)]
    return "".join(deltas), str(await handler)


def test_tool_call_plain_streamed_and_in_a_workflow(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.respond(FirstTool("It is sunny."))
    tools = [FunctionTool.from_defaults(lookup_weather)]

    async def runs() -> list[str]:
        plain = str(await _agent(fake_llm, tools, streaming=False).run(user_msg="Paris?"))
        deltas, streamed = await _streamed(_agent(fake_llm, tools), "Rome?")
        flow = workflow.AgentWorkflow(agents=[_agent(fake_llm, tools, name="weather", streaming=False)])
        return [plain, deltas, streamed, str(await flow.run(user_msg="Oslo?"))]

    assert asyncio.run(runs()) == ["It is sunny."] * 4
    assert_plain_streamed_async(agent_run)  # the workflow's run is the plain, unstreamed one
    assert [(e.tool, e.url) for e in agent_run.tool_calls] == [("lookup_weather", "llama-index:lookup_weather")] * 3


@pytest.fixture
def tools() -> dict[str, Any]:
    sent: list[str] = []

    def send_email(to: str) -> str:
        """Send an email."""
        sent.append(to)
        return "sent"

    return {"list": [FunctionTool.from_defaults(lookup_weather), FunctionTool.from_defaults(send_email)], "sent": sent}


@pytest.mark.agent_budget(max_tool_calls=2)
def test_function_tool_path_is_one_event(fake_llm: FakeModel, agent_run: Any, tools: dict[str, Any]) -> None:
    agent_run.capture_io = True
    fake_llm.script([fake_llm.tool_call("lookup_weather", city="Oslo"), "Sunny in Oslo."])

    assert _answer(_agent(fake_llm, tools["list"]), "weather in Oslo?") == "Sunny in Oslo."
    [event] = agent_run.tool_calls
    assert (event.tool, event.arguments, event.url, event.response_body) == (
        "lookup_weather",
        {"city": "Oslo"},
        "llama-index:lookup_weather",
        "sunny in Oslo",
    )
    assert agent_run.budget.remaining.tool_calls == 1


@pytest.mark.agent_policy(allow=["lookup_weather"])
def test_denial_is_an_error_tool_output(fake_llm: FakeModel, agent_run: Any, tools: dict[str, Any]) -> None:
    fake_llm.script([fake_llm.tool_call("send_email", to="a@b.c"), "I may not send email."])

    assert _answer(_agent(fake_llm, tools["list"], streaming=False), "email a@b.c") == "I may not send email."
    assert tools["sent"] == []
    assert [(e.tool, e.rule) for e in agent_run.denials] == [("send_email", "allowlist")]
    assert "rule allowlist" in fake_llm.requests[1].messages[-1].text


INNER = '''
import asyncio

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai import OpenAI


def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_run_and_stream(agent_run):
    def agent(**kwargs):
        tools = [FunctionTool.from_defaults(lookup_weather)]
        return FunctionAgent(tools=tools, llm=OpenAI(model="gpt-4o-mini"), **kwargs)

    async def go():
        await agent(streaming=False).run(user_msg="Weather in Paris?")
        handler = agent().run(user_msg="Weather in Rome?")
        async for _ in handler.stream_events():
            pass
        await handler

    asyncio.run(go())
    assert not agent_run.misses
    assert [e.tool for e in agent_run.tool_calls] == ["lookup_weather"] * 2
'''


@needs_unshare
def test_records_then_replays_offline_with_the_default_client(
    pytester: pytest.Pytester, fake_llm: FakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = record_then_replay_openai(pytester, fake_llm, monkeypatch, INNER)
    assert urls == ["https://api.openai.com/v1/chat/completions"] * 4, urls
