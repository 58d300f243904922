"""Ticket fields (read): the system fields every Zendesk account has, then the custom fields
the test seeds (``seed({"ticket_fields": [{"type": "text", "title": "Order number"}]})``), whose
ids are what ``custom_fields: [{"id", "value"}]`` on a ticket refer to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..account import FieldOption, TicketField, TicketFieldEnvelope, TicketFieldList
from ..params import ListParams, ShowParams
from ._common import int_id, paged, router

#: (id, type, title, options) of the system fields, in Zendesk's order
_SYSTEM: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (10_000_001, "subject", "Subject", ()),
    (10_000_002, "description", "Description", ()),
    (10_000_003, "status", "Status", ("open", "pending", "hold", "solved")),
    (10_000_004, "tickettype", "Type", ("question", "incident", "problem", "task")),
    (10_000_005, "priority", "Priority", ("low", "normal", "high", "urgent")),
    (10_000_006, "group", "Group", ()),
    (10_000_007, "assignee", "Assignee", ()),
)
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def system_fields(base_url: str) -> list[TicketField]:
    out = []
    for position, (ident, kind, title, options) in enumerate(_SYSTEM, start=1):
        out.append(
            TicketField(
                id=ident,
                url=f"{base_url}/api/v2/ticket_fields/{ident}.json",
                type=kind,  # type: ignore[arg-type]
                title=title,
                raw_title=title,
                title_in_portal=title,
                raw_title_in_portal=title,
                position=position,
                required=kind == "subject",
                visible_in_portal=kind in ("subject", "description"),
                editable_in_portal=kind in ("subject", "description"),
                required_in_portal=kind in ("subject", "description"),
                removable=False,
                system_field_options=[FieldOption(name=o.capitalize(), value=o) for o in options] or None,
                created_at=_EPOCH,
                updated_at=_EPOCH,
            )
        )
    return out


def all_fields(ctx: Context) -> list[TicketField]:
    custom = sorted(ctx.all("ticket_fields"), key=lambda f: (f.position, f.id))
    return [*system_fields(ctx.sim.base_url), *custom]


@router.get(
    "/api/v2/ticket_fields.json",
    tool="ticketing.ticket_fields.list",
    params=ListParams,
    response=TicketFieldList,
    errors=("pagination_invalid",),
)
def list_ticket_fields(ctx: Context, p: ListParams) -> Any:
    """The system fields, then the custom ones by position."""
    return paged(ctx, all_fields(ctx), p, "ticket_fields", "/api/v2/ticket_fields.json")


@router.get(
    "/api/v2/ticket_fields/{ticket_field_id}.json",
    tool="ticketing.ticket_fields.retrieve",
    params=ShowParams,
    response=TicketFieldEnvelope,
    errors=("resource_missing",),
)
def show_ticket_field(ctx: Context, p: ShowParams) -> Any:
    """Show a ticket field."""
    raw = ctx.path["ticket_field_id"]
    ident = int_id(raw)
    found = next((f for f in all_fields(ctx) if f.id == ident), None)
    if found is None:
        raise SimError("resource_missing", f"No such ticket field: {raw}", param="ticket_field_id")
    return {"ticket_field": found}
