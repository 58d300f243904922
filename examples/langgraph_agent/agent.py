"""A CRM account-research agent built with LangGraph and langchain-openai.

Nothing in this file knows about pytest-agentops: it is an ordinary LangGraph ``StateGraph``
(a model node with tools bound, a ``ToolNode``, and the usual "call tools until the model stops
asking" edge) whose tools talk to a HubSpot CRM v3 API over HTTP with httpx. The tests hand it a
``ChatOpenAI`` (replayed from cassettes) and an httpx client for the ``crm`` simulator fixture;
in production it would get the same objects pointed at api.openai.com and api.hubapi.com.

Tools offered to the model (and the CRM endpoints, i.e. the policy's tool names, they call):

=====================  ====================================================================
``search_contacts``    ``crm.contacts.search``
``get_account``        ``crm.associations.list``, ``crm.companies.retrieve``,
                       ``crm.deals.batch_read`` (the contact's company and deals)
``add_note``           ``crm.notes.create`` (a write: a note on the contact's timeline)
``update_contact``     ``crm.contacts.update`` (a write: e.g. the lifecycle stage)
=====================  ====================================================================

A tool never raises on an HTTP error: it hands the error back to the model as its result (as
LangGraph agents usually do), so a write refused by the policy engine (HTTP 403) is something the
model reads and reports, not a crash.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

MODEL = "gpt-4o-mini"
SYSTEM = (
    "You are a sales-operations assistant with access to the company CRM. Look people up before "
    "acting, never invent record ids, and keep notes short and factual. When the CRM refuses an "
    "action, say so plainly instead of retrying."
)
CONTACT_FIELDS = ["email", "firstname", "lastname", "jobtitle", "lifecyclestage", "hs_lead_status", "message"]
COMPANY_FIELDS = ["name", "domain", "industry", "numberofemployees", "description"]
DEAL_FIELDS = ["dealname", "amount", "dealstage", "closedate", "description"]
NOTE_TO_CONTACT = 202  # HubSpot's default association type id: note -> contact


def crm_tools(crm: httpx.Client) -> list[BaseTool]:
    """The agent's tools, bound to an authenticated CRM client (base URL + token)."""

    def call(method: str, path: str, **kwargs: Any) -> Any:
        response = crm.request(method, path, **kwargs)
        if response.is_error:
            try:
                detail = response.json()
            except ValueError:
                detail = response.text
            error = detail.get("error", detail) if isinstance(detail, dict) else detail
            message = error.get("message", error) if isinstance(error, dict) else error
            return {"error": f"HTTP {response.status_code}: {message}"}
        return response.json() if response.content else {}

    @tool
    def search_contacts(query: str) -> str:
        """Search CRM contacts by name, email or company; returns up to 5 matches with their ids."""
        found = call(
            "POST", "/crm/v3/objects/contacts/search", json={"query": query, "properties": CONTACT_FIELDS, "limit": 5}
        )
        if "error" in found:
            return json.dumps(found)
        contacts = [{"id": c["id"], **_pick(c["properties"], CONTACT_FIELDS)} for c in found["results"]]
        return json.dumps({"total": found["total"], "contacts": contacts})

    @tool
    def get_account(contact_id: str) -> str:
        """The company a contact belongs to and the deals they are on (name, amount, stage, close date)."""
        companies = call("GET", f"/crm/v4/objects/contacts/{contact_id}/associations/companies")
        if "error" in companies:
            return json.dumps(companies)
        account: dict[str, Any] = {"contact_id": contact_id, "company": None, "deals": []}
        for link in companies["results"][:1]:
            company = call(
                "GET",
                f"/crm/v3/objects/companies/{link['toObjectId']}",
                params={"properties": ",".join(COMPANY_FIELDS)},
            )
            if "error" not in company:
                account["company"] = {"id": company["id"], **_pick(company["properties"], COMPANY_FIELDS)}
        deals = call("GET", f"/crm/v4/objects/contacts/{contact_id}/associations/deals")
        ids = [{"id": str(link["toObjectId"])} for link in deals.get("results", [])]
        if ids:
            batch = call("POST", "/crm/v3/objects/deals/batch/read", json={"inputs": ids, "properties": DEAL_FIELDS})
            account["deals"] = [{"id": d["id"], **_pick(d["properties"], DEAL_FIELDS)} for d in batch["results"]]
        return json.dumps(account)

    @tool
    def add_note(contact_id: str, body: str) -> str:
        """Log a note on a contact's CRM timeline."""
        note = call(
            "POST",
            "/crm/v3/objects/notes",
            json={
                "properties": {"hs_note_body": body, "hs_timestamp": _now_ms()},
                "associations": [
                    {
                        "to": {"id": contact_id},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}],
                    }
                ],
            },
        )
        return json.dumps(note if "error" in note else {"note_id": note["id"], "logged": True})

    @tool
    def update_contact(contact_id: str, properties: dict[str, str]) -> str:
        """Update CRM properties of a contact, e.g. {"lifecyclestage": "salesqualifiedlead"}."""
        updated = call("PATCH", f"/crm/v3/objects/contacts/{contact_id}", json={"properties": properties})
        return json.dumps(updated if "error" in updated else {"contact_id": updated["id"], "updated": True})

    return [search_contacts, get_account, add_note, update_contact]


def _now_ms() -> str:
    return str(int(time.time() * 1000))  # HubSpot takes epoch milliseconds for datetime properties


def _pick(properties: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: properties[name] for name in names if properties.get(name) not in (None, "")}


def build_graph(llm: BaseChatModel, crm: httpx.Client) -> CompiledStateGraph[Any, Any, Any, Any]:
    """model -> (tools -> model)* -> end: the classic tool-calling loop as an explicit StateGraph."""
    tools = crm_tools(crm)
    model = llm.bind_tools(tools, parallel_tool_calls=False)

    def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [model.invoke([SystemMessage(SYSTEM), *state["messages"]])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition, {"tools": "tools", END: END})
    graph.add_edge("tools", "agent")
    return graph.compile()


@dataclass
class Outcome:
    """What the graph did: its final answer and the tool calls the model asked for, in order."""

    answer: str
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    messages: list[BaseMessage] = field(default_factory=list)


def run(llm: BaseChatModel, crm: httpx.Client, request: str, *, max_steps: int = 12) -> Outcome:
    graph = build_graph(llm, crm)
    state = graph.invoke({"messages": [HumanMessage(request)]}, {"recursion_limit": max_steps})
    messages: list[BaseMessage] = state["messages"]
    outcome = Outcome(answer=str(messages[-1].content), messages=messages)
    for message in messages:
        if isinstance(message, AIMessage):
            outcome.tool_calls.extend((call["name"], call["args"]) for call in message.tool_calls)
        elif isinstance(message, ToolMessage):
            outcome.tool_results.append(str(message.content))
    return outcome
