"""Fixtures for the MCP triage example: seeded simulators, their MCP endpoints, the fake model.

The ``ticketing``, ``billing`` and ``crm`` fixtures are fresh simulators per test, served
in-process through pytest-agentops' tap: ``<base_url>/mcp`` is each one's MCP server, so the
Agents SDK's MCP client (httpx2 underneath) reaches them with no socket, and every MCP message
passes the tap's trace and policy gate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from openai import AsyncOpenAI

from examples.mcp_triage.agent import Outcome, Service, triage
from examples.mcp_triage.model import triage_turn


@dataclass
class Desk:
    ticket: int  # Ana's ticket: "charged twice"
    user: int  # Ana in the ticketing desk
    contact: str  # Ana in the CRM
    customer: str  # Ana in billing
    charges: list[str]  # her two identical charges, oldest first


@pytest.fixture
def desk(ticketing: Any, crm: Any, billing: Any) -> Desk:
    user = ticketing.create_user(name="Ana Silva", email="ana@example.com", role="end-user")
    contact = crm.create_contact(email="ana@example.com", firstname="Ana", lastname="Silva")
    customer = billing.create_customer(name="Ana Silva", email="ana@example.com")
    paid = [billing.create_payment(4900, customer=customer.id, description="Pro plan, March") for _ in "12"]
    ticket = ticketing.create_ticket(
        subject="Charged twice",
        comment={"body": "I was charged twice for March.", "author_id": user.id},
        requester_id=user.id,
    )
    return Desk(int(ticket.id), user.id, contact.id, customer.id, [p.latest_charge for p in paid])


@pytest.fixture
def tokens(ticketing: Any, crm: Any, billing: Any) -> dict[str, str]:
    """The token the agent calls each service with (a test may swap one for a weaker token)."""
    return {"ticketing": ticketing.api_key, "billing": billing.api_key, "crm": crm.api_key}


@pytest.fixture
def run_triage(
    ticketing: Any, crm: Any, billing: Any, tokens: dict[str, str], fake_llm: Any
) -> Callable[[int], Outcome]:
    """``run_triage(ticket_id)``: the agent on one ticket, against the simulators' MCP servers."""
    fake_llm.respond(triage_turn)
    llm = AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="sk-fake-model-000000")
    sims = {"ticketing": ticketing, "billing": billing, "crm": crm}
    services = {name: Service(sim.base_url + "/mcp", tokens[name]) for name, sim in sims.items()}

    def run(ticket_id: int) -> Outcome:
        return anyio.run(triage, ticket_id, services, llm)

    return run
