"""Balance transactions: what each charge, refund and dispute moved, with Stripe's fee and net.

Fees follow Stripe's standard US card pricing (2.9% + 30 cents on a charge, nothing back on a
refund, a 15.00 dispute fee): a refund or chargeback agent can reconcile amounts as in production.
"""

from __future__ import annotations

from typing import Any

from simulators.core.simulator import Context

from ..models import BalanceTransaction, BalanceTransactionListParams, Fee, Params, StripeList
from ._common import NOT_FOUND, list_response, respond, router

_DAY = 86400
DISPUTE_FEE = 1500


def card_fee(amount: int) -> int:
    return round(amount * 0.029) + 30


def record(
    ctx: Context,
    *,
    amount: int,
    currency: str,
    source: str,
    type: str,
    category: str,
    fee: int = 0,
    fee_description: str = "Stripe processing fees",
    description: str | None = None,
) -> BalanceTransaction:
    """Store a balance transaction; ``net`` is ``amount - fee``, available two days later."""
    fees = [Fee(amount=fee, currency=currency, description=fee_description, type="stripe_fee")] if fee else []
    txn = BalanceTransaction(
        id=ctx.new_id("txn"),
        amount=amount,
        available_on=ctx.timestamp + 2 * _DAY,
        created=ctx.timestamp,
        currency=currency,
        description=description,
        fee=fee,
        fee_details=fees,
        net=amount - fee,
        reporting_category=category,
        source=source,
        type=type,
    )
    ctx.insert("balance_transactions", txn)
    return txn


@router.get(
    "/v1/balance_transactions/{id}",
    tool="billing.balance_transactions.retrieve",
    params=Params,
    response=BalanceTransaction,
    errors=NOT_FOUND,
)
def retrieve_balance_transaction(ctx: Context, p: Params) -> Any:
    """Retrieve a balance transaction."""
    return respond(ctx, _current(ctx, ctx.require("balance_transactions", ctx.path["id"])), p.expand)


def _current(ctx: Context, txn: BalanceTransaction) -> BalanceTransaction:
    """Funds become ``available`` on ``available_on`` (simulated time)."""
    if txn.status == "pending" and ctx.timestamp >= txn.available_on:
        return txn.model_copy(update={"status": "available"})
    return txn


@router.get(
    "/v1/balance_transactions",
    tool="billing.balance_transactions.list",
    params=BalanceTransactionListParams,
    response=StripeList[BalanceTransaction],
    errors=NOT_FOUND,
)
def list_balance_transactions(ctx: Context, p: BalanceTransactionListParams) -> Any:
    """List balance transactions, newest first (``type=``, ``source=``, ``currency=``, ``created``)."""

    def keep(t: BalanceTransaction) -> bool:
        return (
            (p.type is None or t.type == p.type)
            and (p.source is None or t.source == p.source)
            and (p.currency is None or t.currency == p.currency)
            and p.payout is None
        )

    page = list_response(ctx, "balance_transactions", "/v1/balance_transactions", p, keep)
    if isinstance(page, StripeList):
        return page.model_copy(update={"data": [_current(ctx, t) for t in page.data]})
    return page
