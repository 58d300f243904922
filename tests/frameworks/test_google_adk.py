"""Google ADK as its users run it: an ``LlmAgent`` with a function tool, run by ``InMemoryRunner``.

ADK calls Gemini through ``google-genai`` on its default host, which the fake model serves here
(``serve_default_hosts``); its function tools are on the trace and under the policy with no
decorator of ours (pytest_agentops/tap/frameworks/google_adk.py). ADK 2.13 needs ``google-genai<3``
and the test extra has google-genai 3, so ``tox -e adk`` runs this module on its own.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from matrix import replay_in_a_namespace

from pytest_agentops.backends.model import FakeModel

pytest.importorskip("google.adk", reason="not in the test extra (google-genai<3): tox -e adk")
from google.adk.agents import LlmAgent
from google.adk.runners import InMemoryRunner
from google.genai import types

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _ask(agent: Any, text: str) -> str:
    """One user turn through ADK's runner; the agent's final text."""

    async def turn() -> str:
        runner = InMemoryRunner(agent=agent, app_name="weather")
        session = await runner.session_service.create_session(app_name="weather", user_id="u")
        message = types.Content(role="user", parts=[types.Part(text=text)])
        final = ""
        async for event in runner.run_async(user_id="u", session_id=session.id, new_message=message):
            if event.is_final_response() and event.content and event.content.parts:
                final = event.content.parts[0].text or ""
        return final

    return asyncio.run(turn())


@pytest.fixture
def gemini(fake_llm: FakeModel, monkeypatch: pytest.MonkeyPatch) -> FakeModel:
    monkeypatch.setenv("GOOGLE_API_KEY", "test-key")
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "false")
    fake_llm.serve_default_hosts()
    return fake_llm


@pytest.mark.agent_policy(allow=["get_weather"])
def test_function_tool_is_one_event_with_the_agent_and_a_denial_is_adks_error(
    gemini: FakeModel, agent_run: Any
) -> None:
    sent: list[str] = []

    def get_weather(city: str) -> dict[str, str]:
        """The weather in a city."""
        return {"report": f"sunny in {city}"}

    def send_email(to: str) -> dict[str, str]:
        """Send an email."""
        sent.append(to)
        return {"status": "sent"}

    agent = LlmAgent(
        name="forecaster", model="gemini-2.5-flash", instruction="Tell the weather.", tools=[get_weather, send_email]
    )
    gemini.script(
        [
            gemini.tool_call("get_weather", city="Oslo"),
            gemini.tool_call("send_email", to="a@b.c"),
            "It is sunny in Oslo; I may not send email.",
        ]
    )

    assert _ask(agent, "Weather in Oslo, and email it to a@b.c") == "It is sunny in Oslo; I may not send email."

    calls = [e.model_call for e in agent_run.events if e.kind == "model"]
    assert [c.provider for c in calls] == ["google.gemini"] * 3
    assert [t.name for c in calls for t in c.tool_calls] == ["get_weather", "send_email"]
    ran, _ = agent_run.tool_calls  # the call it ran, then the one it was denied
    assert (ran.tool, ran.url, ran.agent, ran.arguments) == (
        "get_weather",
        "google-adk:get_weather",
        "forecaster",
        {"city": "Oslo"},
    )
    assert sent == []
    [denied] = agent_run.denials
    assert (denied.tool, denied.rule, denied.agent, denied.arguments) == (
        "send_email",
        "allowlist",
        "forecaster",
        {"to": "a@b.c"},
    )
    weather, email = gemini.requests[2].conversation.tool_results  # type: ignore[union-attr]
    assert "sunny in Oslo" in str(weather.text) and "rule allowlist" in str(email.text)  # ADK's {"error": ...}


INNER = """
import asyncio
import os

from google.adk.agents import LlmAgent
from google.adk.models import Gemini
from google.adk.runners import InMemoryRunner
from google.genai import types


def get_weather(city: str) -> dict:
    '''The weather in a city.'''
    return {"report": f"sunny in {city}"}


async def _turn(text):
    model = Gemini(model="gemini-2.5-flash", base_url=os.environ["GEMINI_STANDIN"])
    agent = LlmAgent(name="forecaster", model=model, instruction="Tell the weather.", tools=[get_weather])
    runner = InMemoryRunner(agent=agent, app_name="weather")
    session = await runner.session_service.create_session(app_name="weather", user_id="u")
    message = types.Content(role="user", parts=[types.Part(text=text)])
    return [e async for e in runner.run_async(user_id="u", session_id=session.id, new_message=message)]


def test_agent(agent_run):
    events = asyncio.run(_turn("Weather in Paris?"))
    assert events[-1].content.parts[0].text == "It is sunny."
    models = [e for e in agent_run.events if e.kind == "model"]
    assert [e.backend for e in models] == [EXPECTED] * 2 and not agent_run.misses
    assert [(e.tool, e.agent) for e in agent_run.tool_calls] == [("get_weather", "forecaster")]
"""


def _standin(conversation: Any) -> Any:
    if conversation.tool_results:
        return "It is sunny."
    return FakeModel.tool_call("get_weather", city="Paris")


def test_records_then_replays_in_a_fresh_namespace(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded against a loopback stand-in for Gemini, then replayed inside ``unshare -n``."""
    standin = FakeModel().respond(_standin).serve()
    try:
        assert standin.loopback_url is not None
        monkeypatch.setenv("GEMINI_STANDIN", standin.loopback_url)
        monkeypatch.setenv("GOOGLE_API_KEY", "test-key")
        pytester.makeini("[pytest]\nagentops_scope = all\n")
        pytester.makepyfile(test_inner=INNER.replace("EXPECTED", '"network"'))
        recorded = pytester.run(sys.executable, "-m", "pytest", "--agent-record", "-q", "-p", "no:cacheprovider")
        assert recorded.ret == 0, recorded.stdout.str()
        assert len(standin.requests) == 2
    finally:
        standin.close()
    pytester.makepyfile(test_inner=INNER.replace("EXPECTED", '"cassette"'))
    replayed = replay_in_a_namespace(pytester)
    assert replayed.ret == 0, replayed.stdout.str()
