"""A ticket's comments."""

from __future__ import annotations

from typing import Any

from simulators.core.simulator import Context

from ..models import CommentList
from ..params import CommentListParams
from ._common import (
    paged,
    require_ticket,
    router,
)


@router.get(
    "/api/v2/tickets/{ticket_id}/comments.json",
    tool="ticketing.comments.list",
    params=CommentListParams,
    response=CommentList,
    errors=("resource_missing", "pagination_invalid"),
)
def list_comments(ctx: Context, p: CommentListParams) -> Any:
    """A ticket's comments, oldest first (``sort_order=desc`` for newest first); internal notes included."""
    ticket = require_ticket(ctx)
    rows = [c for c in ctx.all("comments") if c.ticket_id == ticket.id]
    rows.sort(key=lambda c: (c.created_at, c.id), reverse=p.sort_order == "desc")
    return paged(ctx, rows, p, "comments", f"/api/v2/tickets/{ticket.id}/comments.json", {"sort_order": p.sort_order})
