"""Groups (read): the teams a ticket is routed to (``group_id``); seeded by the test."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..account import Group, GroupEnvelope, GroupList
from ..params import ListParams, ShowParams
from ._common import get_row, int_id, paged, router


@router.get(
    "/api/v2/groups.json",
    tool="ticketing.groups.list",
    params=ListParams,
    response=GroupList,
    errors=("pagination_invalid",),
)
def list_groups(ctx: Context, p: ListParams) -> Any:
    """List the groups that are not deleted, by id."""
    rows = sorted((g for g in ctx.all("groups") if not g.deleted), key=lambda g: g.id, reverse=p.sort_order == "desc")
    return paged(ctx, rows, p, "groups", "/api/v2/groups.json")


@router.get(
    "/api/v2/groups/{group_id}.json",
    tool="ticketing.groups.retrieve",
    params=ShowParams,
    response=GroupEnvelope,
    errors=("resource_missing",),
)
def show_group(ctx: Context, p: ShowParams) -> Any:
    """Show a group."""
    raw = ctx.path["group_id"]
    group: Group | None = get_row(ctx, "groups", int_id(raw))
    if group is None:
        raise SimError("resource_missing", f"No such group: {raw}", param="group_id")
    return {"group": group}
