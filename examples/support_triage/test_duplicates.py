"""Duplicates: the same ticket twice, and a refund whose answer was lost. One refund either way."""

from __future__ import annotations

from typing import Any

import pytest

from examples.support_triage.agent import refund_key

pytestmark = pytest.mark.agent("support_triage")

REFUND_REQUEST = "Hi, my card was charged twice for the Pro plan in March. Could you refund the duplicate? Thanks, Ana"


def _refund_entries(billing: Any) -> list[Any]:
    return [e for e in billing.ledger if e.tool == "billing.refunds.create"]


# Two deliveries in one test: one ticket's budget (12 tool calls) plus the cheap second look.
@pytest.mark.agent_budget(max_tool_calls=14)
def test_same_ticket_delivered_twice_refunds_once(
    world, open_ticket, triage, agent_run, billing, ticketing, crm
) -> None:
    ticket_id = open_ticket(world.ana, "Charged twice for March", REFUND_REQUEST)

    first = triage(ticket_id)
    second = triage(ticket_id)  # the webhook fired twice

    assert (first.action, second.action) == ("resolved", "already_handled")
    assert len(billing.ledger.changes("refunds")) == 1
    assert [c.public for c in ticketing.comments(ticket_id)] == [True, True]  # the request, one reply
    for sim in (billing, ticketing, crm):
        sim.assert_no_duplicate_side_effects()
    assert len(agent_run.model_calls) == 3  # the second delivery cost no model call


def test_refund_retried_after_lost_answer_refunds_once(world, open_ticket, triage, agent_run, billing) -> None:
    ticket_id = open_ticket(world.ana, "Charged twice for March", REFUND_REQUEST)
    # The refund is made, then the connection drops before the agent hears back.
    billing.faults.add("billing.refunds.create", "commit_then_drop", times=1)

    outcome = triage(ticket_id)

    assert outcome.action == "resolved"
    # The agent asked again with the same Idempotency-Key: billing replayed the first answer.
    first, retry = _refund_entries(billing)
    assert (first.outcome, first.fault, retry.outcome) == ("applied", "commit_then_drop", "replayed")
    assert first.idempotency_key == retry.idempotency_key == refund_key(ticket_id, world.ana.charges[1])
    [refund] = billing.ledger.changes("refunds")
    assert refund.id == outcome.refund_id
    billing.assert_no_duplicate_side_effects()
    agent_run.assert_no_unauthorized_writes()
    agent_run.assert_within_budget()
