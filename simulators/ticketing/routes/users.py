"""Users: list, show, me, create, update, search, show_many."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context, Reply

from ..exceptions import invalid
from ..models import User, UserEnvelope, UserList, UsersEnvelope
from ..params import (
    ShowParams,
    UserCreateParams,
    UserListParams,
    UserSearchParams,
    UserShowManyParams,
    UserUpdateParams,
)
from ..search import Matcher, parse
from ._common import (
    int_id,
    me,
    normalize_tags,
    now_dt,
    paged,
    role_defaults,
    router,
    user_by_email,
    user_by_id,
    without_nulls,
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
    fields = {**role_defaults(u.role or "end-user"), **u.model_dump(exclude_none=True, exclude={"tags"})}
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


#: read-only attributes of a fetched user, accepted in an update and ignored
_READ_ONLY = frozenset(
    {"id", "url", "created_at", "updated_at", "active", "shared", "shared_agent", "role_type", "custom_role_id"}
    | {"iana_time_zone", "last_login_at", "photo", "chat_only", "report_csv", "two_factor_auth_enabled"}
    | {"shared_phone_number"}
)


@router.put(
    "/api/v2/users/{user_id}.json",
    tool="ticketing.users.update",
    params=UserUpdateParams,
    response=UserEnvelope,
    errors=("resource_missing", "email_taken", "parameter_invalid", "parameter_unknown"),
)
def update_user(ctx: Context, p: UserUpdateParams) -> Any:
    """Update a user: the attributes sent change (``tags`` replace the list); emails stay unique."""
    user: User = show_user(ctx, ShowParams())["user"]
    u = p.user
    changes = without_nulls(User, {k: getattr(u, k) for k in u.model_fields_set - _READ_ONLY})
    if u.email is not None:
        other = user_by_email(ctx, u.email)
        if other is not None and other.id != user.id:
            raise invalid("email_taken", "email", f"Email: {u.email} is already being used by another user")
    if u.tags is not None:
        changes["tags"] = normalize_tags(u.tags)
    if u.role is not None and u.role != user.role:
        changes = {**role_defaults(u.role), **changes}
    new = user.model_copy(update=changes)
    if new != user:
        new = new.model_copy(update={"updated_at": now_dt(ctx)})
        ctx.update("users", new)
    return {"user": new}


@router.get(
    "/api/v2/users/search.json",
    tool="ticketing.users.search",
    params=UserSearchParams,
    response=UserList,
    errors=("parameter_missing", "parameter_invalid", "pagination_invalid"),
)
def search_users(ctx: Context, p: UserSearchParams) -> Any:
    """Users matching ``query`` (``ada``, ``email:ada@example.com``, ``role:agent``...) or ``external_id``."""
    if p.query is None and p.external_id is None:
        raise invalid("parameter_missing", "query", "Send `query` or `external_id`.")
    rows = _users(ctx)
    if p.external_id is not None:
        rows = [u for u in rows if u.external_id == p.external_id]
    if p.query is not None:
        matcher = Matcher(parse(p.query), {u.id: u for u in rows}, {}, now_dt(ctx), me(ctx).id)
        rows = [u for u in rows if matcher.user(u)]
    query = {"query": p.query, "external_id": p.external_id}
    return paged(ctx, rows, p, "users", "/api/v2/users/search.json", query)


@router.get(
    "/api/v2/users/show_many.json",
    tool="ticketing.users.show_many",
    params=UserShowManyParams,
    response=UsersEnvelope,
    errors=("parameter_invalid", "parameter_missing"),
)
def show_many_users(ctx: Context, p: UserShowManyParams) -> Any:
    """Up to 100 users by ``ids=1,2`` or ``external_ids=a,b``; unknown ones are left out."""
    if p.ids is None and p.external_ids is None:
        raise invalid("parameter_missing", "ids", "Send `ids` or `external_ids`.")
    rows = _users(ctx)
    if p.ids is not None:
        by_id = {u.id: u for u in rows}
        return {"users": [by_id[i] for i in dict.fromkeys(p.ids) if i in by_id]}
    wanted = [e for e in (p.external_ids or "").split(",") if e]
    return {"users": [u for u in rows if u.external_id in wanted]}
