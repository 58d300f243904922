"""A support-triage agent built with the OpenAI Agents SDK, whose tools are MCP servers.

It reaches the ticketing desk, the billing system and the CRM through their MCP endpoints
(streamable HTTP, ``MCPServerStreamableHttp``), never through hand-written HTTP clients: each
service's tools, schemas and hints come from the server. Nothing here knows about pytest-agentops;
in the tests the three URLs are the simulators' ``<base_url>/mcp`` and the model is the plugin's
fake model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from agents import Agent, ModelSettings, OpenAIResponsesModel, RunConfig, Runner
from agents.items import ToolCallItem
from agents.mcp import MCPServerStreamableHttp, create_static_tool_filter
from openai import AsyncOpenAI
from openai.types.responses import ResponseFunctionToolCall

MODEL = "gpt-4o-mini"
INSTRUCTIONS = (
    "You triage support tickets. Read the ticket and its requester, look the customer up in billing, "
    "refund a duplicate charge (once: pass an idempotency_key), log a note on the CRM contact, then "
    "answer the customer on the ticket and mark it solved. If a tool fails, escalate the ticket with an "
    "internal note instead of retrying."
)

#: the tools each server offers this agent (the servers offer many more; a model works better with few)
TOOLS: dict[str, list[str]] = {
    "ticketing": ["ticketing.tickets.retrieve", "ticketing.users.retrieve", "ticketing.tickets.update"],
    "billing": ["billing.customers.list", "billing.charges.list", "billing.refunds.create"],
    "crm": ["crm.contacts.search", "crm.notes.create"],
}


@dataclass(frozen=True)
class Service:
    """Where one service's MCP endpoint is, and the token to call it with."""

    url: str
    token: str


@dataclass
class Outcome:
    answer: str
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _server(name: str, service: Service) -> MCPServerStreamableHttp:
    return MCPServerStreamableHttp(
        params={"url": service.url, "headers": {"Authorization": f"Bearer {service.token}"}, "timeout": 10},
        name=name,
        cache_tools_list=True,
        tool_filter=create_static_tool_filter(allowed_tool_names=TOOLS[name]),
    )


async def triage(ticket_id: int, services: Mapping[str, Service], llm: AsyncOpenAI) -> Outcome:
    """Run the agent on one ticket; its answer and the tool calls it made, in order."""
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(_server(name, services[name])) for name in TOOLS]
        agent = Agent(
            name="support triage",
            instructions=INSTRUCTIONS,
            mcp_servers=servers,
            model=OpenAIResponsesModel(model=MODEL, openai_client=llm),
            model_settings=ModelSettings(temperature=0),
        )
        result = await Runner.run(
            agent, f"Triage ticket #{ticket_id}.", max_turns=12, run_config=RunConfig(tracing_disabled=True)
        )
    calls = [
        (item.raw_item.name, json.loads(item.raw_item.arguments or "{}"))
        for item in result.new_items
        if isinstance(item, ToolCallItem) and isinstance(item.raw_item, ResponseFunctionToolCall)
    ]
    return Outcome(str(result.final_output), calls)
