"""Products and prices: what subscriptions and invoice items are priced with."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import (
    Params,
    Price,
    PriceCreateParams,
    PriceDataParams,
    PriceListParams,
    Product,
    ProductCreateParams,
    ProductListParams,
    Recurring,
    RecurringParams,
    StripeList,
)
from ._common import NOT_FOUND, list_response, respond, router

_ERRORS = ("resource_missing", "parameter_missing", "resource_already_exists")


def _recurring(r: RecurringParams | None) -> Recurring | None:
    if r is None:
        return None
    return Recurring(
        interval=r.interval,
        interval_count=r.interval_count or 1,
        trial_period_days=r.trial_period_days,
        usage_type=r.usage_type or "licensed",
    )


def make_price(ctx: Context, data: PriceDataParams | PriceCreateParams, product: str, *, store: bool) -> Price:
    """A price object (stored for ``/v1/prices``; inline ``price_data`` prices are stored too, as Stripe does)."""
    unit = data.unit_amount
    if unit is None and data.unit_amount_decimal is not None:
        try:
            unit = round(float(data.unit_amount_decimal))
        except ValueError:
            raise SimError(
                "parameter_invalid", f"Invalid decimal: {data.unit_amount_decimal}", param="unit_amount_decimal"
            ) from None
    if unit is None and getattr(data, "billing_scheme", None) != "tiered":
        raise SimError("parameter_missing", "Missing required param: unit_amount.", param="unit_amount")
    recurring = _recurring(data.recurring)
    price = Price(
        id=ctx.new_id("price"),
        created=ctx.timestamp,
        currency=data.currency,
        product=product,
        recurring=recurring,
        tax_behavior=data.tax_behavior or "unspecified",
        type="recurring" if recurring else "one_time",
        unit_amount=unit,
        unit_amount_decimal=None if unit is None else str(unit),
    )
    if store:
        ctx.insert("prices", price)
    return price


@router.post(
    "/v1/products", tool="billing.products.create", params=ProductCreateParams, response=Product, errors=_ERRORS
)
def create_product(ctx: Context, p: ProductCreateParams) -> Any:
    """Create a product."""
    ident = p.id or ctx.new_id("prod")
    if ctx.get("products", ident) is not None:
        raise SimError("resource_already_exists", f"Product already exists: {ident}", param="id")
    fields = p.model_dump(exclude={"expand", "id", "default_price_data", "features", "package_dimensions"},
                          exclude_none=True)  # fmt: skip
    product = Product(id=ident, created=ctx.timestamp, updated=ctx.timestamp, **fields)
    ctx.insert("products", product)
    return respond(ctx, product, p.expand)


@router.get("/v1/products/{id}", tool="billing.products.retrieve", params=Params, response=Product, errors=NOT_FOUND)
def retrieve_product(ctx: Context, p: Params) -> Any:
    """Retrieve a product."""
    return respond(ctx, ctx.require("products", ctx.path["id"]), p.expand)


@router.get(
    "/v1/products",
    tool="billing.products.list",
    params=ProductListParams,
    response=StripeList[Product],
    errors=NOT_FOUND,
)
def list_products(ctx: Context, p: ProductListParams) -> Any:
    """List products, newest first (``active=``, ``ids[]``, ``shippable=``, ``url=``, ``created``)."""

    def keep(o: Product) -> bool:
        return (
            (p.active is None or o.active == p.active)
            and (p.ids is None or o.id in p.ids)
            and (p.shippable is None or o.shippable == p.shippable)
            and (p.url is None or o.url == p.url)
        )

    return list_response(ctx, "products", "/v1/products", p, keep)


@router.post("/v1/prices", tool="billing.prices.create", params=PriceCreateParams, response=Price, errors=_ERRORS)
def create_price(ctx: Context, p: PriceCreateParams) -> Any:
    """Create a price for ``product`` (or a new product from ``product_data``)."""
    if p.product is None and p.product_data is None:
        raise SimError("parameter_missing", "Missing required param: product.", param="product")
    if p.product is not None:
        product = ctx.require("products", p.product, param="product").id
    else:
        data = p.product_data
        assert data is not None
        product = data.id or ctx.new_id("prod")
        fields = data.model_dump(exclude={"id"}, exclude_none=True)
        ctx.insert("products", Product(id=product, created=ctx.timestamp, updated=ctx.timestamp, **fields))
    price = make_price(ctx, p, product, store=False)
    price = price.model_copy(
        update={
            k: getattr(p, k) for k in ("active", "lookup_key", "nickname", "billing_scheme", "tiers_mode")
            if getattr(p, k) is not None
        }
        | {"metadata": p.metadata or {}}
    )  # fmt: skip
    ctx.insert("prices", price)
    return respond(ctx, price, p.expand)


@router.get("/v1/prices/{price}", tool="billing.prices.retrieve", params=Params, response=Price, errors=NOT_FOUND)
def retrieve_price(ctx: Context, p: Params) -> Any:
    """Retrieve a price."""
    return respond(ctx, ctx.require("prices", ctx.path["price"]), p.expand)


@router.get(
    "/v1/prices", tool="billing.prices.list", params=PriceListParams, response=StripeList[Price], errors=NOT_FOUND
)
def list_prices(ctx: Context, p: PriceListParams) -> Any:
    """List prices, newest first (``product=``, ``active=``, ``currency=``, ``type=``, ``lookup_keys[]``)."""

    def keep(o: Price) -> bool:
        return (
            (p.product is None or o.product == p.product)
            and (p.active is None or o.active == p.active)
            and (p.currency is None or o.currency == p.currency)
            and (p.type is None or o.type == p.type)
            and (p.lookup_keys is None or o.lookup_key in p.lookup_keys)
        )

    return list_response(ctx, "prices", "/v1/prices", p, keep)
