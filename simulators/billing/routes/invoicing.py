"""What invoices, invoice items and subscriptions share: lines and totals, finalizing, paying."""

from __future__ import annotations

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import Customer, Invoice, InvoiceItem, InvoiceLineItem, PaymentIntent, Period, StripeList
from . import cards
from .payment_intents import confirm_intent


def item_line(inv: Invoice, item: InvoiceItem) -> InvoiceLineItem:
    return InvoiceLineItem(
        id="il_" + item.id.split("_", 1)[1],
        amount=item.amount,
        amount_excluding_tax=item.amount,
        currency=item.currency,
        description=item.description,
        discountable=item.discountable,
        invoice=inv.id,
        invoice_item=item.id,
        metadata=item.metadata,
        period=item.period,
        price=item.price,
        proration=item.proration,
        quantity=item.quantity,
        subscription=item.subscription,
        type="invoiceitem",
        unit_amount_excluding_tax=None if item.unit_amount is None else str(item.unit_amount),
    )


def with_lines(ctx: Context, inv: Invoice, extra: list[InvoiceLineItem] | None = None) -> Invoice:
    """Recompute lines and totals: subscription lines kept (plus ``extra``), item lines rebuilt."""
    kept = [line for line in (inv.lines.data if inv.lines else []) if line.type == "subscription"]
    items = [i for i in ctx.all("invoice_items") if i.invoice == inv.id]
    lines = [*kept, *(extra or []), *(item_line(inv, i) for i in items)]
    total = sum(line.amount for line in lines)
    draft = inv.status == "draft"
    return inv.model_copy(
        update={
            "lines": StripeList[InvoiceLineItem](data=lines, url=f"/v1/invoices/{inv.id}/lines"),
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "total": total,
            "total_excluding_tax": total,
            "amount_due": total if draft else inv.amount_due,
            "amount_remaining": total if draft else inv.amount_remaining,
        }
    )


def default_period(ctx: Context) -> Period:
    return Period(start=ctx.timestamp, end=ctx.timestamp)


def finalize(ctx: Context, inv: Invoice, auto_advance: bool | None = None) -> Invoice:
    if inv.status != "draft":
        raise SimError(
            "invoice_unexpected_state",
            f"This invoice is already finalized (status {inv.status}); only draft invoices can be finalized.",
        )
    cust: Customer | None = ctx.get("customers", inv.customer) if inv.customer else None
    number = None
    if cust is not None:
        number = f"{cust.invoice_prefix}-{cust.next_invoice_sequence:04d}"
        ctx.update("customers", cust.model_copy(update={"next_invoice_sequence": cust.next_invoice_sequence + 1}))
    paid = inv.total <= 0
    new = inv.model_copy(
        update={
            "status": "paid" if paid else "open",
            "paid": paid,
            "number": number,
            "amount_due": max(inv.total, 0),
            "amount_remaining": 0 if paid else inv.total,
            "auto_advance": inv.auto_advance if auto_advance is None else auto_advance,
            "effective_at": ctx.timestamp,
            "ending_balance": 0,
            "hosted_invoice_url": f"https://invoice.sim.agentops.local/{inv.id}",
            "invoice_pdf": f"https://invoice.sim.agentops.local/{inv.id}/pdf",
            "status_transitions": inv.status_transitions.model_copy(
                update={"finalized_at": ctx.timestamp, "paid_at": ctx.timestamp if paid else None}
            ),
        }
    )
    ctx.update("invoices", new)
    return new


def mark_paid(ctx: Context, inv: Invoice, *, out_of_band: bool = False, charge: str | None = None) -> Invoice:
    new = inv.model_copy(
        update={
            "status": "paid",
            "paid": True,
            "paid_out_of_band": out_of_band,
            "amount_paid": inv.amount_remaining if not out_of_band else inv.amount_due,
            "amount_remaining": 0,
            "charge": charge if charge is not None else inv.charge,
            "status_transitions": inv.status_transitions.model_copy(update={"paid_at": ctx.timestamp}),
        }
    )
    ctx.update("invoices", new)
    return new


def payment_method_for(ctx: Context, inv: Invoice, given: str | None) -> str:
    cust: Customer | None = ctx.get("customers", inv.customer) if inv.customer else None
    pm = given or inv.default_payment_method or (cust.invoice_settings.default_payment_method if cust else None)
    if pm is None:
        raise SimError(
            "parameter_missing",
            "The customer has no default payment method (invoice_settings[default_payment_method]); "
            "pass payment_method.",
            param="payment_method",
        )
    cards.resolve(ctx, pm)
    return pm


def charge_invoice(ctx: Context, inv: Invoice, pm: str) -> Invoice:
    """Pay an open invoice by card; a decline raises 402 and keeps the attempt."""
    pi = PaymentIntent(
        id=ctx.new_id("pi"),
        amount=inv.amount_remaining,
        created=ctx.timestamp,
        currency=inv.currency,
        customer=inv.customer,
        description=f"Payment for Invoice {inv.number}",
        invoice=inv.id,
        payment_method=pm,
        status="requires_confirmation",
    )
    attempted = inv.model_copy(
        update={"attempted": True, "attempt_count": inv.attempt_count + 1, "payment_intent": pi.id}
    )
    ctx.update("invoices", attempted)
    pi = confirm_intent(ctx, pi, pm)
    return mark_paid(ctx, attempted, charge=pi.latest_charge)
