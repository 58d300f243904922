"""The async Anthropic triage agent under test: streamed model turns replayed from cassettes,
ticketing served by the simulator, run on an event loop with anyio's pytest plugin.

Model traffic comes from ``cassettes/examples/async_anthropic/test_triage_async/<test>.json``
(stored as SSE event lists and replayed as a stream); the ticketing calls go to a fresh
Zendesk-like simulator (``ticketing`` fixture) through its async httpx client in every mode.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from anthropic import AsyncAnthropic

from examples.async_anthropic.agent import MODEL, triage

pytestmark = pytest.mark.anyio

GRACE = {"name": "Grace Hopper", "email": "grace@example.com"}
ALAN = {"name": "Alan Turing", "email": "alan@example.com"}
ADA = {"name": "Ada Lovelace", "email": "ada@example.com"}


def new_ticket(ticketing: Any, subject: str, body: str, requester: dict[str, str]) -> int:
    """An untriaged ticket, created directly (not in the ledger, so the ledger holds only the agent's writes)."""
    ticket_id: int = ticketing.create_ticket(subject=subject, comment={"body": body}, requester=requester).id
    return ticket_id


async def test_triage_streams_and_updates_ticket(ticketing: Any, agent_run: Any) -> None:
    ticket_id = new_ticket(
        ticketing,
        "Charged twice this month",
        "My card was charged twice for the March invoice. Please refund one of them.",
        GRACE,
    )
    shown: list[str] = []

    async with AsyncAnthropic() as client, ticketing.async_client() as http:  # api.anthropic.com: the cassette
        result = await triage(client, http, ticket_id, on_text=shown.append)

    # Streaming: text arrived delta by delta (one word each here), across the three turns.
    assert shown == result.deltas and len(shown) > 20
    assert "".join(shown).endswith(result.answer)
    assert result.answer == (
        f"Ticket #{ticket_id} is triaged: high priority, tagged billing, refund, with an internal note for the team."
    )
    assert [name for name, _ in result.tool_calls] == ["get_ticket", "triage_ticket"]
    assert result.tool_calls[1][1]["priority"] == "high"
    assert result.stop_reasons == ["tool_use", "tool_use", "end_turn"]

    # The trace parsed the same streams: provider, model, tool_use blocks, stop reasons, text.
    calls = agent_run.model_calls
    assert [(c.provider, c.model, c.streamed) for c in calls] == [("anthropic.messages", MODEL, True)] * 3
    assert [[t.name for t in c.tool_calls] for c in calls] == [["get_ticket"], ["triage_ticket"], []]
    assert [c.stop_reason for c in calls] == result.stop_reasons
    assert calls[-1].text == result.answer
    # Token usage from the trace (message_start + cumulative message_delta) equals what the SDK
    # reported, and is priced from the model's price table entry.
    assert (agent_run.usage.input_tokens, agent_run.usage.output_tokens) == (result.input_tokens, result.output_tokens)
    assert agent_run.usage.cost_usd == pytest.approx(result.input_tokens * 1e-6 + result.output_tokens * 5e-6)

    # The tools' HTTP requests (get_ticket's two reads ran concurrently), then the one write.
    assert sorted(e.tool for e in agent_run.tool_calls[:2]) == ["ticketing.comments.list", "ticketing.tickets.retrieve"]
    assert [e.tool for e in agent_run.writes] == ["ticketing.tickets.update"]
    agent_run.assert_no_unauthorized_writes()

    # The ticket itself: triaged, with a private note for the team.
    ticket = ticketing.get("tickets", ticket_id)
    assert (ticket.priority, ticket.tags) == ("high", ["billing", "refund"])
    note = ticketing.comments(ticket_id)[-1]
    assert note.public is False and "refund the duplicate charge" in note.body
    ticketing.assert_wrote("tickets", id=ticket_id, priority="high")
    ticketing.assert_no_duplicate_side_effects()


async def test_two_tickets_triaged_concurrently(ticketing: Any, agent_run: Any) -> None:
    login = new_ticket(
        ticketing,
        "Can't log in after password reset",
        "I reset my password and now I am locked out of my account.",
        ALAN,
    )
    outage = new_ticket(
        ticketing, "Dashboard is down", "The dashboard has been down for an hour; every page shows error 500.", ADA
    )

    async with AsyncAnthropic() as client, ticketing.async_client() as http:
        # Two agent runs interleaved on one event loop, sharing one SDK client and one HTTP client.
        first, second = await asyncio.gather(triage(client, http, login), triage(client, http, outage))

    assert first.answer.startswith(f"Ticket #{login} is triaged: normal priority, tagged account_access")
    assert second.answer.startswith(f"Ticket #{outage} is triaged: urgent priority, tagged outage")
    assert len(agent_run.model_calls) == 6 and all(c.streamed for c in agent_run.model_calls)
    assert agent_run.usage.total_tokens == sum(r.input_tokens + r.output_tokens for r in (first, second))
    agent_run.assert_tool_calls(max=6, tool="ticketing.*")
    agent_run.assert_called("ticketing.tickets.update")

    assert ticketing.get("tickets", login).priority == "normal"
    assert ticketing.get("tickets", outage).tags == ["outage"]
    assert sorted(str(e.path) for e in ticketing.ledger.writes()) == sorted(
        [f"/api/v2/tickets/{login}.json", f"/api/v2/tickets/{outage}.json"]
    )
    ticketing.assert_no_duplicate_side_effects()


@pytest.mark.agent_policy(read_only=True)
async def test_read_only_policy_blocks_the_update(ticketing: Any, agent_run: Any) -> None:
    ticket_id = new_ticket(ticketing, "Refund please", "I was charged twice, please refund me.", GRACE)

    async with AsyncAnthropic() as client, ticketing.async_client() as http:
        result = await triage(client, http, ticket_id)

    # The model asked for the write; the policy engine refused it (403) before the simulator saw it,
    # the agent returned that to the model as an is_error tool_result, and the model reported it.
    assert [name for name, _ in result.tool_calls] == ["get_ticket", "triage_ticket"]
    assert "could not update" in result.answer and "read-only" in result.answer
    [denial] = agent_run.denials
    assert (denial.tool, denial.rule, denial.status) == ("ticketing.tickets.update", "read_only", 403)

    ticketing.assert_no_writes()
    ticket = ticketing.get("tickets", ticket_id)
    assert ticket.priority is None and ticket.tags == []
    assert [c.public for c in ticketing.comments(ticket_id)] == [True]  # only the customer's message
