"""The search API: tickets and users by Zendesk's query language."""

from __future__ import annotations

from typing import Any

from simulators.core.simulator import Context

from ..models import Comment, SearchResults, User
from ..params import SearchParams
from ..search import Matcher, parse
from ._common import (
    me,
    now_dt,
    page_url,
    router,
    sort_key,
)


@router.get(
    "/api/v2/search.json",
    tool="ticketing.tickets.search",
    params=SearchParams,
    response=SearchResults,
    errors=("parameter_missing", "parameter_invalid"),
)
def search(ctx: Context, p: SearchParams) -> Any:
    """Search tickets and users: ``type:ticket status:open tags:vip requester:ada@example.com refund``."""
    query = parse(p.query)
    agent = me(ctx)
    types = (set(query.types) or {"ticket", "user"}) - query.excluded_types
    if p.filter is not None and p.filter.type is not None:
        types &= {p.filter.type}
    users: dict[int, User] = {u.id: u for u in ctx.all("users")}
    users[agent.id] = agent
    comments: dict[int, list[Comment]] = {}
    for c in ctx.all("comments"):
        comments.setdefault(c.ticket_id, []).append(c)
    matcher = Matcher(query, users, comments, now_dt(ctx), agent.id)
    found: list[tuple[str, Any]] = []
    if "ticket" in types:
        found.extend(("ticket", t) for t in ctx.all("tickets") if matcher.ticket(t))
    if "user" in types:
        found.extend(("user", u) for u in users.values() if matcher.user(u))
    order_by = {"created": "created_at", "updated": "updated_at"}.get(query.order_by or "", query.order_by)
    sort_by = p.sort_by or order_by
    descending = (p.sort_order or query.sort or "desc") == "desc"
    if sort_by in ("created_at", "updated_at", "priority", "status", "ticket_type"):
        key = sort_key(sort_by)
        found.sort(key=lambda item: (key(item[1]), item[0]), reverse=descending)
    else:
        found.sort(key=lambda item: (item[1].created_at, item[0], item[1].id), reverse=True)
    per_page = min(p.per_page, 100)
    start = (p.page - 1) * per_page
    window = found[start : start + per_page]
    extra = {"query": p.query, "sort_by": p.sort_by, "sort_order": p.sort_order}
    return {
        "results": [{**obj.model_dump(mode="json"), "result_type": kind} for kind, obj in window],
        "facets": None,
        "next_page": page_url(ctx, "/api/v2/search.json", {**extra, "page": p.page + 1, "per_page": per_page})
        if start + per_page < len(found)
        else None,
        "previous_page": page_url(ctx, "/api/v2/search.json", {**extra, "page": p.page - 1, "per_page": per_page})
        if p.page > 1
        else None,
        "count": len(found),
    }
