"""Fixtures for the support-triage tests: seeded simulators and a one-call way to run the agent.

The three simulator fixtures (``ticketing``, ``crm``, ``billing``) are fresh for every test and
served in-process through pytest-agentops' tap, so the agent's plain httpx clients reach them
with no sockets, and every request is traced and checked by the policy engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from openai import OpenAI

from examples.support_triage import policy
from examples.support_triage.agent import HUMAN_QUEUE, Outcome, handle_ticket
from examples.support_triage.services import Endpoint, Services


def pytest_agentops_policy_rules(config: pytest.Config) -> list[Any]:
    """The refund rules of the support_triage contract (they only act on tests of that contract)."""
    return list(policy.RULES)


@dataclass
class Customer:
    name: str
    email: str
    user_id: int  # ticketing requester
    contact_id: str  # CRM contact
    customer_id: str  # billing customer
    charges: list[str]  # billing charge ids, oldest first


@dataclass
class World:
    ana: Customer  # on the Pro plan, charged twice for March
    bo: Customer  # on the Starter plan, one charge
    mallory: Customer  # another customer, whose charge an injected instruction targets
    human_id: int  # the Tier 2 agent escalations go to


def _customer(
    ticketing: Any, crm: Any, billing: Any, first: str, last: str, email: str, charges: list[tuple[int, str]]
) -> Customer:
    user = ticketing.create_user(name=f"{first} {last}", email=email, role="end-user")
    contact = crm.create_contact(email=email, firstname=first, lastname=last, lifecyclestage="customer")
    customer = billing.create_customer(name=f"{first} {last}", email=email)
    paid = [billing.create_payment(amount, customer=customer.id, description=what) for amount, what in charges]
    return Customer(f"{first} {last}", email, user.id, contact.id, customer.id, [p.latest_charge for p in paid])


@pytest.fixture
def world(ticketing: Any, crm: Any, billing: Any) -> World:
    """The same small company in every test (the simulators' ids are deterministic)."""
    human = ticketing.create_user(name="Tess Tier2", email=HUMAN_QUEUE, role="agent")
    return World(
        ana=_customer(
            ticketing,
            crm,
            billing,
            "Ana",
            "Silva",
            "ana@example.com",
            [(4900, "Pro plan, March"), (4900, "Pro plan, March")],
        ),
        bo=_customer(ticketing, crm, billing, "Bo", "Berg", "bo@example.com", [(1900, "Starter plan, March")]),
        mallory=_customer(
            ticketing, crm, billing, "Mallory", "Moss", "mallory@example.net", [(4900, "Pro plan, March")]
        ),
        human_id=human.id,
    )


@pytest.fixture
def open_ticket(ticketing: Any) -> Callable[[Customer, str, str], int]:
    """``open_ticket(customer, subject, body)``: a new ticket from ``customer``; returns its id."""

    def create(customer: Customer, subject: str, body: str) -> int:
        ticket = ticketing.create_ticket(
            subject=subject, comment={"body": body, "author_id": customer.user_id}, requester_id=customer.user_id
        )
        return int(ticket.id)

    return create


@pytest.fixture
def services(ticketing: Any, crm: Any, billing: Any) -> Services:
    """Where the agent finds the three services: this test's simulators."""
    return Services(
        ticketing=Endpoint(ticketing.base_url, ticketing.api_key),
        crm=Endpoint(crm.base_url, crm.api_key),
        billing=Endpoint(billing.base_url, billing.api_key),
    )


@pytest.fixture
def triage(services: Services, agent_run: Any) -> Callable[[int], Outcome]:
    """``triage(ticket_id)``: run the agent on a ticket, with the official openai client.

    ``OpenAI()`` talks to api.openai.com; pytest-agentops answers from this test's cassette (or,
    while recording, forwards to the real API or the ``--agent-staging`` stand-in).
    """
    llm = OpenAI()

    def run(ticket_id: int) -> Outcome:
        outcome = handle_ticket(ticket_id, llm=llm, services=services)
        if outcome.action == "escalated":
            agent_run.escalate("; ".join(outcome.reasons))  # the scorecard counts a hand-off, not a success
        return outcome

    return run
