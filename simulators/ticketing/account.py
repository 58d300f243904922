"""Zendesk's account-level resources: organizations, groups, macros and ticket fields.

They shape what an agent does with a ticket (which group to route to, which macro to apply,
which custom field holds the order number), so the simulator serves them read-only where an
agent only reads them (groups, macros, ticket fields: seeded by the test) and read-write where
agents write (organizations). Same conventions as :mod:`simulators.ticketing.models`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from .models import Paged, ZendeskModel
from .params import Id, ListParams, Params, Short, Tags, Text


# ----------------------------------------------------------------- resources
class Organization(ZendeskModel):
    id: int
    url: str
    name: str
    external_id: str | None = None
    details: str | None = None
    notes: str | None = None
    group_id: int | None = None
    shared_tickets: bool = False
    shared_comments: bool = False
    domain_names: list[str] = []
    tags: list[str] = []
    organization_fields: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime


class Group(ZendeskModel):
    id: int
    url: str
    name: str
    description: str = ""
    default: bool = False
    deleted: bool = False
    is_public: bool = True
    created_at: datetime
    updated_at: datetime


class Action(ZendeskModel):
    """A macro action: ``field`` is a ticket attribute (``status``, ``priority``, ``group_id``,
    ``assignee_id``, ``type``, ``set_tags``, ``current_tags``, ``remove_tags``), a comment
    (``comment_value``, ``comment_value_html``, ``comment_mode_is_public``) or ``custom_fields_<id>``."""

    field: str
    value: Any = None


class Macro(ZendeskModel):
    id: int
    url: str
    title: str
    raw_title: str | None = None
    description: str | None = None
    active: bool = True
    default: bool = False
    position: int = 0
    restriction: dict[str, Any] | None = None
    actions: list[Action]
    created_at: datetime
    updated_at: datetime


FieldType = Literal[
    "subject",
    "description",
    "status",
    "custom_status",
    "tickettype",
    "priority",
    "group",
    "assignee",
    "text",
    "textarea",
    "checkbox",
    "date",
    "integer",
    "decimal",
    "regexp",
    "partialcreditcard",
    "multiselect",
    "tagger",
    "lookup",
]


class FieldOption(ZendeskModel):
    id: int | None = None
    name: str
    raw_name: str | None = None
    value: str
    default: bool = False


class TicketField(ZendeskModel):
    id: int
    url: str
    type: FieldType
    title: str
    raw_title: str | None = None
    description: str = ""
    raw_description: str | None = None
    agent_description: str | None = None
    position: int = 0
    active: bool = True
    required: bool = False
    collapsed_for_agents: bool = False
    regexp_for_validation: str | None = None
    title_in_portal: str | None = None
    raw_title_in_portal: str | None = None
    visible_in_portal: bool = False
    editable_in_portal: bool = False
    required_in_portal: bool = False
    tag: str | None = None
    removable: bool = True
    key: str | None = None
    custom_field_options: list[FieldOption] | None = None
    system_field_options: list[FieldOption] | None = None
    sub_type_id: int = 0
    creator_user_id: int | None = None
    creator_app_name: str | None = None
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- envelopes
class OrganizationEnvelope(BaseModel):
    organization: Organization


class OrganizationList(Paged):
    organizations: list[Organization]


class GroupEnvelope(BaseModel):
    group: Group


class GroupList(Paged):
    groups: list[Group]


class MacroEnvelope(BaseModel):
    macro: Macro


class MacroList(Paged):
    macros: list[Macro]


class MacroComment(BaseModel):
    body: str | None = None
    html_body: str | None = None
    scoped_body: list[list[str]] = []
    public: bool = True


class MacroTicketChanges(BaseModel):
    """What applying a macro would change: only the attributes it sets, plus ``comment``."""

    model_config = {"extra": "allow"}

    id: int | None = None
    url: str | None = None
    comment: MacroComment | None = None


class MacroResult(BaseModel):
    ticket: MacroTicketChanges


class MacroApplyEnvelope(BaseModel):
    result: MacroResult


class TicketFieldEnvelope(BaseModel):
    ticket_field: TicketField


class TicketFieldList(Paged):
    ticket_fields: list[TicketField]


# -------------------------------------------------------------------- params
class OrganizationInput(Params):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    external_id: Short | None = None
    details: Text | None = None
    notes: Text | None = None
    group_id: Id | None = None
    shared_tickets: bool | None = None
    shared_comments: bool | None = None
    domain_names: list[Short] | None = Field(default=None, max_length=100)
    tags: Tags | None = None
    organization_fields: dict[str, Any] | None = None


class OrganizationCreateParams(Params):
    organization: OrganizationInput


class OrganizationUpdateInput(OrganizationInput):
    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None  # type: ignore[assignment]
    # read-only attributes of a fetched organization: accepted and ignored
    id: int | None = None
    url: str | None = None
    created_at: Any = None
    updated_at: Any = None


class OrganizationUpdateParams(Params):
    organization: OrganizationUpdateInput


MacroSort = Literal["alphabetical", "created_at", "updated_at", "usage_1h", "usage_24h", "usage_7d", "position"]


class MacroListParams(ListParams):
    active: bool | None = None
    access: Literal["personal", "agents", "shared", "account"] | None = None
    category: int | None = None
    group_id: Id | None = None
    include: Short | None = None
    only_viewable: bool | None = None
    sort_by: (
        Literal["alphabetical", "created_at", "updated_at", "usage_1h", "usage_24h", "usage_7d", "position"] | None
    ) = None
    sort_order: Literal["asc", "desc"] | None = None
