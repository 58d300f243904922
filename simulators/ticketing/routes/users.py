"""Users: list, show, me, create."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context, Reply

from ..exceptions import invalid
from ..models import (
    ShowParams,
    User,
    UserCreateParams,
    UserEnvelope,
    UserList,
    UserListParams,
)
from ._common import (
    int_id,
    me,
    normalize_tags,
    now_dt,
    paged,
    router,
    user_by_email,
    user_by_id,
)


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
