"""CRM's own error codes and HubSpot's error object.

HubSpot answers ``{"status": "error", "message", "correlationId", "category", "errors": [...]}``;
``category`` follows the status (400 ``VALIDATION_ERROR``, 404 ``OBJECT_NOT_FOUND``, 409
``CONFLICT``, 401 ``INVALID_AUTHENTICATION``, 403 ``MISSING_SCOPES``, 429 ``RATE_LIMITS``), and
each ``errors`` entry carries a ``code``: HubSpot's for property errors, the simulator's stable
code (upper case) otherwise.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from simulators.core.errors import SimError

CRM_ERROR_CODES: dict[str, tuple[int, str]] = {
    "property_invalid": (
        400,
        "A property does not exist, is read-only, or has an invalid value; `errors` "
        "names each (PROPERTY_DOESNT_EXIST, READ_ONLY_VALUE, INVALID_OPTION, INVALID_FLOAT, "
        "INVALID_DATETIME, REQUIRED).",
    ),
    "object_type_invalid": (400, "The object type in the path is not one this simulator covers."),
    "association_invalid": (
        400,
        "The association type does not fit the two object types, or the target object does not exist.",
    ),
    "contact_exists": (409, "A contact with this email already exists (`message` names its id)."),
    "search_invalid": (400, "A search filter, sort or paging value is invalid."),
}

_CATEGORIES = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    405: "VALIDATION_ERROR",
    409: "CONFLICT",
    429: "RATE_LIMITS",
}


def correlation_id(request_id: str | None, code: str) -> str:
    seed = (request_id or f"direct/{code}").encode()
    return str(uuid.UUID(bytes=hashlib.blake2b(seed, digest_size=16).digest(), version=4))


def category_of(status: int) -> str:
    return _CATEGORIES.get(status, "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR")


def hubspot_error_body(err: SimError, request_id: str | None) -> dict[str, Any]:
    extra = dict(err.extra)
    errors = extra.pop("errors", None)
    if errors is None:
        entry: dict[str, Any] = {"message": err.message, "code": err.code.upper()}
        if err.param:
            entry["context"] = {"param": [err.param]}
        errors = [entry]
    body: dict[str, Any] = {
        "status": "error",
        "message": "resource not found" if err.code == "resource_missing" else err.message,
        "correlationId": correlation_id(request_id, err.code),
        "category": category_of(err.status),
        "errors": errors,
    }
    if err.status == 403:
        body["links"] = {"scopes": "https://developers.hubspot.com/scopes"}
    body.update(extra)
    return body
