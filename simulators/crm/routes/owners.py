"""Owners (read): the users records are assigned to (``hubspot_owner_id``), seeded by the test
(``seed({"owners": [{"id": "101", "email": ..., "firstName": ...}]})``)."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..account import Owner, OwnerListParams, OwnerPage, OwnerReadParams
from ._common import after_id, link, router


@router.get(
    "/crm/v3/owners",
    tool="crm.owners.list",
    params=OwnerListParams,
    response=OwnerPage,
    errors=("parameter_invalid",),
)
def list_owners(ctx: Context, p: OwnerListParams) -> Any:
    """List owners by id (``email=`` filters; ``limit``/``after`` page)."""
    rows: list[Owner] = sorted(ctx.all("owners"), key=lambda o: int(o.id))
    rows = [o for o in rows if o.archived == p.archived]
    if p.email is not None:
        rows = [o for o in rows if (o.email or "").casefold() == p.email.casefold()]
    after = after_id(p.after)
    rows = [o for o in rows if int(o.id) > after]
    out: dict[str, Any] = {"results": rows[: p.limit]}
    if len(rows) > p.limit:
        cursor = rows[p.limit - 1].id
        out["paging"] = {"next": {"after": cursor, "link": link(ctx, "/crm/v3/owners", {"after": cursor})}}
    return out


@router.get(
    "/crm/v3/owners/{ownerId}",
    tool="crm.owners.retrieve",
    params=OwnerReadParams,
    response=Owner,
    errors=("resource_missing",),
)
def get_owner(ctx: Context, p: OwnerReadParams) -> Any:
    """Read an owner by id (or by ``userId`` with ``idProperty=userId``)."""
    raw = ctx.path["ownerId"]
    for owner in ctx.all("owners"):
        key = owner.id if p.idProperty == "id" else str(owner.userId)
        if key == raw and owner.archived == p.archived:
            return owner
    raise SimError("resource_missing", f"No such owner: {raw}", param="ownerId", status=404)
