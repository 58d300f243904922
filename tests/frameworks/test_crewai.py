"""CrewAI as its users run it: an ``Agent`` with ``@tool`` functions, a ``Task``, ``Crew.kickoff``.

CrewAI 1.x calls OpenAI models through the ``openai`` SDK with native function calling; its tools
are on the trace and under the policy with no decorator of ours
(pytest_agentops/tap/frameworks/crewai.py). It cannot install beside the test extra (openai<3,
mcp<2, pydantic<2.13: docs/frameworks.md), so ``tox -e crewai`` runs this module on its own. CrewAI's
telemetry leaves in a background thread, possibly after a test has ended and outside its tap, so
these tests turn it off (``CREWAI_DISABLE_TELEMETRY``): only loopback is ever reached.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from matrix import needs_unshare, record_then_replay_openai

from pytest_agentops.backends.model import FakeModel
from pytest_agentops.backends.model.standin import FirstTool

crewai = pytest.importorskip("crewai", reason="not in the test extra (openai<3, mcp<2): tox -e crewai")
from crewai.tools import tool  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWAI_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("CREWAI_TRACING_ENABLED", "false")


@tool("Get Weather")
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _crew(fake_llm: FakeModel, tools: list[Any], **llm: Any) -> Any:
    model = crewai.LLM(model="gpt-4o-mini", base_url=fake_llm.openai_base_url, api_key="sk-test", **llm)
    agent = crewai.Agent(
        role="forecaster", goal="Tell the weather.", backstory="A meteorologist.", llm=model, tools=tools
    )
    task = crewai.Task(description="What is the weather in Oslo?", expected_output="The weather.", agent=agent)
    return crewai.Crew(agents=[agent], tasks=[task])


def test_tool_call_kickoff_async_and_streamed(fake_llm: FakeModel, agent_run: Any) -> None:
    agent_run.capture_io = True
    fake_llm.respond(FirstTool("It is sunny."))

    assert _crew(fake_llm, [get_weather]).kickoff().raw == "It is sunny."
    assert asyncio.run(_crew(fake_llm, [get_weather]).kickoff_async()).raw == "It is sunny."
    assert _crew(fake_llm, [get_weather], stream=True).kickoff().raw == "It is sunny."

    calls = [e.model_call for e in agent_run.events if e.kind == "model"]
    assert [(c.provider, c.streamed) for c in calls] == [("openai.chat", False)] * 4 + [("openai.chat", True)] * 2
    assert [t.name for c in calls for t in c.tool_calls] == ["get_weather"] * 3
    tools = agent_run.tool_calls
    assert [(e.tool, e.url, e.agent) for e in tools] == [("get_weather", "crewai:get_weather", "forecaster")] * 3
    assert [e.response_body for e in tools] == [f"sunny in {c.tool_calls[0].arguments['city']}" for c in calls[::2]]
    assert all(e.requested_by is not None for e in tools)  # linked to the model's tool call


@pytest.mark.agent_policy(allow=["get_weather"])
def test_denial_is_the_tools_error_and_the_crew_goes_on(fake_llm: FakeModel, agent_run: Any) -> None:
    sent: list[str] = []

    @tool("Send Email")
    def send_email(to: str) -> str:
        """Send an email."""
        sent.append(to)
        return "sent"

    fake_llm.script([fake_llm.tool_call("send_email", to="a@b.c"), "I may not send email."])

    assert _crew(fake_llm, [get_weather, send_email]).kickoff().raw == "I may not send email."
    assert sent == []
    assert [(d.tool, d.rule, d.arguments, d.agent) for d in agent_run.denials] == [
        ("send_email", "allowlist", {"to": "a@b.c"}, "forecaster")
    ]
    [answer] = fake_llm.requests[1].conversation.tool_results  # type: ignore[union-attr]
    assert answer.text.startswith("Error executing tool: ") and "rule allowlist" in answer.text
    with pytest.raises(AssertionError, match="send_email"):
        agent_run.assert_no_unauthorized_writes()


REACT = 'Thought: I should look it up.\nAction: get_weather\nAction Input: {"city": "Oslo"}'
FINAL = "Thought: I now know the final answer\nFinal Answer: It is sunny in Oslo."


def _text_only(crew: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The crew's model says it has no native function calling (as an ``o1`` model does), so CrewAI
    prompts for ReAct text, parses the action and runs the tool through ``CrewStructuredTool.invoke``."""
    llm = crew.agents[0].llm
    monkeypatch.setattr(type(llm), "supports_function_calling", lambda self: False)
    return crew


def _said(request: Any) -> str:
    """Every message of a request to the fake model, as one text."""
    return "\n".join(str(m.text) for m in request.conversation.messages)


def test_text_tool_path_is_one_event_with_the_agents_role(
    fake_llm: FakeModel, agent_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_run.capture_io = True
    fake_llm.script([REACT, FINAL, REACT, FINAL])

    assert _text_only(_crew(fake_llm, [get_weather]), monkeypatch).kickoff().raw == "It is sunny in Oslo."
    assert asyncio.run(_text_only(_crew(fake_llm, [get_weather]), monkeypatch).kickoff_async()).raw == (
        "It is sunny in Oslo."
    )

    calls = [e.model_call for e in agent_run.events if e.kind == "model"]
    assert len(calls) == 4 and not any(c.tool_calls for c in calls)  # text, not native tool calls
    tools = agent_run.tool_calls
    assert [(e.tool, e.url, e.agent, e.arguments) for e in tools] == [
        ("get_weather", "crewai:get_weather", "forecaster", {"city": "Oslo"})
    ] * 2
    assert [e.response_body for e in tools] == ["sunny in Oslo"] * 2
    assert "Observation: sunny in Oslo" in _said(fake_llm.requests[1])  # the tool's result, as CrewAI words it


@pytest.mark.agent_policy(allow=["search"])
def test_text_tool_path_denial_is_the_observation(
    fake_llm: FakeModel, agent_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []

    @tool("get_weather")
    def weather(city: str) -> str:
        """The weather in a city."""
        ran.append(city)
        return "sunny"

    fake_llm.script([REACT, "Thought: I may not.\nFinal Answer: I may not look up the weather."])

    assert _text_only(_crew(fake_llm, [weather]), monkeypatch).kickoff().raw == "I may not look up the weather."
    assert ran == []
    # CrewAI's text path tries a failing tool again (``ToolUsage``: 3 attempts, each calling ``invoke``
    # a second time with the unfiltered arguments): every try is denied, and each is on the trace.
    denials = {(d.tool, d.rule, d.agent, tuple(d.arguments.items())) for d in agent_run.denials}
    assert denials == {("get_weather", "allowlist", "forecaster", (("city", "Oslo"),))}
    assert len(agent_run.denials) == len([e for e in agent_run.events if e.kind == "tool"])
    assert "rule allowlist" in _said(fake_llm.requests[1])


INNER = """
import asyncio

from crewai import LLM, Agent, Crew, Task
from crewai.tools import tool


@tool("get_weather")
def get_weather(city: str) -> str:
    '''The weather in a city.'''
    return f"sunny in {city}"


def _crew():
    agent = Agent(role="forecaster", goal="Tell the weather.", backstory="A meteorologist.",
                  llm=LLM(model="gpt-4o-mini"), tools=[get_weather])
    task = Task(description="Weather in Oslo?", expected_output="The weather.", agent=agent)
    return Crew(agents=[agent], tasks=[task])


def test_kickoff_and_async(agent_run):
    assert _crew().kickoff().raw == "It is sunny."
    assert asyncio.run(_crew().kickoff_async()).raw == "It is sunny."
    assert not agent_run.misses
    assert [e.tool for e in agent_run.tool_calls if e.url.startswith("crewai:")] == ["get_weather"] * 2
"""


@needs_unshare
def test_records_then_replays_offline_with_the_default_client(
    pytester: pytest.Pytester, fake_llm: FakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = record_then_replay_openai(pytester, fake_llm, monkeypatch, INNER)
    assert urls.count("https://api.openai.com/v1/chat/completions") == 4, urls
    # Before each call CrewAI asks OpenAI to count the input tokens (the stand-in answers 404, and
    # CrewAI estimates them): recorded and replayed like any other request.
    assert set(urls) == {
        "https://api.openai.com/v1/chat/completions",
        "https://api.openai.com/v1/responses/input_tokens",
    }
