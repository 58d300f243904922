"""Macros (read): list, show, and what applying one would do, to any ticket or to one ticket.

Zendesk's apply endpoints change nothing: an agent previews the result and sends it back with
``PUT /tickets/{id}.json``, which is the write the test can assert on. Actions cover the ticket
attributes (``status``, ``priority``, ``type``, ``group_id``, ``assignee_id`` with
``current_user``, ``subject``), tags (``set_tags``, ``current_tags`` adds, ``remove_tags``),
custom fields (``custom_fields_<id>``) and the comment (``comment_value``,
``comment_value_html``, ``comment_mode_is_public``), with the common placeholders rendered when
a ticket is given (``{{ticket.id}}``, ``{{ticket.title}}``, ``{{ticket.requester.name}}``,
``{{ticket.requester.first_name}}``, ``{{current_user.name}}``).
"""

from __future__ import annotations

import re
from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..account import Macro, MacroApplyEnvelope, MacroEnvelope, MacroList, MacroListParams
from ..models import Ticket
from ..params import ShowParams
from ._common import get_row, html_body, int_id, me, normalize_tags, paged, require_ticket, router, user_by_id

_TICKET_FIELDS = {"status", "priority", "type", "group_id", "assignee_id", "subject"}
_SORTS = {"alphabetical": "title", "created_at": "created_at", "updated_at": "updated_at", "position": "position"}


def require_macro(ctx: Context) -> Macro:
    raw = ctx.path["macro_id"]
    macro: Macro | None = get_row(ctx, "macros", int_id(raw))
    if macro is None:
        raise SimError("resource_missing", f"No such macro: {raw}", param="macro_id")
    return macro


@router.get(
    "/api/v2/macros.json",
    tool="ticketing.macros.list",
    params=MacroListParams,
    response=MacroList,
    errors=("pagination_invalid", "parameter_invalid"),
)
def list_macros(ctx: Context, p: MacroListParams) -> Any:
    """List macros (``active=``, ``sort_by=alphabetical|created_at|updated_at|position``)."""
    rows: list[Macro] = list(ctx.all("macros"))
    if p.active is not None:
        rows = [m for m in rows if m.active == p.active]
    key = _SORTS.get(p.sort_by or "position", "position")
    rows.sort(key=lambda m: (getattr(m, key), m.id), reverse=p.sort_order == "desc")
    query = {"active": None if p.active is None else str(p.active).lower(), "sort_by": p.sort_by}
    return paged(ctx, rows, p, "macros", "/api/v2/macros.json", query)


@router.get(
    "/api/v2/macros/{macro_id}.json",
    tool="ticketing.macros.retrieve",
    params=ShowParams,
    response=MacroEnvelope,
    errors=("resource_missing",),
)
def show_macro(ctx: Context, p: ShowParams) -> Any:
    """Show a macro with its actions."""
    return {"macro": require_macro(ctx)}


def _render(text: str, ctx: Context, ticket: Ticket | None) -> str:
    if ticket is None:
        return text
    requester = user_by_id(ctx, ticket.requester_id)
    name = requester.name if requester is not None else ""
    values = {
        "ticket.id": str(ticket.id),
        "ticket.title": ticket.subject or "",
        "ticket.requester.name": name,
        "ticket.requester.first_name": name.split(" ", 1)[0],
        "current_user.name": me(ctx).name,
    }
    return re.sub(r"\{\{\s*([a-z_.]+)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), text)


def _comment(value: Any) -> str:
    # ``comment_value`` is a string or Zendesk's ["channel:all", "text"]
    return str(value[-1]) if isinstance(value, list) and value else str(value or "")


def changes_of(ctx: Context, macro: Macro, ticket: Ticket | None) -> dict[str, Any]:
    """The ticket attributes ``macro`` sets (on ``ticket`` when given), with its ``comment``."""
    out: dict[str, Any] = {}
    tags = list(ticket.tags) if ticket is not None else []
    comment: dict[str, Any] = {}
    for action in macro.actions:
        field, value = action.field, action.value
        if field in _TICKET_FIELDS:
            out[field] = me(ctx).id if value == "current_user" else value
            if field in ("group_id", "assignee_id") and isinstance(out[field], str) and out[field].isdigit():
                out[field] = int(out[field])
        elif field in ("set_tags", "current_tags", "remove_tags"):
            given = normalize_tags(value if isinstance(value, list) else str(value).split())
            if field == "set_tags":
                tags = given
            elif field == "current_tags":
                tags = normalize_tags([*tags, *given])
            else:
                tags = [t for t in tags if t not in given]
            out["tags"] = tags
        elif field.startswith("custom_fields_"):
            out.setdefault("custom_fields", []).append({"id": int(field.rsplit("_", 1)[1]), "value": value})
        elif field == "comment_value":
            comment["body"] = _render(_comment(value), ctx, ticket)
        elif field == "comment_value_html":
            comment["html_body"] = _render(_comment(value), ctx, ticket)
        elif field == "comment_mode_is_public":
            comment["public"] = str(value).lower() == "true"
    if comment:
        body = comment.get("body") or re.sub(r"<[^>]*>", "", comment.get("html_body", ""))
        comment = {"body": body, "html_body": comment.get("html_body") or html_body(body), **comment}
        out["comment"] = {**comment, "scoped_body": [["channel:all", body]], "public": comment.get("public", True)}
    return out


@router.get(
    "/api/v2/macros/{macro_id}/apply.json",
    tool="ticketing.macros.preview",
    params=ShowParams,
    response=MacroApplyEnvelope,
    errors=("resource_missing",),
)
def preview_macro(ctx: Context, p: ShowParams) -> Any:
    """What a macro would change on any ticket (nothing is written)."""
    return {"result": {"ticket": changes_of(ctx, require_macro(ctx), None)}}


@router.get(
    "/api/v2/tickets/{ticket_id}/macros/{macro_id}/apply.json",
    tool="ticketing.macros.apply",
    params=ShowParams,
    response=MacroApplyEnvelope,
    errors=("resource_missing",),
)
def apply_macro(ctx: Context, p: ShowParams) -> Any:
    """The ticket as the macro would leave it, placeholders rendered (nothing is written: send it
    back with ``PUT /api/v2/tickets/{id}.json``)."""
    ticket = require_ticket(ctx)
    changes = changes_of(ctx, require_macro(ctx), ticket)
    return {"result": {"ticket": {**ticket.model_dump(mode="json"), **changes}}}
