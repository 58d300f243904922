"""Request parameters of the Zendesk-shaped API (Support API v2), and the limits on their values.

Request models refuse attributes they do not know (Zendesk silently ignores them), so a typo
in an agent's tool call surfaces as a 422 naming the attribute; the read-only attributes of a
ticket (``id``, ``url``, ``created_at``...) are accepted and ignored, so a fetched ticket can be
sent back as is. The resources they create are in :mod:`simulators.ticketing.models`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .models import Priority, Role, Status, TicketType

Id = Annotated[int, Field(ge=1, le=2**53)]
Text = Annotated[str, Field(max_length=65_535)]
Short = Annotated[str, Field(max_length=255)]


def _tag_list(value: Any) -> Any:
    # Zendesk also takes a space-separated string of tags
    if isinstance(value, str):
        return value.split()
    return value


Tags = Annotated[list[Annotated[str, Field(max_length=255)]], BeforeValidator(_tag_list), Field(max_length=200)]


class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ShowParams(Params):
    #: Zendesk's side-loads (``include=users``) are accepted and not expanded
    include: Short | None = None
    #: paging a single object means nothing; zenpy sends ``page[size]`` with every ``GET``
    page: int | dict[str, str] | None = None


class CursorPage(Params):
    size: Annotated[int, Field(ge=1, le=100)] = 100
    after: Annotated[str, Field(max_length=200)] | None = None
    before: Annotated[str, Field(max_length=200)] | None = None


class ListParams(Params):
    #: ``page=2`` (offset) or ``page[size]=25&page[after]=...`` (cursor)
    page: Annotated[int, Field(ge=1, le=100_000)] | CursorPage | None = None
    #: at most 100 (larger values are clamped, as Zendesk does)
    per_page: Annotated[int, Field(ge=1, le=100_000)] = 100
    sort_order: Literal["asc", "desc"] | None = None


class TicketListParams(ListParams):
    sort_by: Literal["id", "created_at", "updated_at", "status", "priority"] | None = None
    external_id: Short | None = None


class CommentListParams(ListParams):
    include_inline_images: bool | None = None
    include: Short | None = None


class UserListParams(ListParams):
    role: Role | list[Role] | None = None


class CommentInput(Params):
    body: Text | None = None
    html_body: Text | None = None
    public: bool = True
    author_id: Id | None = None


class RequesterInput(Params):
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    name: Short | None = None
    locale_id: int | None = None


class CustomFieldInput(Params):
    id: Id
    value: Any = None


class _TicketWritable(Params):
    subject: Short | None = None
    comment: CommentInput | None = None
    priority: Priority | None = None
    type: TicketType | None = None
    assignee_id: Id | None = None
    assignee_email: Short | None = None
    group_id: Id | None = None
    organization_id: Id | None = None
    requester_id: Id | None = None
    requester: RequesterInput | None = None
    tags: Tags | None = None
    external_id: Short | None = None
    due_at: datetime | None = None
    custom_fields: list[CustomFieldInput] | None = Field(default=None, max_length=100)
    collaborator_ids: list[Id] | None = Field(default=None, max_length=100)
    problem_id: Id | None = None
    recipient: Short | None = None
    brand_id: Id | None = None
    custom_status_id: Id | None = None
    ticket_form_id: Id | None = None
    # read-only attributes of a fetched ticket: accepted and ignored
    id: int | None = None
    url: str | None = None
    created_at: Any = None
    updated_at: Any = None
    via: Any = None
    raw_subject: Any = None
    has_incidents: Any = None
    is_public: Any = None
    satisfaction_rating: Any = None
    sharing_agreement_ids: Any = None
    follower_ids: Any = None
    email_cc_ids: Any = None
    allow_channelback: Any = None
    allow_attachments: Any = None
    from_messaging_channel: Any = None
    followup_ids: Any = None


class TicketCreateFields(_TicketWritable):
    status: Literal["new", "open", "pending", "hold", "solved"] | None = None
    #: used as the first comment when ``comment`` is absent (zenpy's ``Ticket(description=...)``)
    description: Text | None = None
    submitter_id: Id | None = None


class TicketUpdateFields(_TicketWritable):
    #: any status may be asked for; the service rules decide (``closed`` is refused)
    status: Status | None = None
    additional_tags: Tags | None = None
    remove_tags: Tags | None = None
    description: Any = None
    submitter_id: Any = None


class TicketCreateParams(Params):
    ticket: TicketCreateFields


class TicketUpdateParams(Params):
    ticket: TicketUpdateFields


class TagsParams(Params):
    tags: Tags


class SearchFilter(Params):
    type: Literal["ticket", "user", "organization", "group"] | None = None


class SearchParams(Params):
    query: Annotated[str, Field(max_length=2000)]
    sort_by: Literal["created_at", "updated_at", "priority", "status", "ticket_type"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100_000)] = 100
    filter: SearchFilter | None = None
    include: Short | None = None


class UserInput(Params):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    role: Role | None = None
    phone: Short | None = None
    organization_id: Id | None = None
    external_id: Short | None = None
    details: Text | None = None
    notes: Text | None = None
    tags: Tags | None = None
    verified: bool | None = None
    time_zone: Short | None = None
    locale: Short | None = None
    locale_id: Id | None = None
    alias: Short | None = None
    signature: Text | None = None
    default_group_id: Id | None = None
    moderator: bool | None = None
    only_private_comments: bool | None = None
    restricted_agent: bool | None = None
    ticket_restriction: Literal["organization", "groups", "assigned", "requested"] | None = None
    user_fields: dict[str, Any] | None = None
    suspended: bool | None = None


class UserCreateParams(Params):
    user: UserInput


class UserUpdateInput(UserInput):
    """Every attribute optional; the read-only ones of a fetched user are accepted and ignored."""

    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None  # type: ignore[assignment]
    id: int | None = None
    url: str | None = None
    created_at: Any = None
    updated_at: Any = None
    active: Any = None
    shared: Any = None
    shared_agent: Any = None
    role_type: Any = None
    custom_role_id: Any = None
    iana_time_zone: Any = None
    last_login_at: Any = None
    photo: Any = None
    chat_only: Any = None
    report_csv: Any = None
    two_factor_auth_enabled: Any = None
    shared_phone_number: Any = None


class UserUpdateParams(Params):
    user: UserUpdateInput


def _id_list(value: Any) -> Any:
    # ``ids=1,2,3`` (Zendesk's form) or repeated ``ids=1&ids=2``
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return value


IdList = Annotated[list[Id], BeforeValidator(_id_list), Field(min_length=1, max_length=100)]


class ShowManyParams(Params):
    ids: IdList
    include: Short | None = None


class UserShowManyParams(Params):
    ids: IdList | None = None
    external_ids: Annotated[str, Field(max_length=4000)] | None = None
    include: Short | None = None


class UserSearchParams(ListParams):
    query: Annotated[str, Field(max_length=2000)] | None = None
    external_id: Short | None = None


class UpdateManyParams(Params):
    """``?ids=1,2`` with one ``ticket`` applied to each, or ``tickets`` each with its own ``id``."""

    ids: IdList | None = None


class TicketUpdateManyItem(TicketUpdateFields):
    id: Id


class TicketUpdateManyBody(Params):
    ids: IdList | None = None
    ticket: TicketUpdateFields | None = None
    tickets: list[TicketUpdateManyItem] | None = Field(default=None, min_length=1, max_length=100)
