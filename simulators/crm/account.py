"""HubSpot's account-level APIs an agent reads: owners, pipelines with their stages, and the
property definitions of each object type (the answer models, and the stored owner)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from .models import HubSpotModel, Paging, Params


# ----------------------------------------------------------------- owners
class Team(BaseModel):
    id: str
    name: str
    primary: bool


class Owner(HubSpotModel):
    """A user who can own records (``hubspot_owner_id``); seeded by the test."""

    id: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,17}$")]
    email: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    userId: int | None = None
    userIdIncludingInactive: int | None = None
    type: Literal["PERSON", "QUEUE"] = "PERSON"
    teams: list[Team] = []
    archived: bool = False
    createdAt: datetime
    updatedAt: datetime


class OwnerPage(BaseModel):
    results: list[Owner]
    paging: Paging | None = None


class OwnerListParams(Params):
    email: Annotated[str, Field(max_length=254)] | None = None
    after: Annotated[str, Field(max_length=40)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    archived: bool = False


class OwnerReadParams(Params):
    idProperty: Literal["id", "userId"] = "id"
    archived: bool = False


# -------------------------------------------------------------- pipelines
class Stage(BaseModel):
    id: str
    label: str
    displayOrder: int
    metadata: dict[str, str]
    archived: bool = False
    createdAt: datetime
    updatedAt: datetime
    writePermissions: Literal["CRM_PERMISSIONS_ENFORCEMENT", "READ_ONLY", "INTERNAL_ONLY"] = (
        "CRM_PERMISSIONS_ENFORCEMENT"
    )


class Pipeline(BaseModel):
    id: str
    label: str
    displayOrder: int
    stages: list[Stage]
    archived: bool = False
    createdAt: datetime
    updatedAt: datetime


class PipelineList(BaseModel):
    results: list[Pipeline]


class StageList(BaseModel):
    results: list[Stage]


# ------------------------------------------------------------- properties
class Option(BaseModel):
    label: str
    value: str
    displayOrder: int
    hidden: bool = False


class ModificationMetadata(BaseModel):
    archivable: bool
    readOnlyDefinition: bool
    readOnlyValue: bool


class PropertyDefinition(BaseModel):
    name: str
    label: str
    type: Literal["string", "number", "date", "datetime", "enumeration", "bool"]
    fieldType: str
    description: str
    groupName: str
    options: list[Option]
    displayOrder: int
    hasUniqueValue: bool
    hidden: bool
    hubspotDefined: bool
    calculated: bool
    externalOptions: bool
    formField: bool
    archived: bool
    modificationMetadata: ModificationMetadata
    createdAt: datetime
    updatedAt: datetime


class PropertyList(BaseModel):
    results: list[PropertyDefinition]


class PropertyReadParams(Params):
    archived: bool = False
    properties: Annotated[str, Field(max_length=4000)] | None = None
    dataSensitivity: Literal["non_sensitive", "sensitive", "highly_sensitive"] | None = None
    locale: Annotated[str, Field(max_length=20)] | None = None
