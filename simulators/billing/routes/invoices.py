"""Invoices: create, retrieve, update, delete, finalize, pay, send, void, mark uncollectible, list,
search, lines."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.pagination import paginate
from simulators.core.simulator import Context

from ..models import (
    Customer,
    DeletedInvoice,
    Invoice,
    InvoiceCreateParams,
    InvoiceFinalizeParams,
    InvoiceLineItem,
    InvoiceLinesParams,
    InvoiceListParams,
    InvoicePayParams,
    InvoiceUpdateParams,
    Params,
    SearchParams,
    SearchResult,
    StripeList,
    in_range,
)
from ._common import NOT_FOUND, list_response, metadata_update, respond, router, search_response
from .invoicing import charge_invoice, finalize, mark_paid, payment_method_for, with_lines

_STATE = ("invoice_unexpected_state", "resource_missing")
_STORED = ("auto_advance", "description", "footer", "default_payment_method", "statement_descriptor",
           "application_fee_amount", "on_behalf_of", "effective_at")  # fmt: skip


def _invoice(ctx: Context) -> Invoice:
    found: Invoice = ctx.require("invoices", ctx.path["invoice"], param="invoice")
    return found


def _due_date(p: InvoiceCreateParams | InvoiceUpdateParams, method: str, now: int, current: int | None) -> int | None:
    due = p.due_date if p.due_date is not None else current
    if method == "send_invoice" and due is None:
        if p.days_until_due is None:
            raise SimError("parameter_missing", "Missing required param: days_until_due.", param="days_until_due")
        due = now + 86400 * p.days_until_due
    return due


def _customer_copy(cust: Customer | None) -> dict[str, Any]:
    if cust is None:
        return {}
    return {
        "customer": cust.id,
        "customer_address": cust.address,
        "customer_email": cust.email,
        "customer_name": cust.name,
        "customer_phone": cust.phone,
        "customer_shipping": cust.shipping,
        "customer_tax_exempt": cust.tax_exempt,
    }


@router.post(
    "/v1/invoices",
    tool="billing.invoices.create",
    params=InvoiceCreateParams,
    response=Invoice,
    errors=("resource_missing", "parameter_missing"),
)
def create_invoice(ctx: Context, p: InvoiceCreateParams) -> Any:
    """Create a draft invoice (``pending_invoice_items_behavior=include`` pulls in pending items)."""
    cust: Customer | None = ctx.require("customers", p.customer, param="customer") if p.customer else None
    if p.subscription is not None:
        ctx.require("subscriptions", p.subscription, param="subscription")
    method = p.collection_method or "charge_automatically"
    ident = ctx.new_id("in")
    inv = Invoice(
        id=ident,
        collection_method=method,
        created=ctx.timestamp,
        currency=p.currency or (cust.currency if cust else None) or "usd",
        due_date=_due_date(p, method, ctx.timestamp, None),
        footer=p.footer or (cust.invoice_settings.footer if cust else None),
        metadata=p.metadata or {},
        period_end=ctx.timestamp,
        period_start=ctx.timestamp,
        starting_balance=cust.balance if cust else 0,
        subscription=p.subscription,
        **_customer_copy(cust),
        **{k: getattr(p, k) for k in _STORED if getattr(p, k) is not None and k != "footer"},
    )
    ctx.insert("invoices", inv)
    if p.pending_invoice_items_behavior in ("include", "include_and_require") and cust is not None:
        for item in ctx.all("invoice_items"):
            if item.customer == cust.id and item.invoice is None and item.currency == inv.currency:
                ctx.update("invoice_items", item.model_copy(update={"invoice": ident}))
    inv = with_lines(ctx, inv)
    ctx.update("invoices", inv)
    return respond(ctx, inv, p.expand)


@router.get(
    "/v1/invoices/{invoice}", tool="billing.invoices.retrieve", params=Params, response=Invoice, errors=NOT_FOUND
)
def retrieve_invoice(ctx: Context, p: Params) -> Any:
    """Retrieve an invoice."""
    return respond(ctx, _invoice(ctx), p.expand)


@router.post(
    "/v1/invoices/{invoice}",
    tool="billing.invoices.update",
    params=InvoiceUpdateParams,
    response=Invoice,
    errors=("invoice_not_editable", "resource_missing", "parameter_missing"),
)
def update_invoice(ctx: Context, p: InvoiceUpdateParams) -> Any:
    """Update a draft invoice (an open one: only metadata, description, footer, due date...)."""
    inv = _invoice(ctx)
    if inv.status in ("paid", "void", "uncollectible") and p.model_fields_set - {"metadata", "expand"}:
        raise SimError("invoice_not_editable", f"You can only update the metadata of a {inv.status} invoice.")
    method = p.collection_method or inv.collection_method
    changes: dict[str, Any] = {k: getattr(p, k) for k in _STORED if k in p.model_fields_set}
    changes["collection_method"] = method
    changes["due_date"] = _due_date(p, method, ctx.timestamp, inv.due_date)
    changes["metadata"] = metadata_update(inv.metadata, p.metadata)
    new = inv.model_copy(update=changes)
    ctx.update("invoices", new)
    return respond(ctx, new, p.expand)


@router.delete(
    "/v1/invoices/{invoice}",
    tool="billing.invoices.delete",
    response=DeletedInvoice,
    errors=("invoice_not_editable", "resource_missing"),
)
def delete_invoice(ctx: Context, p: None) -> Any:
    """Delete a draft invoice (its items become pending again)."""
    inv = _invoice(ctx)
    if inv.status != "draft":
        raise SimError("invoice_not_editable", "You can only delete draft invoices.")
    for item in ctx.all("invoice_items"):
        if item.invoice == inv.id:
            ctx.update("invoice_items", item.model_copy(update={"invoice": None}))
    ctx.delete("invoices", inv.id)
    return DeletedInvoice(id=inv.id)


@router.post(
    "/v1/invoices/{invoice}/finalize",
    tool="billing.invoices.finalize",
    params=InvoiceFinalizeParams,
    response=Invoice,
    errors=_STATE,
)
def finalize_invoice(ctx: Context, p: InvoiceFinalizeParams) -> Any:
    """Finalize a draft invoice: it gets a number and becomes payable (``open``)."""
    return respond(ctx, finalize(ctx, _invoice(ctx), p.auto_advance), p.expand)


@router.post(
    "/v1/invoices/{invoice}/pay",
    tool="billing.invoices.pay",
    params=InvoicePayParams,
    response=Invoice,
    errors=("invoice_unexpected_state", "card_declined", "parameter_missing", "resource_missing"),
)
def pay_invoice(ctx: Context, p: InvoicePayParams) -> Any:
    """Pay an invoice now (finalizing a draft first), by card or ``paid_out_of_band``."""
    inv = _invoice(ctx)
    if inv.status == "draft":
        inv = finalize(ctx, inv)
    if inv.status not in ("open", "uncollectible"):
        raise SimError("invoice_unexpected_state", f"Invoice is already {inv.status}.")
    if p.paid_out_of_band:
        return respond(ctx, mark_paid(ctx, inv, out_of_band=True), p.expand)
    pm = payment_method_for(ctx, inv, p.payment_method or p.source)
    return respond(ctx, charge_invoice(ctx, inv, pm), p.expand)


@router.post(
    "/v1/invoices/{invoice}/send", tool="billing.invoices.send", params=Params, response=Invoice, errors=_STATE
)
def send_invoice(ctx: Context, p: Params) -> Any:
    """Email an open invoice to the customer (nothing is sent: the invoice is returned unchanged)."""
    inv = _invoice(ctx)
    if inv.status != "open":
        raise SimError("invoice_unexpected_state", f"You can only send open invoices; this one is {inv.status}.")
    return respond(ctx, inv, p.expand)


def _close(ctx: Context, inv: Invoice, status: str, stamp: str) -> Invoice:
    if inv.status != "open":
        verb = "void" if status == "void" else "mark uncollectible"
        raise SimError("invoice_unexpected_state", f"You can only {verb} open invoices; this one is {inv.status}.")
    new = inv.model_copy(
        update={
            "status": status,
            "amount_remaining": 0 if status == "void" else inv.amount_remaining,
            "status_transitions": inv.status_transitions.model_copy(update={stamp: ctx.timestamp}),
        }
    )
    ctx.update("invoices", new)
    return new


@router.post(
    "/v1/invoices/{invoice}/void", tool="billing.invoices.void", params=Params, response=Invoice, errors=_STATE
)
def void_invoice(ctx: Context, p: Params) -> Any:
    """Void an open invoice."""
    return respond(ctx, _close(ctx, _invoice(ctx), "void", "voided_at"), p.expand)


@router.post(
    "/v1/invoices/{invoice}/mark_uncollectible",
    tool="billing.invoices.mark_uncollectible",
    params=Params,
    response=Invoice,
    errors=_STATE,
)
def mark_uncollectible(ctx: Context, p: Params) -> Any:
    """Mark an open invoice uncollectible (it can still be paid later)."""
    return respond(ctx, _close(ctx, _invoice(ctx), "uncollectible", "marked_uncollectible_at"), p.expand)


@router.get(
    "/v1/invoices/{invoice}/lines",
    tool="billing.invoices.lines",
    params=InvoiceLinesParams,
    response=StripeList[InvoiceLineItem],
    errors=NOT_FOUND,
)
def list_invoice_lines(ctx: Context, p: InvoiceLinesParams) -> Any:
    """An invoice's lines, in invoice order."""
    inv = _invoice(ctx)
    lines = inv.lines.data if inv.lines else []
    page = paginate(lines, limit=p.limit, starting_after=p.starting_after, ending_before=p.ending_before)
    return StripeList[InvoiceLineItem](data=page.items, has_more=page.has_more, url=f"/v1/invoices/{inv.id}/lines")


@router.get(
    "/v1/invoices/search",
    tool="billing.invoices.search",
    params=SearchParams,
    response=SearchResult[Invoice],
    errors=("parameter_invalid",),
)
def search_invoices(ctx: Context, p: SearchParams) -> Any:
    """Search invoices (``customer``, ``status``, ``number``, ``total``, ``subscription``, ``metadata``...)."""
    return search_response(ctx, "invoices", "/v1/invoices/search", p)


@router.get(
    "/v1/invoices",
    tool="billing.invoices.list",
    params=InvoiceListParams,
    response=StripeList[Invoice],
    errors=NOT_FOUND,
)
def list_invoices(ctx: Context, p: InvoiceListParams) -> Any:
    """List invoices, newest first (``customer=``, ``status=``, ``subscription=``, ``due_date``, ``created``)."""

    def keep(i: Invoice) -> bool:
        return (
            (p.customer is None or i.customer == p.customer)
            and (p.status is None or i.status == p.status)
            and (p.subscription is None or i.subscription == p.subscription)
            and (p.collection_method is None or i.collection_method == p.collection_method)
            and (p.due_date is None or in_range(i.due_date, p.due_date))
        )

    return list_response(ctx, "invoices", "/v1/invoices", p, keep)
