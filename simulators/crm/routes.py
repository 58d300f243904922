"""CRM endpoints: HubSpot CRM v3 objects (contacts, companies, deals, notes), search, batch,
and associations (v4 default associations and the v3 per-object form).

Each object type has its own routes, so each endpoint is its own tool (``crm.contacts.search``,
``crm.notes.create``...). Every handler works inside the caller's tenant (``ctx``). Deleting an
object archives it (``archived: true``); archived objects are visible only with
``archived=true`` and cannot be changed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from simulators.core.errors import SimError
from simulators.core.routing import Router
from simulators.core.simulator import Context, Reply

from .models import Association as AssociationRecord
from .models import (
    AssociationInput,
    AssociationListParams,
    AssociationPage,
    AssociationPageV3,
    BatchArchiveParams,
    BatchCreateParams,
    BatchReadParams,
    BatchResult,
    BatchUpdateParams,
    CreateParams,
    CrmObject,
    DefaultAssociationResult,
    Filter,
    ListParams,
    ObjectPage,
    ReadParams,
    SearchPage,
    SearchParams,
    SimplePublicObject,
    Sort,
    UpdateParams,
)
from .properties import (
    DEFAULT_PROPERTIES,
    QUERY_PROPERTIES,
    SCHEMAS,
    STAMPS,
    clean,
    iso,
    parse_datetime,
    parse_number,
)

router = Router("crm")

OBJECT_TYPES: tuple[str, ...] = ("contacts", "companies", "deals", "notes")
SINGULAR: dict[str, str] = {"contacts": "contact", "companies": "company", "deals": "deal", "notes": "note"}
_ALIASES: dict[str, str] = {
    **{t: t for t in OBJECT_TYPES},
    **{s: t for t, s in SINGULAR.items()},
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-46": "notes",
}

#: (from, to) -> (default association type id, primary type id or None), HubSpot's numbers
PAIRS: dict[tuple[str, str], tuple[int, int | None]] = {
    ("contacts", "companies"): (279, 1),
    ("companies", "contacts"): (280, 2),
    ("deals", "contacts"): (3, None),
    ("contacts", "deals"): (4, None),
    ("deals", "companies"): (341, 5),
    ("companies", "deals"): (342, 6),
    ("notes", "contacts"): (202, None),
    ("contacts", "notes"): (201, None),
    ("notes", "companies"): (190, None),
    ("companies", "notes"): (189, None),
    ("notes", "deals"): (214, None),
    ("deals", "notes"): (213, None),
}
TYPE_PAIR: dict[int, tuple[str, str]] = {}
for _pair, (_default, _primary) in PAIRS.items():
    TYPE_PAIR[_default] = _pair
    if _primary is not None:
        TYPE_PAIR[_primary] = _pair
INVERSE: dict[int, int] = {}
for (_a, _b), (_default, _primary) in PAIRS.items():
    _back_default, _back_primary = PAIRS[(_b, _a)]
    INVERSE[_default] = _back_default
    if _primary is not None and _back_primary is not None:
        INVERSE[_primary] = _back_primary

_MAX_SEARCH_RESULTS = 10_000
_SEARCH_FILTERS_MAX = 18


# ---------------------------------------------------------------- helpers
def now_dt(ctx: Context) -> datetime:
    when = datetime.fromtimestamp(ctx.now, tz=UTC)
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def object_type(raw: str, param: str = "objectType") -> str:
    found = _ALIASES.get(raw.lower())
    if found is None:
        raise SimError("object_type_invalid", f"Unable to infer object type from: {raw}", param=param, status=400)
    return found


def type_name(from_type: str, to_type: str, type_id: int) -> str:
    default, primary = PAIRS[(from_type, to_type)]
    base = f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"
    return f"{base}_unlabeled" if primary is not None and type_id == default else base


def find(ctx: Context, t: str, ident: str, *, archived: bool = False, id_property: str | None = None) -> CrmObject:
    """The object ``ident`` of type ``t`` (by ``id_property`` value when given), or 404."""
    obj: CrmObject | None
    if id_property and id_property != "hs_object_id":
        if id_property not in SCHEMAS[t]:
            raise SimError(
                "property_invalid", f'Property "{id_property}" does not exist', param="idProperty", status=400
            )
        want = ident.casefold()
        obj = next(
            (
                o
                for o in ctx.all(t)
                if (o.properties.get(id_property) or "").casefold() == want and o.archived == archived
            ),
            None,
        )
    else:
        obj = ctx.get(t, ident)
    if obj is None or obj.archived != archived:
        raise SimError("resource_missing", f"No such {SINGULAR[t]}: {ident}", param="objectId", status=404)
    return obj


def render(
    obj: CrmObject, t: str, names: list[str] | None = None, associations: dict[str, Any] | None = None
) -> dict[str, Any]:
    """HubSpot's object JSON with the chosen properties (defaults when ``names`` is None; names
    that are not properties of the type are left out, known but unset ones answer null)."""
    keys = DEFAULT_PROPERTIES[t] if names is None else [n for n in dict.fromkeys(names) if n in SCHEMAS[t]]
    out: dict[str, Any] = {
        "id": obj.id,
        "properties": {k: obj.properties.get(k) for k in keys},
        "createdAt": iso(obj.createdAt),
        "updatedAt": iso(obj.updatedAt),
        "archived": obj.archived,
    }
    if obj.archivedAt is not None:
        out["archivedAt"] = iso(obj.archivedAt)
    if associations:
        out["associations"] = associations
    return out


def _written_names(t: str, written: dict[str, Any]) -> list[str]:
    return [*DEFAULT_PROPERTIES[t], *STAMPS[t], *written]


def _new_id(ctx: Context, t: str) -> str:
    while True:
        ident = str(ctx.new_int_id(t))
        if ctx.get(t, ident) is None:
            return ident


def _unique_email(ctx: Context, email: str | None, own_id: str | None) -> None:
    if not email:
        return
    want = email.casefold()
    for other in ctx.all("contacts"):
        if other.id != own_id and not other.archived and (other.properties.get("email") or "").casefold() == want:
            raise SimError(
                "contact_exists", f"Contact already exists. Existing ID: {other.id}", param="email", status=409
            )


# ------------------------------------------------------------ associations
def links_of(ctx: Context, t: str, ident: str, to_type: str) -> list[tuple[str, int, str]]:
    """(other id, type id as seen from ``t``, category) of live objects of ``to_type`` associated
    with ``t``/``ident``, in creation order."""
    out: list[tuple[str, int, str]] = []
    for a in ctx.all("associations"):
        if a.from_type == t and a.from_id == ident and a.to_type == to_type:
            other, type_id = a.to_id, a.type_id
        elif a.to_type == t and a.to_id == ident and a.from_type == to_type:
            other, type_id = a.from_id, INVERSE.get(a.type_id, a.type_id)
        else:
            continue
        target = ctx.get(to_type, other)
        if target is not None and not target.archived:
            out.append((other, type_id, a.category))
    return out


def _check_type(from_type: str, to_type: str, type_id: int) -> None:
    if (from_type, to_type) not in PAIRS or TYPE_PAIR.get(type_id) != (from_type, to_type):
        raise SimError(
            "association_invalid",
            f"{type_id} is not a valid association type from {from_type} to {to_type}.",
            param="associationTypeId",
            status=400,
        )


def associate(ctx: Context, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> bool:
    """Store the association unless it exists (in either direction); True if it was new."""
    _check_type(from_type, to_type, type_id)
    for a in ctx.all("associations"):
        same = (a.from_type, a.from_id, a.to_type, a.to_id, a.type_id) == (from_type, from_id, to_type, to_id, type_id)
        back = (a.from_type, a.from_id, a.to_type, a.to_id, a.type_id) == (
            to_type,
            to_id,
            from_type,
            from_id,
            INVERSE.get(type_id),
        )
        if same or back:
            return False
    ctx.insert(
        "associations",
        AssociationRecord(
            id=f"{from_type}/{from_id}/{to_type}/{to_id}/{type_id}",
            from_type=from_type,
            from_id=from_id,
            to_type=to_type,
            to_id=to_id,
            type_id=type_id,
            createdAt=now_dt(ctx),
        ),
    )
    return True


def dissociate(ctx: Context, t: str, ident: str, to_type: str, to_id: str, type_id: int | None = None) -> int:
    removed = 0
    for a in ctx.all("associations"):
        if (a.from_type, a.from_id, a.to_type, a.to_id) == (t, ident, to_type, to_id):
            seen = a.type_id
        elif (a.from_type, a.from_id, a.to_type, a.to_id) == (to_type, to_id, t, ident):
            seen = INVERSE.get(a.type_id, a.type_id)
        else:
            continue
        if type_id is None or seen == type_id:
            ctx.delete("associations", a.id)
            removed += 1
    return removed


def _association_targets(ctx: Context, t: str, inputs: list[AssociationInput]) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    for a in inputs:
        for spec in a.types:
            pair = TYPE_PAIR.get(spec.associationTypeId)
            if pair is None or pair[0] != t:
                raise SimError(
                    "association_invalid",
                    f"{spec.associationTypeId} is not a valid association type for {t}.",
                    param="associations",
                    status=400,
                )
            target = ctx.get(pair[1], a.to.id)
            if target is None or target.archived:
                raise SimError(
                    "association_invalid",
                    f"One or more associations are invalid: no {SINGULAR[pair[1]]} {a.to.id}.",
                    param="associations",
                    status=400,
                )
            out.append((pair[1], a.to.id, spec.associationTypeId))
    return out


def _associations_field(ctx: Context, t: str, ident: str, wanted: list[str] | None) -> dict[str, Any] | None:
    if not wanted:
        return None
    out: dict[str, Any] = {}
    for raw in wanted:
        to_type = object_type(raw, "associations")
        if (t, to_type) not in PAIRS:
            continue
        found = [
            {"id": other, "type": type_name(t, to_type, type_id)}
            for other, type_id, _ in links_of(ctx, t, ident, to_type)
        ]
        if found:
            out[to_type] = {"results": found}
    return out


# -------------------------------------------------------------- objects
def create_object(ctx: Context, t: str, properties: dict[str, Any], associations: list[AssociationInput]) -> CrmObject:
    props: dict[str, str | None] = {k: v for k, v in clean(t, properties, creating=True).items() if v is not None}
    if t == "contacts":
        _unique_email(ctx, props.get("email"), None)
    targets = _association_targets(ctx, t, associations)
    ident = _new_id(ctx, t)
    when = now_dt(ctx)
    created, modified = STAMPS[t]
    props.update({"hs_object_id": ident, created: iso(when), modified: iso(when)})
    obj = CrmObject(id=ident, properties=props, createdAt=when, updatedAt=when)
    ctx.insert(t, obj)
    for to_type, to_id, type_id in targets:
        associate(ctx, t, ident, to_type, to_id, type_id)
    return obj


def update_object(ctx: Context, t: str, obj: CrmObject, properties: dict[str, Any]) -> CrmObject:
    props = clean(t, properties, creating=False)
    if t == "contacts" and props.get("email"):
        _unique_email(ctx, props["email"], obj.id)
    merged = dict(obj.properties)
    for k, v in props.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    if merged == obj.properties:
        return obj
    when = now_dt(ctx)
    merged[STAMPS[t][1]] = iso(when)
    new = obj.model_copy(update={"properties": merged, "updatedAt": when})
    ctx.update(t, new)
    return new


def _after_id(after: str | None) -> int:
    if after is None:
        return 0
    if not (after.isascii() and after.isdigit()):
        raise SimError(
            "parameter_invalid",
            f"Invalid value for after: {after!r} is not a paging cursor.",
            param="after",
            status=400,
        )
    return int(after)


def _ordered(ctx: Context, t: str, archived: bool) -> list[CrmObject]:
    rows = [o for o in ctx.all(t) if o.archived == archived]
    rows.sort(key=lambda o: int(o.id) if o.id.isdigit() else 0)
    return rows


def _link(ctx: Context, path: str, query: dict[str, Any]) -> str:
    return f"{ctx.base_url}{path}?{urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)}"


# ----------------------------------------------------------------- search
def _comparable(t: str, name: str, value: str) -> Any:
    kind = SCHEMAS[t][name].type
    if kind == "number":
        return parse_number(value)
    if kind == "datetime":
        when = parse_datetime(value)
        return None if when is None else when.timestamp()
    return value.casefold()


def _value(f: Filter, raw: Any) -> str:
    if raw is None:
        raise SimError(
            "search_invalid",
            f"Operator {f.operator} on {f.propertyName} needs a value.",
            param="filterGroups",
            status=400,
        )
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _tokens(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", text.casefold()) if w]


def filter_matches(t: str, obj: CrmObject, f: Filter) -> bool:
    actual = obj.properties.get(f.propertyName)
    op = f.operator
    if op == "HAS_PROPERTY":
        return actual is not None
    if op == "NOT_HAS_PROPERTY":
        return actual is None
    if op in ("IN", "NOT_IN"):
        if not f.values:
            raise SimError("search_invalid", f"Operator {op} needs `values`.", param="filterGroups", status=400)
        wanted = {_comparable(t, f.propertyName, _value(f, v)) for v in f.values}
        hit = actual is not None and _comparable(t, f.propertyName, actual) in wanted
        return hit if op == "IN" else not hit
    value = _value(f, f.value)
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = value.casefold()
        text = (actual or "").casefold()
        hit = actual is not None and (
            fnmatch.fnmatchcase(text, pattern) or any(fnmatch.fnmatchcase(tok, pattern) for tok in _tokens(text))
        )
        return hit if op == "CONTAINS_TOKEN" else not hit
    want = _comparable(t, f.propertyName, value)
    have = None if actual is None else _comparable(t, f.propertyName, actual)
    if op == "EQ":
        return have is not None and bool(have == want)
    if op == "NEQ":
        return bool(have != want)
    if have is None or want is None:
        return False
    if op == "BETWEEN":
        high = _comparable(t, f.propertyName, _value(f, f.highValue))
        return high is not None and bool(want <= have <= high)
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "LT": lambda a, b: a < b,
        "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b,
        "GTE": lambda a, b: a >= b,
    }
    return checks[op](have, want)


def _query_matches(t: str, obj: CrmObject, query: str) -> bool:
    words = [w for w in re.findall(r"\w+", query.casefold()) if w]
    if not words:
        return True
    text = " ".join(obj.properties.get(p) or "" for p in QUERY_PROPERTIES[t]).casefold()
    have = re.findall(r"\w+", text)
    return all(any(h.startswith(w) for h in have) for w in words)


def search_objects(ctx: Context, t: str, p: SearchParams) -> dict[str, Any]:
    schema = SCHEMAS[t]
    filters = [f for g in p.filterGroups for f in g.filters]
    if len(filters) > _SEARCH_FILTERS_MAX:
        raise SimError(
            "search_invalid",
            f"At most {_SEARCH_FILTERS_MAX} filters across all filter groups.",
            param="filterGroups",
            status=400,
        )
    for f in filters:
        if f.propertyName not in schema:
            raise SimError(
                "search_invalid",
                f'Property "{f.propertyName}" does not exist on {t}.',
                param="filterGroups",
                status=400,
            )
    sorts: list[tuple[str, bool]] = []
    for s in p.sorts:
        name, descending = (
            (s.propertyName, s.direction == "DESCENDING") if isinstance(s, Sort) else (s.lstrip("-"), s.startswith("-"))
        )
        if name not in schema:
            raise SimError(
                "search_invalid", f'Cannot sort by "{name}": no such property on {t}.', param="sorts", status=400
            )
        sorts.append((name, descending))
    offset = p.after if isinstance(p.after, int) else _after_id(p.after)
    if offset + p.limit > _MAX_SEARCH_RESULTS:
        raise SimError(
            "search_invalid", f"Search results are limited to {_MAX_SEARCH_RESULTS}.", param="after", status=400
        )
    rows = _ordered(ctx, t, archived=False)
    if p.filterGroups:
        rows = [o for o in rows if any(all(filter_matches(t, o, f) for f in g.filters) for g in p.filterGroups)]
    if p.query:
        rows = [o for o in rows if _query_matches(t, o, p.query)]
    for name, descending in reversed(sorts):
        present = [o for o in rows if o.properties.get(name) is not None]
        missing = [o for o in rows if o.properties.get(name) is None]
        present.sort(key=lambda o: _sort_value(t, name, o.properties.get(name) or ""), reverse=descending)
        rows = present + missing
    window = rows[offset : offset + p.limit]
    names = [*p.properties, "hs_object_id", *STAMPS[t]] if p.properties else None
    out: dict[str, Any] = {"total": len(rows), "results": [render(o, t, names) for o in window]}
    if offset + p.limit < len(rows):
        out["paging"] = {"next": {"after": str(offset + p.limit)}}
    return out


def _sort_value(t: str, name: str, value: str) -> tuple[int, Any]:
    v = _comparable(t, name, value)
    return (0, v) if v is not None else (1, value)


# --------------------------------------------------------------- routes
_OBJ_ERRORS = ("resource_missing", "property_invalid", "parameter_invalid", "parameter_unknown")


def _register(t: str) -> None:
    base = f"/crm/v3/objects/{t}"
    one = SINGULAR[t]
    create_errors = (
        "property_invalid",
        "association_invalid",
        "parameter_invalid",
        "parameter_missing",
        "parameter_unknown",
        *(("contact_exists",) if t == "contacts" else ()),
    )

    def create(ctx: Context, p: CreateParams) -> Any:
        obj = create_object(ctx, t, dict(p.properties), p.associations)
        return Reply(render(obj, t, _written_names(t, p.properties)), status=201)

    router.add(
        "POST",
        base,
        create,
        tool=f"crm.{t}.create",
        params=CreateParams,
        response=SimplePublicObject,
        status=201,
        errors=create_errors,
        summary=f"Create a {one} with properties (and associations)."
        + (" Emails are unique (409)." if t == "contacts" else ""),
    )

    def retrieve(ctx: Context, p: ReadParams) -> Any:
        obj = find(ctx, t, ctx.path["objectId"], archived=p.archived, id_property=p.idProperty)
        return render(obj, t, p.properties, _associations_field(ctx, t, obj.id, p.associations))

    router.add(
        "GET",
        base + "/{objectId}",
        retrieve,
        tool=f"crm.{t}.retrieve",
        params=ReadParams,
        response=SimplePublicObject,
        errors=("resource_missing", "property_invalid", "object_type_invalid"),
        summary=f"Read a {one} (``properties=`` chooses the answered properties, ``idProperty=`` "
        "looks it up by another unique property).",
    )

    def update(ctx: Context, p: UpdateParams) -> Any:
        obj = find(ctx, t, ctx.path["objectId"])
        new = update_object(ctx, t, obj, dict(p.properties))
        return render(new, t, _written_names(t, p.properties))

    router.add(
        "PATCH",
        base + "/{objectId}",
        update,
        tool=f"crm.{t}.update",
        params=UpdateParams,
        response=SimplePublicObject,
        errors=(*_OBJ_ERRORS, *(("contact_exists",) if t == "contacts" else ())),
        summary=f'Update a {one}\'s properties ("" clears one).',
    )

    def archive(ctx: Context, p: None) -> Any:
        obj = find(ctx, t, ctx.path["objectId"])
        ctx.update(t, obj.model_copy(update={"archived": True, "archivedAt": now_dt(ctx)}))
        return Reply(None, status=204)

    router.add(
        "DELETE",
        base + "/{objectId}",
        archive,
        tool=f"crm.{t}.delete",
        status=204,
        errors=("resource_missing",),
        summary=f"Archive a {one} (HubSpot's delete).",
    )

    def list_(ctx: Context, p: ListParams) -> Any:
        rows = _ordered(ctx, t, p.archived)
        after = _after_id(p.after)
        rows = [o for o in rows if int(o.id) > after] if p.after is not None else rows
        window = rows[: p.limit]
        out: dict[str, Any] = {
            "results": [render(o, t, p.properties, _associations_field(ctx, t, o.id, p.associations)) for o in window]
        }
        if len(rows) > p.limit:
            cursor = window[-1].id
            query = {
                "limit": p.limit,
                "after": cursor,
                "properties": ",".join(p.properties or []) or None,
                "archived": "true" if p.archived else None,
            }
            out["paging"] = {"next": {"after": cursor, "link": _link(ctx, base, query)}}
        return out

    router.add(
        "GET",
        base,
        list_,
        tool=f"crm.{t}.list",
        params=ListParams,
        response=ObjectPage,
        errors=("parameter_invalid", "object_type_invalid"),
        summary=f"List {t} by id, ``limit`` (max 100) at a time; ``paging.next.after`` continues.",
    )

    def search(ctx: Context, p: SearchParams) -> Any:
        return search_objects(ctx, t, p)

    router.add(
        "POST",
        base + "/search",
        search,
        tool=f"crm.{t}.search",
        kind="read",
        params=SearchParams,
        response=SearchPage,
        errors=("search_invalid", "parameter_invalid", "parameter_unknown"),
        summary=f"Search {t}: filterGroups (OR of ANDed filters), sorts, free-text query, limit/after.",
    )

    def batch_read(ctx: Context, p: BatchReadParams) -> Any:
        started = now_dt(ctx)
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
        out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": iso(started),
            "completedAt": iso(started),
        }
        if missing:
            out["numErrors"] = 1
            out["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {one.upper()} objects, they may be deleted or not "
                    "exist. Check that ids are valid.",
                    "context": {"ids": missing},
                }
            ]
            return Reply(out, status=207)
        return out

    router.add(
        "POST",
        base + "/batch/read",
        batch_read,
        tool=f"crm.{t}.batch_read",
        kind="read",
        params=BatchReadParams,
        response=BatchResult,
        status=(200, 207),
        errors=("parameter_invalid", "property_invalid"),
        summary=f"Read up to 100 {t} by id (207 names the missing ones).",
    )

    def batch_create(ctx: Context, p: BatchCreateParams) -> Any:
        started = now_dt(ctx)
        made = [(create_object(ctx, t, dict(i.properties), i.associations), i.properties) for i in p.inputs]
        return Reply(
            {
                "status": "COMPLETE",
                "results": [render(o, t, _written_names(t, w)) for o, w in made],
                "startedAt": iso(started),
                "completedAt": iso(started),
            },
            status=201,
        )

    router.add(
        "POST",
        base + "/batch/create",
        batch_create,
        tool=f"crm.{t}.batch_create",
        params=BatchCreateParams,
        response=BatchResult,
        status=201,
        errors=create_errors,
        summary=f"Create up to 100 {t}; one invalid input refuses the whole batch.",
    )

    def batch_update(ctx: Context, p: BatchUpdateParams) -> Any:
        started = now_dt(ctx)
        done = []
        for item in p.inputs:
            obj = find(ctx, t, item.id, id_property=item.idProperty)
            done.append((update_object(ctx, t, obj, dict(item.properties)), item.properties))
        return {
            "status": "COMPLETE",
            "results": [render(o, t, _written_names(t, w)) for o, w in done],
            "startedAt": iso(started),
            "completedAt": iso(started),
        }

    router.add(
        "POST",
        base + "/batch/update",
        batch_update,
        tool=f"crm.{t}.batch_update",
        params=BatchUpdateParams,
        response=BatchResult,
        errors=_OBJ_ERRORS,
        summary=f"Update up to 100 {t}; one missing or invalid input refuses the whole batch.",
    )

    def batch_archive(ctx: Context, p: BatchArchiveParams) -> Any:
        for item in p.inputs:
            obj = ctx.get(t, item.id)
            if obj is not None and not obj.archived:
                ctx.update(t, obj.model_copy(update={"archived": True, "archivedAt": now_dt(ctx)}))
        return Reply(None, status=204)

    router.add(
        "POST",
        base + "/batch/archive",
        batch_archive,
        tool=f"crm.{t}.batch_archive",
        params=BatchArchiveParams,
        status=204,
        errors=("parameter_invalid",),
        summary=f"Archive up to 100 {t} (unknown ids are ignored).",
    )


for _t in OBJECT_TYPES:
    _register(_t)


# ----------------------------------------------------------- associations
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
    start = _after_id(p.after)
    window = items[start : start + p.limit]
    out: dict[str, Any] = {"results": window}
    if start + p.limit < len(items):
        cursor = str(start + p.limit)
        out["paging"] = {"next": {"after": cursor, "link": _link(ctx, path, {"after": cursor, "limit": p.limit})}}
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
    grouped: dict[str, list[dict[str, Any]]] = {}
    for other, type_id, category in links_of(ctx, t, source.id, to_type):
        label = None
        grouped.setdefault(other, []).append({"category": category, "typeId": type_id, "label": label})
    items = [{"toObjectId": int(other), "associationTypes": types} for other, types in grouped.items()]
    return _page_of(ctx, items, p, f"/crm/v4/objects/{t}/{source.id}/associations/{to_type}")


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
    _check_type(from_type, to_type, type_id)
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
    return render(source, t, None, _associations_field(ctx, t, source.id, [to_type]))


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


__all__ = ["INVERSE", "OBJECT_TYPES", "PAIRS", "SINGULAR", "associate", "router"]
