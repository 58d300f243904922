"""A ticket's tags: list, set, add, remove."""

from __future__ import annotations

from typing import Any

from simulators.core.simulator import Context, Reply

from ..models import TagList
from ..params import ListParams, TagsParams
from ._common import (
    TICKET_404,
    closed_guard,
    normalize_tags,
    now_dt,
    require_ticket,
    router,
)


def _retag(ctx: Context, tags: list[str]) -> Any:
    ticket = require_ticket(ctx)
    closed_guard(ticket)
    if tags != ticket.tags:
        ctx.update("tickets", ticket.model_copy(update={"tags": tags, "updated_at": now_dt(ctx)}))
    return {"tags": tags}


@router.get(
    "/api/v2/tickets/{ticket_id}/tags.json",
    tool="ticketing.tags.list",
    params=ListParams,
    response=TagList,
    errors=TICKET_404,
)
def list_tags(ctx: Context, p: ListParams) -> Any:
    """A ticket's tags (all of them: paging parameters are accepted and ignored)."""
    return {"tags": require_ticket(ctx).tags}


@router.post(
    "/api/v2/tickets/{ticket_id}/tags.json",
    tool="ticketing.tags.set",
    params=TagsParams,
    response=TagList,
    status=201,
    errors=("resource_missing", "ticket_closed", "parameter_missing"),
)
def set_tags(ctx: Context, p: TagsParams) -> Any:
    """Replace a ticket's tags."""
    return Reply(_retag(ctx, normalize_tags(p.tags)), status=201)


@router.put(
    "/api/v2/tickets/{ticket_id}/tags.json",
    tool="ticketing.tags.update",
    params=TagsParams,
    response=TagList,
    errors=("resource_missing", "ticket_closed", "parameter_missing"),
)
def add_tags(ctx: Context, p: TagsParams) -> Any:
    """Add tags to a ticket (existing tags stay)."""
    return _retag(ctx, normalize_tags([*require_ticket(ctx).tags, *p.tags]))


@router.delete(
    "/api/v2/tickets/{ticket_id}/tags.json",
    tool="ticketing.tags.delete",
    params=TagsParams,
    status=204,
    errors=("resource_missing", "ticket_closed", "parameter_missing"),
)
def remove_tags(ctx: Context, p: TagsParams) -> Any:
    """Remove tags from a ticket (JSON body ``{"tags": [...]}``); 204, as Zendesk answers."""
    drop = set(normalize_tags(p.tags))
    _retag(ctx, [t for t in require_ticket(ctx).tags if t not in drop])
    return Reply(None, status=204)
