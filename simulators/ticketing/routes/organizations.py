"""Organizations: list, show, create, update, delete (a deleted organization's users and
tickets lose their ``organization_id``, as in Zendesk)."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context, Reply

from ..account import (
    Organization,
    OrganizationCreateParams,
    OrganizationEnvelope,
    OrganizationList,
    OrganizationUpdateParams,
)
from ..exceptions import invalid
from ..params import ListParams, ShowParams
from ._common import get_row, int_id, normalize_tags, now_dt, paged, router, without_nulls

_404 = ("resource_missing",)
_READ_ONLY = frozenset({"id", "url", "created_at", "updated_at"})


def require_organization(ctx: Context) -> Organization:
    raw = ctx.path["organization_id"]
    org: Organization | None = get_row(ctx, "organizations", int_id(raw))
    if org is None:
        raise SimError("resource_missing", f"No such organization: {raw}", param="organization_id")
    return org


def _unique_name(ctx: Context, name: str, own: int | None) -> None:
    want = name.casefold()
    if any(o.name.casefold() == want and o.id != own for o in ctx.all("organizations")):
        raise invalid("parameter_invalid", "name", f"Name: {name} has already been taken")


@router.get(
    "/api/v2/organizations.json",
    tool="ticketing.organizations.list",
    params=ListParams,
    response=OrganizationList,
    errors=("pagination_invalid",),
)
def list_organizations(ctx: Context, p: ListParams) -> Any:
    """List organizations by id, offset or cursor paginated."""
    rows = sorted(ctx.all("organizations"), key=lambda o: o.id, reverse=p.sort_order == "desc")
    return paged(ctx, rows, p, "organizations", "/api/v2/organizations.json")


@router.get(
    "/api/v2/organizations/{organization_id}.json",
    tool="ticketing.organizations.retrieve",
    params=ShowParams,
    response=OrganizationEnvelope,
    errors=_404,
)
def show_organization(ctx: Context, p: ShowParams) -> Any:
    """Show an organization."""
    return {"organization": require_organization(ctx)}


@router.post(
    "/api/v2/organizations.json",
    tool="ticketing.organizations.create",
    params=OrganizationCreateParams,
    response=OrganizationEnvelope,
    status=201,
    errors=("parameter_invalid", "parameter_missing", "parameter_unknown"),
)
def create_organization(ctx: Context, p: OrganizationCreateParams) -> Any:
    """Create an organization; names are unique (422 otherwise)."""
    f = p.organization
    _unique_name(ctx, f.name, None)
    when = now_dt(ctx)
    ident = ctx.new_int_id("organizations")
    fields = f.model_dump(exclude_none=True, exclude={"tags"})
    org = Organization(
        id=ident,
        url=f"{ctx.sim.base_url}/api/v2/organizations/{ident}.json",
        tags=normalize_tags(f.tags or []),
        created_at=when,
        updated_at=when,
        **fields,
    )
    ctx.insert("organizations", org)
    return Reply({"organization": org}, status=201)


@router.put(
    "/api/v2/organizations/{organization_id}.json",
    tool="ticketing.organizations.update",
    params=OrganizationUpdateParams,
    response=OrganizationEnvelope,
    errors=("resource_missing", "parameter_invalid", "parameter_unknown"),
)
def update_organization(ctx: Context, p: OrganizationUpdateParams) -> Any:
    """Update an organization (``organization_fields`` merge; ``tags`` replace the list)."""
    org = require_organization(ctx)
    f = p.organization
    changes = without_nulls(Organization, {k: getattr(f, k) for k in f.model_fields_set - _READ_ONLY})
    if f.name is not None:
        _unique_name(ctx, f.name, org.id)
    else:
        changes.pop("name", None)
    if f.tags is not None:
        changes["tags"] = normalize_tags(f.tags)
    if f.organization_fields is not None:
        changes["organization_fields"] = {**org.organization_fields, **f.organization_fields}
    new = org.model_copy(update=changes)
    if new != org:
        new = new.model_copy(update={"updated_at": now_dt(ctx)})
        ctx.update("organizations", new)
    return {"organization": new}


@router.delete(
    "/api/v2/organizations/{organization_id}.json", tool="ticketing.organizations.delete", status=204, errors=_404
)
def delete_organization(ctx: Context, p: None) -> Any:
    """Delete an organization; its users and tickets are kept, without it."""
    org = require_organization(ctx)
    for table in ("users", "tickets"):
        for row in ctx.all(table):
            if row.organization_id == org.id:
                ctx.update(table, row.model_copy(update={"organization_id": None}))
    ctx.delete("organizations", org.id)  # type: ignore[arg-type]  # numeric ids
    return Reply(None, status=204)
