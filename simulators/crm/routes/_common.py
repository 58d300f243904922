"""The crm router and what every module shares: object types and their aliases, HubSpot's
association type ids, finding and rendering objects, storing associations, paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from simulators.core.errors import SimError
from simulators.core.routing import Router
from simulators.core.simulator import Context

from ..models import Association as AssociationRecord
from ..models import (
    AssociationInput,
    CrmObject,
)
from ..properties import (
    DEFAULT_PROPERTIES,
    SCHEMAS,
    STAMPS,
    clean,
    iso,
)

router = Router("crm")

OBJECT_TYPES: tuple[str, ...] = ("contacts", "companies", "deals", "tickets", "notes")
SINGULAR: dict[str, str] = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "tickets": "ticket",
    "notes": "note",
}
#: HubSpot's object type ids (``0-1``...), which its APIs accept wherever a type name goes
TYPE_IDS: dict[str, str] = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tickets": "0-5", "notes": "0-46"}
_ALIASES: dict[str, str] = {
    **{t: t for t in OBJECT_TYPES},
    **{s: t for t, s in SINGULAR.items()},
    **{ident: t for t, ident in TYPE_IDS.items()},
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
    ("tickets", "contacts"): (16, None),
    ("contacts", "tickets"): (15, None),
    ("tickets", "companies"): (339, 26),
    ("companies", "tickets"): (340, 25),
    ("tickets", "deals"): (28, None),
    ("deals", "tickets"): (27, None),
    ("notes", "tickets"): (228, None),
    ("tickets", "notes"): (227, None),
}
#: the labels HubSpot gives its defined association types (the unlabeled defaults have none)
LABELS: dict[int, str] = {primary: "Primary" for _, primary in PAIRS.values() if primary is not None}
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


def written_names(t: str, written: dict[str, Any]) -> list[str]:
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


def check_type(from_type: str, to_type: str, type_id: int) -> None:
    if (from_type, to_type) not in PAIRS or TYPE_PAIR.get(type_id) != (from_type, to_type):
        raise SimError(
            "association_invalid",
            f"{type_id} is not a valid association type from {from_type} to {to_type}.",
            param="associationTypeId",
            status=400,
        )


def associate(ctx: Context, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> bool:
    """Store the association unless it exists (in either direction); True if it was new."""
    check_type(from_type, to_type, type_id)
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


def associations_field(ctx: Context, t: str, ident: str, wanted: list[str] | None) -> dict[str, Any] | None:
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


def after_id(after: str | None) -> int:
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


def ordered(ctx: Context, t: str, archived: bool) -> list[CrmObject]:
    rows = [o for o in ctx.all(t) if o.archived == archived]
    rows.sort(key=lambda o: int(o.id) if o.id.isdigit() else 0)
    return rows


def link(ctx: Context, path: str, query: dict[str, Any]) -> str:
    return f"{ctx.base_url}{path}?{urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)}"
