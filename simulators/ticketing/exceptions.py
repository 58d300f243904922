"""Ticketing's own error codes and Zendesk's error object.

Zendesk answers with ``{"error": <title>, "description": <text>}`` and, for a refused record,
``{"error": "RecordInvalid", "description": "Record validation errors", "details": {<field>:
[{"description": ...}]}}`` with status 422. The stable simulator code of every refusal is in the
ledger (``entry.error_code``) and the OpenAPI catalogue; the body keeps Zendesk's shape, which is
what zenpy and agents written against Zendesk read.
"""

from __future__ import annotations

from typing import Any

from simulators.core.errors import CORE_ERROR_CODES, SimError

_INVALID = "Record validation errors"

TICKETING_ERROR_CODES: dict[str, tuple[int, str]] = {
    # parameter validation is a RecordInvalid (422) in Zendesk, not a 400
    "parameter_missing": (422, "A required attribute is missing; `details` names it."),
    "parameter_unknown": (422, "An attribute this endpoint does not accept (Zendesk would ignore it)."),
    "parameter_invalid": (422, "An attribute has an invalid value; `details` names it."),
    "parameter_invalid_integer": (422, "An attribute must be an integer in range; `details` names it."),
    "parameter_invalid_empty": (422, "An attribute must not be empty; `details` names it."),
    "ticket_closed": (422, "A closed ticket cannot be updated (`details.status`)."),
    "status_invalid": (422, "The status change is not allowed (closed is set by the system; new cannot be restored)."),
    "assignee_invalid": (422, "The assignee does not exist or is not an agent."),
    "requester_invalid": (422, "The requester (or author, collaborator) does not exist."),
    "comment_missing": (422, "A new ticket needs a comment (or description)."),
    "email_taken": (422, "Another user already has this email address."),
    "pagination_invalid": (400, "The page cursor is malformed or unknown."),
}

#: code -> Zendesk's error title for codes that are not record validation errors
_TITLES: dict[str, str] = {
    "resource_missing": "RecordNotFound",
    "route_not_found": "InvalidEndpoint",
    "method_not_allowed": "InvalidEndpoint",
    "authentication_required": "Couldn't authenticate you",
    "api_key_invalid": "Couldn't authenticate you",
    "api_key_expired": "Couldn't authenticate you",
    "api_key_revoked": "Couldn't authenticate you",
    "insufficient_permissions": "Forbidden",
    "body_invalid": "Unprocessable Entity",
    "idempotency_error": "IdempotentRequestError",
    "idempotency_key_in_use": "IdempotentRequestError",
    "idempotency_key_too_long": "IdempotentRequestError",
    "pagination_invalid": "InvalidPaginationParameter",
    "rate_limit": "APIRateLimitExceeded",
    "service_error": "InternalError",
    "service_unavailable": "ServiceUnavailable",
    "internal_error": "InternalError",
}

#: every title a ticketing error body can carry
ERROR_TITLES: frozenset[str] = frozenset({*_TITLES.values(), "RecordInvalid"})

_DETAIL_ERRORS = {"parameter_missing": "BlankValue", "parameter_unknown": "UnknownAttribute"}


def status_of(code: str) -> int:
    known = TICKETING_ERROR_CODES.get(code) or CORE_ERROR_CODES.get(code)
    return known[0] if known else 400


def invalid(code: str, field: str, description: str) -> SimError:
    """A 422 RecordInvalid naming ``field`` (Zendesk's ``details`` key)."""
    return SimError(code, description, param=field, status=422)


def zendesk_error_body(err: SimError) -> dict[str, Any]:
    if err.status == 422:
        field = (err.param or "base").rsplit(".", 1)[-1]
        detail: dict[str, Any] = {"description": err.message, "error": _DETAIL_ERRORS.get(err.code, "InvalidValue")}
        return {"error": "RecordInvalid", "description": _INVALID, "details": {field: [detail]}}
    if err.code == "resource_missing":
        return {"error": "RecordNotFound", "description": "Not found"}
    title = _TITLES.get(err.code)
    if title is None:
        title = "InternalError" if err.status >= 500 else "InvalidValue"
    return {"error": title, "description": err.message}
