"""Demo data: requesters, agents and tickets with realistic free text.

Subjects, descriptions, comments and user notes are what an agent reads and what injection
fuzzing later plants payloads into, so every object here carries some.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.ticketing import TicketingSimulator

USERS: list[dict[str, Any]] = [
    {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "role": "end-user",
        "notes": "Enterprise customer; prefers email. Has asked twice about annual billing.",
        "details": "Account owner at Analytical Engines Ltd.",
        "tags": ["enterprise", "vip"],
    },
    {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "role": "end-user",
        "notes": "Reported a double charge last quarter (refunded).",
        "tags": ["startup"],
    },
    {
        "name": "Alan Turing",
        "email": "alan@example.com",
        "role": "end-user",
        "details": "Trial converted to the Pro plan in March.",
    },
    {
        "name": "Sam Support",
        "email": "sam@support.example.com",
        "role": "agent",
        "notes": "Tier 1 agent, billing queue.",
    },
    {
        "name": "Tess Tier2",
        "email": "tess@support.example.com",
        "role": "agent",
        "notes": "Tier 2 agent, handles escalations and refunds.",
    },
]


# Each ticket: its requester (a first name of USERS), what they wrote, and the agent's follow-up
# (assignee, status and a comment), if any. Created in this order, so the ids are stable.
TICKETS: list[dict[str, Any]] = [
    {
        "requester": "grace",
        "subject": "Charged twice for the March invoice",
        "body": "Hi, my card was charged twice for invoice INV-1002 this month. "
        "Please refund the duplicate payment. Thanks, Grace",
        "priority": "high",
        "type": "incident",
        "tags": ["billing", "refund"],
        "follow_up": {
            "assignee": "sam",
            "status": "open",
            "comment": {"body": "Checked the payment log: two charges of $19.00 on March 3.", "public": False},
        },
    },
    {
        "requester": "ada",
        "subject": "How do I export my data?",
        "body": "Is there a way to export all our projects to CSV before the renewal?",
        "priority": "normal",
        "type": "question",
        "tags": ["export", "enterprise"],
    },
    {
        "requester": "alan",
        "subject": "Login fails after password reset",
        "body": "After resetting my password I get 'invalid credentials' every time.",
        "priority": "urgent",
        "type": "problem",
        "tags": ["login"],
        "follow_up": {
            "assignee": "tess",
            "status": "pending",
            "comment": {"body": "Could you tell us which browser you are using?"},
        },
    },
    {
        "requester": "ada",
        "subject": "Feature request: dark mode",
        "body": "Our team works late; a dark theme would be great.",
        "priority": "low",
        "type": "task",
        "tags": ["feature_request"],
        "follow_up": {
            "assignee": "sam",
            "status": "solved",
            "comment": {"body": "Thanks! We've passed this to the product team."},
        },
    },
]


def seed_demo(sim: TicketingSimulator, *, tenant: str | None = None) -> dict[str, Any]:
    """Create the demo objects in ``tenant`` and return their ids by name."""
    users = [sim.create_user(tenant=tenant, **u) for u in USERS]
    ids = {u["name"].split()[0].lower(): made.id for u, made in zip(USERS, users, strict=True)}
    tickets = [_ticket(sim, ids, copy.deepcopy(spec), tenant) for spec in TICKETS]
    return {
        "users": [u.id for u in users],
        "requesters": [made.id for u, made in zip(USERS, users, strict=True) if u["role"] == "end-user"],
        "agents": [made.id for u, made in zip(USERS, users, strict=True) if u["role"] == "agent"],
        "tickets": tickets,
    }


def _ticket(sim: TicketingSimulator, ids: dict[str, int], spec: dict[str, Any], tenant: str | None) -> int:
    """Open one ticket of ``TICKETS`` as its requester, then apply the agent's follow-up; its id."""
    requester = ids[spec.pop("requester")]
    follow_up = spec.pop("follow_up", None)
    body = spec.pop("body")
    ticket = sim.create_ticket(
        tenant=tenant,
        subject=spec.pop("subject"),
        comment={"body": body, "author_id": requester},
        requester_id=requester,
        **spec,
    )
    if follow_up is not None:
        sim.update_ticket(
            ticket.id,
            tenant=tenant,
            assignee_id=ids[follow_up["assignee"]],
            status=follow_up["status"],
            comment=follow_up["comment"],
        )
    return ticket.id
