"""Payment intents: create, retrieve, update, confirm, capture, cancel, list, search."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import (
    AutomaticPaymentMethods,
    Charge,
    LastPaymentError,
    PaymentIntent,
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentIntentListParams,
    PaymentIntentRetrieveParams,
    PaymentIntentUpdateParams,
    PaymentIntentWriteParams,
    SearchParams,
    SearchResult,
    Shipping,
    StripeList,
    TransferData,
    card_options,
)
from . import cards
from ._common import (
    NOT_FOUND,
    blank_to_none,
    list_response,
    metadata_update,
    respond,
    router,
    search_response,
    short_hash,
    upsert,
)
from .charges import capture_funds, new_charge

_STATE = ("payment_intent_unexpected_state", "resource_missing")
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")
#: accepted, not stored on the intent (they steer flows the simulator does not model)
_TRANSIENT = {
    "expand", "confirm", "off_session", "return_url", "payment_method_data", "payment_method_options", "mandate",
    "mandate_data", "radar_options", "error_on_requires_action", "use_stripe_sdk", "client_secret",
}  # fmt: skip


def _intent(ctx: Context, param: str = "intent") -> PaymentIntent:
    """The path's intent; a missing one names ``intent``, as Stripe does."""
    found: PaymentIntent = ctx.require("payment_intents", ctx.path["intent"], param=param)
    return found


def _structured(p: PaymentIntentWriteParams) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.shipping is not None:
        out["shipping"] = Shipping.model_validate(p.shipping.model_dump())
    transfer = getattr(p, "transfer_data", None)
    if transfer is not None:
        out["transfer_data"] = TransferData(amount=transfer.amount, destination=transfer.destination)
    if isinstance(p.payment_method_options, dict):
        card = p.payment_method_options.get("card")
        secure = card.get("request_three_d_secure") if isinstance(card, dict) else None
        if secure in ("any", "automatic", "challenge"):
            out["payment_method_options"] = card_options(secure)
    return out


def _decline(ctx: Context, pi: PaymentIntent, charge: Charge, pm: str) -> SimError:
    """Keep the failed attempt on the intent and answer 402 as Stripe does."""
    method = cards.lookup(ctx, pm)
    error = LastPaymentError(
        charge=charge.id,
        code=charge.failure_code,
        decline_code=charge.outcome.reason if charge.outcome else None,
        doc_url=f"https://docs.stripe.com/error-codes/{(charge.failure_code or 'card_declined').replace('_', '-')}",
        message=charge.failure_message,
        payment_method=method,
    )
    new = pi.model_copy(
        update={"status": "requires_payment_method", "latest_charge": charge.id, "payment_method": None,
                "last_payment_error": error}
    )  # fmt: skip
    upsert(ctx, "payment_intents", new)
    return SimError(
        charge.failure_code or "card_declined",
        charge.failure_message,
        status=402,
        commit=True,
        extra={
            "decline_code": error.decline_code,
            "charge": charge.id,
            "payment_intent": new.model_dump(mode="json"),
            "payment_method": method.model_dump(mode="json"),
        },
    )


def confirm_intent(ctx: Context, pi: PaymentIntent, pm: str | None, receipt_email: str | None = None) -> PaymentIntent:
    """Run a payment: create the charge and move the intent to its next status.

    A decline keeps the failed charge and the intent's ``last_payment_error`` (Stripe records
    them), then answers 402 ``card_declined``.
    """
    if pi.status not in _CONFIRMABLE:
        raise SimError(
            "payment_intent_unexpected_state",
            f"You cannot confirm this PaymentIntent because it has a status of {pi.status}.",
            extra={"payment_intent": pi.model_dump(mode="json")},
        )
    pm = pm or pi.payment_method
    if pm is None:
        raise SimError(
            "payment_intent_unexpected_state",
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "To confirm a PaymentIntent with cus_xxx, specify a payment method attached to this customer "
            "along with the customer ID.",
            param="payment_method",
        )
    card = cards.resolve(ctx, pm)
    if receipt_email is not None:
        pi = pi.model_copy(update={"receipt_email": receipt_email})
    charge = new_charge(ctx, pi, card)
    if charge.status != "succeeded":
        raise _decline(ctx, pi, charge, pm)
    manual = pi.capture_method == "manual"
    new = pi.model_copy(
        update={
            "status": "requires_capture" if manual else "succeeded",
            "amount_capturable": pi.amount if manual else 0,
            "amount_received": 0 if manual else pi.amount,
            "latest_charge": charge.id,
            "payment_method": pm,
            "last_payment_error": None,
        }
    )
    upsert(ctx, "payment_intents", new)
    return new


@router.post(
    "/v1/payment_intents",
    tool="billing.payment_intents.create",
    params=PaymentIntentCreateParams,
    response=PaymentIntent,
    errors=("resource_missing", "card_declined", "payment_intent_unexpected_state", "parameter_invalid"),
)
def create_payment_intent(ctx: Context, p: PaymentIntentCreateParams) -> Any:
    """Create a payment intent (``confirm=true`` also runs the payment)."""
    if p.customer is not None:
        ctx.require("customers", p.customer, param="customer")
    if p.payment_method is not None:
        cards.resolve(ctx, p.payment_method)
    ident = ctx.new_id("pi")
    fields = p.model_dump(exclude={*_TRANSIENT, "shipping", "transfer_data", "automatic_payment_methods"},
                          exclude_none=True)  # fmt: skip
    if fields.get("setup_future_usage") == "":
        fields.pop("setup_future_usage")
    if p.automatic_payment_methods is not None:
        fields["automatic_payment_methods"] = AutomaticPaymentMethods(**p.automatic_payment_methods.model_dump())
    pi = PaymentIntent(
        id=ident,
        created=ctx.timestamp,
        client_secret=f"{ident}_secret_{short_hash(ident, 'secret', n=24)}",
        status="requires_confirmation" if p.payment_method else "requires_payment_method",
        **_structured(p),
        **fields,
    )
    if p.confirm:
        pi = confirm_intent(ctx, pi, p.payment_method)
    else:
        ctx.insert("payment_intents", pi)
    return respond(ctx, pi, p.expand)


@router.get(
    "/v1/payment_intents/{intent}",
    tool="billing.payment_intents.retrieve",
    params=PaymentIntentRetrieveParams,
    response=PaymentIntent,
    errors=NOT_FOUND,
)
def retrieve_payment_intent(ctx: Context, p: PaymentIntentRetrieveParams) -> Any:
    """Retrieve a payment intent."""
    return respond(ctx, _intent(ctx), p.expand)


@router.post(
    "/v1/payment_intents/{intent}",
    tool="billing.payment_intents.update",
    params=PaymentIntentUpdateParams,
    response=PaymentIntent,
    errors=_STATE,
)
def update_payment_intent(ctx: Context, p: PaymentIntentUpdateParams) -> Any:
    """Update a payment intent; amounts and payment method only before it is paid."""
    pi = _intent(ctx)
    changes = blank_to_none(
        p.model_dump(exclude={*_TRANSIENT, "metadata", "shipping", "transfer_data"}, exclude_unset=True)
    )
    money = {"amount", "currency", "payment_method", "customer"} & changes.keys()
    if money and pi.status not in _CONFIRMABLE:
        raise SimError(
            "payment_intent_unexpected_state",
            f"You cannot update {', '.join(sorted(money))} of a PaymentIntent with status {pi.status}.",
            param=sorted(money)[0],
        )
    if changes.get("customer"):
        ctx.require("customers", changes["customer"], param="customer")
    if changes.get("payment_method"):
        cards.resolve(ctx, changes["payment_method"])
        if pi.status == "requires_payment_method":
            changes["status"] = "requires_confirmation"
    changes.update(_structured(p))
    changes["metadata"] = metadata_update(pi.metadata, p.metadata)
    new = pi.model_copy(update=changes)
    ctx.update("payment_intents", new)
    return respond(ctx, new, p.expand)


@router.post(
    "/v1/payment_intents/{intent}/confirm",
    tool="billing.payment_intents.confirm",
    params=PaymentIntentConfirmParams,
    response=PaymentIntent,
    errors=("card_declined", *_STATE),
)
def confirm_payment_intent(ctx: Context, p: PaymentIntentConfirmParams) -> Any:
    """Confirm a payment intent: charges the payment method."""
    pi = _intent(ctx)
    extra = _structured(p)
    if p.capture_method is not None:
        extra["capture_method"] = p.capture_method
    if extra:
        pi = pi.model_copy(update=extra)
    return respond(ctx, confirm_intent(ctx, pi, p.payment_method, p.receipt_email), p.expand)


def capture(ctx: Context, pi: PaymentIntent, amount: int | None, *, param: str = "amount_to_capture") -> PaymentIntent:
    """Capture an authorized intent (and its charge); the uncaptured rest is released."""
    if pi.status != "requires_capture" or pi.latest_charge is None:
        raise SimError(
            "payment_intent_unexpected_state",
            f"This PaymentIntent could not be captured because it has a status of {pi.status}. "
            "Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
        )
    amount = pi.amount_capturable if amount is None else amount
    if amount > pi.amount_capturable:
        raise SimError(
            "amount_too_large",
            f"The amount to capture ({amount}) is greater than the capturable amount ({pi.amount_capturable}).",
            param=param,
        )
    charge: Charge = ctx.require("charges", pi.latest_charge, param=None)
    card = cards.resolve(ctx, charge.payment_method or "")
    capture_funds(ctx, charge, amount, card.magic)
    new = pi.model_copy(update={"status": "succeeded", "amount_received": amount, "amount_capturable": 0})
    ctx.update("payment_intents", new)
    return new


@router.post(
    "/v1/payment_intents/{intent}/capture",
    tool="billing.payment_intents.capture",
    params=PaymentIntentCaptureParams,
    response=PaymentIntent,
    errors=(*_STATE, "amount_too_large"),
)
def capture_payment_intent(ctx: Context, p: PaymentIntentCaptureParams) -> Any:
    """Capture an authorized (``capture_method=manual``) payment intent."""
    pi = _intent(ctx)
    updates: dict[str, Any] = {"metadata": metadata_update(pi.metadata, p.metadata)}
    for name in ("statement_descriptor", "statement_descriptor_suffix", "application_fee_amount"):
        if getattr(p, name) is not None:
            updates[name] = getattr(p, name)
    pi = pi.model_copy(update=updates)
    return respond(ctx, capture(ctx, pi, p.amount_to_capture), p.expand)


@router.post(
    "/v1/payment_intents/{intent}/cancel",
    tool="billing.payment_intents.cancel",
    params=PaymentIntentCancelParams,
    response=PaymentIntent,
    errors=_STATE,
)
def cancel_payment_intent(ctx: Context, p: PaymentIntentCancelParams) -> Any:
    """Cancel a payment intent that has not succeeded (releases an uncaptured authorization)."""
    pi = _intent(ctx)
    if pi.status not in _CANCELABLE:
        raise SimError(
            "payment_intent_unexpected_state",
            f"You cannot cancel this PaymentIntent because it has a status of {pi.status}. Only a PaymentIntent "
            f"with one of the following statuses may be canceled: {', '.join(_CANCELABLE)}.",
        )
    if pi.status == "requires_capture" and pi.latest_charge:
        charge: Charge | None = ctx.get("charges", pi.latest_charge)
        if charge is not None:
            ctx.update("charges", charge.model_copy(update={"refunded": True, "amount_refunded": charge.amount}))
    new = pi.model_copy(
        update={"status": "canceled", "canceled_at": ctx.timestamp, "cancellation_reason": p.cancellation_reason,
                "amount_capturable": 0}
    )  # fmt: skip
    ctx.update("payment_intents", new)
    return respond(ctx, new, p.expand)


@router.get(
    "/v1/payment_intents/search",
    tool="billing.payment_intents.search",
    params=SearchParams,
    response=SearchResult[PaymentIntent],
    errors=("parameter_invalid",),
)
def search_payment_intents(ctx: Context, p: SearchParams) -> Any:
    """Search payment intents (``amount``, ``currency``, ``customer``, ``status``, ``metadata``, ``created``)."""
    return search_response(ctx, "payment_intents", "/v1/payment_intents/search", p)


@router.get(
    "/v1/payment_intents",
    tool="billing.payment_intents.list",
    params=PaymentIntentListParams,
    response=StripeList[PaymentIntent],
    errors=NOT_FOUND,
)
def list_payment_intents(ctx: Context, p: PaymentIntentListParams) -> Any:
    """List payment intents, newest first (``customer=``, ``created``)."""
    keep = (lambda o: o.customer == p.customer) if p.customer is not None else None
    return list_response(ctx, "payment_intents", "/v1/payment_intents", p, keep)
