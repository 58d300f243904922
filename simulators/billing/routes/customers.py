"""Customers: create, retrieve, update, delete, list, search."""

from __future__ import annotations

from typing import Any

from simulators.core.simulator import Context

from ..models import (
    Address,
    Customer,
    CustomerCreateParams,
    CustomerListParams,
    CustomerUpdateParams,
    DeletedCustomer,
    InvoiceSettings,
    Params,
    SearchParams,
    SearchResult,
    Shipping,
    StripeList,
)
from . import cards, payment_methods
from ._common import (
    NOT_FOUND,
    blank_to_none,
    list_response,
    metadata_update,
    respond,
    router,
    search_response,
    short_hash,
)

_ERRORS = ("resource_missing", "parameter_invalid", "parameter_unknown")
#: accepted and not stored: they configure features the simulator does not model
_UNMODELLED = {"cash_balance", "coupon", "promotion_code", "tax", "tax_id_data", "source", "payment_method"}
_UPDATE_ONLY = {"bank_account", "card", "default_alipay_account", "default_bank_account", "default_card"}
#: what create stores its own way (or not at all) rather than as sent; a set, as pydantic takes it
#: as it is (a frozenset it converts at every call)
_CREATE_SKIP = {"expand", "invoice_settings", "address", "shipping", *_UNMODELLED}
#: a customer created without ``invoice_settings`` shares this one: resources are frozen, and an
#: update builds a new object, so no customer can change another's
_NO_INVOICE_SETTINGS = InvoiceSettings()


def _check_methods(ctx: Context, p: CustomerCreateParams) -> None:
    if p.payment_method is not None:
        cards.resolve(ctx, p.payment_method)
    if p.invoice_settings is not None and p.invoice_settings.default_payment_method:
        cards.resolve(ctx, p.invoice_settings.default_payment_method, "invoice_settings[default_payment_method]")


def _structured(p: CustomerCreateParams) -> dict[str, Any]:
    """Nested parameters as the resource's own objects."""
    out: dict[str, Any] = {}
    if p.address is not None:
        out["address"] = Address(**p.address.model_dump())
    if p.shipping is not None:
        out["shipping"] = Shipping.model_validate(p.shipping.model_dump())
    return out


@router.post(
    "/v1/customers", tool="billing.customers.create", params=CustomerCreateParams, response=Customer, errors=_ERRORS
)
def create_customer(ctx: Context, p: CustomerCreateParams) -> Any:
    """Create a customer."""
    _check_methods(ctx, p)
    ident = ctx.new_id("cus")
    fields = p.model_dump(exclude=_CREATE_SKIP, exclude_none=True)
    settings = _NO_INVOICE_SETTINGS
    if p.invoice_settings is not None:
        settings = InvoiceSettings(
            default_payment_method=p.invoice_settings.default_payment_method, footer=p.invoice_settings.footer
        )
    cust = Customer(
        id=ident,
        created=ctx.timestamp,
        invoice_prefix=fields.pop("invoice_prefix", None) or short_hash(ident).upper(),
        invoice_settings=settings,
        **_structured(p),
        **fields,
    )
    ctx.insert("customers", cust)
    if p.payment_method is not None:
        payment_methods.attach(ctx, p.payment_method, ident)
    return respond(ctx, cust, p.expand)


@router.get(
    "/v1/customers/{customer}", tool="billing.customers.retrieve", params=Params, response=Customer, errors=NOT_FOUND
)
def retrieve_customer(ctx: Context, p: Params) -> Any:
    """Retrieve a customer."""
    return respond(ctx, ctx.require("customers", ctx.path["customer"]), p.expand)


@router.post(
    "/v1/customers/{customer}",
    tool="billing.customers.update",
    params=CustomerUpdateParams,
    response=Customer,
    errors=_ERRORS,
)
def update_customer(ctx: Context, p: CustomerUpdateParams) -> Any:
    """Update a customer; unset fields stay, empty strings clear them (Stripe semantics)."""
    cust: Customer = ctx.require("customers", ctx.path["customer"])
    _check_methods(ctx, p)
    skip = {"expand", "metadata", "invoice_settings", "address", "shipping", *_UNMODELLED, *_UPDATE_ONLY}
    changes = blank_to_none({k: getattr(p, k) for k in p.model_fields_set - skip})
    changes.update(_structured(p))
    if "tax_exempt" in changes and changes["tax_exempt"] is None:
        changes["tax_exempt"] = "none"
    if "balance" in changes and changes["balance"] is None:
        changes["balance"] = 0
    if p.invoice_settings is not None:
        settings = p.invoice_settings
        names = settings.model_fields_set & {"default_payment_method", "footer"}
        changes["invoice_settings"] = cust.invoice_settings.model_copy(
            update=blank_to_none({k: getattr(settings, k) for k in names})
        )
    changes["metadata"] = metadata_update(cust.metadata, p.metadata)
    new = cust.model_copy(update=changes)
    ctx.update("customers", new)
    return respond(ctx, new, p.expand)


@router.delete("/v1/customers/{customer}", tool="billing.customers.delete", response=DeletedCustomer, errors=NOT_FOUND)
def delete_customer(ctx: Context, p: None) -> Any:
    """Delete a customer (its payments and invoices stay)."""
    ident = ctx.path["customer"]
    ctx.require("customers", ident)
    ctx.delete("customers", ident)
    return DeletedCustomer(id=ident)


@router.get(
    "/v1/customers/search",
    tool="billing.customers.search",
    params=SearchParams,
    response=SearchResult[Customer],
    errors=("parameter_invalid",),
)
def search_customers(ctx: Context, p: SearchParams) -> Any:
    """Search customers (``email``, ``name``, ``phone``, ``metadata["k"]``, ``created``)."""
    return search_response(ctx, "customers", "/v1/customers/search", p)


@router.get(
    "/v1/customers",
    tool="billing.customers.list",
    params=CustomerListParams,
    response=StripeList[Customer],
    errors=NOT_FOUND,
)
def list_customers(ctx: Context, p: CustomerListParams) -> Any:
    """List customers, newest first (``email=``, ``created``, ``test_clock=``)."""

    def keep(c: Customer) -> bool:
        return (p.email is None or c.email == p.email) and (p.test_clock is None or c.test_clock == p.test_clock)

    return list_response(ctx, "customers", "/v1/customers", p, keep)
