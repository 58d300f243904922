"""Ticketing endpoints: Zendesk Support API v2 for tickets, comments, tags, users and search.

Every handler works inside the caller's tenant (``ctx``). Status rules follow Zendesk:
a new ticket is ``new`` (``open`` once it has an assignee); an agent may move it to ``open``,
``pending``, ``hold`` or ``solved`` (solving without an assignee assigns the solving agent);
``new`` cannot be restored; ``closed`` is set only by the system
(:meth:`TicketingSimulator.close_solved_tickets`), and a closed ticket refuses every change
with 422 ``RecordInvalid`` (``details.status``).

The caller acts as the tenant's "API Agent" user (``GET /api/v2/users/me.json``), which is the
default requester, submitter and comment author.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from simulators.core.errors import SimError
from simulators.core.routing import Router
from simulators.core.simulator import Context, Reply
from simulators.core.state import Store

from .exceptions import invalid
from .models import (
    PRIORITY_ORDER,
    STATUS_ORDER,
    Audit,
    Comment,
    CommentInput,
    CommentList,
    CommentListParams,
    CursorPage,
    CustomField,
    ListParams,
    SearchParams,
    SearchResults,
    ShowParams,
    TagList,
    TagsParams,
    Ticket,
    TicketAuditEnvelope,
    TicketCreateParams,
    TicketEnvelope,
    TicketList,
    TicketListParams,
    TicketUpdateParams,
    User,
    UserCreateParams,
    UserEnvelope,
    UserList,
    UserListParams,
)
from .search import Matcher, parse

router = Router("ticketing")

#: the id of each tenant's "API Agent", the user every API token acts as
API_USER_ID = 1_000_000_001
API_USER_EMAIL = "api-agent@ticketing.sim.agentops.local"

_TICKET_404 = ("resource_missing",)
_WRITE_ERRORS = (
    "resource_missing",
    "ticket_closed",
    "status_invalid",
    "assignee_invalid",
    "requester_invalid",
    "parameter_invalid",
    "parameter_unknown",
    "parameter_missing",
)


# ---------------------------------------------------------------- helpers
def now_dt(ctx: Context) -> datetime:
    return datetime.fromtimestamp(int(ctx.now), tz=UTC)


def api_user(store: Store, tenant: str, base_url: str, when: datetime) -> User:
    """The tenant's API Agent, created on first use (setup, not an agent's write: no ledger)."""
    rows = store.table(tenant, "users")
    when = when.replace(microsecond=0)
    user: User | None = rows.get(API_USER_ID)  # type: ignore[call-overload]
    if user is None:
        user = User(
            id=API_USER_ID,
            url=f"{base_url}/api/v2/users/{API_USER_ID}.json",
            name="API Agent",
            email=API_USER_EMAIL,
            role="admin",
            verified=True,
            created_at=when,
            updated_at=when,
        )
        rows[API_USER_ID] = user  # type: ignore[index]
    return user


def me(ctx: Context) -> User:
    return api_user(ctx.store, ctx.tenant, ctx.sim.base_url, now_dt(ctx))


def int_id(raw: str | int | None) -> int | None:
    if isinstance(raw, int):
        return raw
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 15:
        return int(raw)
    return None


def _get(ctx: Context, resource: str, ident: int | None) -> Any:
    return None if ident is None else ctx.get(resource, ident)  # type: ignore[arg-type]


def require_ticket(ctx: Context) -> Ticket:
    raw = ctx.path["ticket_id"]
    ticket: Ticket | None = _get(ctx, "tickets", int_id(raw))
    if ticket is None:
        raise SimError("resource_missing", f"No such ticket: {raw}", param="ticket_id")
    return ticket


def user_by_id(ctx: Context, ident: int | None) -> User | None:
    if ident == API_USER_ID:
        return me(ctx)
    user: User | None = _get(ctx, "users", ident)
    return user


def user_by_email(ctx: Context, email: str) -> User | None:
    want = email.casefold()
    if want == API_USER_EMAIL:
        return me(ctx)
    return next((u for u in ctx.all("users") if u.email and u.email.casefold() == want), None)


def require_user(ctx: Context, ident: int, field: str) -> User:
    user = user_by_id(ctx, ident)
    if user is None:
        label = field.removesuffix("_id").replace("_", " ").capitalize()
        raise invalid("requester_invalid", field, f"{label}: user {ident} does not exist")
    return user


def require_agent(ctx: Context, ident: int, field: str = "assignee_id") -> User:
    user = user_by_id(ctx, ident)
    if user is None or user.role == "end-user" or not user.active:
        raise invalid("assignee_invalid", field, f"Assignee: user {ident} is not an agent")
    return user


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Zendesk tags are lower case without spaces ("VIP customer" is two tags)."""
    out: list[str] = []
    for tag in tags:
        for part in tag.split():
            t = part.lower()
            if t not in out:
                out.append(t)
    return out


def html_body(body: str) -> str:
    """Zendesk's rendering of a plain comment body."""
    paragraphs = "".join(f'<p dir="auto">{html.escape(p).replace(chr(10), "<br>")}</p>' for p in body.split("\n\n"))
    return f'<div class="zd-comment" dir="auto">{paragraphs}</div>'


_TAG = re.compile(r"<[^>]*>")


def comment_text(c: CommentInput) -> tuple[str, str]:
    """(plain body, html body) of a comment input; one of them must be non-blank."""
    if c.body is not None and c.body.strip():
        return c.body, c.html_body or html_body(c.body)
    if c.html_body is not None and c.html_body.strip():
        plain = html.unescape(_TAG.sub("", c.html_body)).strip()
        if plain:
            return plain, c.html_body
    raise invalid("parameter_invalid_empty", "comment", "Comment: body cannot be blank")


def new_comment(
    ctx: Context, ticket_id: int, author_id: int, body: str, rendered: str, public: bool, audit_id: int | None
) -> Comment:
    comment = Comment(
        id=ctx.new_int_id("comments"),
        ticket_id=ticket_id,
        author_id=author_id,
        body=body,
        html_body=rendered,
        plain_body=body,
        public=public,
        audit_id=audit_id,
        created_at=now_dt(ctx),
    )
    ctx.insert("comments", comment)
    return comment


def _event(ctx: Context, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": ctx.new_int_id("events"), "type": kind, **fields}


def _comment_event(ctx: Context, c: Comment) -> dict[str, Any]:
    return _event(
        ctx,
        "Comment",
        author_id=c.author_id,
        body=c.body,
        html_body=c.html_body,
        plain_body=c.plain_body,
        public=c.public,
        attachments=[],
        audit_id=c.audit_id,
    )


def _subject_from(body: str) -> str:
    first = body.strip().split("\n", 1)[0].strip()
    return first if len(first) <= 80 else first[:77] + "..."


# ------------------------------------------------------------- pagination
def _cursor(ident: int) -> str:
    return base64.urlsafe_b64encode(f"id:{ident}".encode()).decode().rstrip("=")


def _uncursor(value: str, param: str) -> int:
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    ident = int_id(text[3:]) if text.startswith("id:") else None
    if ident is None:
        raise SimError("pagination_invalid", f"Invalid {param}: {value!r} is not a cursor.", param=param, status=400)
    return ident


def _url(ctx: Context, path: str, query: dict[str, Any]) -> str:
    return f"{ctx.base_url}{path}?{urlencode({k: v for k, v in query.items() if v is not None})}"


def paged(
    ctx: Context, rows: Sequence[Any], p: ListParams, key: str, path: str, query: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One page of ``rows`` in Zendesk's offset (``page``/``per_page``) or cursor
    (``page[size]``/``page[after]``/``page[before]``) pagination."""
    extra = dict(query or {})
    page = p.page
    if isinstance(page, CursorPage):
        size = page.size
        if page.after is not None and page.before is not None:
            raise SimError(
                "pagination_invalid", "Use only one of page[after] and page[before].", param="page[before]", status=400
            )
        ids = [r.id for r in rows]

        def position(cursor: str, param: str) -> int:
            ident = _uncursor(cursor, param)
            if ident not in ids:
                raise SimError(
                    "pagination_invalid", f"Invalid {param}: the cursor points nowhere.", param=param, status=400
                )
            return ids.index(ident)

        if page.before is not None:
            end = position(page.before, "page[before]")
            start = max(0, end - size)
            items = list(rows[start:end])
            more_before, more_after = start > 0, True
        else:
            start = position(page.after, "page[after]") + 1 if page.after is not None else 0
            items = list(rows[start : start + size])
            more_before, more_after = start > 0, start + size < len(rows)
        has_more = more_before if page.before is not None else more_after
        after = _cursor(items[-1].id) if items else None
        before = _cursor(items[0].id) if items else None
        return {
            key: items,
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
            "links": {
                "next": _url(ctx, path, {**extra, "page[size]": size, "page[after]": after})
                if after and more_after
                else None,
                "prev": _url(ctx, path, {**extra, "page[size]": size, "page[before]": before})
                if before and more_before
                else None,
            },
        }
    per_page = min(p.per_page, 100)
    number = page or 1
    start = (number - 1) * per_page
    items = list(rows[start : start + per_page])
    return {
        key: items,
        "next_page": _url(ctx, path, {**extra, "page": number + 1, "per_page": per_page})
        if start + per_page < len(rows)
        else None,
        "previous_page": _url(ctx, path, {**extra, "page": number - 1, "per_page": per_page}) if number > 1 else None,
        "count": len(rows),
    }


def _sort_key(field: str) -> Any:
    def key(obj: Any) -> Any:
        if field == "status":
            return STATUS_ORDER.get(getattr(obj, "status", "") or "", -1), obj.id
        if field == "priority":
            return PRIORITY_ORDER.get(getattr(obj, "priority", "") or "", -1), obj.id
        if field == "ticket_type":
            return getattr(obj, "type", None) or "", obj.id
        return getattr(obj, field), obj.id

    return key


# ---------------------------------------------------------------- tickets
def _requester(ctx: Context, f: Any, default: User | None) -> User | None:
    if f.requester_id is not None:
        return require_user(ctx, f.requester_id, "requester_id")
    if f.requester is not None:
        found = user_by_email(ctx, f.requester.email)
        if found is not None:
            return found
        when = now_dt(ctx)
        ident = ctx.new_int_id("users")
        user = User(
            id=ident,
            url=f"{ctx.sim.base_url}/api/v2/users/{ident}.json",
            name=f.requester.name or f.requester.email.split("@", 1)[0],
            email=f.requester.email,
            created_at=when,
            updated_at=when,
        )
        ctx.insert("users", user)
        return user
    return default


def _assignee(ctx: Context, f: Any) -> tuple[bool, int | None]:
    """(given, id) for ``assignee_id`` / ``assignee_email``."""
    if f.assignee_email is not None:
        user = user_by_email(ctx, f.assignee_email)
        if user is None:
            raise invalid("assignee_invalid", "assignee_email", f"Assignee: {f.assignee_email} is not an agent")
        return True, require_agent(ctx, user.id, "assignee_email").id
    if "assignee_id" in f.model_fields_set:
        if f.assignee_id is None:
            return True, None
        return True, require_agent(ctx, f.assignee_id).id
    return False, None


def _collaborators(ctx: Context, ids: list[int] | None) -> list[int] | None:
    if ids is None:
        return None
    for i in ids:
        require_user(ctx, i, "collaborator_ids")
    return list(dict.fromkeys(ids))


def _custom_fields(old: list[CustomField], new: Any) -> list[CustomField]:
    merged = {f.id: f for f in old}
    for f in new:
        merged[f.id] = CustomField(id=f.id, value=f.value)
    return list(merged.values())


_SIMPLE_FIELDS = (
    "priority",
    "type",
    "group_id",
    "organization_id",
    "external_id",
    "due_at",
    "problem_id",
    "recipient",
    "brand_id",
)


@router.post(
    "/api/v2/tickets.json",
    tool="ticketing.tickets.create",
    params=TicketCreateParams,
    response=TicketAuditEnvelope,
    status=201,
    errors=(
        "comment_missing",
        "assignee_invalid",
        "requester_invalid",
        "parameter_invalid",
        "parameter_unknown",
        "parameter_missing",
    ),
)
def create_ticket(ctx: Context, p: TicketCreateParams) -> Any:
    """Create a ticket; its first comment (``comment.body`` or ``description``) becomes the description."""
    f = p.ticket
    agent = me(ctx)
    requester = _requester(ctx, f, agent)
    assert requester is not None
    submitter = require_user(ctx, f.submitter_id, "submitter_id") if f.submitter_id is not None else agent
    if f.comment is not None:
        body, rendered = comment_text(f.comment)
        public = f.comment.public
        author = require_user(ctx, f.comment.author_id, "author_id") if f.comment.author_id else submitter
    elif f.description is not None and f.description.strip():
        body, rendered, public, author = f.description, html_body(f.description), True, submitter
    else:
        raise invalid("comment_missing", "description", "Description: cannot be blank")
    _, assignee_id = _assignee(ctx, f)
    status = f.status or ("open" if assignee_id is not None else "new")
    if status == "solved" and assignee_id is None:
        assignee_id = agent.id  # Zendesk assigns the solving agent
    when = now_dt(ctx)
    ident = ctx.new_int_id("tickets")
    audit_id = ctx.new_int_id("audits")
    fields = {name: getattr(f, name) for name in _SIMPLE_FIELDS if getattr(f, name) is not None}
    ticket = Ticket(
        id=ident,
        url=f"{ctx.sim.base_url}/api/v2/tickets/{ident}.json",
        subject=f.subject if f.subject is not None else _subject_from(body),
        raw_subject=f.subject if f.subject is not None else _subject_from(body),
        description=body,
        status=status,
        requester_id=requester.id,
        submitter_id=submitter.id,
        assignee_id=assignee_id,
        collaborator_ids=_collaborators(ctx, f.collaborator_ids) or [],
        is_public=public,
        tags=normalize_tags(f.tags or []),
        custom_fields=_custom_fields([], f.custom_fields or []),
        created_at=when,
        updated_at=when,
        **fields,
    )
    ctx.insert("tickets", ticket)
    comment = new_comment(ctx, ident, author.id, body, rendered, public, audit_id)
    events = [_comment_event(ctx, comment)]
    for name in ("subject", "status", "priority", "type", "requester_id", "assignee_id", "tags"):
        value = getattr(ticket, name)
        if value not in (None, []):
            events.append(_event(ctx, "Create", field_name=name, value=value))
    audit = Audit(id=audit_id, ticket_id=ident, author_id=submitter.id, created_at=when, events=events)
    return Reply({"ticket": ticket, "audit": audit}, status=201)


@router.get(
    "/api/v2/tickets/{ticket_id}.json",
    tool="ticketing.tickets.retrieve",
    response=TicketEnvelope,
    params=ShowParams,
    errors=_TICKET_404,
)
def show_ticket(ctx: Context, p: ShowParams) -> Any:
    """Show a ticket."""
    return {"ticket": require_ticket(ctx)}


def closed_guard(ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise invalid("ticket_closed", "status", "Status: closed prevents ticket update")


def check_status(old: str, new: str) -> None:
    if new == old:
        return
    if new == "closed":
        raise invalid(
            "status_invalid", "status", "Status: closed is set by the system only (solved tickets close automatically)"
        )
    if new == "new":
        raise invalid("status_invalid", "status", f"Status: cannot be changed from {old} back to new")


@router.put(
    "/api/v2/tickets/{ticket_id}.json",
    tool="ticketing.tickets.update",
    params=TicketUpdateParams,
    response=TicketAuditEnvelope,
    errors=_WRITE_ERRORS,
)
def update_ticket(ctx: Context, p: TicketUpdateParams) -> Any:
    """Update a ticket: fields, status (Zendesk's rules), tags, and a new public or internal comment."""
    ticket = require_ticket(ctx)
    closed_guard(ticket)
    f = p.ticket
    agent = me(ctx)
    sent = f.model_fields_set
    changes: dict[str, Any] = {name: getattr(f, name) for name in _SIMPLE_FIELDS if name in sent}
    if "subject" in sent and f.subject is not None:
        changes["subject"] = changes["raw_subject"] = f.subject
    requester = _requester(ctx, f, None)
    if requester is not None:
        changes["requester_id"] = requester.id
    given, assignee_id = _assignee(ctx, f)
    if given:
        changes["assignee_id"] = assignee_id
    else:
        assignee_id = ticket.assignee_id
    status = f.status if f.status is not None else ticket.status
    check_status(ticket.status, status)
    if f.status is None and ticket.status == "new" and assignee_id is not None:
        status = "open"  # assigning a new ticket opens it
    if status == "solved" and assignee_id is None:
        assignee_id = changes["assignee_id"] = agent.id
    changes["status"] = status
    tags = list(ticket.tags)
    if f.tags is not None:
        tags = normalize_tags(f.tags)
    if f.additional_tags:
        tags = normalize_tags([*tags, *f.additional_tags])
    if f.remove_tags:
        drop = set(normalize_tags(f.remove_tags))
        tags = [t for t in tags if t not in drop]
    changes["tags"] = tags
    collaborators = _collaborators(ctx, f.collaborator_ids)
    if collaborators is not None:
        changes["collaborator_ids"] = collaborators
    if f.custom_fields is not None:
        changes["custom_fields"] = _custom_fields(ticket.custom_fields, f.custom_fields)

    events: list[dict[str, Any]] = []
    for name, value in changes.items():
        before = getattr(ticket, name)
        if value != before and name != "raw_subject":
            events.append(_event(ctx, "Change", field_name=name, value=value, previous_value=before))
    audit_id: int | None = None
    comment: Comment | None = None
    if f.comment is not None or events:
        audit_id = ctx.new_int_id("audits")
    if f.comment is not None:
        body, rendered = comment_text(f.comment)
        author = require_user(ctx, f.comment.author_id, "author_id") if f.comment.author_id else agent
        comment = new_comment(ctx, ticket.id, author.id, body, rendered, f.comment.public, audit_id)
        events.insert(0, _comment_event(ctx, comment))
    if events:
        changes["updated_at"] = now_dt(ctx)
        ticket = ticket.model_copy(update=changes)
        ctx.update("tickets", ticket)
    audit = Audit(
        id=audit_id or 0,
        ticket_id=ticket.id,
        author_id=comment.author_id if comment else agent.id,
        created_at=now_dt(ctx),
        events=events,
    )
    return {"ticket": ticket, "audit": audit}


@router.get(
    "/api/v2/tickets.json",
    tool="ticketing.tickets.list",
    params=TicketListParams,
    response=TicketList,
    errors=("pagination_invalid", "parameter_invalid"),
)
def list_tickets(ctx: Context, p: TicketListParams) -> Any:
    """List tickets (by id, or ``sort_by``/``sort_order``), offset or cursor paginated."""
    rows: list[Ticket] = ctx.all("tickets")
    if p.external_id is not None:
        rows = [t for t in rows if t.external_id == p.external_id]
    rows.sort(key=_sort_key(p.sort_by or "id"), reverse=p.sort_order == "desc")
    query = {"sort_by": p.sort_by, "sort_order": p.sort_order, "external_id": p.external_id}
    return paged(ctx, rows, p, "tickets", "/api/v2/tickets.json", query)


# ----------------------------------------------------------------- search
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
        key = _sort_key(sort_by)
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
        "next_page": _url(ctx, "/api/v2/search.json", {**extra, "page": p.page + 1, "per_page": per_page})
        if start + per_page < len(found)
        else None,
        "previous_page": _url(ctx, "/api/v2/search.json", {**extra, "page": p.page - 1, "per_page": per_page})
        if p.page > 1
        else None,
        "count": len(found),
    }


# --------------------------------------------------------------- comments
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


# ------------------------------------------------------------------- tags
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
    errors=_TICKET_404,
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
    response=TagList,
    errors=("resource_missing", "ticket_closed", "parameter_missing"),
)
def remove_tags(ctx: Context, p: TagsParams) -> Any:
    """Remove tags from a ticket (JSON body ``{"tags": [...]}``); answers the remaining tags."""
    drop = set(normalize_tags(p.tags))
    return _retag(ctx, [t for t in require_ticket(ctx).tags if t not in drop])


# ------------------------------------------------------------------ users
def _users(ctx: Context) -> list[User]:
    agent = me(ctx)
    rows: dict[int, User] = {u.id: u for u in ctx.all("users")}
    rows[agent.id] = agent
    return sorted(rows.values(), key=lambda u: u.id)


@router.get(
    "/api/v2/users.json",
    tool="ticketing.users.list",
    params=UserListParams,
    response=UserList,
    errors=("pagination_invalid", "parameter_invalid"),
)
def list_users(ctx: Context, p: UserListParams) -> Any:
    """List users (requesters and agents); ``role=agent`` or ``role[]=agent&role[]=admin`` filters."""
    rows = _users(ctx)
    if p.role is not None:
        roles = {p.role} if isinstance(p.role, str) else set(p.role)
        rows = [u for u in rows if u.role in roles]
    query: dict[str, Any] = {"role": p.role if isinstance(p.role, str) else None}
    return paged(ctx, rows, p, "users", "/api/v2/users.json", query)


@router.get("/api/v2/users/me.json", tool="ticketing.users.me", params=ShowParams, response=UserEnvelope)
def show_me(ctx: Context, p: ShowParams) -> Any:
    """The user the API token acts as (the tenant's API Agent)."""
    return {"user": me(ctx)}


@router.get(
    "/api/v2/users/{user_id}.json",
    tool="ticketing.users.retrieve",
    params=ShowParams,
    response=UserEnvelope,
    errors=("resource_missing",),
)
def show_user(ctx: Context, p: ShowParams) -> Any:
    """Show a user."""
    raw = ctx.path["user_id"]
    user = user_by_id(ctx, int_id(raw))
    if user is None:
        raise SimError("resource_missing", f"No such user: {raw}", param="user_id")
    return {"user": user}


@router.post(
    "/api/v2/users.json",
    tool="ticketing.users.create",
    params=UserCreateParams,
    response=UserEnvelope,
    status=201,
    errors=("email_taken", "parameter_invalid", "parameter_missing", "parameter_unknown"),
)
def create_user(ctx: Context, p: UserCreateParams) -> Any:
    """Create a user (an end-user unless ``role`` says agent or admin); emails are unique."""
    u = p.user
    if u.email is not None and user_by_email(ctx, u.email) is not None:
        raise invalid("email_taken", "email", f"Email: {u.email} is already being used by another user")
    when = now_dt(ctx)
    ident = ctx.new_int_id("users")
    fields = u.model_dump(exclude_none=True, exclude={"tags"})
    user = User(
        id=ident,
        url=f"{ctx.sim.base_url}/api/v2/users/{ident}.json",
        tags=normalize_tags(u.tags or []),
        created_at=when,
        updated_at=when,
        **fields,
    )
    ctx.insert("users", user)
    return Reply({"user": user}, status=201)


__all__ = ["API_USER_EMAIL", "API_USER_ID", "api_user", "normalize_tags", "router"]
