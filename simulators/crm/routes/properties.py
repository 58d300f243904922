"""Properties (read): the definitions of an object type's properties, from the same table
(:mod:`simulators.crm.properties`) that validates every write, so what an agent reads here is
what the simulator accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..account import ModificationMetadata, Option, PropertyDefinition, PropertyList, PropertyReadParams
from ..properties import SCHEMAS, Prop, is_unique
from ._common import object_type, router

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_FIELD_TYPE = {
    "string": "text",
    "text": "textarea",
    "number": "number",
    "enumeration": "select",
    "datetime": "date",
    "date": "date",
    "bool": "booleancheckbox",
}
_GROUP = {"contacts": "contactinformation", "companies": "companyinformation", "deals": "dealinformation"}


def definition(t: str, prop: Prop, order: int) -> PropertyDefinition:
    kind = "string" if prop.type == "text" else prop.type
    options = [
        Option(label=o.replace("_", " ").capitalize(), value=o, displayOrder=i) for i, o in enumerate(prop.options)
    ]
    return PropertyDefinition(
        name=prop.name,
        label=prop.name.removeprefix("hs_").replace("_", " ").capitalize(),
        type=kind,
        fieldType=_FIELD_TYPE[prop.type],
        description="",
        groupName=_GROUP.get(t, f"{t.removesuffix('s')}information"),
        options=options,
        displayOrder=order,
        hasUniqueValue=is_unique(t, prop.name),
        hidden=False,
        hubspotDefined=True,
        calculated=False,
        externalOptions=False,
        formField=not prop.read_only,
        archived=False,
        modificationMetadata=ModificationMetadata(
            archivable=False, readOnlyDefinition=True, readOnlyValue=prop.read_only
        ),
        createdAt=_EPOCH,
        updatedAt=_EPOCH,
    )


@router.get(
    "/crm/v3/properties/{objectType}",
    tool="crm.properties.list",
    params=PropertyReadParams,
    response=PropertyList,
    errors=("object_type_invalid",),
)
def list_properties(ctx: Context, p: PropertyReadParams) -> Any:
    """Every property of an object type (``properties=a,b`` narrows the list)."""
    t = object_type(ctx.path["objectType"])
    wanted = {n.strip() for n in (p.properties or "").split(",") if n.strip()}
    defs = [definition(t, prop, i) for i, prop in enumerate(SCHEMAS[t].values())]
    return {"results": [d for d in defs if not wanted or d.name in wanted]}


@router.get(
    "/crm/v3/properties/{objectType}/{propertyName}",
    tool="crm.properties.retrieve",
    params=PropertyReadParams,
    response=PropertyDefinition,
    errors=("object_type_invalid", "resource_missing"),
)
def get_property(ctx: Context, p: PropertyReadParams) -> Any:
    """One property's definition (type, options of an enumeration, read-only or not)."""
    t = object_type(ctx.path["objectType"])
    name = ctx.path["propertyName"]
    props = list(SCHEMAS[t])
    if name not in props:
        raise SimError(
            "resource_missing", f'Property "{name}" does not exist on {t}.', param="propertyName", status=404
        )
    return definition(t, SCHEMAS[t][name], props.index(name))
