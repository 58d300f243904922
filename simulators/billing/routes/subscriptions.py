"""Subscriptions: create (with trials), retrieve, update (items, ``cancel_at_period_end``), cancel,
list, search, and their items.

Each period is billed by an invoice whose lines are the items; the first one at creation, paid
from the default payment method (Stripe's default ``payment_behavior=allow_incomplete``: a decline
or no payment method leaves the subscription ``incomplete``). No prorations are computed when
items change. Time-driven transitions (a trial ending, cancellation at period end) show as soon
as the simulated clock passes them.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

from simulators.core.errors import SimError
from simulators.core.pagination import paginate
from simulators.core.simulator import Context

from ..models import (
    CancellationDetails,
    Customer,
    Invoice,
    InvoiceLineItem,
    Params,
    Period,
    Price,
    SearchParams,
    SearchResult,
    StripeList,
    Subscription,
    SubscriptionCancelParams,
    SubscriptionCreateParams,
    SubscriptionItem,
    SubscriptionItemListParams,
    SubscriptionItemParams,
    SubscriptionListParams,
    SubscriptionUpdateParams,
    in_range,
)
from . import cards
from ._common import NOT_FOUND, list_response, metadata_update, respond, router, search_response
from .catalog import make_price
from .invoicing import charge_invoice, finalize, with_lines

_ERRORS = ("resource_missing", "parameter_missing", "parameter_invalid", "card_declined", "subscription_canceled")


def add_interval(start: int, interval: str, count: int) -> int:
    if interval in ("day", "week"):
        return start + count * (7 if interval == "week" else 1) * 86400
    months = count * (12 if interval == "year" else 1)
    moment = datetime.fromtimestamp(start, UTC)
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def _item_price(ctx: Context, spec: SubscriptionItemParams, at: str) -> Price:
    if spec.price is not None or spec.plan is not None:
        price: Price = ctx.require("prices", spec.price or spec.plan or "", param=f"{at}[price]")
    elif spec.price_data is not None:
        product = ctx.require("products", spec.price_data.product, param=f"{at}[price_data][product]")
        price = make_price(ctx, spec.price_data, product.id, store=True)
    else:
        raise SimError("parameter_missing", f"Missing required param: {at}[price].", param=f"{at}[price]")
    if price.recurring is None:
        raise SimError(
            "parameter_invalid",
            f"The price specified ({price.id}) is set to `type=one_time` but this field only accepts prices "
            "with `type=recurring`.",
            param=f"{at}[price]",
        )
    return price


def _new_item(ctx: Context, sub: str, spec: SubscriptionItemParams, at: str, start: int, end: int) -> SubscriptionItem:
    return SubscriptionItem(
        id=ctx.new_id("si"),
        created=ctx.timestamp,
        current_period_end=end,
        current_period_start=start,
        metadata=spec.metadata or {},
        price=_item_price(ctx, spec, at),
        quantity=1 if spec.quantity is None else spec.quantity,
        subscription=sub,
    )


def _lines(sub: Subscription, items: list[SubscriptionItem], trial: bool) -> list[InvoiceLineItem]:
    return [
        InvoiceLineItem(
            id="il_" + item.id.split("_", 1)[1] + sub.current_period_start.__str__()[-4:],
            amount=0 if trial else (item.price.unit_amount or 0) * item.quantity,
            currency=item.price.currency,
            description=f"{item.quantity} x {item.price.product} (at {item.price.unit_amount})",
            period=Period(start=sub.current_period_start, end=sub.current_period_end),
            price=item.price,
            quantity=item.quantity,
            subscription=sub.id,
            subscription_item=item.id,
            type="subscription",
        )
        for item in items
    ]


def _bill(ctx: Context, sub: Subscription, reason: str, behavior: str | None) -> Subscription:
    """Invoice the current period and collect it; the subscription's status follows the payment."""
    trial = sub.status == "trialing"
    cust: Customer = ctx.require("customers", sub.customer, param="customer")
    inv = Invoice(
        id=ctx.new_id("in"),
        billing_reason=reason,
        collection_method=sub.collection_method,
        created=ctx.timestamp,
        currency=sub.currency,
        customer=cust.id,
        customer_email=cust.email,
        customer_name=cust.name,
        due_date=None if sub.days_until_due is None else ctx.timestamp + 86400 * sub.days_until_due,
        period_end=sub.current_period_start,
        period_start=sub.current_period_start,
        subscription=sub.id,
    )
    ctx.insert("invoices", inv)
    inv = finalize(ctx, with_lines(ctx, inv, _lines(sub, sub.items.data, trial)))
    status = sub.status
    if inv.status == "open" and sub.collection_method == "charge_automatically":
        pm = sub.default_payment_method or cust.invoice_settings.default_payment_method
        status = "incomplete"
        if pm is not None and behavior != "default_incomplete":
            try:
                charge_invoice(ctx, inv, pm)
                status = "active"
            except SimError as err:
                if behavior == "error_if_incomplete":
                    raise SimError(err.code, err.message, status=err.status, extra=err.extra) from None
    elif not trial:
        status = "active"
    return sub.model_copy(update={"latest_invoice": inv.id, "status": status})


def current(ctx: Context, sub: Subscription) -> Subscription:
    """``sub`` as of the simulated now: a cancellation due is done, an ended trial is active, and
    the period rolls on (renewals are not invoiced: the simulator bills the first period only)."""
    now = ctx.timestamp
    if sub.status == "canceled":
        return sub
    end = sub.cancel_at or (sub.current_period_end if sub.cancel_at_period_end else None)
    if end is not None and now >= end:
        return sub.model_copy(update={"status": "canceled", "canceled_at": end, "ended_at": end})
    if sub.status == "trialing" and sub.trial_end is not None and now >= sub.trial_end:
        sub = sub.model_copy(update={"status": "active"})
    recurring = sub.items.data[0].price.recurring if sub.items.data else None
    if sub.status not in ("active", "past_due") or recurring is None or now < sub.current_period_end:
        return sub
    start, stop = sub.current_period_start, sub.current_period_end
    while stop <= now:
        start, stop = stop, add_interval(stop, recurring.interval, recurring.interval_count)
    items = [i.model_copy(update={"current_period_start": start, "current_period_end": stop}) for i in sub.items.data]
    return sub.model_copy(
        update={
            "current_period_start": start,
            "current_period_end": stop,
            "items": sub.items.model_copy(update={"data": items}),
        }
    )


def _trial_end(ctx: Context, p: SubscriptionCreateParams, prices: list[Price]) -> int | None:
    if p.trial_end == "now":
        return None
    if isinstance(p.trial_end, int):
        if p.trial_end <= ctx.timestamp:
            raise SimError("parameter_invalid", "Invalid timestamp: must be in the future.", param="trial_end")
        return p.trial_end
    days = p.trial_period_days
    if days is None and p.trial_from_plan:
        days = next((pr.recurring.trial_period_days for pr in prices if pr.recurring), None)
    return ctx.timestamp + 86400 * days if days else None


def _item_specs(items: list[SubscriptionItemParams] | None) -> list[SubscriptionItemParams]:
    if not items:
        raise SimError("parameter_missing", "Missing required param: items.", param="items")
    return items


@router.post(
    "/v1/subscriptions",
    tool="billing.subscriptions.create",
    params=SubscriptionCreateParams,
    response=Subscription,
    errors=_ERRORS,
)
def create_subscription(ctx: Context, p: SubscriptionCreateParams) -> Any:
    """Subscribe a customer to recurring prices; the first period is invoiced (and paid) at once."""
    cust: Customer = ctx.require("customers", p.customer, param="customer")
    if p.default_payment_method is not None:
        cards.resolve(ctx, p.default_payment_method, "default_payment_method")
    if p.collection_method == "send_invoice" and p.days_until_due is None:
        raise SimError("parameter_missing", "Missing required param: days_until_due.", param="days_until_due")
    ident = ctx.new_id("sub")
    start = ctx.timestamp
    specs = _item_specs(p.items)
    items = [_new_item(ctx, ident, s, f"items[{i}]", start, start) for i, s in enumerate(specs)]
    first = items[0].price
    assert first.recurring is not None
    trial_end = _trial_end(ctx, p, [i.price for i in items])
    end = trial_end or add_interval(start, first.recurring.interval, first.recurring.interval_count)
    items = [i.model_copy(update={"current_period_end": end}) for i in items]
    sub = Subscription(
        id=ident,
        billing_cycle_anchor=p.billing_cycle_anchor or trial_end or start,
        cancel_at=p.cancel_at,
        cancel_at_period_end=bool(p.cancel_at_period_end),
        collection_method=p.collection_method or "charge_automatically",
        created=start,
        currency=p.currency or first.currency or cust.currency or "usd",
        current_period_end=end,
        current_period_start=start,
        customer=cust.id,
        days_until_due=p.days_until_due,
        default_payment_method=p.default_payment_method,
        description=p.description,
        items=StripeList[SubscriptionItem](data=items, url=f"/v1/subscription_items?subscription={ident}"),
        metadata=p.metadata or {},
        start_date=p.backdate_start_date or start,
        status="trialing" if trial_end else "incomplete",
        trial_end=trial_end,
        trial_start=start if trial_end else None,
    )
    ctx.insert("subscriptions", sub)
    sub = _bill(ctx, sub, "subscription_create", p.payment_behavior)
    ctx.update("subscriptions", sub)
    return respond(ctx, sub, p.expand)


def _subscription(ctx: Context) -> Subscription:
    found: Subscription = ctx.require("subscriptions", ctx.path["subscription"])
    return current(ctx, found)


@router.get(
    "/v1/subscriptions/{subscription}",
    tool="billing.subscriptions.retrieve",
    params=Params,
    response=Subscription,
    errors=NOT_FOUND,
)
def retrieve_subscription(ctx: Context, p: Params) -> Any:
    """Retrieve a subscription."""
    return respond(ctx, _subscription(ctx), p.expand)


def _update_items(ctx: Context, sub: Subscription, specs: list[SubscriptionItemParams]) -> list[SubscriptionItem]:
    items = {i.id: i for i in sub.items.data}
    for n, spec in enumerate(specs):
        at = f"items[{n}]"
        if spec.id is None:
            new = _new_item(ctx, sub.id, spec, at, sub.current_period_start, sub.current_period_end)
            items[new.id] = new
            continue
        if spec.id not in items:
            raise SimError("resource_missing", f"No such subscription_item: '{spec.id}'", param=f"{at}[id]")
        if spec.deleted:
            del items[spec.id]
            continue
        old = items[spec.id]
        changes: dict[str, Any] = {"metadata": metadata_update(old.metadata, spec.metadata)}
        if spec.quantity is not None:
            changes["quantity"] = spec.quantity
        if spec.price or spec.plan or spec.price_data:
            changes["price"] = _item_price(ctx, spec, at)
        items[spec.id] = old.model_copy(update=changes)
    if not items:
        raise SimError("parameter_invalid", "A subscription must keep at least one item.", param="items")
    return list(items.values())


def _end_trial_now(ctx: Context, sub: Subscription) -> Subscription:
    price = sub.items.data[0].price
    assert price.recurring is not None
    end = add_interval(ctx.timestamp, price.recurring.interval, price.recurring.interval_count)
    sub = sub.model_copy(
        update={"status": "active", "trial_end": ctx.timestamp, "current_period_start": ctx.timestamp,
                "current_period_end": end, "billing_cycle_anchor": ctx.timestamp}
    )  # fmt: skip
    return _bill(ctx, sub, "subscription_update", None)


@router.post(
    "/v1/subscriptions/{subscription}",
    tool="billing.subscriptions.update",
    params=SubscriptionUpdateParams,
    response=Subscription,
    errors=_ERRORS,
)
def update_subscription(ctx: Context, p: SubscriptionUpdateParams) -> Any:
    """Change items, metadata, ``cancel_at_period_end`` / ``cancel_at``, payment method, or end a trial."""
    sub = _subscription(ctx)
    if sub.status == "canceled" and p.model_fields_set - {"metadata", "cancellation_details", "expand"}:
        raise SimError(
            "subscription_canceled", "A canceled subscription can only update its cancellation_details and metadata."
        )
    if p.default_payment_method:
        cards.resolve(ctx, p.default_payment_method, "default_payment_method")
    names = {"cancel_at", "cancel_at_period_end", "collection_method", "days_until_due", "default_payment_method",
             "description"}  # fmt: skip
    changes: dict[str, Any] = {k: getattr(p, k) for k in p.model_fields_set & names}
    if changes.get("cancel_at_period_end") is None:
        changes.pop("cancel_at_period_end", None)
    changes["metadata"] = metadata_update(sub.metadata, p.metadata)
    if p.items is not None:
        items = _update_items(ctx, sub, p.items)
        changes["items"] = sub.items.model_copy(update={"data": items})
    new = sub.model_copy(update=changes)
    if p.trial_end == "now" and new.status == "trialing":
        new = _end_trial_now(ctx, new)
    elif isinstance(p.trial_end, int):
        new = new.model_copy(update={"trial_end": p.trial_end, "current_period_end": p.trial_end})
    ctx.update("subscriptions", new)
    return respond(ctx, new, p.expand)


@router.delete(
    "/v1/subscriptions/{subscription}",
    tool="billing.subscriptions.cancel",
    params=SubscriptionCancelParams,
    response=Subscription,
    errors=_ERRORS,
)
def cancel_subscription(ctx: Context, p: SubscriptionCancelParams) -> Any:
    """Cancel a subscription now (``cancel_at_period_end`` through update cancels later)."""
    sub = _subscription(ctx)
    if sub.status == "canceled":
        raise SimError("subscription_canceled", "This subscription has already been canceled.")
    given = p.cancellation_details if isinstance(p.cancellation_details, dict) else {}
    details = CancellationDetails(
        comment=given.get("comment") if isinstance(given.get("comment"), str) else None,
        feedback=given.get("feedback") if isinstance(given.get("feedback"), str) else None,
        reason="cancellation_requested",
    )
    new = sub.model_copy(
        update={"status": "canceled", "canceled_at": ctx.timestamp, "ended_at": ctx.timestamp,
                "cancellation_details": details}
    )  # fmt: skip
    ctx.update("subscriptions", new)
    return respond(ctx, new, p.expand)


@router.get(
    "/v1/subscriptions/search",
    tool="billing.subscriptions.search",
    params=SearchParams,
    response=SearchResult[Subscription],
    errors=("parameter_invalid",),
)
def search_subscriptions(ctx: Context, p: SearchParams) -> Any:
    """Search subscriptions (``status``, ``metadata["k"]``, ``created``)."""
    return search_response(ctx, "subscriptions", "/v1/subscriptions/search", p)


@router.get(
    "/v1/subscriptions",
    tool="billing.subscriptions.list",
    params=SubscriptionListParams,
    response=StripeList[Subscription],
    errors=NOT_FOUND,
)
def list_subscriptions(ctx: Context, p: SubscriptionListParams) -> Any:
    """List subscriptions, newest first; canceled ones only with ``status=canceled`` or ``all``."""

    def keep(s: Subscription) -> bool:
        s = current(ctx, s)
        wanted = p.status or "not_canceled"
        status_ok = (
            wanted == "all"
            or s.status == wanted
            or (wanted == "not_canceled" and s.status != "canceled")
            or (wanted == "ended" and s.status in ("canceled", "incomplete_expired"))
        )
        return (
            status_ok
            and (p.customer is None or s.customer == p.customer)
            and (p.price is None or any(i.price.id == p.price for i in s.items.data))
            and (p.collection_method is None or s.collection_method == p.collection_method)
            and (p.current_period_end is None or in_range(s.current_period_end, p.current_period_end))
            and (p.current_period_start is None or in_range(s.current_period_start, p.current_period_start))
        )

    page = list_response(ctx, "subscriptions", "/v1/subscriptions", p, keep)
    if isinstance(page, StripeList):
        return page.model_copy(update={"data": [current(ctx, s) for s in page.data]})
    return page


@router.get(
    "/v1/subscription_items",
    tool="billing.subscription_items.list",
    params=SubscriptionItemListParams,
    response=StripeList[SubscriptionItem],
    errors=NOT_FOUND,
)
def list_subscription_items(ctx: Context, p: SubscriptionItemListParams) -> Any:
    """A subscription's items."""
    sub: Subscription = ctx.require("subscriptions", p.subscription, param="subscription")
    items = [i for i in current(ctx, sub).items.data if in_range(i.created, p.created)]
    page = paginate(items, limit=p.limit, starting_after=p.starting_after, ending_before=p.ending_before)
    result = StripeList[SubscriptionItem](
        data=page.items, has_more=page.has_more, url=f"/v1/subscription_items?subscription={sub.id}"
    )
    return respond(ctx, result, p.expand, item_type="subscription_item")
