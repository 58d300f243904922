"""Associations: v4 (default, labelled, list, remove, batch read) and the v3 per-object form."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context, Reply

from ..models import (
    AssociationBatchReadParams,
    AssociationBatchResult,
    AssociationListParams,
    AssociationPage,
    AssociationPageV3,
    CrmObject,
    DefaultAssociationResult,
    LabelledAssociationParams,
    LabelsBetweenObjectPair,
    SimplePublicObject,
)
from ..properties import (
    iso,
)
from ._common import (
    INVERSE,
    LABELS,
    PAIRS,
    TYPE_IDS,
    after_id,
    associate,
    associations_field,
    check_type,
    dissociate,
    find,
    link,
    links_of,
    now_dt,
    object_type,
    render,
    router,
    type_name,
)


def _pair_path(ctx: Context, from_key: str, from_id_key: str, to_key: str) -> tuple[str, CrmObject, str]:
    from_type = object_type(ctx.path[from_key], from_key)
    to_type = object_type(ctx.path[to_key], to_key)
    source = find(ctx, from_type, ctx.path[from_id_key])
    if (from_type, to_type) not in PAIRS:
        raise SimError(
            "association_invalid", f"{from_type} cannot be associated with {to_type}.", param=to_key, status=400
        )
    return from_type, source, to_type


@router.put(
    "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}",
    tool="crm.associations.create",
    response=DefaultAssociationResult,
    errors=("resource_missing", "object_type_invalid", "association_invalid"),
)
def create_default_association(ctx: Context, p: None) -> Any:
    """Associate two objects with the default (unlabeled) type, both ways."""
    from_type, source, to_type = _pair_path(ctx, "fromObjectType", "fromObjectId", "toObjectType")
    target = find(ctx, to_type, ctx.path["toObjectId"])
    type_id = PAIRS[(from_type, to_type)][0]
    associate(ctx, from_type, source.id, to_type, target.id, type_id)
    when = iso(now_dt(ctx))
    return {
        "status": "COMPLETE",
        "results": [
            {
                "from": {"id": source.id},
                "to": {"id": target.id},
                "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
            },
            {
                "from": {"id": target.id},
                "to": {"id": source.id},
                "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": INVERSE[type_id]},
            },
        ],
        "startedAt": when,
        "completedAt": when,
    }


def _page_of(ctx: Context, items: list[Any], p: AssociationListParams, path: str) -> dict[str, Any]:
    start = after_id(p.after)
    window = items[start : start + p.limit]
    out: dict[str, Any] = {"results": window}
    if start + p.limit < len(items):
        cursor = str(start + p.limit)
        out["paging"] = {"next": {"after": cursor, "link": link(ctx, path, {"after": cursor, "limit": p.limit})}}
    return out


@router.get(
    "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}",
    tool="crm.associations.list",
    params=AssociationListParams,
    response=AssociationPage,
    errors=("resource_missing", "object_type_invalid", "association_invalid", "parameter_invalid"),
)
def list_associations(ctx: Context, p: AssociationListParams) -> Any:
    """The objects of ``toObjectType`` associated with an object, with their association types."""
    t, source, to_type = _pair_path(ctx, "objectType", "objectId", "toObjectType")
    items = associated_objects(ctx, t, source.id, to_type)
    return _page_of(ctx, items, p, f"/crm/v4/objects/{t}/{source.id}/associations/{to_type}")


def associated_objects(ctx: Context, t: str, ident: str, to_type: str) -> list[dict[str, Any]]:
    """v4's ``[{toObjectId, associationTypes: [{category, typeId, label}]}]`` (ids as strings)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for other, type_id, category in links_of(ctx, t, ident, to_type):
        grouped.setdefault(other, []).append({"category": category, "typeId": type_id, "label": LABELS.get(type_id)})
    return [{"toObjectId": other, "associationTypes": types} for other, types in grouped.items()]


@router.put(
    "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}",
    tool="crm.associations.create_labelled",
    params=LabelledAssociationParams,
    response=LabelsBetweenObjectPair,
    status=201,
    errors=("resource_missing", "object_type_invalid", "association_invalid", "parameter_invalid"),
)
def create_labelled_association(ctx: Context, p: LabelledAssociationParams) -> Any:
    """Associate two objects with the given types (a JSON array of ``{associationCategory,
    associationTypeId}``, e.g. 1 for a contact's primary company); answers the labels between them."""
    t, source, to_type = _pair_path(ctx, "objectType", "objectId", "toObjectType")
    target = find(ctx, to_type, ctx.path["toObjectId"])
    for spec in p.types:
        associate(ctx, t, source.id, to_type, target.id, spec.associationTypeId)
    labels = [LABELS[i] for _, i, _ in links_of(ctx, t, source.id, to_type) if i in LABELS]
    body = {
        "fromObjectTypeId": TYPE_IDS[t],
        "fromObjectId": source.id,
        "toObjectTypeId": TYPE_IDS[to_type],
        "toObjectId": target.id,
        "labels": sorted(set(labels)),
    }
    return Reply(body, status=201)


@router.post(
    "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read",
    tool="crm.associations.batch_read",
    kind="read",
    params=AssociationBatchReadParams,
    response=AssociationBatchResult,
    status=(200, 207),
    errors=("object_type_invalid", "association_invalid", "parameter_invalid"),
)
def batch_read_associations(ctx: Context, p: AssociationBatchReadParams) -> Any:
    """The associations of many objects at once; ids that do not exist are named in a 207."""
    t = object_type(ctx.path["fromObjectType"], "fromObjectType")
    to_type = object_type(ctx.path["toObjectType"], "toObjectType")
    if (t, to_type) not in PAIRS:
        raise SimError("association_invalid", f"{t} cannot be associated with {to_type}.", status=400)
    results, missing = [], []
    for item in p.inputs:
        obj = ctx.get(t, item.id)
        if obj is None or obj.archived:
            missing.append(item.id)
            continue
        results.append({"from": {"id": obj.id}, "to": associated_objects(ctx, t, obj.id, to_type)})
    when = iso(now_dt(ctx))
    out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": when, "completedAt": when}
    if not missing:
        return out
    error = {"status": "error", "category": "OBJECT_NOT_FOUND", "message": f"No {t} with these ids.",
             "context": {"ids": missing}, "links": {}, "errors": []}  # fmt: skip
    return Reply({**out, "numErrors": 1, "errors": [error]}, status=207)


@router.delete(
    "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}",
    tool="crm.associations.delete",
    status=204,
    errors=("resource_missing", "object_type_invalid", "association_invalid"),
)
def delete_associations(ctx: Context, p: None) -> Any:
    """Remove every association between two objects."""
    t, source, to_type = _pair_path(ctx, "objectType", "objectId", "toObjectType")
    dissociate(ctx, t, source.id, to_type, ctx.path["toObjectId"])
    return Reply(None, status=204)


def _v3_type(from_type: str, to_type: str, raw: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) < 10:
        type_id = int(raw)
    else:
        default, primary = PAIRS[(from_type, to_type)]
        names = {type_name(from_type, to_type, default): default}
        if primary is not None:
            names[type_name(from_type, to_type, primary)] = primary
        if raw.lower() not in names:
            raise SimError(
                "association_invalid",
                f"Unknown association type {raw!r} from {from_type} to {to_type}.",
                param="associationType",
                status=400,
            )
        type_id = names[raw.lower()]
    check_type(from_type, to_type, type_id)
    return type_id


@router.put(
    "/crm/v3/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}/{associationType}",
    tool="crm.associations.create_v3",
    response=SimplePublicObject,
    errors=("resource_missing", "object_type_invalid", "association_invalid"),
)
def create_association_v3(ctx: Context, p: None) -> Any:
    """Associate two objects with a given type (a type id like ``279`` or a name like
    ``contact_to_company``); answers the object with its associations of that type."""
    t, source, to_type = _pair_path(ctx, "objectType", "objectId", "toObjectType")
    target = find(ctx, to_type, ctx.path["toObjectId"])
    type_id = _v3_type(t, to_type, ctx.path["associationType"])
    associate(ctx, t, source.id, to_type, target.id, type_id)
    return render(source, t, None, associations_field(ctx, t, source.id, [to_type]))


@router.get(
    "/crm/v3/objects/{objectType}/{objectId}/associations/{toObjectType}",
    tool="crm.associations.list_v3",
    params=AssociationListParams,
    response=AssociationPageV3,
    errors=("resource_missing", "object_type_invalid", "association_invalid", "parameter_invalid"),
)
def list_associations_v3(ctx: Context, p: AssociationListParams) -> Any:
    """The associated ids of ``toObjectType`` with their type names (v3 form)."""
    t, source, to_type = _pair_path(ctx, "objectType", "objectId", "toObjectType")
    items = [
        {"id": other, "type": type_name(t, to_type, type_id)}
        for other, type_id, _ in links_of(ctx, t, source.id, to_type)
    ]
    return _page_of(ctx, items, p, f"/crm/v3/objects/{t}/{source.id}/associations/{to_type}")


@router.delete(
    "/crm/v3/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}/{associationType}",
    tool="crm.associations.delete_v3",
    status=204,
    errors=("resource_missing", "object_type_invalid", "association_invalid"),
)
def delete_association_v3(ctx: Context, p: None) -> Any:
    """Remove one association type between two objects."""
    t, source, to_type = _pair_path(ctx, "objectType", "objectId", "toObjectType")
    type_id = _v3_type(t, to_type, ctx.path["associationType"])
    dissociate(ctx, t, source.id, to_type, ctx.path["toObjectId"], type_id)
    return Reply(None, status=204)
