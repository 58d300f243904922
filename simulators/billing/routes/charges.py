"""Charges: created by confirming payment intents; retrieve, update, capture, list, search."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import (
    Charge,
    ChargeCaptureParams,
    ChargeListParams,
    ChargeOutcome,
    ChargeUpdateParams,
    Params,
    PaymentIntent,
    Refund,
    SearchParams,
    SearchResult,
    Shipping,
    StripeList,
)
from . import balance, cards, disputes
from ._common import NOT_FOUND, list_response, metadata_update, respond, router, search_response

RECEIPTS = "https://pay.sim.agentops.local/receipts/"


def _outcome(decline: str | None) -> ChargeOutcome:
    ok = decline is None
    return ChargeOutcome(
        network_status="approved_by_network" if ok else "declined_by_network",
        reason=decline,
        seller_message="Payment complete." if ok else "The bank did not return any further details with this decline.",
        type="authorized" if ok else "issuer_declined",
    )


def _charge_txn(ctx: Context, charge: Charge, amount: int) -> str:
    txn = balance.record(
        ctx,
        amount=amount,
        currency=charge.currency,
        source=charge.id,
        type="charge",
        category="charge",
        fee=balance.card_fee(amount),
        description=charge.description,
    )
    return txn.id


def _captured(charge: Charge, amount: int, txn: str) -> Charge:
    # an uncaptured remainder counts as refunded (Stripe releases it on a partial capture)
    return charge.model_copy(
        update={
            "captured": True,
            "amount_captured": amount,
            "amount_refunded": charge.amount - amount,
            "balance_transaction": txn,
        }
    )


def _maybe_disputed(ctx: Context, charge: Charge, card_magic: str | None) -> Charge:
    status = cards.DISPUTING.get(card_magic or "")
    return charge if status is None else disputes.open_dispute(ctx, charge, status=status)


def capture_funds(ctx: Context, charge: Charge, amount: int, card_magic: str | None) -> Charge:
    """Capture ``amount`` of a stored charge: its balance transaction, a dispute for dispute cards."""
    captured = _captured(charge, amount, _charge_txn(ctx, charge, amount))
    ctx.update("charges", captured)
    return _maybe_disputed(ctx, captured, card_magic)


def new_charge(ctx: Context, pi: PaymentIntent, card: cards.Card, invoice: str | None = None) -> Charge:
    """The charge of one payment attempt; captured at once unless the intent captures manually."""
    ok = card.decline is None
    ident = ctx.new_id("ch")
    charge = Charge(
        id=ident,
        amount=pi.amount,
        calculated_statement_descriptor=(pi.statement_descriptor or "AGENTOPS SIM")[:22] if ok else None,
        created=ctx.timestamp,
        currency=pi.currency,
        customer=pi.customer,
        description=pi.description,
        failure_code=None if ok else ("expired_card" if card.decline == "expired_card" else "card_declined"),
        failure_message=None if ok else cards.DECLINE_MESSAGES.get(card.decline or "", "Your card was declined."),
        invoice=invoice or pi.invoice,
        metadata=pi.metadata,
        outcome=_outcome(card.decline),
        paid=ok,
        payment_intent=pi.id,
        payment_method=card.payment_method,
        payment_method_details=card.details(pi.amount),
        receipt_email=pi.receipt_email,
        receipt_url=f"{RECEIPTS}{ident}" if ok else None,
        refunds=StripeList[Refund](data=[], url=f"/v1/charges/{ident}/refunds"),
        shipping=pi.shipping,
        statement_descriptor=pi.statement_descriptor,
        statement_descriptor_suffix=pi.statement_descriptor_suffix,
        status="succeeded" if ok else "failed",
        transfer_data=pi.transfer_data,
        transfer_group=pi.transfer_group,
    )
    capture_now = ok and pi.capture_method != "manual"
    if capture_now:
        charge = _captured(charge, pi.amount, _charge_txn(ctx, charge, pi.amount))
    ctx.insert("charges", charge)
    return _maybe_disputed(ctx, charge, card.magic) if capture_now else charge


@router.get("/v1/charges/{charge}", tool="billing.charges.retrieve", params=Params, response=Charge, errors=NOT_FOUND)
def retrieve_charge(ctx: Context, p: Params) -> Any:
    """Retrieve a charge (charges are created by confirming payment intents)."""
    return respond(ctx, ctx.require("charges", ctx.path["charge"]), p.expand)


@router.post(
    "/v1/charges/{charge}", tool="billing.charges.update", params=ChargeUpdateParams, response=Charge, errors=NOT_FOUND
)
def update_charge(ctx: Context, p: ChargeUpdateParams) -> Any:
    """Update a charge's description, metadata, receipt email, shipping or fraud details."""
    charge: Charge = ctx.require("charges", ctx.path["charge"])
    changes: dict[str, Any] = {
        k: getattr(p, k) for k in p.model_fields_set & {"description", "receipt_email", "transfer_group"}
    }
    if p.customer is not None:
        if charge.customer is not None and charge.customer != p.customer:
            raise SimError("parameter_invalid", "This charge already belongs to another customer.", param="customer")
        changes["customer"] = ctx.require("customers", p.customer, param="customer").id
    if p.shipping is not None:
        changes["shipping"] = Shipping.model_validate(p.shipping.model_dump())
    if p.fraud_details is not None:
        changes["fraud_details"] = {**(charge.fraud_details or {}), **p.fraud_details}
    changes["metadata"] = metadata_update(charge.metadata, p.metadata)
    new = charge.model_copy(update=changes)
    ctx.update("charges", new)
    return respond(ctx, new, p.expand)


@router.post(
    "/v1/charges/{charge}/capture",
    tool="billing.charges.capture",
    params=ChargeCaptureParams,
    response=Charge,
    errors=("charge_already_captured", "amount_too_large", "resource_missing"),
)
def capture_charge(ctx: Context, p: ChargeCaptureParams) -> Any:
    """Capture an uncaptured charge (its payment intent moves to ``succeeded``)."""
    charge: Charge = ctx.require("charges", ctx.path["charge"])
    if charge.payment_intent is None:
        raise SimError("charge_already_captured", f"Charge {charge.id} cannot be captured.")
    from .payment_intents import capture

    pi: PaymentIntent = ctx.require("payment_intents", charge.payment_intent, param="charge")
    if charge.captured or pi.status != "requires_capture":
        raise SimError("charge_already_captured", f"Charge {charge.id} has already been captured.")
    capture(ctx, pi, p.amount, param="amount")
    return respond(ctx, ctx.require("charges", charge.id), p.expand)


@router.get(
    "/v1/charges/search",
    tool="billing.charges.search",
    params=SearchParams,
    response=SearchResult[Charge],
    errors=("parameter_invalid",),
)
def search_charges(ctx: Context, p: SearchParams) -> Any:
    """Search charges (``amount``, ``status``, ``customer``, ``refunded``, ``disputed``, card fields...)."""
    return search_response(ctx, "charges", "/v1/charges/search", p)


@router.get(
    "/v1/charges", tool="billing.charges.list", params=ChargeListParams, response=StripeList[Charge], errors=NOT_FOUND
)
def list_charges(ctx: Context, p: ChargeListParams) -> Any:
    """List charges, newest first (``customer=``, ``payment_intent=``, ``transfer_group=``, ``created``)."""

    def keep(c: Charge) -> bool:
        return (
            (p.customer is None or c.customer == p.customer)
            and (p.payment_intent is None or c.payment_intent == p.payment_intent)
            and (p.transfer_group is None or c.transfer_group == p.transfer_group)
        )

    return list_response(ctx, "charges", "/v1/charges", p, keep)
