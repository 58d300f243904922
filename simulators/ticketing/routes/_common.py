"""The ticketing router and what every resource module shares: the API Agent, users and
tickets by id, tags, comment bodies, audit events, Zendesk's offset and cursor pagination."""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel

from simulators.core.errors import SimError
from simulators.core.routing import Router
from simulators.core.simulator import Context
from simulators.core.state import Store

from ..exceptions import invalid
from ..models import PRIORITY_ORDER, STATUS_ORDER, Comment, Ticket, User
from ..params import CommentInput, CursorPage, ListParams

router = Router("ticketing")

#: the id of each tenant's "API Agent", the user every API token acts as
API_USER_ID = 1_000_000_001
API_USER_EMAIL = "api-agent@ticketing.sim.agentops.local"

TICKET_404 = ("resource_missing",)
WRITE_ERRORS = (
    "resource_missing",
    "ticket_closed",
    "status_invalid",
    "assignee_invalid",
    "requester_invalid",
    "parameter_invalid",
    "parameter_unknown",
    "parameter_missing",
)


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
            **role_defaults("admin"),
            verified=True,
            created_at=when,
            updated_at=when,
        )
        rows[API_USER_ID] = user  # type: ignore[index]
    return user


def without_nulls(model: type[BaseModel], changes: dict[str, Any]) -> dict[str, Any]:
    """An update's ``null`` for an attribute that cannot be null: a list or map is cleared, any
    other such attribute keeps its value (so an answer never carries a null the type forbids)."""
    out: dict[str, Any] = {}
    for key, value in changes.items():
        field = model.model_fields.get(key)
        if value is None and field is not None and field.default is not None:
            if field.default in ([], {}):
                out[key] = type(field.default)()
            continue
        out[key] = value
    return out


def role_defaults(role: str) -> dict[str, Any]:
    """The attributes Zendesk derives from a user's role (an end-user sees only the tickets they
    requested; an admin is role_type 4 and unrestricted)."""
    if role == "end-user":
        return {"role_type": None, "restricted_agent": True, "ticket_restriction": "requested"}
    return {"role_type": 4 if role == "admin" else None, "restricted_agent": False, "ticket_restriction": None}


def me(ctx: Context) -> User:
    return api_user(ctx.store, ctx.tenant, ctx.sim.base_url, now_dt(ctx))


def int_id(raw: str | int | None) -> int | None:
    if isinstance(raw, int):
        return raw
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 15:
        return int(raw)
    return None


def get_row(ctx: Context, resource: str, ident: int | None) -> Any:
    return None if ident is None else ctx.get(resource, ident)  # type: ignore[arg-type]


def require_ticket(ctx: Context) -> Ticket:
    raw = ctx.path["ticket_id"]
    ticket: Ticket | None = get_row(ctx, "tickets", int_id(raw))
    if ticket is None:
        raise SimError("resource_missing", f"No such ticket: {raw}", param="ticket_id")
    return ticket


def user_by_id(ctx: Context, ident: int | None) -> User | None:
    if ident == API_USER_ID:
        return me(ctx)
    user: User | None = get_row(ctx, "users", ident)
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


def closed_guard(ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise invalid("ticket_closed", "status", "Status: closed prevents ticket update")


def comment_text(c: CommentInput) -> tuple[str, str]:
    """(plain body, html body) of a comment input; one of them must be non-blank."""
    if c.body is not None and c.body.strip():
        return c.body, c.html_body or html_body(c.body)
    if c.html_body is not None and c.html_body.strip():
        plain = html.unescape(_TAG.sub("", c.html_body)).strip()
        if plain:
            return plain, c.html_body
    raise invalid("parameter_invalid_empty", "comment", "Comment: body cannot be blank")


#: what Zendesk records about the client that wrote a comment through the API
SYSTEM_METADATA: dict[str, Any] = {
    "client": "pytest-agentops simulator",
    "ip_address": "127.0.0.1",
    "location": "Loopback",
    "latitude": 0,
    "longitude": 0,
}


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
        metadata={"system": dict(SYSTEM_METADATA), "custom": {}},
        created_at=now_dt(ctx),
    )
    ctx.insert("comments", comment)
    return comment


def event(ctx: Context, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": ctx.new_int_id("events"), "type": kind, **fields}


def comment_event(ctx: Context, c: Comment) -> dict[str, Any]:
    return event(
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


def subject_from(body: str) -> str:
    first = body.strip().split("\n", 1)[0].strip()
    return first if len(first) <= 80 else first[:77] + "..."


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


def page_url(ctx: Context, path: str, query: dict[str, Any]) -> str:
    return f"{ctx.base_url}{path}?{urlencode({k: v for k, v in query.items() if v is not None})}"


def _cursor_page(
    ctx: Context, rows: Sequence[Any], page: CursorPage, key: str, path: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """Zendesk's cursor pagination: ``page[size]``, ``page[after]`` or ``page[before]``."""
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
            "next": page_url(ctx, path, {**extra, "page[size]": size, "page[after]": after})
            if after and more_after
            else None,
            "prev": page_url(ctx, path, {**extra, "page[size]": size, "page[before]": before})
            if before and more_before
            else None,
        },
    }


def paged(
    ctx: Context, rows: Sequence[Any], p: ListParams, key: str, path: str, query: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One page of ``rows`` in Zendesk's offset (``page``/``per_page``) or cursor
    (``page[size]``/``page[after]``/``page[before]``) pagination."""
    extra = dict(query or {})
    page = p.page
    if isinstance(page, CursorPage):
        return _cursor_page(ctx, rows, page, key, path, extra)
    per_page = min(p.per_page, 100)
    number = page or 1
    start = (number - 1) * per_page
    items = list(rows[start : start + per_page])
    return {
        key: items,
        "next_page": page_url(ctx, path, {**extra, "page": number + 1, "per_page": per_page})
        if start + per_page < len(rows)
        else None,
        "previous_page": page_url(ctx, path, {**extra, "page": number - 1, "per_page": per_page})
        if number > 1
        else None,
        "count": len(rows),
    }


def sort_key(field: str) -> Any:
    def key(obj: Any) -> Any:
        if field == "status":
            return STATUS_ORDER.get(getattr(obj, "status", "") or "", -1), obj.id
        if field == "priority":
            return PRIORITY_ORDER.get(getattr(obj, "priority", "") or "", -1), obj.id
        if field == "ticket_type":
            return getattr(obj, "type", None) or "", obj.id
        return getattr(obj, field), obj.id

    return key
