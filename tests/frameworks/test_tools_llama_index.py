"""LlamaIndex FunctionTool on the trace and under the policy, in a function-calling agent run."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_agentops.backends.model import FakeModel

pytest.importorskip("llama_index.llms.openai")


def _agent(fake_llm: FakeModel, tools: list[Any]) -> Any:
    from llama_index.core.agent import FunctionCallingAgentWorker
    from llama_index.llms.openai import OpenAI

    llm = OpenAI(model="gpt-4o", api_base=fake_llm.openai_base_url, api_key="sk-test")
    return FunctionCallingAgentWorker.from_tools(tools, llm=llm).as_agent()


@pytest.fixture
def tools() -> dict[str, Any]:
    from llama_index.core.tools import FunctionTool

    sent: list[str] = []

    def weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    def send_email(to: str) -> str:
        """Send an email."""
        sent.append(to)
        return "sent"

    return {"list": [FunctionTool.from_defaults(fn=weather), FunctionTool.from_defaults(fn=send_email)], "sent": sent}


@pytest.mark.agent_budget(max_tool_calls=2)
def test_function_tool_is_one_event(fake_llm: FakeModel, agent_run: Any, tools: dict[str, Any]) -> None:
    agent_run.capture_io = True
    fake_llm.script([fake_llm.tool_call("weather", city="Oslo"), "Sunny in Oslo."])

    assert str(_agent(fake_llm, tools["list"]).chat("weather in Oslo?")) == "Sunny in Oslo."
    [event] = agent_run.tool_calls
    assert (event.tool, event.arguments, event.url, event.response_body) == (
        "weather",
        {"city": "Oslo"},
        "llama-index:weather",
        "sunny in Oslo",
    )
    assert agent_run.budget.remaining.tool_calls == 1


@pytest.mark.agent_policy(allow=["weather"])
def test_denial_is_an_error_tool_output(fake_llm: FakeModel, agent_run: Any, tools: dict[str, Any]) -> None:
    fake_llm.script([fake_llm.tool_call("send_email", to="a@b.c"), "I may not send email."])

    assert str(_agent(fake_llm, tools["list"]).chat("email a@b.c")) == "I may not send email."
    assert tools["sent"] == []
    assert [(e.tool, e.rule) for e in agent_run.denials] == [("send_email", "allowlist")]
    assert "rule allowlist" in fake_llm.requests[1].messages[-1].text
