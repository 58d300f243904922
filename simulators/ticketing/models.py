"""Zendesk-shaped resources (Support API v2) and request parameters.

Resources are frozen: handlers build a new object with ``model_copy(update=...)`` so the
ledger's before/after and snapshots stay exact. Ids are integers, timestamps ISO 8601 in UTC
(``2025-01-01T00:00:00Z``), and every write goes through a ``{"ticket": {...}}`` envelope.

The request parameters are in :mod:`simulators.ticketing.params`; their names still answer here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["new", "open", "pending", "hold", "solved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
TicketType = Literal["question", "incident", "problem", "task"]
Role = Literal["end-user", "agent", "admin"]

#: Zendesk's order of statuses and priorities, for ``status<solved`` and ``priority>normal``
STATUS_ORDER: dict[str, int] = {"new": 0, "open": 1, "pending": 2, "hold": 3, "solved": 4, "closed": 5}
PRIORITY_ORDER: dict[str, int] = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
#: the default custom ticket status of each status category (Zendesk creates one per category)
CUSTOM_STATUS_IDS: dict[str, int] = {"new": 1, "open": 2, "pending": 3, "hold": 4, "solved": 5, "closed": 5}


class ZendeskModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


# ----------------------------------------------------------------- resources
class Via(ZendeskModel):
    channel: str = "api"
    source: dict[str, Any] = {"from": {}, "to": {}, "rel": None}


class CustomField(ZendeskModel):
    id: int
    value: Any = None


class Ticket(ZendeskModel):
    id: int
    url: str
    external_id: str | None = None
    type: TicketType | None = None
    subject: str | None = None
    raw_subject: str | None = None
    description: str = ""
    priority: Priority | None = None
    status: Status = "new"
    recipient: str | None = None
    requester_id: int
    submitter_id: int
    assignee_id: int | None = None
    organization_id: int | None = None
    group_id: int | None = None
    collaborator_ids: list[int] = Field(default_factory=list)
    follower_ids: list[int] = Field(default_factory=list)
    email_cc_ids: list[int] = Field(default_factory=list)
    problem_id: int | None = None
    has_incidents: bool = False
    is_public: bool = True
    due_at: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: list[CustomField] = Field(default_factory=list)
    #: the ticket's custom ticket status (Zendesk's defaults: one per status category, see
    #: ``CUSTOM_STATUS_IDS``); follows ``status`` unless set
    custom_status_id: int | None = None
    ticket_form_id: int | None = None
    followup_ids: list[int] = Field(default_factory=list)
    satisfaction_rating: dict[str, Any] | None = None
    sharing_agreement_ids: list[int] = Field(default_factory=list)
    brand_id: int | None = None
    allow_channelback: bool = False
    allow_attachments: bool = True
    from_messaging_channel: bool = False
    via: Via = Field(default_factory=Via)
    created_at: datetime
    updated_at: datetime


class Comment(ZendeskModel):
    id: int
    type: Literal["Comment"] = "Comment"
    #: the ticket the comment belongs to (not in Zendesk's JSON; kept for assertions)
    ticket_id: int
    author_id: int
    body: str
    html_body: str = ""
    plain_body: str = ""
    public: bool = True
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    audit_id: int | None = None
    via: Via = Field(default_factory=Via)
    #: ``system`` (client, ip_address, location...) and ``custom``, as Zendesk records them
    metadata: dict[str, Any] = {"system": {}, "custom": {}}
    created_at: datetime


class User(ZendeskModel):
    id: int
    url: str
    name: str
    email: str | None = None
    role: Role = "end-user"
    active: bool = True
    verified: bool = False
    suspended: bool = False
    organization_id: int | None = None
    phone: str | None = None
    external_id: str | None = None
    time_zone: str = "UTC"
    locale: str = "en-US"
    details: str | None = None
    notes: str | None = None
    tags: list[str] = Field(default_factory=list)
    user_fields: dict[str, Any] = Field(default_factory=dict)
    alias: str | None = None
    signature: str | None = None
    locale_id: int = 1
    iana_time_zone: str = "Etc/UTC"
    #: Zendesk's role_type: None for end-users and plain agents, 0 custom, 1 light, 2 chat, 4 admin...
    role_type: int | None = None
    custom_role_id: int | None = None
    default_group_id: int | None = None
    moderator: bool = False
    only_private_comments: bool = False
    restricted_agent: bool = True
    ticket_restriction: Literal["organization", "groups", "assigned", "requested"] | None = "requested"
    shared: bool = False
    shared_agent: bool = False
    shared_phone_number: bool | None = None
    chat_only: bool = False
    report_csv: bool = False
    two_factor_auth_enabled: bool | None = None
    photo: dict[str, Any] | None = None
    last_login_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Audit(ZendeskModel):
    id: int
    ticket_id: int
    author_id: int
    created_at: datetime
    metadata: dict[str, Any] = {"system": {}, "custom": {}}
    via: Via = Field(default_factory=Via)
    events: list[dict[str, Any]] = Field(default_factory=list)


# ---------------------------------------------------------------- envelopes
class TicketEnvelope(BaseModel):
    ticket: Ticket


class TicketAuditEnvelope(BaseModel):
    ticket: Ticket
    audit: Audit


class UserEnvelope(BaseModel):
    user: User


class CursorMeta(BaseModel):
    has_more: bool
    after_cursor: str | None = None
    before_cursor: str | None = None


class CursorLinks(BaseModel):
    next: str | None = None
    prev: str | None = None


class Paged(BaseModel):
    """Offset pagination (``next_page``/``previous_page``/``count``) or, with ``page[size]``,
    cursor pagination (``meta``/``links``)."""

    next_page: str | None = None
    previous_page: str | None = None
    count: int | None = None
    meta: CursorMeta | None = None
    links: CursorLinks | None = None


class TicketList(Paged):
    tickets: list[Ticket]


class CommentList(Paged):
    comments: list[Comment]


class UserList(Paged):
    users: list[User]


class TicketsEnvelope(BaseModel):
    tickets: list[Ticket]


class UsersEnvelope(BaseModel):
    users: list[User]


class JobResult(BaseModel):
    id: int
    action: str
    success: bool
    status: str | None = None


class JobStatus(BaseModel):
    """What Zendesk's bulk endpoints answer; the simulator runs the job at once (``completed``)."""

    id: str
    url: str
    job_type: str
    status: Literal["queued", "working", "failed", "completed", "killed"]
    total: int
    progress: int
    message: str | None = None
    results: list[JobResult]


class JobStatusEnvelope(BaseModel):
    job_status: JobStatus


class TagList(BaseModel):
    tags: list[str]


class TicketResult(Ticket):
    result_type: Literal["ticket"]


class UserResult(User):
    result_type: Literal["user"]


class SearchResults(BaseModel):
    results: list[TicketResult | UserResult]
    facets: Any = None
    next_page: str | None = None
    previous_page: str | None = None
    count: int


# ------------------------------------------------------------------- errors
class ErrorDetail(BaseModel):
    description: str
    error: str | None = None


class ZendeskError(BaseModel):
    """Zendesk's error object: ``error`` is its title (``RecordInvalid``, ``RecordNotFound``...)."""

    error: str
    description: str | None = None
    details: dict[str, list[ErrorDetail]] | None = None


def __getattr__(name: str) -> Any:
    """A request parameter's old import path (``from simulators.ticketing.models import ShowParams``)."""
    from . import params

    if name.startswith("__") or not hasattr(params, name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(params, name)
