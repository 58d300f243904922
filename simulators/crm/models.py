"""HubSpot-shaped resources (CRM v3 objects, v4 associations) and request parameters.

Every object type (contacts, companies, deals, notes) is stored as a :class:`CrmObject`:
``{"id": "123", "properties": {...}, "createdAt", "updatedAt", "archived"}``, ids numeric
strings, property values strings. Objects are frozen; handlers replace them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

Scalar = str | int | float | bool | None
ObjectId = Annotated[
    str,
    BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v),
    Field(min_length=1, max_length=40),
]
PropName = Annotated[str, Field(min_length=1, max_length=100)]


def _names(value: Any) -> Any:
    """``properties=a,b`` or ``properties=a&properties=b`` (the SDK's form) -> a list."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [v.strip() for item in value if isinstance(item, str) for v in item.split(",") if v.strip()] + [
            item for item in value if not isinstance(item, str)
        ]
    return value


Names = Annotated[list[PropName], BeforeValidator(_names), Field(max_length=200)]


class HubSpotModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


# ----------------------------------------------------------------- resources
class CrmObject(HubSpotModel):
    id: Annotated[
        str,
        BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v),
        Field(pattern=r"^[1-9][0-9]{0,17}$"),
    ]
    properties: dict[str, str | None]
    createdAt: datetime
    updatedAt: datetime
    archived: bool = False
    archivedAt: datetime | None = None


class Association(HubSpotModel):
    """One association between two objects, stored in the direction it was made; reading it from
    the other side answers the inverse type (note->contact 202 is contact->note 201)."""

    id: str
    from_type: str
    from_id: ObjectId
    to_type: str
    to_id: ObjectId
    type_id: int
    category: Literal["HUBSPOT_DEFINED", "USER_DEFINED"] = "HUBSPOT_DEFINED"
    createdAt: datetime


# ----------------------------------------------------------------- answers
class AssociatedId(BaseModel):
    id: str
    type: str


class AssociatedIds(BaseModel):
    results: list[AssociatedId]


class SimplePublicObject(BaseModel):
    id: str
    properties: dict[str, str | None]
    createdAt: datetime
    updatedAt: datetime
    archived: bool = False
    archivedAt: datetime | None = None
    associations: dict[str, AssociatedIds] | None = None


class NextPage(BaseModel):
    after: str
    link: str | None = None


class Paging(BaseModel):
    next: NextPage | None = None


class ObjectPage(BaseModel):
    results: list[SimplePublicObject]
    paging: Paging | None = None


class SearchPage(BaseModel):
    total: int
    results: list[SimplePublicObject]
    paging: Paging | None = None


class BatchError(BaseModel):
    status: str
    category: str
    message: str
    context: dict[str, list[str]] | None = None
    links: dict[str, str] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BatchResult(BaseModel):
    status: Literal["PENDING", "PROCESSING", "CANCELED", "COMPLETE"]
    results: list[SimplePublicObject]
    startedAt: datetime
    completedAt: datetime
    numErrors: int | None = None
    errors: list[BatchError] | None = None


class SimplePublicUpsertObject(SimplePublicObject):
    new: bool  # created by this upsert (False: an existing object was updated)


class BatchUpsertResult(BaseModel):
    status: Literal["PENDING", "PROCESSING", "CANCELED", "COMPLETE"]
    results: list[SimplePublicUpsertObject]
    startedAt: datetime
    completedAt: datetime


class AssociationSpec(BaseModel):
    associationCategory: Literal["HUBSPOT_DEFINED", "USER_DEFINED"]
    associationTypeId: int


class IdRef(BaseModel):
    id: str


class DefaultAssociation(BaseModel):
    # "from" is a Python keyword
    from_: IdRef = Field(alias="from")
    to: IdRef
    associationSpec: AssociationSpec

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class DefaultAssociationResult(BaseModel):
    status: Literal["COMPLETE"]
    results: list[DefaultAssociation]
    startedAt: datetime
    completedAt: datetime


class AssociationLabel(BaseModel):
    category: Literal["HUBSPOT_DEFINED", "USER_DEFINED"]
    typeId: int
    label: str | None = None


class AssociatedObject(BaseModel):
    #: a string, as the v4 spec says (the SDK reads it as one)
    toObjectId: str
    associationTypes: list[AssociationLabel]


class AssociationPage(BaseModel):
    results: list[AssociatedObject]
    paging: Paging | None = None


class LabelsBetweenObjectPair(BaseModel):
    fromObjectTypeId: str
    fromObjectId: str
    toObjectTypeId: str
    toObjectId: str
    labels: list[str]


class AssociationsOfObject(BaseModel):
    from_: IdRef = Field(alias="from")
    to: list[AssociatedObject]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class AssociationBatchResult(BaseModel):
    status: Literal["COMPLETE"]
    results: list[AssociationsOfObject]
    startedAt: datetime
    completedAt: datetime
    numErrors: int | None = None
    errors: list[BatchError] | None = None


class AssociatedObjectV3(BaseModel):
    id: str
    type: str


class AssociationPageV3(BaseModel):
    results: list[AssociatedObjectV3]
    paging: Paging | None = None


# -------------------------------------------------------------------- params
class Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ReadParams(Params):
    properties: Names | None = None
    propertiesWithHistory: Names | None = None
    associations: Names | None = None
    archived: bool = False
    idProperty: PropName | None = None


class ListParams(Params):
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    after: Annotated[str, Field(max_length=40)] | None = None
    properties: Names | None = None
    propertiesWithHistory: Names | None = None
    associations: Names | None = None
    archived: bool = False


class AssociationTypeInput(Params):
    associationCategory: Literal["HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"]
    associationTypeId: Annotated[int, Field(ge=0, le=2**31)]


class AssociationTarget(Params):
    id: ObjectId


class AssociationInput(Params):
    to: AssociationTarget
    types: list[AssociationTypeInput] = Field(min_length=1, max_length=10)


class CreateParams(Params):
    properties: dict[PropName, Scalar] = Field(max_length=500)
    associations: list[AssociationInput] = Field(default=[], max_length=100)


class UpdateParams(Params):
    properties: dict[PropName, Scalar] = Field(max_length=500)


class Filter(Params):
    propertyName: PropName
    operator: Literal[
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    ]
    value: Scalar = None
    highValue: Scalar = None
    values: list[Scalar] | None = Field(default=None, max_length=100)


class FilterGroup(Params):
    filters: list[Filter] = Field(max_length=6)


class Sort(Params):
    propertyName: PropName
    direction: Literal["ASCENDING", "DESCENDING"] = "ASCENDING"


class SearchParams(Params):
    filterGroups: list[FilterGroup] = Field(default=[], max_length=5)
    sorts: list[Annotated[str, Field(min_length=1, max_length=101)] | Sort] = Field(default=[], max_length=5)
    query: Annotated[str, Field(max_length=3000)] | None = None
    properties: list[PropName] = Field(default=[], max_length=200)
    limit: Annotated[int, Field(ge=1, le=200)] = 10
    after: Annotated[str, Field(max_length=10)] | Annotated[int, Field(ge=0)] | None = None


class BatchId(Params):
    id: ObjectId


class BatchReadParams(Params):
    inputs: list[BatchId] = Field(max_length=100)
    properties: list[PropName] = Field(default=[], max_length=200)
    propertiesWithHistory: list[PropName] = Field(default=[], max_length=200)
    idProperty: PropName | None = None


class BatchCreateParams(Params):
    inputs: list[CreateParams] = Field(max_length=100)


class BatchUpdateInput(Params):
    id: ObjectId
    properties: dict[PropName, Scalar] = Field(max_length=500)
    idProperty: PropName | None = None


class BatchUpdateParams(Params):
    inputs: list[BatchUpdateInput] = Field(max_length=100)


class BatchUpsertInput(Params):
    """``id`` is the value of ``idProperty`` (an email, say), or the record id without one."""

    id: Annotated[
        str,
        BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v),
        Field(min_length=1, max_length=255),
    ]
    properties: dict[PropName, Scalar] = Field(max_length=500)
    idProperty: PropName | None = None
    objectWriteTraceId: Annotated[str, Field(max_length=100)] | None = None


class BatchUpsertParams(Params):
    inputs: list[BatchUpsertInput] = Field(max_length=100)


class BatchArchiveParams(Params):
    inputs: list[BatchId] = Field(max_length=100)


class LabelledAssociationParams(Params):
    """The labelled v4 PUT's body is a JSON array of types; the simulator reads it as ``types``."""

    types: list[AssociationTypeInput] = Field(min_length=1, max_length=10)


class AssociationBatchReadInput(Params):
    id: ObjectId
    after: Annotated[str, Field(max_length=40)] | None = None


class AssociationBatchReadParams(Params):
    inputs: list[AssociationBatchReadInput] = Field(min_length=1, max_length=1000)


class AssociationListParams(Params):
    limit: Annotated[int, Field(ge=1, le=500)] = 500
    after: Annotated[str, Field(max_length=40)] | None = None


# ------------------------------------------------------------------- errors
class ErrorDetail(BaseModel):
    message: str
    code: str | None = None
    context: dict[str, list[str]] | None = None
    subCategory: str | None = None


class HubSpotError(BaseModel):
    """HubSpot's error object: ``category`` is the class (``VALIDATION_ERROR``,
    ``OBJECT_NOT_FOUND``, ``CONFLICT``...), ``errors[].code`` the simulator's stable code or a
    HubSpot property error (``PROPERTY_DOESNT_EXIST``, ``INVALID_OPTION``...)."""

    status: Literal["error"]
    message: str
    correlationId: str
    category: str
    subCategory: str | None = None
    errors: list[ErrorDetail] | None = None
    context: dict[str, list[str]] | None = None
    links: dict[str, str] | None = None
