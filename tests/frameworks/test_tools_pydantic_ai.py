"""pydantic-ai tools and toolsets on the trace and under the policy, with no decorator of ours."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_agentops.backends.model import FakeModel

pydantic_ai = pytest.importorskip("pydantic_ai")


def _agent(fake_llm: FakeModel, **kwargs: Any) -> Any:
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(base_url=fake_llm.openai_base_url, api_key="sk-test")
    return pydantic_ai.Agent(OpenAIChatModel("gpt-4o", provider=provider), name="support", **kwargs)


@pytest.mark.agent_budget(max_tool_calls=3)
def test_tool_is_one_event_with_validated_arguments_result_and_agent(fake_llm: FakeModel, agent_run: Any) -> None:
    agent_run.capture_io = True
    agent = _agent(fake_llm)

    @agent.tool_plain
    def lookup_order(order_id: str, quantity: int) -> dict[str, Any]:
        """Look up an order."""
        return {"order": order_id, "status": "shipped", "quantity": quantity}

    # The model sends "2" as a string; pydantic-ai validates it to an int before the gate sees it.
    fake_llm.script([fake_llm.tool_call("lookup_order", order_id="A1", quantity="2"), "A1 shipped."])

    assert agent.run_sync("Where is A1?").output == "A1 shipped."
    [event] = agent_run.tool_calls
    assert (event.tool, event.arguments, event.agent) == ("lookup_order", {"order_id": "A1", "quantity": 2}, "support")
    assert event.response_body == {"order": "A1", "status": "shipped", "quantity": 2}
    assert event.url == "pydantic-ai:lookup_order" and event.requested_by is not None
    assert agent_run.budget.used.tool_calls == 1


@pytest.mark.agent_policy(allow=["lookup_order"])
def test_denial_is_a_failed_tool_result_and_the_run_goes_on(fake_llm: FakeModel, agent_run: Any) -> None:
    from pydantic_ai.toolsets import FunctionToolset

    refunded: list[str] = []

    def refund(order_id: str) -> str:
        """Refund an order."""
        refunded.append(order_id)
        return "refunded"

    agent = _agent(fake_llm, toolsets=[FunctionToolset([refund])])
    fake_llm.script([fake_llm.tool_call("refund", order_id="A1"), "I cannot refund that."])

    result = agent.run_sync("Refund A1")

    assert result.output == "I cannot refund that."
    assert refunded == []
    [denied] = agent_run.denials
    assert (denied.tool, denied.rule, denied.agent, denied.arguments) == (
        "refund",
        "allowlist",
        "support",
        {"order_id": "A1"},
    )
    returned = [p for m in result.all_messages() for p in m.parts if getattr(p, "part_kind", "") == "tool-return"]
    assert [(p.tool_name, p.outcome) for p in returned] == [("refund", "failed")]  # pydantic-ai's ToolFailed
    assert "rule allowlist" in fake_llm.requests[1].messages[-1].text
    with pytest.raises(AssertionError, match="refund"):
        agent_run.assert_no_unauthorized_writes()


def test_declared_read_with_a_contract_alias(fake_llm: FakeModel, agent_run: Any) -> None:
    from pytest_agentops.tap.frameworks import declare_tool, names

    agent = _agent(fake_llm)

    @agent.tool_plain
    def search_contacts(query: str) -> list[str]:
        """Search contacts."""
        return ["c_1"]

    declare_tool("search_contacts", kind="read", alias="crm.contacts.search")
    try:
        fake_llm.script([fake_llm.tool_call("search_contacts", query="ada"), "found c_1"])
        assert agent.run_sync("find ada").output == "found c_1"
    finally:
        names.forget()
    [event] = agent_run.tool_calls
    assert (event.tool, event.access, event.url) == ("crm.contacts.search", "read", "pydantic-ai:search_contacts")
    assert event.requested_by is not None  # linked to the model's "search_contacts" request
    assert agent_run.writes == []
