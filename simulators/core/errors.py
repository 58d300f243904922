"""Errors a simulator can answer with, and the catalogue of their stable codes.

Codes are part of the public contract (tests and agents branch on them), so every code a
simulator can emit is listed here or in the service's own ``error_codes`` and appears in its
OpenAPI document. Each service renders a :class:`SimError` in its own wire shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

#: code -> (HTTP status, meaning). Shared by every simulator.
CORE_ERROR_CODES: dict[str, tuple[int, str]] = {
    "route_not_found": (404, "No endpoint matches this method and path."),
    "method_not_allowed": (405, "The path exists but not for this HTTP method."),
    "authentication_required": (401, "No API token was sent."),
    "api_key_invalid": (401, "The API token is not known to this simulator."),
    "api_key_expired": (401, "The API token's time to live has run out (simulated time)."),
    "api_key_revoked": (401, "The API token was revoked or rotated away."),
    "insufficient_permissions": (403, "The token lacks the read or write scope this endpoint needs."),
    "body_invalid": (400, "The request body could not be decoded (bad JSON or form encoding)."),
    "parameter_missing": (400, "A required parameter is missing; `param` names it."),
    "parameter_unknown": (400, "A parameter this endpoint does not accept; `param` names it."),
    "parameter_invalid": (400, "A parameter has an invalid value; `param` names it."),
    "parameter_invalid_integer": (400, "A parameter must be an integer in range; `param` names it."),
    "parameter_invalid_empty": (400, "A parameter must not be empty; `param` names it."),
    "resource_missing": (404, "No object with that id exists for this tenant; `param` names it."),
    "idempotency_error": (400, "The idempotency key was first used with different parameters."),
    "idempotency_key_in_use": (409, "A request with this idempotency key is still being processed."),
    "idempotency_key_too_long": (400, "Idempotency keys are at most 255 characters."),
    "rate_limit": (429, "Injected fault: too many requests; honour Retry-After."),
    "service_error": (500, "Injected fault: the server failed before doing anything."),
    "service_unavailable": (503, "Injected fault: the service is unavailable."),
    "internal_error": (500, "A bug in the simulator itself (see Simulator.internal_errors)."),
}


class SimError(Exception):
    """An API error answered to the client instead of a result.

    ``commit=True`` keeps the state changes the handler made before raising (a declined card
    still records the failed charge), everything else is rolled back.
    """

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        param: str | None = None,
        status: int | None = None,
        type: str | None = None,
        commit: bool = False,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        known = CORE_ERROR_CODES.get(code)
        self.code = code
        self.status = status if status is not None else (known[0] if known else 400)
        self.message = message or (known[1] if known else code)
        self.param = param
        self.type = type
        self.commit = commit
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(f"{self.status} {code}: {self.message}")


_TYPE_TO_CODE = {
    "missing": "parameter_missing",
    "extra_forbidden": "parameter_unknown",
    "int_parsing": "parameter_invalid_integer",
    "int_type": "parameter_invalid_integer",
    "int_from_float": "parameter_invalid_integer",
    "greater_than": "parameter_invalid_integer",
    "greater_than_equal": "parameter_invalid_integer",
    "less_than": "parameter_invalid_integer",
    "less_than_equal": "parameter_invalid_integer",
}


_TYPE_TAGS = frozenset({"bool", "str", "int", "float", "list", "dict", "set", "tuple", "none", "bytes", "any"})


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the union-member tags pydantic puts in locations (``('off_session', 'bool')``)."""
    return tuple(p for p in loc if not (isinstance(p, str) and (p in _TYPE_TAGS or any(ch in p for ch in "[](),'-"))))


def error_from_validation(exc: ValidationError, format_param: Any) -> SimError:
    """Turn the first pydantic error into a stable (code, param) pair.

    Only the first error is reported, as real APIs do, so the message stays short and the
    ``param`` is unambiguous. ``format_param`` renders a pydantic location in the service's
    own notation (``metadata[key]`` for Stripe, ``ticket.subject`` for JSON APIs).
    """
    err = exc.errors(include_url=False)[0]
    loc = _clean_loc(tuple(err.get("loc", ())))
    param = format_param(loc) if loc else None
    etype = err.get("type", "")
    code = _TYPE_TO_CODE.get(etype)
    if code is None:
        inp = err.get("input")
        code = "parameter_invalid_empty" if inp == "" else "parameter_invalid"
    if code == "parameter_missing":
        message = f"Missing required param: {param}."
    elif code == "parameter_unknown":
        message = f"Received unknown parameter: {param}"
    else:
        message = f"Invalid value for {param}: {err.get('msg', 'invalid')}."
    return SimError(code, message, param=param)
