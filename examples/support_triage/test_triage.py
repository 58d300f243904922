"""The support-triage agent on everyday tickets, replayed from cassettes: no network, no API key.

Run from the repo root: ``python -m pytest examples --agent-replay``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from examples.support_triage.agent import CLASSIFY_MODEL, DRAFT_MODEL, refund_key

# The agent contract [tool.agentops.agents.support_triage] in pyproject.toml: pinned models, budgets,
# the tool allowlist and "no write before validate_step", enforced on every request of these tests.
pytestmark = pytest.mark.agent("support_triage")

REFUND_REQUEST = "Hi, my card was charged twice for the Pro plan in March. Could you refund the duplicate? Thanks, Ana"


def _models(agent_run: Any) -> list[str | None]:
    return [call.model for call in agent_run.model_calls]


def _seq(agent_run: Any, tool: str) -> int:
    return next(e.seq for e in agent_run.events if e.tool == tool and not e.denied)


def test_refund_request(world, open_ticket, triage, agent_run, billing, ticketing, crm, caplog) -> None:
    ticket_id = open_ticket(world.ana, "Charged twice for March", REFUND_REQUEST)
    duplicate = world.ana.charges[1]  # the second of two identical charges

    with caplog.at_level(logging.INFO, logger="support_triage"):
        outcome = triage(ticket_id)

    assert (outcome.action, outcome.category) == ("resolved", "refund")
    # Billing: one refund, of the duplicate charge, in full, keyed to the ticket.
    billing.assert_wrote("refunds", id=outcome.refund_id, charge=duplicate, amount=4900, reason="duplicate")
    [entry] = [e for e in billing.ledger.writes() if e.tool == "billing.refunds.create"]
    assert entry.idempotency_key == refund_key(ticket_id, duplicate)
    assert billing.get("charges", world.ana.charges[0]).amount_refunded == 0  # the original stays paid
    # Ticketing: solved, with the drafted reply as the public answer. CRM: a note on the contact.
    ticketing.assert_wrote("tickets", id=ticket_id, status="solved")
    reply = ticketing.comments(ticket_id)[-1]
    assert reply.public and reply.body == outcome.reply and "$49.00" in reply.body
    crm.assert_wrote(
        "notes",
        properties={"hs_note_body": f"Support agent resolved ticket #{ticket_id} (refund); refund {outcome.refund_id}"},
    )

    # The trace: small model to classify, larger one to draft (a tool-call turn, then the reply) ...
    assert _models(agent_run) == [CLASSIFY_MODEL, DRAFT_MODEL, DRAFT_MODEL]
    [proposal] = agent_run.model_calls[1].tool_calls
    assert (proposal.name, proposal.arguments) == (
        "propose_refund",
        {"charge": duplicate, "amount": 4900, "reason": "duplicate"},
    )
    # ... every write allowed, the refund sent as proposed, and only after validate_step ran.
    agent_run.assert_no_unauthorized_writes()
    agent_run.assert_called("billing.refunds.create", charge=duplicate, amount="4900")
    assert _seq(agent_run, "validate_step") < min(e.seq for e in agent_run.writes)
    # Budgets (the contract's, read from the trace): tool calls, tokens, cost.
    agent_run.assert_within_budget()
    agent_run.assert_tool_calls(max=10)
    assert agent_run.usage.cost_usd < 0.01
    # The log step: one JSON line of decisions, no prompt, no email address.
    [line] = [r.getMessage() for r in caplog.records if r.name == "support_triage"]
    assert json.loads(line) == {
        "ticket": ticket_id,
        "action": "resolved",
        "category": "refund",
        "sentiment": "calm",
        "refund": outcome.refund_id,
        "reasons": [],
    }


def test_password_reset(world, open_ticket, triage, agent_run, billing, ticketing) -> None:
    ticket_id = open_ticket(
        world.bo,
        "Locked out of my account",
        "I asked for a password reset but the link says it has expired. I still cannot log in.",
    )

    outcome = triage(ticket_id)

    assert (outcome.action, outcome.category) == ("resolved", "password_reset")
    assert "https://app.example.com/reset" in outcome.reply
    ticketing.assert_wrote("tickets", id=ticket_id, status="solved")
    # Nothing to do with money: billing is never written, not even read.
    billing.assert_no_writes()
    agent_run.assert_not_called("billing.*")
    # The draft model searched the help centre itself; the search ran as the in-process tool.
    agent_run.assert_called("kb_search", query="password reset link expired")
    searches = [e for e in agent_run.events if e.tool == "kb_search"]
    assert [e.requested_by is not None for e in searches] == [False, True]  # retrieve's, then the model's
    agent_run.assert_no_unauthorized_writes()
    agent_run.assert_within_budget()


def test_angry_customer_is_escalated_to_a_human(world, open_ticket, triage, agent_run, billing, ticketing) -> None:
    ticket_id = open_ticket(
        world.ana,
        "Charged TWICE",
        "This is UNACCEPTABLE. You charged me TWICE and nobody answers my emails. "
        "I want my money back today or I am calling my lawyer.",
    )

    outcome = triage(ticket_id)

    assert (outcome.action, outcome.sentiment) == ("escalated", "angry")
    # No refund, although one was demanded: a human decides. No reply was even drafted.
    billing.assert_no_writes()
    agent_run.assert_not_called("billing.refunds.create")
    assert _models(agent_run) == [CLASSIFY_MODEL]
    # The ticket is with the Tier 2 human, urgent, tagged, with an internal note only.
    ticket = ticketing.get("tickets", ticket_id)
    assert (ticket.assignee_id, ticket.priority, ticket.status) == (world.human_id, "urgent", "open")
    assert "escalated" in ticket.tags
    note = ticketing.comments(ticket_id)[-1]
    assert not note.public and "angry customer" in note.body
    assert agent_run.escalated  # counted as a hand-off in the scorecard
    agent_run.assert_no_unauthorized_writes()
