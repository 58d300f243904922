"""The model this example's tests use: the plugin's fake model, answering like a competent one.

``triage_turn`` reads the conversation so far (the ticket request and the MCP tool results the
Agents SDK handed back) and picks the next tool call or the final answer, so the tests need no
API key and no cassette: ``fake_llm.respond(triage_turn)``. It only sees what a real model would:
the tool results' text, which is the service's JSON (or its error body, for a tool error).
"""

from __future__ import annotations

import json
import re
from typing import Any

from pytest_agentops.backends.model import Conversation, FakeModel

NOTE_TO_CONTACT = 202  # HubSpot's association type id: note -> contact


def _results(conversation: Conversation) -> dict[str, Any]:
    """The latest result of each tool, parsed (the text of an error result is the service's error body)."""
    out: dict[str, Any] = {}
    for message in conversation.tool_results:
        try:
            out[message.name or "?"] = json.loads(message.text)
        except ValueError:
            out[message.name or "?"] = {"error": message.text}
    return out


def _call(conversation: Conversation, name: str, **arguments: Any) -> Any:
    return FakeModel.tool_call(name, arguments, call_id=f"call_{len(conversation.tool_results) + 1}")


def _duplicate(charges: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newer of two unrefunded charges with the same amount and description."""
    seen: dict[tuple[Any, Any], dict[str, Any]] = {}
    for charge in sorted(charges, key=lambda c: (c["created"], c["id"])):
        key = (charge["amount"], charge.get("description"))
        if key in seen and not charge.get("refunded"):
            return charge
        seen[key] = charge
    return None


def _failed(result: Any) -> str | None:
    if isinstance(result, dict) and ("error" in result or result.get("status") == "error"):
        error = result.get("error", result)
        return str(error.get("message", error)) if isinstance(error, dict) else str(error)
    return None


def triage_turn(conversation: Conversation) -> Any:
    ticket_id = int(re.search(r"#(\d+)", conversation.last_user_text or "#0").group(1))  # type: ignore[union-attr]
    done = _results(conversation)
    if not done:
        return _call(conversation, "ticketing.tickets.retrieve", ticket_id=str(ticket_id))
    ticket = done["ticketing.tickets.retrieve"]["ticket"]
    if "ticketing.users.retrieve" not in done:
        return _call(conversation, "ticketing.users.retrieve", user_id=str(ticket["requester_id"]))
    email = done["ticketing.users.retrieve"]["user"]["email"]
    if "billing.customers.list" not in done:
        return _call(conversation, "billing.customers.list", email=email)
    customer = done["billing.customers.list"]["data"][0]
    if "billing.charges.list" not in done:
        return _call(conversation, "billing.charges.list", customer=customer["id"])
    charge = _duplicate(done["billing.charges.list"]["data"])
    if "ticketing.tickets.update" in done:
        update = done["ticketing.tickets.update"]["ticket"]
        return f"Ticket #{ticket_id} is {update['status']}."
    if charge is None:
        return _answer(conversation, ticket_id, "pending", "I found no duplicate charge on your account.")
    if "billing.refunds.create" not in done:
        key = f"ticket-{ticket_id}-refund-{charge['id']}"
        return _call(conversation, "billing.refunds.create", charge=charge["id"], idempotency_key=key)
    refused = _failed(done["billing.refunds.create"])
    if refused is not None:
        return _escalate(conversation, ticket_id, f"Refund of {charge['id']} failed: {refused}")
    amount = f"${charge['amount'] / 100:.2f}"
    if "crm.contacts.search" not in done:
        return _call(conversation, "crm.contacts.search", query=email)
    if "crm.notes.create" not in done:
        contact = done["crm.contacts.search"]["results"][0]["id"]
        return _call(
            conversation,
            "crm.notes.create",
            properties={
                "hs_note_body": f"Refunded duplicate charge {charge['id']} ({amount}), ticket #{ticket_id}.",
                "hs_timestamp": ticket["updated_at"],
            },
            associations=[
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}],
                }
            ],
        )
    return _answer(conversation, ticket_id, "solved", f"We refunded the duplicate charge of {amount}.")


def _answer(conversation: Conversation, ticket_id: int, status: str, text: str) -> Any:
    comment = {"body": text, "public": True}
    return _call(
        conversation,
        "ticketing.tickets.update",
        ticket_id=str(ticket_id),
        ticket={"status": status, "comment": comment},
    )


def _escalate(conversation: Conversation, ticket_id: int, why: str) -> Any:
    ticket = {"status": "open", "priority": "high", "comment": {"body": f"Escalated: {why}", "public": False}}
    return _call(conversation, "ticketing.tickets.update", ticket_id=str(ticket_id), ticket=ticket)
