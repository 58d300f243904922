"""The CRM v3 object endpoints, the same eleven for every object type: create, retrieve, update,
archive, list, search and the five batch operations.

Each object type gets its own routes, so each endpoint is its own tool (``crm.contacts.search``,
``crm.tickets.batch_update``...). A handler is built per type by one small factory each, and
:func:`register` adds them with the type's path, tool name and errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context, Reply

from ..models import (
    BatchArchiveParams,
    BatchCreateParams,
    BatchReadParams,
    BatchResult,
    BatchUpdateParams,
    BatchUpsertInput,
    BatchUpsertParams,
    BatchUpsertResult,
    CreateParams,
    CrmObject,
    ListParams,
    ObjectPage,
    ReadParams,
    SearchPage,
    SearchParams,
    SimplePublicObject,
    UpdateParams,
)
from ..properties import SCHEMAS, is_unique, iso
from ._common import (
    OBJECT_TYPES,
    SINGULAR,
    after_id,
    associations_field,
    create_object,
    find,
    link,
    now_dt,
    ordered,
    render,
    router,
    update_object,
    written_names,
)
from .search import search_objects

OBJ_ERRORS = ("resource_missing", "property_invalid", "parameter_invalid", "parameter_unknown")
Factory = Callable[[str], Callable[[Context, Any], Any]]


def _create(t: str) -> Callable[[Context, CreateParams], Any]:
    def create(ctx: Context, p: CreateParams) -> Any:
        obj = create_object(ctx, t, dict(p.properties), p.associations)
        return Reply(render(obj, t, written_names(t, p.properties)), status=201)

    return create


def _retrieve(t: str) -> Callable[[Context, ReadParams], Any]:
    def retrieve(ctx: Context, p: ReadParams) -> Any:
        obj = find(ctx, t, ctx.path["objectId"], archived=p.archived, id_property=p.idProperty)
        return render(obj, t, p.properties, associations_field(ctx, t, obj.id, p.associations))

    return retrieve


def _update(t: str) -> Callable[[Context, UpdateParams], Any]:
    def update(ctx: Context, p: UpdateParams) -> Any:
        obj = find(ctx, t, ctx.path["objectId"])
        return render(update_object(ctx, t, obj, dict(p.properties)), t, written_names(t, p.properties))

    return update


def _archive(t: str) -> Callable[[Context, None], Any]:
    def archive(ctx: Context, p: None) -> Any:
        obj = find(ctx, t, ctx.path["objectId"])
        ctx.update(t, obj.model_copy(update={"archived": True, "archivedAt": now_dt(ctx)}))
        return Reply(None, status=204)

    return archive


def _list(t: str) -> Callable[[Context, ListParams], Any]:
    def list_(ctx: Context, p: ListParams) -> Any:
        rows = ordered(ctx, t, p.archived)
        after = after_id(p.after)
        rows = [o for o in rows if int(o.id) > after] if p.after is not None else rows
        window = rows[: p.limit]
        out: dict[str, Any] = {
            "results": [render(o, t, p.properties, associations_field(ctx, t, o.id, p.associations)) for o in window]
        }
        if len(rows) > p.limit:
            cursor = window[-1].id
            query = {
                "limit": p.limit,
                "after": cursor,
                "properties": ",".join(p.properties or []) or None,
                "archived": "true" if p.archived else None,
            }
            out["paging"] = {"next": {"after": cursor, "link": link(ctx, f"/crm/v3/objects/{t}", query)}}
        return out

    return list_


def _search(t: str) -> Callable[[Context, SearchParams], Any]:
    def search(ctx: Context, p: SearchParams) -> Any:
        return search_objects(ctx, t, p)

    return search


def _batch(started: Any, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": "COMPLETE", "results": results, "startedAt": iso(started), "completedAt": iso(started)}


def _not_found(t: str, missing: list[str]) -> dict[str, Any]:
    """HubSpot's standard error for the ids a batch read could not find (207 Multi-Status)."""
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"Could not get some {SINGULAR[t].upper()} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        "context": {"ids": missing},
        "links": {},
        "errors": [],
    }


def _batch_read(t: str) -> Callable[[Context, BatchReadParams], Any]:
    def batch_read(ctx: Context, p: BatchReadParams) -> Any:
        results, missing = [], []
        for item in p.inputs:
            try:
                obj = find(ctx, t, item.id, id_property=p.idProperty)
            except SimError as err:
                if err.code != "resource_missing":
                    raise
                missing.append(item.id)
                continue
            results.append(render(obj, t, p.properties or None))
        out = _batch(now_dt(ctx), results)
        if not missing:
            return out
        return Reply({**out, "numErrors": 1, "errors": [_not_found(t, missing)]}, status=207)

    return batch_read


def _batch_create(t: str) -> Callable[[Context, BatchCreateParams], Any]:
    def batch_create(ctx: Context, p: BatchCreateParams) -> Any:
        started = now_dt(ctx)
        made = [(create_object(ctx, t, dict(i.properties), i.associations), i.properties) for i in p.inputs]
        return Reply(_batch(started, [render(o, t, written_names(t, w)) for o, w in made]), status=201)

    return batch_create


def _batch_update(t: str) -> Callable[[Context, BatchUpdateParams], Any]:
    def batch_update(ctx: Context, p: BatchUpdateParams) -> Any:
        started = now_dt(ctx)
        done = []
        for item in p.inputs:
            obj = find(ctx, t, item.id, id_property=item.idProperty)
            done.append((update_object(ctx, t, obj, dict(item.properties)), item.properties))
        return _batch(started, [render(o, t, written_names(t, w)) for o, w in done])

    return batch_update


def _upsert_key(t: str, inputs: list[BatchUpsertInput]) -> None:
    """Refuse the batch before any write when an ``idProperty`` cannot identify one object or an
    id repeats (HubSpot checks the whole input first)."""
    seen: set[tuple[str, str]] = set()
    for item in inputs:
        key = item.idProperty or "hs_object_id"
        if key not in SCHEMAS[t]:
            raise SimError("property_invalid", f'Property "{key}" does not exist', param="idProperty", status=400)
        if not is_unique(t, key):
            raise SimError(
                "parameter_invalid",
                f'Property "{key}" is not a unique identifier property of {t}; use one with hasUniqueValue',
                param="idProperty",
                status=400,
            )
        if (key, item.id.casefold()) in seen:
            raise SimError(
                "parameter_invalid",
                f"Duplicate IDs found in batch input: [{item.id}]. IDs must be unique",
                param="inputs",
                status=400,
            )
        seen.add((key, item.id.casefold()))


def _upsert_one(ctx: Context, t: str, item: BatchUpsertInput) -> tuple[CrmObject, bool]:
    """The object ``item`` names, updated, or created when no object has that unique value (the
    value is then written to ``idProperty``); a record id that does not exist is a 404."""
    key = item.idProperty or "hs_object_id"
    try:
        obj = find(ctx, t, item.id, id_property=key)
    except SimError as err:
        if err.code != "resource_missing" or key == "hs_object_id":
            raise
        return create_object(ctx, t, {**item.properties, key: item.id}, []), True
    return update_object(ctx, t, obj, dict(item.properties)), False


def _batch_upsert(t: str) -> Callable[[Context, BatchUpsertParams], Any]:
    def batch_upsert(ctx: Context, p: BatchUpsertParams) -> Any:
        started = now_dt(ctx)
        _upsert_key(t, p.inputs)
        results = []
        for item in p.inputs:
            obj, new = _upsert_one(ctx, t, item)
            results.append({**render(obj, t, written_names(t, item.properties)), "new": new})
        return _batch(started, results)

    return batch_upsert


def _batch_archive(t: str) -> Callable[[Context, BatchArchiveParams], Any]:
    def batch_archive(ctx: Context, p: BatchArchiveParams) -> Any:
        for item in p.inputs:
            obj = ctx.get(t, item.id)
            if obj is not None and not obj.archived:
                ctx.update(t, obj.model_copy(update={"archived": True, "archivedAt": now_dt(ctx)}))
        return Reply(None, status=204)

    return batch_archive


@dataclass(frozen=True)
class _Op:
    method: str
    suffix: str
    action: str
    factory: Factory
    params: Any
    response: Any
    status: int | tuple[int, ...]
    summary: str


_OPS = (
    _Op("POST", "", "create", _create, CreateParams, SimplePublicObject, 201, "Create a {one} with properties (and associations)."),  # noqa: E501
    _Op("GET", "/{objectId}", "retrieve", _retrieve, ReadParams, SimplePublicObject, 200,
        "Read a {one} (``properties=`` chooses the answered properties, ``idProperty=`` looks it up by another "
        "unique property)."),
    _Op("PATCH", "/{objectId}", "update", _update, UpdateParams, SimplePublicObject, 200,
        'Update a {one}\'s properties ("" clears one).'),
    _Op("DELETE", "/{objectId}", "delete", _archive, None, None, 204, "Archive a {one} (HubSpot's delete)."),
    _Op("GET", "", "list", _list, ListParams, ObjectPage, 200,
        "List {t} by id, ``limit`` (max 100) at a time; ``paging.next.after`` continues."),
    _Op("POST", "/search", "search", _search, SearchParams, SearchPage, 200,
        "Search {t}: filterGroups (OR of ANDed filters), sorts, free-text query, limit/after."),
    _Op("POST", "/batch/read", "batch_read", _batch_read, BatchReadParams, BatchResult, (200, 207),
        "Read up to 100 {t} by id (207 names the missing ones)."),
    _Op("POST", "/batch/create", "batch_create", _batch_create, BatchCreateParams, BatchResult, 201,
        "Create up to 100 {t}; one invalid input refuses the whole batch."),
    _Op("POST", "/batch/update", "batch_update", _batch_update, BatchUpdateParams, BatchResult, 200,
        "Update up to 100 {t}; one missing or invalid input refuses the whole batch."),
    _Op("POST", "/batch/upsert", "batch_upsert", _batch_upsert, BatchUpsertParams, BatchUpsertResult, 200,
        "Create or update up to 100 {t} by a unique property (``idProperty``: {unique}), or update "
        "them by record id; each result says whether it is ``new``. One invalid input refuses the whole batch."),
    _Op("POST", "/batch/archive", "batch_archive", _batch_archive, BatchArchiveParams, None, 204,
        "Archive up to 100 {t} (unknown ids are ignored)."),
)  # fmt: skip


def _errors(t: str, action: str) -> tuple[str, ...]:
    unique = ("contact_exists",) if t == "contacts" else ()
    create = ("property_invalid", "association_invalid", "parameter_invalid", "parameter_missing", "parameter_unknown")
    return {
        "create": (*create, *unique),
        "batch_create": (*create, *unique),
        "retrieve": ("resource_missing", "property_invalid", "object_type_invalid"),
        "update": (*OBJ_ERRORS, *unique),
        "batch_update": OBJ_ERRORS,
        "batch_upsert": (*OBJ_ERRORS, *unique),
        "delete": ("resource_missing",),
        "list": ("parameter_invalid", "object_type_invalid"),
        "search": ("search_invalid", "parameter_invalid", "parameter_unknown"),
        "batch_read": ("parameter_invalid", "property_invalid"),
        "batch_archive": ("parameter_invalid",),
    }[action]


def register(t: str) -> None:
    """Add the eleven object routes of type ``t`` (``crm.<t>.<action>``)."""
    for op in _OPS:
        unique = "``email``, ``hs_object_id``" if t == "contacts" else "``hs_object_id``"
        summary = op.summary.format(one=SINGULAR[t], t=t, unique=unique)
        if t == "contacts" and op.action == "create":
            summary += " Emails are unique (409)."
        router.add(
            op.method,
            f"/crm/v3/objects/{t}{op.suffix}",
            op.factory(t),
            tool=f"crm.{t}.{op.action}",
            kind="read" if op.action in ("search", "batch_read") else None,
            params=op.params,
            response=op.response,
            status=op.status,
            errors=_errors(t, op.action),
            summary=summary,
        )


for _t in OBJECT_TYPES:
    register(_t)
