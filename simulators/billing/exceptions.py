"""Billing's own error codes and Stripe's error object.

The ``type`` field drives which exception the official SDK raises (``CardError`` for 402,
``IdempotencyError`` for ``idempotency_error``, ``InvalidRequestError`` for other 400/404...),
so it is derived here from the core code and status exactly as Stripe does. Parameter errors
are worded as Stripe words them ("Invalid integer: abc", "Missing required param: amount.").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from simulators.core.errors import SimError, error_from_validation

BILLING_ERROR_CODES: dict[str, tuple[int, str]] = {
    "card_declined": (402, "The card was declined; `decline_code` says why. The failed charge is kept."),
    "expired_card": (402, "The card has expired (`pm_card_chargeDeclinedExpiredCard`)."),
    "amount_too_large": (400, "The refund or capture amount exceeds what is left on the charge."),
    "charge_already_captured": (400, "The charge has already been captured."),
    "charge_already_refunded": (400, "The charge has already been refunded in full."),
    "charge_disputed": (400, "The charge has been charged back (a dispute other than an inquiry): no refunds."),
    "charge_not_refundable": (400, "Only succeeded, captured charges can be refunded (or disputed)."),
    "payment_intent_unexpected_state": (400, "The PaymentIntent's status does not allow this action."),
    "payment_method_unexpected_state": (400, "The payment method is attached elsewhere, or not attached."),
    "invoice_not_editable": (400, "Only draft invoices (and their items) can change."),
    "invoice_unexpected_state": (400, "The invoice's status does not allow this action."),
    "resource_already_exists": (400, "An object with this id already exists."),
    "dispute_closed": (400, "The dispute is closed (lost, won, under review): no more evidence or closing."),
    "refund_not_cancelable": (400, "Only refunds with status requires_action can be canceled."),
    "subscription_canceled": (400, "A canceled subscription only accepts metadata changes."),
}

#: state errors Stripe answers without a ``code`` (only ``type`` and ``message``)
UNCODED = frozenset({"dispute_closed", "refund_not_cancelable", "subscription_canceled"})

_DOC = "https://docs.stripe.com/error-codes/"


def stripe_error_type(err: SimError) -> str:
    if err.type:
        return err.type
    if err.code == "idempotency_error":
        return "idempotency_error"
    if err.status == 402:
        return "card_error"
    if err.status >= 500:
        return "api_error"
    return "invalid_request_error"


def stripe_error_body(err: SimError) -> dict[str, Any]:
    detail: dict[str, Any] = {"type": stripe_error_type(err), "message": err.message}
    if err.code not in UNCODED:
        detail["code"] = err.code
        if err.status < 500:
            detail["doc_url"] = _DOC + err.code.replace("_", "-")
    if err.param is not None:
        detail["param"] = err.param
    detail.update(err.extra)
    return {"error": detail}


def _choices(expected: str) -> str:
    names = [n.strip().strip("'") for n in expected.replace(" or ", ", ").split(",") if n.strip()]
    return ", ".join(names[:-1]) + (", or " if len(names) > 2 else " or ") + names[-1] if len(names) > 1 else expected


def _message(etype: str, param: str, value: Any, ctx: dict[str, Any]) -> str | None:
    """Stripe's wording for one pydantic error type, or None to keep the core message."""
    if etype in ("int_parsing", "int_type", "int_from_float"):
        return f"Invalid integer: {value}"
    if etype in ("bool_parsing", "bool_type"):
        return f"Invalid boolean: {value}"
    if etype in ("float_parsing", "float_type", "decimal_parsing"):
        return f"Invalid decimal: {value}"
    if etype in ("greater_than_equal", "greater_than"):
        return f"This value must be greater than or equal to {ctx.get('ge', ctx.get('gt'))}."
    if etype in ("less_than_equal", "less_than"):
        return f"This value must be less than or equal to {ctx.get('le', ctx.get('lt'))}."
    if etype in ("literal_error", "enum"):
        return f"Invalid {param}: must be one of {_choices(str(ctx.get('expected', '')))}"
    if etype == "string_too_long":
        shown = str(value) if len(str(value)) <= 20 else f"{str(value)[:20]}..."
        return f"Invalid string: {shown}; must be at most {ctx.get('max_length')} characters"
    if etype in ("dict_type", "model_type", "model_attributes_type"):
        return "Invalid object"
    if etype in ("list_type", "tuple_type"):
        return "Invalid array"
    if etype in ("string_type",):
        return f"Invalid string: {value}"
    if etype == "string_pattern_mismatch" and param.endswith("currency"):
        return f"Invalid currency: {value}. Stripe currently supports these currencies: usd, eur, gbp, ..."
    return None


_TAGS = frozenset({"bool", "str", "int", "float", "list", "dict", "none", "bytes", "any", "literal"})


def _param_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A pydantic location without its union tags (``int``, ``RangeQuery``, ``function-after[...]``):
    Stripe parameters are lower-case names and list indices."""
    return tuple(
        p
        for p in loc
        if isinstance(p, int) or (p not in _TAGS and p[:1].islower() and not any(ch in p for ch in "[](),'-"))
    )


def _pick(errors: list[Any]) -> Any:
    """The error to report: the first, or for a value sent as an object (``created[gt]=x``) the
    deepest error of the same parameter, which names the nested field."""
    first = errors[0]
    if not isinstance(first.get("input"), dict):
        return first
    same = [e for e in errors if e.get("loc", ())[:1] == first.get("loc", ())[:1]]
    return max(same, key=lambda e: len(_param_loc(tuple(e.get("loc", ())))))


def validation_failure(exc: ValidationError, format_param: Callable[[tuple[Any, ...]], str]) -> SimError:
    """The first parameter error, with Stripe's code, ``param`` and wording."""
    chosen = _pick(exc.errors(include_url=False))
    loc = _param_loc(tuple(chosen.get("loc", ())))
    if not loc:
        return error_from_validation(exc, format_param)
    param = format_param(loc)
    etype, value = str(chosen.get("type", "")), chosen.get("input")
    if etype == "missing":
        return SimError("parameter_missing", f"Missing required param: {param}.", param=param)
    if etype == "extra_forbidden":
        return SimError("parameter_unknown", f"Received unknown parameter: {param}", param=param)
    if value == "":
        return SimError(
            "parameter_invalid_empty",
            f"You passed an empty string for '{param}'. We assume empty values are an attempt to unset a parameter; "
            f"however '{param}' cannot be unset. You should remove '{param}' from your request or supply a "
            "non-empty value.",
            param=param,
        )
    integer = etype.startswith("int_") or (
        etype in _BOUNDS and isinstance(value, int | str) and str(value).lstrip("-").isdigit()
    )
    code = "parameter_invalid_integer" if integer else "parameter_invalid"
    message = _message(etype, param, value, dict(chosen.get("ctx") or {}))
    return SimError(code, message or f"Invalid {param}: {chosen.get('msg', 'invalid')}.", param=param)


_BOUNDS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})
