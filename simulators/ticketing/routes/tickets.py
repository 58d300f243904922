"""Tickets: create, show, update, list, delete (and the status rules of the package docstring);
bulk show and update in :mod:`.bulk`."""

from __future__ import annotations

from typing import Any

from simulators.core.simulator import Context, Reply

from ..exceptions import invalid
from ..models import (
    CUSTOM_STATUS_IDS,
    Audit,
    Comment,
    CustomField,
    Ticket,
    TicketAuditEnvelope,
    TicketEnvelope,
    TicketList,
    User,
)
from ..params import ShowParams, TicketCreateParams, TicketListParams, TicketUpdateFields, TicketUpdateParams
from ._common import (
    TICKET_404,
    WRITE_ERRORS,
    closed_guard,
    comment_event,
    comment_text,
    event,
    html_body,
    me,
    new_comment,
    normalize_tags,
    now_dt,
    paged,
    require_agent,
    require_ticket,
    require_user,
    router,
    sort_key,
    subject_from,
    user_by_email,
)


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
    "ticket_form_id",
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
        subject=f.subject if f.subject is not None else subject_from(body),
        raw_subject=f.subject if f.subject is not None else subject_from(body),
        description=body,
        status=status,
        custom_status_id=f.custom_status_id or CUSTOM_STATUS_IDS[status],
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
    events = [comment_event(ctx, comment)]
    for name in ("subject", "status", "priority", "type", "requester_id", "assignee_id", "tags"):
        value = getattr(ticket, name)
        if value not in (None, []):
            events.append(event(ctx, "Create", field_name=name, value=value))
    audit = Audit(id=audit_id, ticket_id=ident, author_id=submitter.id, created_at=when, events=events)
    return Reply({"ticket": ticket, "audit": audit}, status=201)


@router.get(
    "/api/v2/tickets/{ticket_id}.json",
    tool="ticketing.tickets.retrieve",
    response=TicketEnvelope,
    params=ShowParams,
    errors=TICKET_404,
)
def show_ticket(ctx: Context, p: ShowParams) -> Any:
    """Show a ticket."""
    return {"ticket": require_ticket(ctx)}


def check_status(old: str, new: str) -> None:
    if new == old:
        return
    if new == "closed":
        raise invalid(
            "status_invalid", "status", "Status: closed is set by the system only (solved tickets close automatically)"
        )
    if new == "new":
        raise invalid("status_invalid", "status", f"Status: cannot be changed from {old} back to new")


def _status_changes(ctx: Context, ticket: Ticket, f: TicketUpdateFields, changes: dict[str, Any]) -> None:
    """Assignee and status by Zendesk's rules; ``custom_status_id`` follows the status."""
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
        assignee_id = changes["assignee_id"] = me(ctx).id
    changes["status"] = status
    if f.custom_status_id is None and status != ticket.status:
        changes["custom_status_id"] = CUSTOM_STATUS_IDS[status]


def _tag_changes(ticket: Ticket, f: TicketUpdateFields) -> list[str]:
    tags = list(ticket.tags)
    if f.tags is not None:
        tags = normalize_tags(f.tags)
    if f.additional_tags:
        tags = normalize_tags([*tags, *f.additional_tags])
    if f.remove_tags:
        drop = set(normalize_tags(f.remove_tags))
        tags = [t for t in tags if t not in drop]
    return tags


def _changes(ctx: Context, ticket: Ticket, f: TicketUpdateFields) -> dict[str, Any]:
    """The new value of every attribute the update touches."""
    sent = f.model_fields_set
    changes: dict[str, Any] = {name: getattr(f, name) for name in _SIMPLE_FIELDS if name in sent}
    if "subject" in sent and f.subject is not None:
        changes["subject"] = changes["raw_subject"] = f.subject
    requester = _requester(ctx, f, None)
    if requester is not None:
        changes["requester_id"] = requester.id
    if f.custom_status_id is not None:
        changes["custom_status_id"] = f.custom_status_id
    _status_changes(ctx, ticket, f, changes)
    changes["tags"] = _tag_changes(ticket, f)
    collaborators = _collaborators(ctx, f.collaborator_ids)
    if collaborators is not None:
        changes["collaborator_ids"] = collaborators
    if f.custom_fields is not None:
        changes["custom_fields"] = _custom_fields(ticket.custom_fields, f.custom_fields)
    return changes


def apply_update(ctx: Context, ticket: Ticket, f: TicketUpdateFields) -> tuple[Ticket, Audit]:
    """Update one ticket (fields, status rules, tags, a new comment); the audit records each change."""
    closed_guard(ticket)
    agent = me(ctx)
    changes = _changes(ctx, ticket, f)
    events: list[dict[str, Any]] = [
        event(ctx, "Change", field_name=name, value=value, previous_value=getattr(ticket, name))
        for name, value in changes.items()
        if value != getattr(ticket, name) and name not in ("raw_subject", "custom_status_id")
    ]
    audit_id: int | None = ctx.new_int_id("audits") if f.comment is not None or events else None
    comment: Comment | None = None
    if f.comment is not None:
        body, rendered = comment_text(f.comment)
        author = require_user(ctx, f.comment.author_id, "author_id") if f.comment.author_id else agent
        comment = new_comment(ctx, ticket.id, author.id, body, rendered, f.comment.public, audit_id)
        events.insert(0, comment_event(ctx, comment))
    if events:
        changes["updated_at"] = now_dt(ctx)
        ticket = ticket.model_copy(update=changes)
        ctx.update("tickets", ticket)
    author_id = comment.author_id if comment else agent.id
    audit = Audit(id=audit_id or 0, ticket_id=ticket.id, author_id=author_id, created_at=now_dt(ctx), events=events)
    return ticket, audit


@router.put(
    "/api/v2/tickets/{ticket_id}.json",
    tool="ticketing.tickets.update",
    params=TicketUpdateParams,
    response=TicketAuditEnvelope,
    errors=WRITE_ERRORS,
)
def update_ticket(ctx: Context, p: TicketUpdateParams) -> Any:
    """Update a ticket: fields, status (Zendesk's rules), tags, and a new public or internal comment."""
    ticket, audit = apply_update(ctx, require_ticket(ctx), p.ticket)
    return {"ticket": ticket, "audit": audit}


@router.delete("/api/v2/tickets/{ticket_id}.json", tool="ticketing.tickets.delete", status=204, errors=TICKET_404)
def delete_ticket(ctx: Context, p: None) -> Any:
    """Delete a ticket (Zendesk moves it to deleted tickets; here it and its comments are gone)."""
    ticket = require_ticket(ctx)
    for c in ctx.all("comments"):
        if c.ticket_id == ticket.id:
            ctx.delete("comments", c.id)
    ctx.delete("tickets", ticket.id)  # type: ignore[arg-type]
    return Reply(None, status=204)


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
    rows.sort(key=sort_key(p.sort_by or "id"), reverse=p.sort_order == "desc")
    query = {"sort_by": p.sort_by, "sort_order": p.sort_order, "external_id": p.external_id}
    return paged(ctx, rows, p, "tickets", "/api/v2/tickets.json", query)
