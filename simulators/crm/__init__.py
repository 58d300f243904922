"""A HubSpot-compatible CRM simulator (CRM v3 objects and v4 associations, in-memory, embedded).

The official ``hubspot-api-client`` works against it unchanged (``HubSpot(access_token=...,
host=<base url>)``): contacts, companies, deals, tickets and notes with HubSpot's object shape
and property rules, search with filter groups, batch read/create/update/archive, associations
(v4 labels too), owners, pipelines, property definitions, and HubSpot's error object
(``ApiException`` with the status). Direct helpers (``create_contact``...) seed data through the
same handlers, so seeded objects obey the API's rules, without touching the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal

from simulators.core.errors import SimError
from simulators.core.fieldmatch import MISSING
from simulators.core.simulator import Simulator
from simulators.core.state import ResourceSpec
from simulators.core.wire import SimResponse

from . import routes
from .account import Owner
from .exceptions import CRM_ERROR_CODES, correlation_id, hubspot_error_body
from .models import Association, CrmObject, HubSpotError
from .properties import SCHEMAS, STAMPS, clean, iso

__all__ = ["CrmSimulator"]


class CrmSimulator(Simulator):
    name: ClassVar[str] = "crm"
    title: ClassVar[str] = "CRM simulator (HubSpot CRM v3 subset)"
    router = routes.router
    body_format: ClassVar[Literal["form", "json"]] = "json"
    error_codes: ClassVar[dict[str, tuple[int, str]]] = CRM_ERROR_CODES
    token_prefixes: ClassVar[tuple[str, str]] = ("pat-sim-", "pat-sim-ro-")
    api_version: ClassVar[str] = "v3"
    validated_against: ClassVar[str] = (
        "HubSpot's public API specs (HubSpot-public-api-spec-collection 99893791: CRM objects v3 with tickets, "
        "associations v4, owners, pipelines, properties), every success and error answer, `null` allowed where "
        "HubSpot sends it; the v3 per-object association routes are in no current spec"
    )
    resources: ClassVar[tuple[ResourceSpec, ...]] = (
        ResourceSpec("contacts", CrmObject, "contact", "contact", numeric_ids=True),
        ResourceSpec("companies", CrmObject, "company", "company", numeric_ids=True),
        ResourceSpec("deals", CrmObject, "deal", "deal", numeric_ids=True),
        ResourceSpec("notes", CrmObject, "note", "note", numeric_ids=True),
        ResourceSpec("tickets", CrmObject, "ticket", "ticket", numeric_ids=True),
        ResourceSpec("associations", Association, "assoc", "association"),
        ResourceSpec("owners", Owner, "owner", "owner", numeric_ids=True),
    )

    # ------------------------------------------------------- wire hooks
    def handle(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = b""
    ) -> SimResponse:
        # the labelled v4 association PUT sends a JSON array of types: read it as ``{"types": [...]}``
        if method.upper() == "PUT" and body and body.lstrip()[:1] == b"[" and "/crm/v4/objects/" in url:
            body = b'{"types": ' + body + b"}"
        return super().handle(method, url, headers, body)

    def error_body(self, err: SimError, request_id: str | None) -> Any:
        return hubspot_error_body(err, request_id)

    @classmethod
    def error_model(cls) -> Any:
        return HubSpotError

    def extra_headers(self, request_id: str) -> dict[str, str]:
        return {"X-HubSpot-Correlation-Id": correlation_id(request_id, "")}

    # -------------------------------------------------------- assertions
    def field_value(self, resource: str, obj: Mapping[str, Any], name: str) -> Any:
        """HubSpot keeps an object's fields under ``properties``: ``assert_wrote("contacts",
        email=...)`` reads them by their flat names (as ``seed()`` takes them), and since HubSpot
        sends every property as a string, a number matches its string form (``amount=4900``)."""
        value = super().field_value(resource, obj, name)
        properties = obj.get("properties")
        if value is MISSING and isinstance(properties, Mapping) and name in properties:
            found = properties[name]
            return _PropertyValue(found) if isinstance(found, str) else found
        return value

    def flat_field_names(self, resource: str, obj: Mapping[str, Any]) -> list[str]:
        properties = obj.get("properties")
        return list(properties) if isinstance(properties, Mapping) else []

    # ----------------------------------------------------------- seeding
    def prepare_seed(self, resource: str, row: dict[str, Any]) -> dict[str, Any]:
        """Object rows are ``{"properties": {...}}`` or flat ``{"email": ..., "firstname": ...}``;
        properties are validated like the API's, and the id/timestamp properties filled in.
        Association rows are ``{"from_type", "from_id", "to_type", "to_id"}`` (+ ``type_id``)."""
        now = self.clock.datetime()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if resource == "owners":
            row["id"] = str(row["id"])
            row.setdefault("createdAt", now)
            row.setdefault("updatedAt", row["createdAt"])
            return row
        if resource == "associations":
            pair = (routes.object_type(row["from_type"]), routes.object_type(row["to_type"]))
            if pair not in routes.PAIRS:
                raise ValueError(f"{pair[0]} cannot be associated with {pair[1]}")
            row["from_type"], row["to_type"] = pair
            row["from_id"], row["to_id"] = str(row["from_id"]), str(row["to_id"])
            row.setdefault("type_id", routes.PAIRS[pair][0])
            row["id"] = f"{pair[0]}/{row['from_id']}/{pair[1]}/{row['to_id']}/{row['type_id']}"
            row.setdefault("createdAt", now)
            return row
        ident = str(row.pop("id"))
        meta = {k: row.pop(k) for k in ("createdAt", "updatedAt", "archived", "archivedAt") if k in row}
        given = row.pop("properties", None)
        values = dict(given) if given is not None else {}
        values.update(row)
        props = self._seed_properties(resource, ident, values, recorded=given is not None and "createdAt" in meta)
        created_at = meta.get("createdAt") or now
        if isinstance(created_at, str):
            created_at = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        updated_at = meta.get("updatedAt") or created_at
        created, modified = STAMPS[resource]
        props.update(
            {
                "hs_object_id": ident,
                created: iso(created_at),
                modified: iso(updated_at if isinstance(updated_at, datetime) else created_at),
            }
        )
        return {
            "id": ident,
            "properties": props,
            "createdAt": created_at,
            "updatedAt": updated_at,
            **{k: v for k, v in meta.items() if k in ("archived", "archivedAt")},
        }

    @staticmethod
    def _seed_properties(resource: str, ident: str, values: dict[str, Any], *, recorded: bool) -> dict[str, Any]:
        """A recorded object (``properties`` with ``createdAt``, as HubSpot answers) keeps its values
        as HubSpot gave them, minus the properties the simulator does not model (a real account
        has hundreds); a hand-written row is validated like a write, naming what it refuses."""
        if recorded:
            known = SCHEMAS[resource]
            return {k: str(v) for k, v in values.items() if k in known and v is not None}
        try:
            return {k: v for k, v in clean(resource, values, creating=False).items() if v is not None}
        except SimError as err:
            raise ValueError(f"{resource} {ident}: {err.message}") from None

    # ----------------------------------------------------- direct helpers
    def create_object(
        self,
        object_type: str,
        properties: dict[str, Any] | None = None,
        *,
        associations: list[dict[str, Any]] | None = None,
        tenant: str | None = None,
        **fields: Any,
    ) -> CrmObject:
        """Create a contact/company/deal/note without HTTP (same validation, not in the ledger);
        properties come as a dict and/or keyword arguments."""
        t = routes.object_type(object_type)
        params = {"properties": {**(properties or {}), **fields}, "associations": associations or []}
        result = self.call(f"crm.{t}.create", params, tenant=tenant).body
        obj: CrmObject = self.get(t, result["id"], tenant=tenant)
        return obj

    def create_contact(self, *, tenant: str | None = None, **properties: Any) -> CrmObject:
        return self.create_object("contacts", properties, tenant=tenant)

    def create_company(self, *, tenant: str | None = None, **properties: Any) -> CrmObject:
        return self.create_object("companies", properties, tenant=tenant)

    def create_deal(self, *, tenant: str | None = None, **properties: Any) -> CrmObject:
        return self.create_object("deals", properties, tenant=tenant)

    def create_note(
        self, body: str, *, about: Sequence[tuple[str, str]] = (), tenant: str | None = None, **properties: Any
    ) -> CrmObject:
        """A note (``hs_note_body``) associated with ``about``: ``[("contacts", "1"), ...]``."""
        associations = [
            {
                "to": {"id": str(ident)},
                "types": [
                    {
                        "associationCategory": "HUBSPOT_DEFINED",
                        "associationTypeId": routes.PAIRS[("notes", routes.object_type(kind))][0],
                    }
                ],
            }
            for kind, ident in about
        ]
        props = {"hs_note_body": body, "hs_timestamp": iso(self.clock.datetime()), **properties}
        return self.create_object("notes", props, associations=associations, tenant=tenant)

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, *, tenant: str | None = None) -> None:
        """Associate two objects with the default type (not in the ledger)."""
        self.call(
            "crm.associations.create",
            {},
            tenant=tenant,
            fromObjectType=from_type,
            fromObjectId=str(from_id),
            toObjectType=to_type,
            toObjectId=str(to_id),
        )

    def associated(self, object_type: str, ident: str, to_type: str, *, tenant: str | None = None) -> list[str]:
        """Ids of ``to_type`` objects associated with an object (for assertions)."""
        t, to = routes.object_type(object_type), routes.object_type(to_type)
        out: list[str] = []
        for a in self.all("associations", tenant=tenant):
            if (a.from_type, a.from_id, a.to_type) == (t, str(ident), to):
                out.append(a.to_id)
            elif (a.to_type, a.to_id, a.from_type) == (t, str(ident), to):
                out.append(a.from_id)
        return list(dict.fromkeys(out))

    @staticmethod
    def properties_of(object_type: str) -> list[str]:
        """The property names of an object type."""
        return list(SCHEMAS[routes.object_type(object_type)])

    def seed_demo(self, *, tenant: str | None = None) -> dict[str, Any]:
        """A small, realistic data set with the free-text fields an agent reads."""
        from .demo import seed_demo

        return seed_demo(self, tenant=tenant)


class _PropertyValue(str):
    """A HubSpot property (always a string on the wire) that also equals the number it spells."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int | float) and not isinstance(other, bool):
            try:
                return float(self) == float(other)
            except ValueError:
                return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__
