"""Billing's own error codes and Stripe's error object.

The ``type`` field drives which exception the official SDK raises (``CardError`` for 402,
``IdempotencyError`` for ``idempotency_error``, ``InvalidRequestError`` for other 400/404...),
so it is derived here from the core code and status exactly as Stripe does.
"""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError

BILLING_ERROR_CODES: dict[str, tuple[int, str]] = {
    "card_declined": (402, "The card was declined; `decline_code` says why. The failed charge is kept."),
    "amount_too_large": (400, "The refund amount exceeds what is left to refund on the charge."),
    "charge_already_refunded": (400, "The charge has already been refunded in full."),
    "charge_not_refundable": (400, "Only succeeded, captured charges can be refunded."),
    "payment_intent_unexpected_state": (400, "The PaymentIntent's status does not allow this action."),
    "invoice_not_editable": (400, "Items can only be added to draft invoices."),
    "invoice_unexpected_state": (400, "The invoice's status does not allow this action."),
}

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
    detail: dict[str, Any] = {"type": stripe_error_type(err), "code": err.code, "message": err.message}
    if err.status < 500:
        detail["doc_url"] = _DOC + err.code.replace("_", "-")
    if err.param is not None:
        detail["param"] = err.param
    detail.update(err.extra)
    return {"error": detail}
