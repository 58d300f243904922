"""Ticketing endpoints: Zendesk Support API v2, one module per resource.

Every handler works inside the caller's tenant (``ctx``). Status rules follow Zendesk:
a new ticket is ``new`` (``open`` once it has an assignee); an agent may move it to ``open``,
``pending``, ``hold`` or ``solved`` (solving without an assignee assigns the solving agent);
``new`` cannot be restored; ``closed`` is set only by the system
(:meth:`TicketingSimulator.close_solved_tickets`), and a closed ticket refuses every change
with 422 ``RecordInvalid`` (``details.status``).

The caller acts as the tenant's "API Agent" user (``GET /api/v2/users/me.json``), which is the
default requester, submitter and comment author.

Importing this package registers the routes.
"""

from __future__ import annotations

from . import bulk, comments, groups, macros, organizations, search, tags, ticket_fields, tickets, users
from ._common import API_USER_EMAIL, API_USER_ID, api_user, html_body, normalize_tags, role_defaults, router

__all__ = [
    "API_USER_EMAIL",
    "API_USER_ID",
    "api_user",
    "bulk",
    "comments",
    "groups",
    "html_body",
    "macros",
    "normalize_tags",
    "organizations",
    "role_defaults",
    "router",
    "search",
    "tags",
    "ticket_fields",
    "tickets",
    "users",
]
