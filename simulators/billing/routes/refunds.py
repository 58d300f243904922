"""Refunds: create, retrieve, update, cancel, list."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import (
    Charge,
    MetadataParams,
    Params,
    PaymentIntent,
    Refund,
    RefundCreateParams,
    RefundListParams,
    StripeList,
)
from . import balance
from ._common import NOT_FOUND, list_response, metadata_update, money, respond, router


def _refundable_charge(ctx: Context, p: RefundCreateParams) -> Charge:
    if p.charge is None and p.payment_intent is None:
        raise SimError(
            "parameter_missing",
            "One of the following params should be provided for this request: payment_intent or charge.",
            param="charge",
        )
    if p.payment_intent is not None:
        pi: PaymentIntent = ctx.require("payment_intents", p.payment_intent, param="payment_intent")
        if pi.status != "succeeded" or pi.latest_charge is None:
            raise SimError(
                "payment_intent_unexpected_state",
                f"This PaymentIntent ({pi.id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        if p.charge is not None and p.charge != pi.latest_charge:
            raise SimError(
                "parameter_invalid", f"Charge {p.charge} does not belong to PaymentIntent {pi.id}.", param="charge"
            )
        charge_id = pi.latest_charge
    else:
        charge_id = p.charge or ""
    charge: Charge = ctx.require("charges", charge_id, param="charge")
    if charge.status != "succeeded" or not charge.captured:
        raise SimError(
            "charge_not_refundable", f"Charge {charge.id} has not succeeded and cannot be refunded.", param="charge"
        )
    if any(d.charge == charge.id and not d.is_charge_refundable for d in ctx.all("disputes")):
        raise SimError("charge_disputed", f"Charge {charge.id} has been charged back; cannot issue a refund.")
    return charge


def _refund_amount(charge: Charge, p: RefundCreateParams) -> int:
    # an uncaptured remainder counts as refunded already (Stripe releases it on partial capture)
    remaining = charge.amount - charge.amount_refunded
    if remaining <= 0:
        raise SimError("charge_already_refunded", f"Charge {charge.id} has already been refunded.")
    amount = p.amount if p.amount is not None else remaining
    if amount > remaining:
        raise SimError(
            "amount_too_large",
            f"Refund amount ({money(amount, charge.currency)}) is greater than unrefunded amount on charge "
            f"({money(remaining, charge.currency)})",
            param="amount",
        )
    return amount


@router.post(
    "/v1/refunds",
    tool="billing.refunds.create",
    params=RefundCreateParams,
    response=Refund,
    errors=(
        "amount_too_large",
        "charge_already_refunded",
        "charge_disputed",
        "charge_not_refundable",
        "parameter_missing",
        "payment_intent_unexpected_state",
        "resource_missing",
    ),
)
def create_refund(ctx: Context, p: RefundCreateParams) -> Any:
    """Refund all or part of a charge; never more than is left to refund."""
    charge = _refundable_charge(ctx, p)
    amount = _refund_amount(charge, p)
    ident = ctx.new_id("re")
    txn = balance.record(
        ctx, amount=-amount, currency=charge.currency, source=ident, type="refund", category="refund",
        description="REFUND FOR CHARGE" + (f" ({charge.description})" if charge.description else ""),
    )  # fmt: skip
    refund = Refund(
        id=ident,
        amount=amount,
        balance_transaction=txn.id,
        charge=charge.id,
        created=ctx.timestamp,
        currency=charge.currency,
        customer=charge.customer,
        metadata=p.metadata or {},
        payment_intent=charge.payment_intent,
        payment_method=charge.payment_method,
        reason=p.reason,
    )
    ctx.insert("refunds", refund)
    refunded = charge.amount_refunded + amount
    refunds = charge.refunds.model_copy(update={"data": [refund, *charge.refunds.data]}) if charge.refunds else None
    ctx.update(
        "charges",
        charge.model_copy(
            update={"amount_refunded": refunded, "refunded": refunded >= charge.amount, "refunds": refunds}
        ),
    )
    return respond(ctx, refund, p.expand)


@router.get("/v1/refunds/{refund}", tool="billing.refunds.retrieve", params=Params, response=Refund, errors=NOT_FOUND)
def retrieve_refund(ctx: Context, p: Params) -> Any:
    """Retrieve a refund."""
    return respond(ctx, ctx.require("refunds", ctx.path["refund"]), p.expand)


@router.post(
    "/v1/refunds/{refund}", tool="billing.refunds.update", params=MetadataParams, response=Refund, errors=NOT_FOUND
)
def update_refund(ctx: Context, p: MetadataParams) -> Any:
    """Update a refund's metadata (the only field Stripe lets change)."""
    refund: Refund = ctx.require("refunds", ctx.path["refund"])
    new = refund.model_copy(update={"metadata": metadata_update(refund.metadata, p.metadata)})
    ctx.update("refunds", new)
    return respond(ctx, new, p.expand)


@router.post(
    "/v1/refunds/{refund}/cancel",
    tool="billing.refunds.cancel",
    params=Params,
    response=Refund,
    errors=("refund_not_cancelable", "resource_missing"),
)
def cancel_refund(ctx: Context, p: Params) -> Any:
    """Cancel a refund that still ``requires_action``; card refunds succeed at once, so they cannot be."""
    refund: Refund = ctx.require("refunds", ctx.path["refund"])
    if refund.status != "requires_action":
        raise SimError(
            "refund_not_cancelable",
            f"You can't cancel refund {refund.id} because it has a status of {refund.status}. "
            "Only refunds with a status of requires_action can be canceled.",
        )
    new = refund.model_copy(update={"status": "canceled"})
    ctx.update("refunds", new)
    return respond(ctx, new, p.expand)


@router.get(
    "/v1/refunds", tool="billing.refunds.list", params=RefundListParams, response=StripeList[Refund], errors=NOT_FOUND
)
def list_refunds(ctx: Context, p: RefundListParams) -> Any:
    """List refunds, newest first (``charge=``, ``payment_intent=``, ``created``)."""

    def keep(r: Refund) -> bool:
        return (p.charge is None or r.charge == p.charge) and (
            p.payment_intent is None or r.payment_intent == p.payment_intent
        )

    return list_response(ctx, "refunds", "/v1/refunds", p, keep)
