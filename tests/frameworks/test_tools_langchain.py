"""LangChain tools, as LangGraph's ToolNode runs them, on the trace and under the policy."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pytest_agentops.backends.model import FakeModel

pytest.importorskip("langgraph")
pytestmark = pytest.mark.filterwarnings("ignore:create_react_agent has been moved")


def _graph(fake_llm: FakeModel, tools: list[Any], **kwargs: Any) -> Any:
    from langchain_openai import ChatOpenAI
    from langgraph.prebuilt import create_react_agent

    model = ChatOpenAI(model="gpt-4o-mini", base_url=fake_llm.openai_base_url, api_key="sk-test")  # type: ignore[arg-type]
    return create_react_agent(model, tools, **kwargs)


@pytest.fixture
def tools() -> dict[str, Any]:
    from langchain_core.tools import tool

    closed: list[str] = []

    @tool
    def lookup_ticket(ticket_id: int) -> str:
        """Look up a ticket."""
        return f"ticket {ticket_id}: open"

    @tool
    def close_ticket(ticket_id: int) -> str:
        """Close a ticket."""
        closed.append(str(ticket_id))
        return "closed"

    return {"list": [lookup_ticket, close_ticket], "closed": closed}


@pytest.mark.agent_budget(max_tool_calls=4)
def test_tool_node_call_is_one_event_naming_the_agent(
    fake_llm: FakeModel, agent_run: Any, tools: dict[str, Any]
) -> None:
    agent_run.capture_io = True
    from langgraph.graph import START, MessagesState, StateGraph

    fake_llm.script([fake_llm.tool_call("lookup_ticket", ticket_id=7), "Ticket 7 is open."])
    parent = StateGraph(MessagesState)  # the agent as one worker node of a bigger graph
    parent.add_node("helpdesk", _graph(fake_llm, tools["list"]))
    parent.add_edge(START, "helpdesk")

    result = parent.compile().invoke({"messages": [("user", "status of 7?")]})

    assert result["messages"][-1].content == "Ticket 7 is open."
    [event] = agent_run.tool_calls
    assert (event.tool, event.arguments, event.agent, event.url) == (
        "lookup_ticket",
        {"ticket_id": 7},
        "helpdesk/tools",  # the worker node, then its tool node
        "langchain:lookup_ticket",
    )
    assert event.response_body is not None and "ticket 7: open" in str(event.response_body)
    assert agent_run.budget.used.tool_calls == 1


@pytest.mark.agent_policy(allow=["lookup_ticket"])
def test_denial_is_an_error_tool_message_and_the_graph_goes_on(
    fake_llm: FakeModel, agent_run: Any, tools: dict[str, Any]
) -> None:
    fake_llm.script([fake_llm.tool_call("close_ticket", ticket_id=7), "I am not allowed to close tickets."])
    graph = _graph(fake_llm, tools["list"])

    result = graph.invoke({"messages": [("user", "close 7")]})

    assert result["messages"][-1].content == "I am not allowed to close tickets."
    assert tools["closed"] == []
    tool_message = result["messages"][2]
    assert (tool_message.type, tool_message.status, tool_message.name) == ("tool", "error", "close_ticket")
    assert "rule allowlist" in tool_message.content
    [denied] = agent_run.denials
    assert (denied.tool, denied.rule, denied.agent) == ("close_ticket", "allowlist", "tools")
    with pytest.raises(AssertionError, match="close_ticket"):
        agent_run.assert_no_unauthorized_writes()


@pytest.mark.agent_policy(allow=["lookup_ticket"])
def test_direct_invoke_raises_tool_exception_unless_the_tool_handles_errors(
    agent_run: Any, tools: dict[str, Any]
) -> None:
    from langchain_core.tools import ToolException

    close = tools["list"][1]
    with pytest.raises(ToolException, match="rule allowlist"):
        close.invoke({"ticket_id": 1})
    close.handle_tool_error = True
    assert "rule allowlist" in close.invoke({"ticket_id": 2})
    assert tools["closed"] == [] and [e.arguments for e in agent_run.denials] == [{"ticket_id": 1}, {"ticket_id": 2}]


def test_async_tool_node_in_a_state_graph_names_the_node(fake_llm: FakeModel, agent_run: Any) -> None:
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition

    @tool
    async def fetch_invoice(invoice_id: str) -> str:
        """Fetch an invoice."""
        return f"invoice {invoice_id}: paid"

    model = ChatOpenAI(model="gpt-4o-mini", base_url=fake_llm.openai_base_url, api_key="sk-test")  # type: ignore[arg-type]
    bound = model.bind_tools([fetch_invoice])

    async def assistant(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await bound.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("assistant", assistant)
    builder.add_node("billing_tools", ToolNode([fetch_invoice]))
    builder.add_edge(START, "assistant")
    builder.add_conditional_edges("assistant", tools_condition, {"tools": "billing_tools", END: END})
    builder.add_edge("billing_tools", "assistant")
    fake_llm.script([fake_llm.tool_call("fetch_invoice", invoice_id="in_1"), "Paid."])

    result = asyncio.run(builder.compile().ainvoke({"messages": [("user", "is in_1 paid?")]}))

    assert result["messages"][-1].content == "Paid."
    assert [(e.tool, e.agent, e.arguments) for e in agent_run.tool_calls] == [
        ("fetch_invoice", "billing_tools", {"invoice_id": "in_1"})
    ]


@pytest.mark.agent_policy(allow=["crm.contacts.list"])
def test_a_tool_over_http_under_a_service_allowlist_is_its_http_calls(
    fake_llm: FakeModel, agent_run: Any, crm: Any
) -> None:
    """An allowlist of service tools governs the HTTP calls a framework tool makes: one event each."""
    from langchain_core.tools import tool

    client = crm.client()

    @tool
    def list_contacts() -> str:
        """List CRM contacts."""
        return client.get("/crm/v3/objects/contacts").text

    @tool
    def delete_contact(contact_id: str) -> str:
        """Delete a contact."""
        return str(client.delete(f"/crm/v3/objects/contacts/{contact_id}").status_code)

    fake_llm.script(
        [fake_llm.tool_call("list_contacts"), fake_llm.tool_call("delete_contact", contact_id="1"), "Listed."]
    )
    graph = _graph(fake_llm, [list_contacts, delete_contact])

    assert graph.invoke({"messages": [("user", "contacts?")]})["messages"][-1].content == "Listed."
    # Each framework tool's HTTP call is its one event (no second event for the tool), named for the agent.
    assert [(e.tool, e.backend, e.agent) for e in agent_run.tool_calls] == [
        ("crm.contacts.list", "simulator", "tools"),
        ("crm.contacts.delete", "policy", "tools"),
    ]
    assert agent_run.budget.used.tool_calls == 2
