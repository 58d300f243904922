"""Disputes: raised by paying with ``pm_card_createDispute`` (or ``...Inquiry``) or by
``BillingSimulator.create_dispute``; list, retrieve, update (evidence, submit), close.

A chargeback withdraws the disputed amount plus Stripe's dispute fee at once (a balance
transaction on the dispute); an inquiry (``warning_*`` statuses) moves no money.
"""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import (
    Charge,
    Dispute,
    DisputeListParams,
    DisputeStatus,
    DisputeUpdateParams,
    EvidenceDetails,
    Params,
    StripeList,
)
from . import balance
from ._common import NOT_FOUND, list_response, metadata_update, respond, router

_DAY = 86400
_OPEN = ("needs_response", "warning_needs_response")
_ERRORS = ("dispute_closed", "resource_missing")


def open_dispute(
    ctx: Context,
    charge: Charge,
    *,
    status: DisputeStatus = "needs_response",
    reason: str = "fraudulent",
    amount: int | None = None,
) -> Charge:
    """Dispute ``charge`` and return it (``disputed`` set); the dispute is stored."""
    amount = charge.amount_captured - charge.amount_refunded if amount is None else amount
    inquiry = status.startswith("warning_")
    ident = ctx.new_id("dp")
    txns = []
    if not inquiry:
        txn = balance.record(
            ctx,
            amount=-amount,
            currency=charge.currency,
            source=ident,
            type="adjustment",
            category="dispute",
            fee=balance.DISPUTE_FEE,
            fee_description="Dispute fee",
            description=f"Chargeback withdrawal for {charge.id}",
        )
        txns.append(txn)
    card = charge.payment_method_details.card if charge.payment_method_details else None
    dispute = Dispute(
        id=ident,
        amount=amount,
        balance_transactions=txns,
        charge=charge.id,
        created=ctx.timestamp,
        currency=charge.currency,
        evidence_details=EvidenceDetails(due_by=ctx.timestamp + 7 * _DAY),
        is_charge_refundable=inquiry,
        payment_intent=charge.payment_intent,
        payment_method_details=None
        if card is None
        else {"card": {"brand": card.brand, "network_reason_code": "10.4", "case_type": "chargeback"}, "type": "card"},
        reason=reason,
        status=status,
    )
    ctx.insert("disputes", dispute)
    new = charge.model_copy(update={"disputed": True})
    ctx.update("charges", new)
    return new


def _dispute(ctx: Context) -> Dispute:
    found: Dispute = ctx.require("disputes", ctx.path["dispute"])
    return found


def _closed(dispute: Dispute) -> SimError:
    return SimError("dispute_closed", f"This dispute is already closed (status {dispute.status}).")


@router.get(
    "/v1/disputes/{dispute}", tool="billing.disputes.retrieve", params=Params, response=Dispute, errors=NOT_FOUND
)
def retrieve_dispute(ctx: Context, p: Params) -> Any:
    """Retrieve a dispute."""
    return respond(ctx, _dispute(ctx), p.expand)


@router.post(
    "/v1/disputes/{dispute}",
    tool="billing.disputes.update",
    params=DisputeUpdateParams,
    response=Dispute,
    errors=_ERRORS,
)
def update_dispute(ctx: Context, p: DisputeUpdateParams) -> Any:
    """Add evidence or metadata; ``submit=true`` (the default once evidence is given) sends it for review."""
    dispute = _dispute(ctx)
    changes: dict[str, Any] = {"metadata": metadata_update(dispute.metadata, p.metadata)}
    if p.evidence is not None or p.submit:
        if dispute.status not in _OPEN:
            raise _closed(dispute)
        given: dict[str, Any] = {} if p.evidence is None else p.evidence.model_dump(exclude_unset=True)
        evidence = dispute.evidence.model_copy(update=given)
        details = dispute.evidence_details
        changes["evidence"] = evidence
        if p.submit is not False:
            details = details.model_copy(
                update={"has_evidence": True, "submission_count": details.submission_count + 1}
            )
            changes["status"] = "warning_under_review" if dispute.status.startswith("warning_") else "under_review"
        changes["evidence_details"] = details
    new = dispute.model_copy(update=changes)
    ctx.update("disputes", new)
    return respond(ctx, new, p.expand)


@router.post(
    "/v1/disputes/{dispute}/close", tool="billing.disputes.close", params=Params, response=Dispute, errors=_ERRORS
)
def close_dispute(ctx: Context, p: Params) -> Any:
    """Accept the dispute: it is lost (an inquiry is closed with no chargeback)."""
    dispute = _dispute(ctx)
    if dispute.status not in _OPEN:
        raise _closed(dispute)
    status = "warning_closed" if dispute.status.startswith("warning_") else "lost"
    new = dispute.model_copy(update={"status": status, "is_charge_refundable": False})
    ctx.update("disputes", new)
    return respond(ctx, new, p.expand)


@router.get(
    "/v1/disputes",
    tool="billing.disputes.list",
    params=DisputeListParams,
    response=StripeList[Dispute],
    errors=NOT_FOUND,
)
def list_disputes(ctx: Context, p: DisputeListParams) -> Any:
    """List disputes, newest first (``charge=``, ``payment_intent=``, ``created``)."""

    def keep(d: Dispute) -> bool:
        return (p.charge is None or d.charge == p.charge) and (
            p.payment_intent is None or d.payment_intent == p.payment_intent
        )

    return list_response(ctx, "disputes", "/v1/disputes", p, keep)
