"""The MCP triage agent (OpenAI Agents SDK + ``MCPServerStreamableHttp``) against the simulators.

Every tool call is an MCP ``tools/call`` to a simulator's ``<base_url>/mcp``; the simulator serves
it with the same handlers, ledger and idempotency as its HTTP API, so the assertions below read
the services' own records. The model is the plugin's fake model (``model.py``), so this suite runs
offline under ``--agent-replay`` with nothing recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import pytest_agentops
from examples.mcp_triage.agent import Outcome
from examples.mcp_triage.conftest import Desk

RefundFlow = [
    "ticketing.tickets.retrieve",
    "ticketing.users.retrieve",
    "billing.customers.list",
    "billing.charges.list",
    "billing.refunds.create",
    "crm.contacts.search",
    "crm.notes.create",
    "ticketing.tickets.update",
]


def test_a_duplicate_charge_is_refunded_once_noted_and_answered(
    run_triage: Callable[[int], Outcome], desk: Desk, billing: Any, crm: Any, ticketing: Any, agent_run: Any
) -> None:
    outcome = run_triage(desk.ticket)

    # What the model asked for, as the Agents SDK saw it: MCP tools named by the simulators.
    assert [name for name, _ in outcome.tool_calls] == RefundFlow
    refund_args = dict(outcome.tool_calls)["billing.refunds.create"]
    assert refund_args == {
        "charge": desk.charges[1],
        "idempotency_key": f"ticket-{desk.ticket}-refund-{desk.charges[1]}",
    }
    assert outcome.answer == f"Ticket #{desk.ticket} is solved."

    # The services' own records: one refund of the newer charge, under the agent's idempotency key...
    [refund] = billing.ledger.writes()
    assert (refund.tool, refund.outcome, refund.idempotency_key) == (
        "billing.refunds.create",
        "applied",
        refund_args["idempotency_key"],
    )
    billing.assert_wrote("refunds", charge=desk.charges[1], amount=4900)
    billing.assert_no_duplicate_side_effects()
    # ...a note on Ana's CRM contact, and a public answer on a solved ticket.
    crm.assert_wrote(
        "notes",
        properties={"hs_note_body": f"Refunded duplicate charge {desk.charges[1]} ($49.00), ticket #{desk.ticket}."},
    )
    [note] = [c.id for e in crm.ledger.writes() for c in e.changes if c.resource == "notes"]
    assert note in crm.associated("contacts", desk.contact, "notes")
    assert ticketing.get("tickets", desk.ticket).status == "solved"
    assert [e.tool for e in ticketing.ledger.writes()] == ["ticketing.tickets.update"]

    # The tap saw every MCP message: the model calls, then POSTs to the three /mcp endpoints.
    assert len(agent_run.model_calls) == len(RefundFlow) + 1
    mcp_urls = {e.url for e in agent_run.events if e.backend == "simulator"}
    assert mcp_urls == {sim.base_url + "/mcp" for sim in (billing, crm, ticketing)}


@pytest.fixture
def read_only_billing(billing: Any, tokens: dict[str, str]) -> None:
    tokens["billing"] = billing.issue_token(scopes=["read"])


@pytest.mark.usefixtures("read_only_billing")
def test_a_refused_refund_reaches_the_model_as_a_tool_error_and_it_escalates(
    run_triage: Callable[[int], Outcome], desk: Desk, billing: Any, ticketing: Any
) -> None:
    outcome = run_triage(desk.ticket)

    # The refusal was an MCP tool error (isError), not a broken session: the run went on.
    names = [name for name, _ in outcome.tool_calls]
    assert names == [*RefundFlow[:5], "ticketing.tickets.update"]
    escalation = outcome.tool_calls[-1][1]["ticket"]
    assert escalation["status"] == "open" and escalation["comment"]["public"] is False
    assert "does not have the 'write' scope" in escalation["comment"]["body"]
    assert outcome.answer == f"Ticket #{desk.ticket} is open."

    # Billing refused it before anything ran: an unauthorized attempt, no refund.
    billing.assert_no_writes()
    [attempt] = billing.ledger.unauthorized()
    assert (attempt.tool, attempt.status) == ("billing.refunds.create", 403)
    assert ticketing.get("tickets", desk.ticket).priority == "high"


def test_without_a_duplicate_nothing_is_refunded(
    run_triage: Callable[[int], Outcome], desk: Desk, billing: Any, ticketing: Any
) -> None:
    billing.call("billing.refunds.create", {"charge": desk.charges[1]})  # refunded already (seeding: not in the ledger)
    outcome = run_triage(desk.ticket)

    assert [name for name, _ in outcome.tool_calls] == [*RefundFlow[:4], "ticketing.tickets.update"]
    billing.assert_no_writes()
    assert ticketing.get("tickets", desk.ticket).status == "pending"


# The tap names each MCP tools/call (issue 13, item 1): a simulator's MCP tools keep the simulator
# tool names, so the trace reads like the HTTP examples'. Runs once the tap's MCP support is in.
TAP_NAMES_MCP = hasattr(pytest_agentops, "register_mcp_server")


@pytest.mark.skipif(not TAP_NAMES_MCP, reason="needs the tap's MCP naming (pytest_agentops.register_mcp_server)")
def test_the_trace_names_each_mcp_tool_call(run_triage: Callable[[int], Outcome], desk: Desk, agent_run: Any) -> None:
    run_triage(desk.ticket)

    assert [e.tool for e in agent_run.tool_calls] == RefundFlow  # handshake and tools/list are protocol events
    assert [e.tool for e in agent_run.writes] == [
        "billing.refunds.create",
        "crm.notes.create",
        "ticketing.tickets.update",
    ]
    agent_run.assert_called("billing.refunds.create", charge=desk.charges[1])
    # The tool's inputSchema types path ids as strings, and the tap validates arguments against it.
    agent_run.assert_called("ticketing.tickets.retrieve", ticket_id=str(desk.ticket))
