"""HubSpot property definitions of the object types the CRM simulator covers.

HubSpot refuses a property that does not exist, a value that is not one of an enumeration's
options, a malformed number or date, and a write to a read-only property, each with 400
``VALIDATION_ERROR`` and an ``errors`` entry naming the property; this module is where those
rules live. Values are stored and answered as strings, as HubSpot does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from simulators.core.errors import SimError

PropType = Literal["string", "text", "number", "enumeration", "datetime", "date", "bool"]


@dataclass(frozen=True, slots=True)
class Prop:
    name: str
    type: PropType = "string"
    options: tuple[str, ...] = ()
    read_only: bool = False


_LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
_LEAD_STATUS = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)

#: the default ticket pipeline's stages (HubSpot's ids: New, Waiting on contact, Waiting on us, Closed)
TICKET_STAGES = ("1", "2", "3", "4")

_TICKET_CATEGORIES = ("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY")


def _props(*items: Prop) -> dict[str, Prop]:
    return {p.name: p for p in items}


_OWNER = Prop("hubspot_owner_id", "number")
_ID = Prop("hs_object_id", "number", read_only=True)

SCHEMAS: dict[str, dict[str, Prop]] = {
    "contacts": _props(
        Prop("email"),
        Prop("firstname"),
        Prop("lastname"),
        Prop("phone"),
        Prop("mobilephone"),
        Prop("company"),
        Prop("website"),
        Prop("jobtitle"),
        Prop("address"),
        Prop("city"),
        Prop("state"),
        Prop("zip"),
        Prop("country"),
        Prop("lifecyclestage", "enumeration", _LIFECYCLE),
        Prop("hs_lead_status", "enumeration", _LEAD_STATUS),
        Prop("message", "text"),
        Prop("notes_last_contacted", "datetime"),
        _OWNER,
        _ID,
        Prop("createdate", "datetime", read_only=True),
        Prop("lastmodifieddate", "datetime", read_only=True),
    ),
    "companies": _props(
        Prop("name"),
        Prop("domain"),
        Prop("industry"),
        Prop("phone"),
        Prop("website"),
        Prop("city"),
        Prop("state"),
        Prop("country"),
        Prop("numberofemployees", "number"),
        Prop("annualrevenue", "number"),
        Prop("description", "text"),
        Prop("lifecyclestage", "enumeration", _LIFECYCLE),
        _OWNER,
        _ID,
        Prop("createdate", "datetime", read_only=True),
        Prop("hs_lastmodifieddate", "datetime", read_only=True),
    ),
    "deals": _props(
        Prop("dealname"),
        Prop("amount", "number"),
        Prop("dealstage", "enumeration", DEAL_STAGES),
        Prop("pipeline", "enumeration", ("default",)),
        Prop("closedate", "datetime"),
        Prop("dealtype", "enumeration", ("newbusiness", "existingbusiness")),
        Prop("hs_priority", "enumeration", ("low", "medium", "high")),
        Prop("description", "text"),
        _OWNER,
        _ID,
        Prop("createdate", "datetime", read_only=True),
        Prop("hs_lastmodifieddate", "datetime", read_only=True),
    ),
    "notes": _props(
        Prop("hs_note_body", "text"),
        Prop("hs_timestamp", "datetime"),
        Prop("hs_attachment_ids"),
        _OWNER,
        _ID,
        Prop("hs_createdate", "datetime", read_only=True),
        Prop("hs_lastmodifieddate", "datetime", read_only=True),
    ),
    "tickets": _props(
        Prop("subject"),
        Prop("content", "text"),
        Prop("hs_pipeline", "enumeration", ("0",)),
        Prop("hs_pipeline_stage", "enumeration", TICKET_STAGES),
        Prop("hs_ticket_priority", "enumeration", ("LOW", "MEDIUM", "HIGH", "URGENT")),
        Prop(
            "hs_ticket_category",
            "enumeration",
            ("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"),
        ),
        Prop("source_type", "enumeration", ("CHAT", "EMAIL", "FORM", "PHONE")),
        Prop("hs_resolution", "text"),
        Prop("closed_date", "datetime"),
        _OWNER,
        _ID,
        Prop("createdate", "datetime", read_only=True),
        Prop("hs_lastmodifieddate", "datetime", read_only=True),
    ),
}

#: properties answered when a request names none
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "notes": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "tickets": (
        "content",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_category",
        "hs_ticket_priority",
        "subject",
    ),
}

#: (created, last modified) property names
STAMPS: dict[str, tuple[str, str]] = {
    "contacts": ("createdate", "lastmodifieddate"),
    "companies": ("createdate", "hs_lastmodifieddate"),
    "deals": ("createdate", "hs_lastmodifieddate"),
    "notes": ("hs_createdate", "hs_lastmodifieddate"),
    "tickets": ("createdate", "hs_lastmodifieddate"),
}

#: properties a new object must have
REQUIRED: dict[str, tuple[str, ...]] = {"notes": ("hs_timestamp",), "tickets": ("subject", "hs_pipeline_stage")}

#: properties searched by a search request's free-text ``query``
QUERY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("firstname", "lastname", "email", "phone", "company", "jobtitle", "message"),
    "companies": ("name", "domain", "website", "phone", "description"),
    "deals": ("dealname", "description"),
    "notes": ("hs_note_body",),
    "tickets": ("subject", "content"),
}


def is_unique(object_type: str, name: str) -> bool:
    """Whether ``name`` identifies one object (HubSpot's ``hasUniqueValue``): the record id, and a
    contact's email. Only these may be an upsert's ``idProperty``."""
    return name == "hs_object_id" or (object_type == "contacts" and name == "email")


def iso(when: datetime) -> str:
    """HubSpot's timestamp form: ``2025-01-01T00:00:00.000Z``."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_datetime(value: str) -> datetime | None:
    """An ISO timestamp, a date, or epoch milliseconds (HubSpot accepts all three)."""
    text = value.strip()
    if re.fullmatch(r"-?\d{1,15}", text):
        try:
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_number(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def property_error(errors: list[dict[str, Any]]) -> SimError:
    """HubSpot's answer to bad property values: one ``errors`` entry per property."""
    import json

    summary = json.dumps(
        [{"isValid": False, "message": e["message"], "error": e["code"], "name": e["name"]} for e in errors]
    )
    return SimError(
        "property_invalid",
        f"Property values were not valid: {summary}",
        param=errors[0]["name"],
        status=400,
        extra={
            "errors": [
                {"message": e["message"], "code": e["code"], "context": {"propertyName": [e["name"]]}} for e in errors
            ]
        },
    )


class _Refused(Exception):
    """One property's value refused: HubSpot's error ``code`` and ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _typed(prop: Prop, value: str) -> str:
    """``value`` normalised for the property's type, or :class:`_Refused`."""
    if prop.type == "number":
        number = parse_number(value)
        if number is None:
            raise _Refused("INVALID_FLOAT", f"{value} was not a valid number.")
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    if prop.type == "enumeration" and value not in prop.options:
        raise _Refused("INVALID_OPTION", f"{value} was not one of the allowed options: {list(prop.options)}")
    if prop.type == "datetime":
        when = parse_datetime(value)
        if when is None:
            raise _Refused("INVALID_DATETIME", f"{value} is not a valid datetime (ISO 8601 or epoch milliseconds).")
        return iso(when)
    if prop.type == "date":
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            raise _Refused("INVALID_DATE", f"{value} is not a valid date.") from None
    if prop.type == "bool":
        if value.lower() not in ("true", "false"):
            raise _Refused("INVALID_BOOLEAN", f"{value} is not true or false.")
        return value.lower()
    if len(value) > 65_536:
        raise _Refused("INVALID_STRING", "Values are at most 65536 characters.")
    return value


def _one(prop: Prop | None, name: str, raw: Any) -> str | None:
    if prop is None:
        raise _Refused("PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
    if prop.read_only:
        raise _Refused("READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.')
    value = _text(raw)
    return None if value is None or value == "" else _typed(prop, value)


def clean(object_type: str, values: dict[str, Any], *, creating: bool) -> dict[str, str | None]:
    """Validate and normalise written properties; ``None`` means "clear it". Every refused
    property is named in one error, as HubSpot does."""
    schema = SCHEMAS[object_type]
    out: dict[str, str | None] = {}
    errors: list[dict[str, Any]] = []
    for name, raw in values.items():
        try:
            out[name] = _one(schema.get(name), name, raw)
        except _Refused as refused:
            errors.append({"name": name, "code": refused.code, "message": refused.message})
    if creating:
        for name in REQUIRED.get(object_type, ()):
            if out.get(name) is None:
                errors.append({"name": name, "code": "REQUIRED", "message": f'Property "{name}" is required.'})
    if errors:
        raise property_error(errors)
    return out
