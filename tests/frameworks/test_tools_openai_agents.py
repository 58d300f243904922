"""OpenAI Agents SDK function tools on the trace and under the policy, with no decorator of ours."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_agentops.backends.model import FakeModel

agents = pytest.importorskip("agents")


def _model(fake_llm: FakeModel) -> Any:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test")
    return agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)


def _run(agent: Any, prompt: str) -> Any:
    return agents.Runner.run_sync(agent, prompt, run_config=agents.RunConfig(tracing_disabled=True))


@pytest.fixture
def shop() -> dict[str, Any]:
    cancelled: list[str] = []

    @agents.function_tool
    def lookup_order(order_id: str) -> str:
        """Look up an order's status."""
        return f"order {order_id}: shipped"

    @agents.function_tool
    def cancel_order(order_id: str) -> str:
        """Cancel an order."""
        cancelled.append(order_id)
        return f"order {order_id} cancelled"

    return {"tools": [lookup_order, cancel_order], "cancelled": cancelled}


@pytest.mark.agent_budget(max_tool_calls=5)
def test_function_tool_is_one_event_with_name_arguments_result_and_agent(
    fake_llm: FakeModel, agent_run: Any, shop: dict[str, Any]
) -> None:
    agent_run.capture_io = True  # keep the tool's result on the event, as trace files do
    fake_llm.script([fake_llm.tool_call("lookup_order", order_id="A1"), "A1 has shipped."])
    agent = agents.Agent(name="support", instructions="help", model=_model(fake_llm), tools=shop["tools"])

    result = _run(agent, "Where is A1?")

    assert result.final_output == "A1 has shipped."
    [event] = agent_run.tool_calls
    assert (event.tool, event.arguments, event.agent, event.backend) == (
        "lookup_order",
        {"order_id": "A1"},
        "support",
        "python",
    )
    assert event.response_body == "order A1: shipped"
    assert event.access == "write"  # undeclared framework tools are writes (docs/framework-tools.md)
    assert event.requested_by is not None and event.requested_by[0] == 0  # linked to the model's request
    assert agent_run.budget.used.tool_calls == 1 and agent_run.budget.remaining.tool_calls == 4


@pytest.mark.agent_policy(allow=["lookup_order"])
def test_denied_function_tool_reaches_the_model_as_a_tool_error(
    fake_llm: FakeModel, agent_run: Any, shop: dict[str, Any]
) -> None:
    fake_llm.script([fake_llm.tool_call("cancel_order", order_id="A1"), "I may not cancel orders."])
    agent = agents.Agent(name="support", instructions="help", model=_model(fake_llm), tools=shop["tools"])

    result = _run(agent, "Cancel A1")

    assert result.final_output == "I may not cancel orders."  # the run went on
    assert shop["cancelled"] == []  # the denied tool never ran
    [denied] = agent_run.denials
    assert (denied.tool, denied.rule, denied.agent) == ("cancel_order", "allowlist", "support")
    tool_output = fake_llm.requests[1].messages[-1].text
    assert "An error occurred while running the tool" in tool_output  # the SDK's own error form
    assert "rule allowlist" in tool_output and "cancel_order" in tool_output
    with pytest.raises(AssertionError, match="cancel_order"):
        agent_run.assert_no_unauthorized_writes()


def test_handoff_names_the_agent_that_called(fake_llm: FakeModel, agent_run: Any, shop: dict[str, Any]) -> None:
    billing = agents.Agent(name="billing", instructions="refunds", model=_model(fake_llm), tools=shop["tools"])
    triage = agents.Agent(name="triage", instructions="route", model=_model(fake_llm), handoffs=[billing])
    fake_llm.script(
        [fake_llm.tool_call("transfer_to_billing"), fake_llm.tool_call("lookup_order", order_id="B2"), "Done."]
    )

    assert _run(triage, "refund B2").final_output == "Done."
    assert [(e.tool, e.agent) for e in agent_run.tool_calls] == [("lookup_order", "billing")]


def test_our_tool_under_function_tool_is_one_event(fake_llm: FakeModel, agent_run: Any) -> None:
    from pytest_agentops import tool

    @agents.function_tool
    @tool(kind="read")
    def find_contact(email: str) -> str:
        """Find a contact."""
        return "c_1"

    fake_llm.script([fake_llm.tool_call("find_contact", email="a@b.c"), "c_1"])
    agent = agents.Agent(name="crm", instructions="x", model=_model(fake_llm), tools=[find_contact])

    assert _run(agent, "who is a@b.c").final_output == "c_1"
    [event] = agent_run.tool_calls
    assert (event.tool, event.access, event.agent, event.url.startswith("python:")) == (
        "find_contact",
        "read",
        "crm",
        True,
    )


SDK_FIRST = """
import sys

import agents  # imported before the session configures: the adapter patches at once


def test_patched_without_the_engine():
    from agents import tool

    assert hasattr(tool._invoke_function_tool_with_metadata, "__agentops_original__")
    assert "pytest_agentops.policy.engine" not in sys.modules
"""


def test_a_session_that_imports_the_sdk_first_loads_the_engine_only_for_a_tool(pytester: pytest.Pytester) -> None:
    """The adapter is in place from the start, yet the policy engine waits for a tool a policy judges."""
    pytester.makeconftest("import agents  # noqa: F401")
    pytester.makepyfile(test_sdk_first=SDK_FIRST)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
