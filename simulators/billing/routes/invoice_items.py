"""Invoice items: create, retrieve, update, delete, list."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import (
    Customer,
    DeletedInvoiceItem,
    Invoice,
    InvoiceItem,
    InvoiceItemCreateParams,
    InvoiceItemListParams,
    InvoiceItemUpdateParams,
    InvoiceItemWriteParams,
    Params,
    Period,
    Price,
    StripeList,
)
from ._common import NOT_FOUND, list_response, metadata_update, respond, router
from .catalog import make_price
from .invoicing import default_period, with_lines

_ERRORS = ("invoice_not_editable", "resource_missing", "parameter_missing", "parameter_invalid")


def _draft(ctx: Context, ident: str, customer: str) -> Invoice:
    inv: Invoice = ctx.require("invoices", ident, param="invoice")
    if inv.status != "draft":
        raise SimError(
            "invoice_not_editable", f"Invoice {inv.id} is {inv.status}; only drafts can change.", param="invoice"
        )
    if inv.customer != customer:
        raise SimError("parameter_invalid", "The invoice belongs to another customer.", param="invoice")
    return inv


def _pricing(ctx: Context, p: InvoiceItemWriteParams, currency: str | None) -> dict[str, Any]:
    """``amount``, or ``unit_amount`` x ``quantity``, or a ``price`` / ``price_data`` x ``quantity``."""
    quantity = 1 if p.quantity is None else p.quantity
    price: Price | None = None
    if p.price is not None:
        price = ctx.require("prices", p.price, param="price")
    elif p.price_data is not None:
        product = ctx.require("products", p.price_data.product, param="price_data[product]")
        price = make_price(ctx, p.price_data, product.id, store=True)
    unit = p.unit_amount if price is None else price.unit_amount
    if p.amount is not None:
        amount = p.amount
        unit = amount if quantity == 1 else unit
    elif unit is not None:
        amount = unit * quantity
    else:
        return {}
    fields: dict[str, Any] = {"amount": amount, "quantity": quantity, "price": price}
    fields["unit_amount"] = unit
    fields["unit_amount_decimal"] = None if unit is None else str(unit)
    if price is not None:
        fields["currency"] = price.currency
    return fields


@router.post(
    "/v1/invoiceitems",
    tool="billing.invoice_items.create",
    params=InvoiceItemCreateParams,
    response=InvoiceItem,
    errors=_ERRORS,
)
def create_invoice_item(ctx: Context, p: InvoiceItemCreateParams) -> Any:
    """Add a line to a draft invoice, or a pending item for the customer's next invoice."""
    cust: Customer = ctx.require("customers", p.customer, param="customer")
    inv = _draft(ctx, p.invoice, cust.id) if p.invoice is not None else None
    pricing = _pricing(ctx, p, p.currency)
    if not pricing:
        raise SimError(
            "parameter_missing",
            "Missing required param: amount, price, price_data or unit_amount.",
            param="amount",
        )
    currency = pricing.pop("currency", None) or p.currency or (inv.currency if inv else None) or cust.currency or "usd"
    item = InvoiceItem(
        id=ctx.new_id("ii"),
        currency=currency,
        customer=cust.id,
        date=ctx.timestamp,
        description=p.description,
        discountable=True if p.discountable is None else p.discountable,
        invoice=p.invoice,
        metadata=p.metadata or {},
        period=Period(**p.period.model_dump()) if p.period else default_period(ctx),
        subscription=p.subscription,
        **pricing,
    )
    ctx.insert("invoice_items", item)
    if inv is not None:
        ctx.update("invoices", with_lines(ctx, inv))
    return respond(ctx, item, p.expand)


@router.get(
    "/v1/invoiceitems/{invoiceitem}",
    tool="billing.invoice_items.retrieve",
    params=Params,
    response=InvoiceItem,
    errors=NOT_FOUND,
)
def retrieve_invoice_item(ctx: Context, p: Params) -> Any:
    """Retrieve an invoice item."""
    return respond(ctx, ctx.require("invoice_items", ctx.path["invoiceitem"]), p.expand)


def _editable(ctx: Context) -> tuple[InvoiceItem, Invoice | None]:
    item: InvoiceItem = ctx.require("invoice_items", ctx.path["invoiceitem"])
    inv = _draft(ctx, item.invoice, item.customer) if item.invoice is not None else None
    return item, inv


@router.post(
    "/v1/invoiceitems/{invoiceitem}",
    tool="billing.invoice_items.update",
    params=InvoiceItemUpdateParams,
    response=InvoiceItem,
    errors=_ERRORS,
)
def update_invoice_item(ctx: Context, p: InvoiceItemUpdateParams) -> Any:
    """Update a pending item or one on a draft invoice."""
    item, inv = _editable(ctx)
    changes: dict[str, Any] = _pricing(ctx, p, item.currency)
    changes.pop("currency", None)
    for name in ("description", "discountable"):
        if name in p.model_fields_set:
            changes[name] = getattr(p, name)
    if p.period is not None:
        changes["period"] = Period(**p.period.model_dump())
    changes["metadata"] = metadata_update(item.metadata, p.metadata)
    new = item.model_copy(update=changes)
    ctx.update("invoice_items", new)
    if inv is not None:
        ctx.update("invoices", with_lines(ctx, inv))
    return respond(ctx, new, p.expand)


@router.delete(
    "/v1/invoiceitems/{invoiceitem}",
    tool="billing.invoice_items.delete",
    response=DeletedInvoiceItem,
    errors=("invoice_not_editable", "resource_missing"),
)
def delete_invoice_item(ctx: Context, p: None) -> Any:
    """Delete a pending item or one on a draft invoice."""
    item, inv = _editable(ctx)
    ctx.delete("invoice_items", item.id)
    if inv is not None:
        ctx.update("invoices", with_lines(ctx, inv))
    return DeletedInvoiceItem(id=item.id)


@router.get(
    "/v1/invoiceitems",
    tool="billing.invoice_items.list",
    params=InvoiceItemListParams,
    response=StripeList[InvoiceItem],
    errors=NOT_FOUND,
)
def list_invoice_items(ctx: Context, p: InvoiceItemListParams) -> Any:
    """List invoice items, newest first (``pending=true``: not yet on an invoice)."""

    def keep(i: InvoiceItem) -> bool:
        return (
            (p.customer is None or i.customer == p.customer)
            and (p.invoice is None or i.invoice == p.invoice)
            and (p.pending is None or (i.invoice is None) == p.pending)
        )

    return list_response(ctx, "invoice_items", "/v1/invoiceitems", p, keep)
